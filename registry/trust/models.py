"""Who may issue what (accreditations, in chains below the registry) and who works for which
office (memberships with a role)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.participants.models import Participant


class IssuerAccreditation(models.Model):
    """An issuer accredited to issue some credential types over a period.

    The registry (the root) accredits offices (`parent` is None, depth 0); an accredited issuer
    may accredit a sub-issuer for a subset of its own types (`parent` set, depth + 1, up to
    settings.TRUST_MAX_DEPTH). Rows are never deleted: suspension and withdrawal are timestamps,
    so `accreditation_check` can answer for any past moment.
    """

    # The accredited issuer: an office, or the sub-issuer of a delegated accreditation. Named
    # `office` because offices are the common (root) case and callers rely on the name.
    office = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="accreditations")
    credential_types = models.JSONField(default=list)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField()
    # Current suspension (null when not suspended); ended suspensions move to past_suspensions
    # as [from, until] ISO pairs, so history stays answerable.
    suspended_at = models.DateTimeField(null=True, blank=True)
    past_suspensions = models.JSONField(default=list, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # The IPOfficeAccreditationCredential that attests it (issued by the registry, or by the
    # parent issuer for a delegated accreditation), when one was issued.
    credential_id = models.CharField(max_length=300, blank=True)
    # The one-time key of the portal's grant form that made it: sending that form again grants
    # nothing more (`accreditation_grant`). Empty for grants made otherwise (admin, commands).
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False)

    class Meta:
        ordering = ["office_id", "-valid_from"]
        indexes = [models.Index(fields=["office", "valid_from"], name="accreditation_office_idx")]
        constraints = [
            # Keys are random per rendering of the form, whoever grants to whichever office:
            # one accreditation per key at most.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="accreditation_one_per_form_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office.display_name}: {', '.join(self.credential_types)}"


class OfficeMembership(models.Model):
    """A user working for an office: its administrator (manages officers and API keys) or an
    officer (acts for the office in the portal)."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Office administrator"
        OFFICER = "officer", "Office officer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="office_memberships"
    )
    office = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["office_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "office"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.office.display_name}"


class IssuerSigningKeys(Participant):
    """Offices seen from their signing keys, for the admin's key management screen."""

    class Meta:
        proxy = True
        verbose_name = "issuer signing keys"
        verbose_name_plural = "issuer signing keys"
