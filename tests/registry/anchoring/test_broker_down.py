"""Redis unreachable: anchoring still commits at once (the request never waits on the broker),
and checkpoints are still served (signed on demand) and published by the sweep."""

import logging
import time

import pytest

from registry.anchoring import services
from registry.anchoring.models import Checkpoint, LogLeaf
from tests.registry.status.celery_helpers import celery_broker, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _broker_state():
    services._broker_down_until = 0.0
    yield
    services.anchor_enqueue_drain()
    services._broker_down_until = 0.0


def test_appends_commit_quickly_with_the_broker_unreachable(
    django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="registry.anchoring.services")
    durations = []
    with celery_broker(f"redis://127.0.0.1:{free_port()}/4"):
        for i in range(5):
            started = time.perf_counter()
            with django_capture_on_commit_callbacks(execute=True):
                services.anchor_record(kind="test", key=f"down-{i}", data={"i": i})
            durations.append(time.perf_counter() - started)
        services.anchor_enqueue_drain(timeout=30)
    assert max(durations) < 0.5, durations
    assert "could not enqueue anchoring.publish_checkpoint" in caplog.text
    assert LogLeaf.objects.count() == 5
    assert not Checkpoint.objects.exists()
    # nothing waits on the broker: the checkpoint is signed on demand, or by the sweep
    assert services.checkpoint_latest().tree_size == services.log_size()
    services.anchor_record(kind="test", key="after", data={})
    assert services.anchor_sweep()["checkpoint_size"] == services.log_size()
