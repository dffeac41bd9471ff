"""With a REAL Celery worker (threads pool) and Redis, on PostgreSQL: appends committed by this
process get their checkpoint signed by the worker; a worker SIGKILLed and restarted picks up
the queued work; however many messages arrive, one checkpoint per size.

The worker must share the test database, so these run on PostgreSQL only (DATABASE_URL); under
SQLite (an in-memory test database private to this process) they are skipped.
"""

import uuid

import pytest
from django.db import connection

from identity.services import registry_did_ensure
from registry.anchoring import note, services
from registry.anchoring.models import Checkpoint
from tests.registry.status.celery_helpers import celery_broker
from tests.registry.status.processes import Worker, shared_redis_url, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the worker shares the test database")
    import redis

    url = shared_redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis at {url} is not reachable ({exc.__class__.__name__})")
    return url


@pytest.fixture(autouse=True)
def _sender_state():
    services._broker_down_until = 0.0
    yield
    services.anchor_enqueue_drain(timeout=30)
    services._broker_down_until = 0.0


def checkpoint_at(size):
    return Checkpoint.objects.filter(tree_size=size).first()


def test_a_real_worker_signs_checkpoints_and_survives_sigkill(redis_url, tmp_path):
    registry_did_ensure()
    queue = f"h4-{uuid.uuid4().hex[:8]}"
    worker = Worker(broker_url=redis_url, queue=queue, log_dir=tmp_path).start()
    try:
        with celery_broker(redis_url, queue=queue):
            for i in range(5):
                services.anchor_record(kind="test", key=f"w{i}", data={"i": i})
            size = services.log_size()
            services.anchor_enqueue_drain(timeout=30)
            checkpoint = wait_until(
                lambda: checkpoint_at(size), timeout=60, what="the worker's checkpoint"
            )
            keys = [note.VerifierKey.parse(k["verifier_key"]) for k in services.log_verifier_keys()]
            parsed = note.open_checkpoint(checkpoint.note, keys)
            assert (parsed.tree_size, parsed.root_hash) == services.log_head_root()

            worker.kill()  # SIGKILL; messages sent now wait in Redis
            for i in range(5, 12):
                services.anchor_record(kind="test", key=f"w{i}", data={"i": i})
            size = services.log_size()
            services.anchor_enqueue_drain(timeout=30)
            assert checkpoint_at(size) is None
            worker = Worker(broker_url=redis_url, queue=queue, log_dir=tmp_path).start()
            wait_until(lambda: checkpoint_at(size), timeout=60, what="the restarted worker")
    finally:
        worker.stop()
    sizes = list(Checkpoint.objects.values_list("tree_size", flat=True))
    assert len(sizes) == len(set(sizes))
    assert max(sizes) == services.log_size()
