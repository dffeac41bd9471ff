"""RFC 9162 Merkle tree maths, pure Python, no Django.

Two halves kept deliberately apart:

* the *prover* side (`root_of`, `inclusion_ranges`, `consistency_ranges`, `hash_range`): the
  recursive definitions of RFC 9162 s.2.1.1 / 2.1.3.1 / 2.1.4.1, expressed over leaf ranges
  so that a proof is computed from whatever stores the hashes of complete subtrees (the
  database, or a list in memory);
* the *verifier* side (`verify_inclusion`, `verify_consistency`): the bit-walking algorithms of
  RFC 9162 s.2.1.3.2 / 2.1.4.2, which share nothing with the prover but `node_hash`, so that
  tests checking one against the other mean something.

A "perfect" subtree is `(level, index)`: the 2**level leaves starting at `index << level`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Hash states with the domain-separation prefix already absorbed: copying one is measurably
# cheaper than creating a SHA-256 context per hash (OpenSSL context set-up dominates the cost
# of hashing 65 bytes). The prototypes are never updated, only copied.
_LEAF_STATE = hashlib.sha256(LEAF_PREFIX)
_NODE_STATE = hashlib.sha256(NODE_PREFIX)


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    h = _LEAF_STATE.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    h = _NODE_STATE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than n (n > 1)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    return 1 << ((n - 1).bit_length() - 1)


# --- roots ------------------------------------------------------------------------------------


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """MTH over already-hashed leaves, level by level.

    Pairing left to right and carrying an odd last node up unchanged gives exactly the RFC
    9162 split at the largest power of two (the carried node is the root of the right-edge
    subtree, combined later with its left neighbour). Written for speed (bench/merkle.py):
    at these sizes the per-hash Python overhead is most of the cost."""
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    copy = _NODE_STATE.copy
    while len(level) > 1:
        paired: list[bytes] = []
        push = paired.append
        pairs = iter(level)
        for left, right in zip(pairs, pairs, strict=False):
            h = copy()
            h.update(left)
            h.update(right)
            push(h.digest())
        if len(level) % 2:
            push(level[-1])
        level = paired
    return level[0]


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    out: list[bytes] = []
    push = out.append
    copy = _LEAF_STATE.copy
    for data in leaves:
        h = copy()
        h.update(data)
        push(h.digest())
    return out


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of raw leaf data."""
    return root_from_leaf_hashes(leaf_hashes(leaves))


def frontier_push(frontier: list[bytes], size: int, new_leaf_hash: bytes) -> list[tuple]:
    """Append a leaf to a compact range (the roots of the perfect subtrees covering
    [0, size), largest first) in place. Returns the perfect subtrees completed by this leaf as
    `(level, index, hash)` for levels >= 1, so the caller can store them."""
    completed = []
    node = new_leaf_hash
    level = 0
    index = size  # leaf index of the new leaf
    while index & 1:  # a left sibling of the same size exists: merge
        node = node_hash(frontier.pop(), node)
        level += 1
        index >>= 1
        completed.append((level, index, node))
    frontier.append(node)
    return completed


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The root from the compact range: fold from the smallest subtree leftwards."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for node in reversed(frontier[:-1]):
        acc = node_hash(node, acc)
    return acc


# --- prover: proofs as leaf ranges ---------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 s.2.1.3.1 as the leaf ranges [start, end) whose MTHs form
    the proof, in proof order (leaf level first)."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    out: list[tuple[int, int]] = []

    def path(m: int, start: int, end: int) -> None:
        n = end - start
        if n == 1:
            return
        k = largest_power_of_two_below(n)
        if m < k:
            path(m, start, start + k)
            out.append((start + k, end))
        else:
            path(m - k, start + k, end)
            out.append((start, start + k))

    path(index, 0, size)
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of RFC 9162 s.2.1.4.1 as leaf ranges, in proof order. Empty when
    first == second."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    out: list[tuple[int, int]] = []

    def subproof(m: int, start: int, end: int, b: bool) -> None:
        n = end - start
        if m == n:
            if not b:
                out.append((start, end))
            return
        k = largest_power_of_two_below(n)
        if m <= k:
            subproof(m, start, start + k, b)
            out.append((start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            out.append((start, start + k))

    subproof(first, 0, second, True)
    return out


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees `(level, index)` that tile [start, end), left to right:
    what `hash_range` will look up for that range (used to fetch them in one query)."""
    out = []
    while start < end:
        # the largest aligned perfect subtree starting at `start` and fitting in the range
        level = (end - start).bit_length() - 1
        while start & ((1 << level) - 1):
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def hash_range(start: int, end: int, lookup: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) with `lookup(level, index)` giving perfect subtree hashes (level 0
    being leaf hashes). Follows the RFC split at the largest power of two, so it is right for
    any range a proof asks for."""
    n = end - start
    if n <= 0:
        raise ValueError("empty range")
    if n & (n - 1) == 0 and start % n == 0:
        return lookup(n.bit_length() - 1, start // n)
    k = largest_power_of_two_below(n)
    return node_hash(hash_range(start, start + k, lookup), hash_range(start + k, end, lookup))


class MemoryTree:
    """A Merkle tree held in memory (for tests, benchmarks and the offline verifier): every
    level of complete subtrees is kept, so roots and proofs use the same code as the DB."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> bytes:
        h = leaf_hash(data)
        self.append_hash(h)
        return h

    def append_hash(self, h: bytes) -> None:
        self.levels[0].append(h)
        level, index = 0, len(self.levels[0]) - 1
        while index & 1:
            parent = node_hash(self.levels[level][index - 1], self.levels[level][index])
            level += 1
            index >>= 1
            if len(self.levels) <= level:
                self.levels.append([])
            self.levels[level].append(parent)

    def lookup(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return hash_range(0, size, self.lookup)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return [hash_range(a, b, self.lookup) for a, b in inclusion_ranges(index, size)]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return [hash_range(a, b, self.lookup) for a, b in consistency_ranges(first, second)]


# --- verifier (RFC 9162 s.2.1.3.2 and s.2.1.4.2), independent of the prover ---------------


class ProofError(ValueError):
    """A proof does not verify."""


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf_hash_value: bytes, proof: Sequence[bytes]
) -> bytes:
    """Steps 1-4 of RFC 9162 s.2.1.3.2: the root the proof leads to."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError("leaf index is not below the tree size")
    _check_hash(leaf_hash_value, "leaf hash")
    fn, sn = leaf_index, tree_size - 1
    r = bytes(leaf_hash_value)
    for p in proof:
        _check_hash(p, "proof element")
        if sn == 0:
            raise ProofError("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_index: int,
    tree_size: int,
    leaf_hash_value: bytes,
    proof: Sequence[bytes],
    root_hash: bytes,
) -> None:
    """Raise ProofError unless `proof` shows the leaf at `leaf_index` is in the tree of
    `tree_size` leaves with `root_hash`."""
    _check_hash(root_hash, "root hash")
    if root_from_inclusion_proof(leaf_index, tree_size, leaf_hash_value, proof) != root_hash:
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(
    first: int,
    second: int,
    first_hash: bytes,
    second_hash: bytes,
    proof: Sequence[bytes],
) -> None:
    """Raise ProofError unless `proof` shows the tree (first, first_hash) is a prefix of the
    tree (second, second_hash). RFC 9162 s.2.1.4.2, plus the trivial cases (first == 0,
    first == second) that the RFC leaves to the caller."""
    _check_hash(first_hash, "first root hash")
    _check_hash(second_hash, "second root hash")
    if first < 0 or second < first:
        raise ProofError("need 0 <= first <= second")
    if first == 0:  # the empty tree is a prefix of every tree
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        if first_hash != EMPTY_ROOT or (second == 0 and second_hash != EMPTY_ROOT):
            raise ProofError("the empty tree's root is SHA-256 of nothing; this one is not")
        return
    if first == second:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if first_hash != second_hash:
            raise ProofError("same size, different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    for p in proof:
        _check_hash(p, "proof element")
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: first is an exact power of two
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_hash:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != second_hash:
        raise ProofError("consistency proof does not lead to the second root")
