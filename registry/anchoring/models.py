"""The anchoring log: leaves, cached subtree hashes, the log head and signed checkpoints.

All rows are append-only and written only by `registry.anchoring.services`.
"""

from __future__ import annotations

import json

from django.db import models


class LogHead(models.Model):
    """The single row (pk=1) every append locks: it serialises appends (no gaps, no duplicate
    index) and holds the compact range of the tree, so that an append needs no other read."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.PositiveBigIntegerField(default=0)
    # Hex hashes of the perfect subtrees covering [0, size), largest first (compact range).
    frontier = models.JSONField(default=list)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "log head"

    def __str__(self) -> str:
        return f"log head (size {self.size})"


class LogLeaf(models.Model):
    """One anchored record. `entry` is the exact text hashed into the leaf: RFC 8785 canonical
    JSON of {"kind", "key", "data"}; `leaf_hash` = SHA-256(0x00 || entry)."""

    index = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    entry = models.TextField()
    leaf_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="logleaf_unique_kind_key"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.index} {self.kind}:{self.key}"

    @property
    def data(self) -> dict:
        return json.loads(self.entry)["data"]

    @property
    def leaf_hash_bytes(self) -> bytes:
        return bytes.fromhex(self.leaf_hash)


class LogSubtree(models.Model):
    """The hash of a complete (perfect) subtree of 2**level leaves, level >= 1, starting at
    leaf `index << level`. Written once when its last leaf is appended; roots and proofs read
    O(log n) of these instead of rehashing leaves."""

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="logsubtree_unique_node"),
        ]

    def __str__(self) -> str:
        return f"subtree {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint note) of the log at `tree_size`."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    note = models.TextField()
    # The registry key that signed it (its did:key), and the note verifier key string.
    signer_did_key = models.CharField(max_length=128)
    verifier_key = models.CharField(max_length=512)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"


class AnchorReceipt(models.Model):
    """That an external anchor backend (a ledger) accepted a leaf; one per leaf and backend.
    The built-in log needs none: the leaf row is its own receipt."""

    leaf = models.ForeignKey(LogLeaf, on_delete=models.PROTECT, related_name="receipts")
    backend = models.CharField(max_length=100)
    receipt = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["leaf", "backend"], name="anchorreceipt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.backend} receipt for leaf {self.leaf_id}"
