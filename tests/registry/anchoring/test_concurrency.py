"""Concurrent appends from many connections: no gap, no duplicate index, one leaf per
(kind, key), and a tree that still verifies.

PostgreSQL only: it is where `select_for_update` on the log head really serialises writers.
SQLite (the default local test database, in memory) cannot run concurrent writers from
threads; there every write transaction is serialised by SQLite itself (IMMEDIATE mode).
CI runs these on PostgreSQL (DATABASE_URL).
"""

import random
import threading
import time

import pytest
from django.db import connection, connections, transaction

from identity.services import registry_did_ensure
from registry.anchoring import merkle, services
from registry.anchoring.models import Checkpoint, LogHead, LogLeaf, LogSubtree

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite in memory cannot run them)",
    ),
]

THREADS = 8


def run_threads(target, n=THREADS):
    errors = []
    barrier = threading.Barrier(n)

    def wrapper(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def assert_log_is_sound(expected_size):
    indexes = list(LogLeaf.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(expected_size))
    tree = merkle.MemoryTree(
        merkle.leaf_hash(e.encode())
        for e in LogLeaf.objects.order_by("index").values_list("entry", flat=True)
    )
    size, root = services.log_head_root()
    assert size == expected_size
    assert root == tree.root()
    assert LogSubtree.objects.count() == expected_size - bin(expected_size).count("1")
    for first in (1, expected_size // 3, expected_size - 1):
        merkle.verify_consistency(
            first,
            expected_size,
            tree.root(first),
            root,
            services.consistency_proof(first=first, second=expected_size),
        )


def test_concurrent_distinct_appends_have_no_gap_and_no_duplicate():
    registry_did_ensure()
    base = services.log_size()
    per_thread = 25

    def work(i):
        for j in range(per_thread):
            services.anchor_record(kind="test", key=f"t{i}-{j}", data={"thread": i, "n": j})

    run_threads(work)
    assert_log_is_sound(base + THREADS * per_thread)
    assert LogHead.objects.count() == 1
    # the on-commit task raced too; one checkpoint per size at most
    sizes = list(Checkpoint.objects.values_list("tree_size", flat=True))
    assert len(sizes) == len(set(sizes))


def test_concurrent_same_keys_give_one_leaf_each():
    registry_did_ensure()
    base = services.log_size()
    keys = [f"same-{k}" for k in range(20)]

    def work(i):
        order = list(keys)
        random.Random(i).shuffle(order)
        for key in order:
            services.anchor_record(kind="test", key=key, data={"k": key})

    run_threads(work)
    assert LogLeaf.objects.filter(kind="test").count() == 20
    assert_log_is_sound(base + 20)


def test_appends_inside_callers_transactions_some_rolling_back():
    registry_did_ensure()
    base = services.log_size()

    def work(i):
        for j in range(10):
            try:
                with transaction.atomic():
                    services.anchor_record(kind="test", key=f"c{i}-{j}", data={})
                    time.sleep(0.001)
                    if j % 3 == 0:
                        raise RuntimeError("caller rolls back")
            except RuntimeError:
                pass

    run_threads(work)
    kept = THREADS * len([j for j in range(10) if j % 3])
    assert_log_is_sound(base + kept)
    assert not LogLeaf.objects.filter(key__regex=r"^c\d+-(0|3|6|9)$").exists()
