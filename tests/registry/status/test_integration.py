"""Reliability with REAL Celery workers (threads pool) and Redis, on PostgreSQL.

- a worker SIGKILLed in the middle of publishing (after anchoring, before commit), repeatedly:
  after a restart every change is published and anchored exactly once;
- Redis stopped while revocations come in, then restarted: requests stay fast, nothing is lost;
- 1,000 concurrent revocations from threads and processes on one list: exactly those bits set.

The workers must share the test database, so these run on PostgreSQL only (DATABASE_URL); under
SQLite (an in-memory test database no other process can open) they are skipped.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from hashlib import sha256

import pytest
from django.db import connection

from registry.anchoring.models import LogLeaf
from registry.status.bitstring import bitstring_decode, set_indexes
from registry.status.models import StatusChange, StatusEntry, StatusList, StatusOutbox
from registry.status.services import (
    credential_status_change,
    status_enqueue_drain,
    status_entry_allocate,
    status_lists_audit,
)
from registry.status.tasks import status_outbox_sweep_task

from .celery_helpers import celery_broker
from .processes import BASE_DIR, RedisServer, Worker, shared_redis_url, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
_SWEEP_SUCCEEDED = re.compile(r"status_outbox_sweep\[[^\]]+\] succeeded")


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (set DATABASE_URL): worker subprocesses must share the test "
            "database, and SQLite's in-memory test database is private to this process"
        )


@pytest.fixture
def shared_redis(postgres_only):
    import redis

    url = shared_redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis at {url} is not reachable ({exc.__class__.__name__})")
    return url


@pytest.fixture
def queue():
    name = f"h5-status-{uuid.uuid4().hex[:10]}"
    yield name
    # Leave nothing behind in the shared Redis: the queue and its binding.
    import redis

    with contextlib.suppress(Exception):  # best effort
        redis.Redis.from_url(shared_redis_url(), socket_connect_timeout=1).delete(
            name, f"_kombu.binding.{name}"
        )


@pytest.fixture
def workers():
    """Workers started by a test; all stopped before the database is flushed."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def _pending() -> int:
    return StatusOutbox.objects.filter(published_at__isnull=True).count()


def _list_with_entries(office, credential_ids) -> StatusList:
    """The office's status list, with an entry allocated for each credential id."""
    for credential_id in credential_ids:
        status_entry_allocate(issuer_did=office.did.did, credential_id=credential_id)
    return StatusList.objects.get()


def _assert_published_and_anchored_exactly_once(status_list: StatusList, revoked_ids) -> None:
    assert _pending() == 0
    versions = list(status_list.versions.order_by("version"))
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    leaves = {
        leaf.key: leaf
        for leaf in LogLeaf.objects.filter(
            kind="status-list", key__startswith=f"{status_list.public_id}:"
        )
    }
    # One leaf per version, no more (no duplicate), no less (no lost leaf).
    assert sorted(leaves) == sorted(f"{status_list.public_id}:{v.version}" for v in versions)
    assert LogLeaf.objects.filter(kind="status-list").count() == len(versions)
    for version in versions:
        assert version.sha256 == sha256(version.body.encode()).hexdigest()
        assert leaves[version.anchor_key].data["sha256"] == version.sha256
        assert version.anchor_leaf_index == leaves[version.anchor_key].index
    # Every change went out in a published version.
    assert not StatusChange.objects.filter(outbox__version__isnull=True).exists()
    assert StatusChange.objects.count() == len(revoked_ids)
    latest = json.loads(versions[-1].body)
    bits = set_indexes(bitstring_decode(latest["credentialSubject"]["encodedList"]))
    expected = sorted(
        StatusEntry.objects.filter(credential_id__in=revoked_ids).values_list("index", flat=True)
    )
    assert bits == expected
    assert status_lists_audit() == []


def test_worker_killed_mid_publish_repeatedly_loses_and_duplicates_nothing(
    office, shared_redis, queue, workers, tmp_path
):
    ids = [f"urn:kill:{i}" for i in range(6)]
    status_list = _list_with_entries(office, ids)
    with celery_broker(shared_redis, queue=queue):
        for round_number in range(3):
            # This worker pauses inside the publish transaction, after anchoring, before commit.
            worker = Worker(
                broker_url=shared_redis,
                queue=queue,
                log_dir=tmp_path,
                extra_env={"STATUS_PUBLISH_FAULT_PAUSE": "120"},
            )
            workers.append(worker)
            worker.start()
            credential_status_change(
                issuer=office, credential_id=ids[round_number], action="revoke"
            )
            status_enqueue_drain()
            worker.wait_for_log("fault pause", timeout=60)
            worker.kill()
            # Killed before commit: nothing of that publication exists.
            assert status_list.versions.count() == 1
            assert LogLeaf.objects.filter(kind="status-list").count() == 1
            assert _pending() == round_number + 1
        # Two more changes while no worker runs at all.
        for credential_id in ids[3:5]:
            credential_status_change(issuer=office, credential_id=credential_id, action="revoke")
        status_enqueue_drain()
        worker = Worker(broker_url=shared_redis, queue=queue, log_dir=tmp_path)
        workers.append(worker)
        worker.start()
        status_outbox_sweep_task.delay()  # what beat sends periodically
        wait_until(lambda: _pending() == 0, timeout=90, what="the outbox to drain")
        # Running the sweep again publishes nothing new.
        versions = status_list.versions.count()
        status_outbox_sweep_task.delay()
        # Both sweeps of this worker done (its startup banner names the task too: count results).
        wait_until(
            lambda: len(_SWEEP_SUCCEEDED.findall(worker.log())) >= 2,
            timeout=30,
            what="the second sweep to finish",
        )
        assert status_list.versions.count() == versions
        worker.stop()
    _assert_published_and_anchored_exactly_once(status_list, ids[:5])


def _other_backends() -> set[int]:
    """PostgreSQL backends on this test database other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def test_worker_keeps_its_database_connections_and_recovers_when_they_break(
    office, shared_redis, queue, workers, tmp_path
):
    ids = [f"urn:conn:{i}" for i in range(5)]
    status_list = _list_with_entries(office, ids)
    with celery_broker(shared_redis, queue=queue):
        worker = Worker(broker_url=shared_redis, queue=queue, log_dir=tmp_path, concurrency=2)
        workers.append(worker)
        worker.start()
        seen: set[int] = set()
        for round_number, credential_id in enumerate(ids[:4], start=1):
            credential_status_change(issuer=office, credential_id=credential_id, action="revoke")
            status_enqueue_drain()
            wait_until(lambda: _pending() == 0, timeout=30, what="the publication")
            # The publication and the checkpoint that follows it, both done.
            worker.wait_for_log(" succeeded in ", timeout=30, count=2 * round_number)
            idle = _other_backends()
            # Kept between tasks (Celery's default closes them after each one), and reused:
            # never more connections than the worker has threads.
            assert idle, "the worker closed its database connections after its tasks"
            seen |= idle
        assert len(seen) <= 2, seen

        # PostgreSQL drops them (a restart, a failover): the next task checks its connection
        # first, reconnects, and publishes without failing or waiting for a retry.
        with connection.cursor() as cursor:
            for pid in seen:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        wait_until(lambda: not (_other_backends() & seen), timeout=10, what="the backends to end")
        credential_status_change(issuer=office, credential_id=ids[4], action="revoke")
        status_enqueue_drain()
        wait_until(lambda: _pending() == 0, timeout=30, what="the publication after the drop")
        assert "OperationalError" not in worker.log()
        assert " retry: " not in worker.log()
        worker.stop()
    _assert_published_and_anchored_exactly_once(status_list, ids)


def test_redis_stopped_while_revocations_come_in_then_restarted_loses_nothing(
    office, postgres_only, queue, workers, tmp_path, settings
):
    if not RedisServer.available():
        pytest.skip("redis-server is not installed: this test stops and restarts its own Redis")
    settings.STATUS_BROKER_BACKOFF_SECONDS = 0.2
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    ids = [f"urn:redis:{i}" for i in range(7)]
    status_list = _list_with_entries(office, ids)
    try:
        with celery_broker(redis_server.url, queue=queue):
            # The worker runs beat too, sweeping the outbox every second.
            worker = Worker(
                broker_url=redis_server.url,
                queue=queue,
                log_dir=tmp_path,
                beat=True,
                extra_env={"STATUS_SWEEP_SECONDS": "1"},
            )
            workers.append(worker)
            worker.start()
            credential_status_change(issuer=office, credential_id=ids[0], action="revoke")
            wait_until(lambda: _pending() == 0, timeout=30, what="the first revocation")
            # Stop Redis right after a sweep has finished: beat sends the next one a second
            # later, so no sweep already delivered can publish the revocations below while
            # Redis is down (they must stay pending).
            finished = len(_SWEEP_SUCCEEDED.findall(worker.log()))
            wait_until(
                lambda: len(_SWEEP_SUCCEEDED.findall(worker.log())) > finished,
                timeout=10,
                what="a sweep to finish",
            )
            redis_server.stop()
            durations = []
            for credential_id in ids[1:6]:
                started = time.perf_counter()
                credential_status_change(
                    issuer=office, credential_id=credential_id, action="revoke"
                )
                durations.append(time.perf_counter() - started)
            assert max(durations) < 1.0, durations  # requests never wait on the dead broker
            status_enqueue_drain(timeout=30)
            assert _pending() == 5
            redis_server.start()  # same port; the worker and beat reconnect by themselves

            def drained() -> bool:
                # kombu 5.7 sometimes gives up instead of reconnecting ("Unrecoverable error ...
                # 'NoneType' object has no attribute 'hostname'") when the broker vanished with a
                # message unacknowledged. Deployments run the worker under a supervisor that
                # starts it again (compose restart policy, scripts/run.py); so does this test.
                if worker.process.poll() is not None:
                    worker.start()
                return _pending() == 0

            wait_until(drained, timeout=120, what="the sweep after Redis returned")
            worker.stop()
    finally:
        redis_server.stop()
    _assert_published_and_anchored_exactly_once(status_list, ids[:6])


def test_a_thousand_concurrent_revocations_from_threads_and_processes_set_exactly_those_bits(
    office, shared_redis, queue, workers, tmp_path
):
    all_ids = [f"urn:many:{i}" for i in range(1100)]
    status_list = _list_with_entries(office, all_ids)
    chosen = random.sample(all_ids, 1000)
    in_process, by_processes = chosen[:400], chosen[400:]
    worker = Worker(broker_url=shared_redis, queue=queue, log_dir=tmp_path)
    workers.append(worker)
    worker.start()
    with celery_broker(shared_redis, queue=queue):
        processes = []
        for n in range(3):
            ids_file = tmp_path / f"ids-{n}.json"
            ids_file.write_text(json.dumps(by_processes[n::3]))
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.registry.status.revoker",
                        "revoke",
                        str(ids_file),
                        "4",
                        office.did.did,
                    ],
                    cwd=BASE_DIR,
                    env=worker.env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        errors: list[str] = []

        def revoke(chunk):
            try:
                for credential_id in chunk:
                    credential_status_change(
                        issuer=office, credential_id=credential_id, action="revoke"
                    )
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=revoke, args=(in_process[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for process in processes:
            out, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-3000:]
            assert json.loads(out.strip().splitlines()[-1])["errors"] == []
        assert errors == []
        status_enqueue_drain()
        status_outbox_sweep_task.delay()
        wait_until(lambda: _pending() == 0, timeout=180, what="all 1,000 revocations published")
    assert StatusEntry.objects.filter(state="revoked").count() == 1000
    _assert_published_and_anchored_exactly_once(status_list, chosen)


def test_concurrent_allocation_from_threads_and_processes_never_shares_an_index(
    office, postgres_only, tmp_path, settings
):
    # Small lists (256 entries) so that collisions, full lists and new lists all race.
    settings.STATUS_LIST_SIZE = 256
    ids = [f"urn:alloc:{i}" for i in range(900)]
    in_process, by_processes = ids[:300], ids[300:]
    processes = []
    env = Worker(broker_url="redis://127.0.0.1:1/0", queue="unused", log_dir=tmp_path).env()
    for n in range(3):
        ids_file = tmp_path / f"alloc-{n}.json"
        ids_file.write_text(json.dumps(by_processes[n::3]))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.registry.status.revoker",
                    "allocate",
                    str(ids_file),
                    "4",
                    office.did.did,
                    "256",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    errors: list[str] = []

    def allocate(chunk):
        try:
            for credential_id in chunk:
                status_entry_allocate(issuer_did=office.did.did, credential_id=credential_id)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate, args=(in_process[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-3000:]
        assert json.loads(out.strip().splitlines()[-1])["errors"] == []
    assert errors == []
    entries = list(StatusEntry.objects.values_list("status_list_id", "index", "credential_id"))
    assert len(entries) == 900
    assert len({(list_id, index) for list_id, index, _ in entries}) == 900
    assert sorted(c for _, _, c in entries) == sorted(ids)
    lists = list(StatusList.objects.order_by("sequence"))
    assert [sl.sequence for sl in lists] == list(range(1, len(lists) + 1))  # no duplicate list
    assert len(lists) >= 900 // 256 + 1
    assert all(index < 256 for _, index, _ in entries)
    # Every list handed out was published before its first index was.
    assert all(sl.versions.filter(version=1).exists() for sl in lists)
