"""anchor_record, the stored tree, roots and proofs from the database."""

import json

import pytest
import rfc8785
from django.db import transaction

from registry.anchoring import merkle, services
from registry.anchoring.errors import AnchoringError, LeafNotFound, LogEmpty
from registry.anchoring.merkle import verify_consistency, verify_inclusion
from registry.anchoring.models import LogHead, LogLeaf, LogSubtree

pytestmark = pytest.mark.django_db


def anchor_many(n, kind="test"):
    return [services.anchor_record(kind=kind, key=f"k{i}", data={"i": i}) for i in range(n)]


def test_anchor_record_stores_canonical_entry_and_leaf_hash():
    leaf = services.anchor_record(
        kind="status-list",
        key="list-1:3",
        data={"version": 3, "list": "list-1", "sha256": "ab" * 32, "time": "2026-11-25T00:00:00Z"},
    )
    expected = rfc8785.dumps(
        {
            "kind": "status-list",
            "key": "list-1:3",
            "data": {
                "list": "list-1",
                "sha256": "ab" * 32,
                "time": "2026-11-25T00:00:00Z",
                "version": 3,
            },
        }
    )
    assert leaf.index == 0
    assert leaf.entry.encode() == expected
    assert leaf.entry.startswith('{"data":{"list":"list-1","sha256"')  # keys sorted
    assert leaf.leaf_hash == merkle.leaf_hash(expected).hex()
    assert leaf.data["version"] == 3


def test_anchor_record_is_idempotent_on_kind_and_key():
    first = services.anchor_record(kind="status-list", key="l:1", data={"a": 1})
    again = services.anchor_record(kind="status-list", key="l:1", data={"a": 1})
    changed = services.anchor_record(kind="status-list", key="l:1", data={"a": 2})
    other_kind = services.anchor_record(kind="accreditation", key="l:1", data={"a": 1})
    assert again.pk == first.pk == changed.pk
    assert changed.data == {"a": 1}  # a leaf is never rewritten
    assert other_kind.index == 1
    assert LogLeaf.objects.count() == 2
    assert LogHead.objects.get().size == 2


def test_anchor_record_inside_the_callers_transaction_rolls_back_with_it():
    services.anchor_record(kind="test", key="kept", data={})

    def caller():
        with transaction.atomic():
            services.anchor_record(kind="test", key="rolled-back", data={})
            raise RuntimeError("caller fails after anchoring")

    with pytest.raises(RuntimeError):
        caller()
    leaf = services.anchor_record(kind="test", key="next", data={})
    assert leaf.index == 1  # no gap: the rolled-back append took its index with it
    assert list(LogLeaf.objects.values_list("key", flat=True)) == ["kept", "next"]


@pytest.mark.parametrize(
    ("kind", "key", "data"),
    [
        ("", "k", {}),
        ("Bad Kind", "k", {}),
        ("test", "", {}),
        ("test", "x" * 256, {}),
        ("test", "k", ["not", "an", "object"]),
        ("test", "k", {"nan": float("nan")}),
        ("test", "k", {"big": "x" * 70_000}),
    ],
)
def test_anchor_record_refuses_bad_input(kind, key, data):
    with pytest.raises(AnchoringError):
        services.anchor_record(kind=kind, key=key, data=data)
    assert LogLeaf.objects.count() == 0


def test_stored_tree_matches_memory_tree_roots_and_proofs():
    leaves = anchor_many(37)
    memory = merkle.MemoryTree(merkle.leaf_hash(leaf.entry.encode()) for leaf in leaves)
    size, root = services.log_head_root()
    assert size == 37
    assert root == memory.root()
    # a complete subtree is cached for every node whose last leaf arrived: 37 - popcount(37)
    assert LogSubtree.objects.count() == 37 - bin(37).count("1")
    for n in (1, 2, 5, 16, 17, 32, 37):
        assert services.log_root(n) == memory.root(n)
        for m in {0, n // 2, n - 1}:
            index, proof = services.inclusion_proof(
                leaf_hash=leaves[m].leaf_hash_bytes, tree_size=n
            )
            assert index == m
            assert proof == memory.inclusion_proof(m, n)
            verify_inclusion(m, n, leaves[m].leaf_hash_bytes, proof, memory.root(n))
        for first in {1, n // 2 or 1, n}:
            proof = services.consistency_proof(first=first, second=n)
            assert proof == memory.consistency_proof(first, n)
            verify_consistency(first, n, memory.root(first), memory.root(n), proof)


def test_proofs_read_few_queries(django_assert_max_num_queries):
    leaves = anchor_many(70)
    with django_assert_max_num_queries(4):
        services.inclusion_proof(leaf_hash=leaves[33].leaf_hash_bytes, tree_size=70)
    with django_assert_max_num_queries(3):
        services.consistency_proof(first=33, second=70)


def test_proof_errors():
    with pytest.raises(LogEmpty):
        services.consistency_proof(first=1, second=1)
    leaves = anchor_many(3)
    with pytest.raises(AnchoringError):
        services.inclusion_proof(leaf_hash=leaves[0].leaf_hash_bytes, tree_size=4)
    with pytest.raises(LeafNotFound):
        services.inclusion_proof(leaf_hash=leaves[2].leaf_hash_bytes, tree_size=2)
    with pytest.raises(LeafNotFound):
        services.inclusion_proof(leaf_hash=bytes(32), tree_size=3)
    with pytest.raises(AnchoringError):
        services.consistency_proof(first=3, second=2)
    with pytest.raises(AnchoringError):
        services.consistency_proof(first=0, second=2)


def test_entries_are_bounded_and_inclusive(settings):
    settings.ANCHORING_MAX_ENTRIES = 4
    anchor_many(10)
    assert [leaf.index for leaf in services.log_entries(start=2, end=3)] == [2, 3]
    assert [leaf.index for leaf in services.log_entries(start=0, end=100)] == [0, 1, 2, 3]
    assert [leaf.index for leaf in services.log_entries(start=8, end=100)] == [8, 9]
    with pytest.raises(AnchoringError):
        services.log_entries(start=10, end=12)
    with pytest.raises(AnchoringError):
        services.log_entries(start=3, end=2)


def test_leaf_get():
    leaf = services.anchor_record(kind="status-list", key="abc:2", data={"x": 1})
    assert services.leaf_get(kind="status-list", key="abc:2").pk == leaf.pk
    with pytest.raises(LeafNotFound):
        services.leaf_get(kind="status-list", key="abc:3")
    assert json.loads(leaf.entry)["key"] == "abc:2"
