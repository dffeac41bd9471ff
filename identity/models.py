"""DIDs, their keys (encrypted at rest) and every version of their documents.

Rows here are written only by `identity.services`; document versions and key history are
append-only (a rotated key is retired, never deleted).
"""

from __future__ import annotations

from django.db import models


class Did(models.Model):
    """A registry DID (did:web under REGISTRY_HOST): the registry itself or a participant."""

    did = models.CharField(max_length=255, unique=True)
    # The did:web path after the host: "" for the registry, "offices:ep", "agents:<id>", ...
    path = models.CharField(max_length=200, unique=True, blank=True)
    services = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "DID"
        verbose_name_plural = "DIDs"
        ordering = ["did"]

    def __str__(self) -> str:
        return self.did

    @property
    def is_deactivated(self) -> bool:
        return self.deactivated_at is not None


class DidKey(models.Model):
    """An Ed25519 key of a registry DID, also known as its own did:key.

    `key-N` is its fragment in the DID document while active. The private half is stored only as
    AES-256-GCM ciphertext under a master key (`master_key_id`).
    """

    did = models.ForeignKey(Did, on_delete=models.PROTECT, related_name="keys")
    number = models.PositiveIntegerField()
    did_key = models.CharField(max_length=128, unique=True)
    public_key_multibase = models.CharField(max_length=64)
    private_key_ciphertext = models.BinaryField(editable=False)
    master_key_id = models.CharField(max_length=64, editable=False)
    activated_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    compromised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "DID key"
        ordering = ["did_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["did", "number"], name="didkey_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.did.did}#{self.fragment}"

    @property
    def fragment(self) -> str:
        return f"key-{self.number}"

    @property
    def verification_method_id(self) -> str:
        return f"{self.did.did}#{self.fragment}"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class LinkedDid(models.Model):
    """A holder's own wallet DID (did:key / did:jwk) linked to their registry DID after a
    proof of control; listed in `alsoKnownAs` and found by the reverse lookup."""

    did = models.ForeignKey(Did, on_delete=models.PROTECT, related_name="linked_dids")
    linked_did = models.CharField(max_length=2048)
    linked_at = models.DateTimeField()
    unlinked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "linked wallet DID"
        ordering = ["linked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["linked_did"],
                condition=models.Q(unlinked_at__isnull=True),
                name="linkeddid_one_active_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.linked_did[:60]} -> {self.did_id}"


class DidDocumentVersion(models.Model):
    """One published version of a DID document; append-only."""

    did = models.ForeignKey(Did, on_delete=models.PROTECT, related_name="versions")
    version_id = models.PositiveIntegerField()
    document = models.JSONField()
    created_at = models.DateTimeField()
    deactivated = models.BooleanField(default=False)
    reason = models.CharField(max_length=64)

    class Meta:
        verbose_name = "DID document version"
        ordering = ["did_id", "version_id"]
        constraints = [
            models.UniqueConstraint(fields=["did", "version_id"], name="didversion_unique"),
        ]
        indexes = [models.Index(fields=["did", "created_at"], name="didversion_time_idx")]

    def __str__(self) -> str:
        return f"{self.did.did} v{self.version_id}"
