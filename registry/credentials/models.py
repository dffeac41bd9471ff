"""Issued credentials (every one is recorded) and presentation challenges."""

from __future__ import annotations

from django.db import models

from .context import CREDENTIAL_TYPES


class IssuedCredential(models.Model):
    """A credential the registry signed, for an office, an applicant or itself.

    The signed `document` is kept as issued: a dict for JSON-LD (`ldp`), the compact JWS string
    for VC-JWT (`jwt`). Its revocation/suspension status lives in the status app's tables.
    """

    class Format(models.TextChoices):
        LDP = "ldp", "JSON-LD (Ed25519Signature2020)"
        JWT = "jwt", "VC-JWT"

    credential_id = models.CharField(max_length=64, unique=True)  # urn:uuid:...
    credential_type = models.CharField(
        max_length=64, choices=[(t, t) for t in CREDENTIAL_TYPES], db_index=True
    )
    # The issuing participant; null only for credentials the registry issues itself
    # (IPOfficeAccreditationCredential), whose issuer_did is the registry DID.
    issuer = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_credentials",
    )
    issuer_did = models.CharField(max_length=255)
    issuer_did_key = models.CharField(max_length=128)
    subject_did = models.CharField(max_length=2048)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    proof_format = models.CharField(max_length=8, choices=Format.choices)
    document = models.JSONField()
    issued_by = models.CharField(max_length=200, blank=True)  # who asked: API key, user, command
    # The client's Idempotency-Key (POST /credentials/issue), unique per issuer, and the SHA-256
    # of its request (its JSON with sorted keys, no whitespace): a retry of the same request gets
    # this credential back. Both are cleared (to "") once past IDEMPOTENCY_KEY_RETENTION_HOURS,
    # so the constraint means "one credential holds a key at a time".
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["issuer", "-issued_at"], name="issuedcred_issuer_idx"),
            models.Index(fields=["issuer", "-id"], name="issuedcred_issuer_id_idx"),
            models.Index(fields=["subject_did"], name="issuedcred_subject_idx"),
            # The hourly purge's scan: only credentials still holding a key.
            models.Index(
                fields=["issued_at"],
                condition=~models.Q(idempotency_key=""),
                name="issuedcred_idem_key_issued_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_did", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="issuedcred_idempotency_key_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential_type} {self.credential_id}"

    @property
    def is_jwt(self) -> bool:
        return self.proof_format == self.Format.JWT


class Challenge(models.Model):
    """A presentation challenge we issued: valid until `expires_at`, usable once (`used_at`
    is set by a conditional UPDATE, so two concurrent presentations cannot both claim it)."""

    value = models.CharField(max_length=64, unique=True)
    domain = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.value
