"""Status lists, the entries allocated in them, their change history, the outbox of changes
waiting to be published, and every published (signed, anchored) version of each list.

Written only by `registry.status.services`. Versions and changes are append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from identity.models import Did

from .bitstring import MIN_LIST_BITS


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", "Revocation"
    SUSPENSION = "suspension", "Suspension"


# Read on every issuance and status check: a TextChoices' `.values` rebuilds its list each time.
STATUS_PURPOSES = tuple(StatusPurpose.values)


class StatusList(models.Model):
    """One StatusList2021 list of an issuer for one purpose; `sequence` 1, 2, ... as lists fill."""

    public_id = models.CharField(max_length=32, unique=True)
    issuer = models.ForeignKey(Did, on_delete=models.PROTECT, related_name="status_lists")
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices)
    sequence = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=MIN_LIST_BITS)
    # Set once no index is left; allocation then moves to the next list.
    is_full = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["issuer_id", "purpose", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "purpose", "sequence"], name="statuslist_unique_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.purpose} #{self.sequence})"

    @property
    def url(self) -> str:
        return f"{settings.REGISTRY_BASE_URL}/status-lists/{self.public_id}"


class StatusEntry(models.Model):
    """The index a credential holds in a list, and the credential's current status."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"

    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    index = models.PositiveIntegerField()
    credential_id = models.CharField(max_length=300, unique=True)
    # Same as the list's purpose; kept here so the entry alone says what it can do.
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    reason = models.CharField(max_length=500, blank=True)
    allocated_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "status entries"
        ordering = ["status_list_id", "index"]
        constraints = [
            # Two credentials never share an index, whatever the number of web processes.
            models.UniqueConstraint(
                fields=["status_list", "index"], name="statusentry_unique_index"
            ),
        ]
        indexes = [
            # The set bits of a list, read by every publication: without it, each one read every
            # entry of the list (131,072 once full: 23 ms on PostgreSQL, against 0.2 ms). Partial,
            # so it holds revoked and suspended entries only, and issuance never writes to it.
            # Queries reach it with 'active' as a literal (status.services): with a parameter,
            # PostgreSQL's generic plan of a prepared statement could not use it.
            models.Index(
                fields=["status_list", "index"],
                condition=~models.Q(state="active"),
                name="statusentry_set_bits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} -> {self.status_list.public_id}#{self.index} ({self.state})"

    @property
    def bit_set(self) -> bool:
        """The bit published for this entry: revoked, or suspended, sets it."""
        return self.state != self.State.ACTIVE


class StatusChange(models.Model):
    """Append-only history of every status change (who, when, from what to what, why)."""

    entry = models.ForeignKey(StatusEntry, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.entry.credential_id}: {self.from_state} -> {self.to_state}"


class StatusListVersion(models.Model):
    """A published, signed version of a list: the exact bytes served, their SHA-256 (the anchored
    value) and the log leaf that anchors them."""

    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    # Stored as text, not JSON: the served bytes must be exactly the hashed and anchored bytes.
    body = models.TextField()
    sha256 = models.CharField(max_length=64)
    bits_set = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField()
    # The anchoring log leaf (registry.anchoring), when the log accepted it.
    anchor_leaf_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["status_list_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "version"], name="statuslistversion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_list.public_id} v{self.version}"

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'

    @property
    def anchor_key(self) -> str:
        return f"{self.status_list.public_id}:{self.version}"


class StatusOutbox(models.Model):
    """A list with changes to publish: written in the same transaction as the change; the publish
    task (on commit) or the periodic sweep marks it published with the version that carries it."""

    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="outbox")
    change = models.OneToOneField(
        StatusChange, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox"
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.ForeignKey(
        StatusListVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbox_rows",
    )

    class Meta:
        verbose_name_plural = "status outbox"
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["status_list"],
                condition=models.Q(published_at__isnull=True),
                name="statusoutbox_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"outbox {self.pk} ({'published' if self.published_at else 'pending'})"
