"""Office API keys: `ipr_<prefix>_<secret>`, shown once, stored as a SHA-256 of the whole key.

The key carries 32 random bytes, so a plain SHA-256 (no slow hash) is enough: nobody can guess
it, and lookups stay fast. The prefix finds the row; the hash is compared in constant time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.participants.models import Participant

API_KEY_SCOPES = ("issue", "revoke", "verify", "resolve")


class ApiKey(models.Model):
    office = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The key this one replaced (rotation): the old key is revoked when the new one is made.
    rotated_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rotated_to"
    )
    # The one-time key of the portal's form that created it: sending that form again creates
    # no second key (`api_key_create`). Empty for keys made otherwise (admin, command, rotation).
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["office_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="api_key_one_per_form_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name or 'unnamed'})"

    def is_expired(self, at=None) -> bool:
        return self.expires_at is not None and (at or timezone.now()) >= self.expires_at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
