"""RFC 9162 tree maths: known answers, every pair of sizes up to 40 (prover against verifier
and against a naive reference), corrupted proofs rejected, and the proof size at 100,000."""

import hashlib
import random

import pytest

from registry.anchoring import merkle
from registry.anchoring.merkle import MemoryTree, ProofError, verify_consistency, verify_inclusion

from .vectors import CONSISTENCY, INCLUSION, LEAVES, ROOTS

MAX = 40


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 s.2.1.1, recursive, sharing no code with the module."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


@pytest.fixture(scope="module")
def data():
    return [f"leaf-{i}".encode() for i in range(MAX)]


@pytest.fixture(scope="module")
def tree(data):
    t = MemoryTree()
    for d in data:
        t.append(d)
    return t


def h(hexes):
    return [bytes.fromhex(x) for x in hexes]


def test_known_roots():
    for n in range(1, 9):
        assert merkle.root_of(LEAVES[:n]).hex() == ROOTS[n - 1]
        assert MemoryTree(map(merkle.leaf_hash, LEAVES[:n])).root().hex() == ROOTS[n - 1]


def test_empty_tree_root_is_sha256_of_nothing():
    assert merkle.root_of([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_known_inclusion_proofs(index, size, proof):
    t = MemoryTree(map(merkle.leaf_hash, LEAVES))
    assert [x.hex() for x in t.inclusion_proof(index, size)] == proof
    verify_inclusion(
        index, size, merkle.leaf_hash(LEAVES[index]), h(proof), bytes.fromhex(ROOTS[size - 1])
    )


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_known_consistency_proofs(first, second, proof):
    t = MemoryTree(map(merkle.leaf_hash, LEAVES))
    assert [x.hex() for x in t.consistency_proof(first, second)] == proof
    verify_consistency(
        first, second, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]), h(proof)
    )


def test_roots_match_reference_for_every_size(data, tree):
    for n in range(1, MAX + 1):
        expected = reference_mth(data[:n])
        assert tree.root(n) == expected
        assert merkle.root_of(data[:n]) == expected
        frontier: list[bytes] = []
        for i, d in enumerate(data[:n]):
            merkle.frontier_push(frontier, i, merkle.leaf_hash(d))
        assert merkle.root_from_frontier(frontier) == expected
        assert len(frontier) == bin(n).count("1")


def test_every_inclusion_proof_up_to_40(data, tree):
    for n in range(1, MAX + 1):
        root = reference_mth(data[:n])
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            verify_inclusion(m, n, merkle.leaf_hash(data[m]), proof, root)
            assert len(proof) <= (n - 1).bit_length()
            # the same proof does not prove another leaf, index or size
            with pytest.raises(ProofError):
                verify_inclusion(m, n, merkle.leaf_hash(b"other"), proof, root)
            if n > 1:
                with pytest.raises(ProofError):
                    verify_inclusion((m + 1) % n, n, merkle.leaf_hash(data[m]), proof, root)


def test_every_consistency_proof_up_to_40(data, tree):
    roots = [None] + [reference_mth(data[:n]) for n in range(1, MAX + 1)]
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            verify_consistency(m, n, roots[m], roots[n], proof)
            if m < n:
                with pytest.raises(ProofError):
                    verify_consistency(m, n, roots[m], merkle.leaf_hash(b"y"), proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, merkle.leaf_hash(b"x"), roots[n], proof)


def _corruptions(proof):
    yield proof[:-1]
    yield [*proof, proof[-1]]
    yield [b"\0" * 32, *proof]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        yield bad


def test_corrupted_proofs_are_rejected(data, tree):
    for n in (2, 3, 7, 8, 13, 31, 40):
        root = tree.root(n)
        for m in (0, n // 2, n - 1):
            proof = tree.inclusion_proof(m, n)
            for bad in _corruptions(proof):
                with pytest.raises(ProofError):
                    verify_inclusion(m, n, merkle.leaf_hash(data[m]), bad, root)
        for m in (1, n // 2, n - 1):
            if m in (0, n):
                continue
            proof = tree.consistency_proof(m, n)
            for bad in _corruptions(proof):
                with pytest.raises(ProofError):
                    verify_consistency(m, n, tree.root(m), root, bad)


def test_verifier_edge_cases():
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    verify_inclusion(0, 1, a, [], a)
    for index, size in ((0, 0), (1, 1), (2, 1)):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, a, [], a)
    with pytest.raises(ProofError):
        verify_inclusion(0, 1, a, [], b"short")
    # The empty tree is a prefix of any tree, but its root is SHA-256 of nothing: a checkpoint
    # of size 0 with another root was not made by an honest log.
    verify_consistency(0, 5, merkle.EMPTY_ROOT, b, [])
    verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, a, b, [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, merkle.EMPTY_ROOT, b, [])
    verify_consistency(3, 3, a, a, [])
    with pytest.raises(ProofError):
        verify_consistency(3, 3, a, b, [])
    with pytest.raises(ProofError):
        verify_consistency(3, 3, a, a, [a])
    with pytest.raises(ProofError):
        verify_consistency(4, 3, a, b, [])
    with pytest.raises(ProofError):
        verify_consistency(1, 2, a, b, [])


def test_bigger_tree_random_pairs():
    rng = random.Random(9162)
    n = 1500
    data = [rng.randbytes(rng.randrange(0, 64)) for _ in range(n)]
    t = MemoryTree()
    for d in data:
        t.append(d)
    assert t.root() == reference_mth(data)
    for _ in range(200):
        second = rng.randrange(1, n + 1)
        first = rng.randrange(1, second + 1)
        index = rng.randrange(0, second)
        verify_inclusion(
            index,
            second,
            merkle.leaf_hash(data[index]),
            t.inclusion_proof(index, second),
            t.root(second),
        )
        verify_consistency(
            first, second, t.root(first), t.root(second), t.consistency_proof(first, second)
        )


def test_proof_sizes_at_100000_leaves():
    n = 100_000
    assert max(len(merkle.inclusion_ranges(i, n)) for i in (0, 1, 65_535, 65_536, 99_999)) <= 17
    assert len(merkle.consistency_ranges(1, n)) <= 17
    assert len(merkle.consistency_ranges(65_537, n)) <= 2 * 17


def test_perfect_subtrees_tile_the_range():
    for start, end in [(0, 1), (0, 40), (5, 13), (32, 40), (8, 16)]:
        covered = []
        for level, index in merkle.perfect_subtrees(start, end):
            covered.extend(range(index << level, (index + 1) << level))
        assert covered == list(range(start, end))
