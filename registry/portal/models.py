"""The portal's own records: credential requests to offices, and mandates granted through it.

Credentials themselves live in `registry.credentials` (H3); these rows link a person's request
or grant to the credentials issued for it, by credential id, so that the portal can show state
and history without duplicating the credential store.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.participants.models import Participant

APPLICANT_CREDENTIAL = "IPApplicantCredential"
REPRESENTATIVE_CREDENTIAL = "IPRepresentativeCredential"
MANDATE_CREDENTIAL = "IPMandateCredential"

# Which credential type each kind of person may request from an office.
REQUESTABLE_TYPE_BY_KIND = {
    Participant.Kind.APPLICANT: APPLICANT_CREDENTIAL,
    Participant.Kind.AGENT: REPRESENTATIVE_CREDENTIAL,
}


class CredentialRequest(models.Model):
    """A person asks an office for a credential about themselves; an officer decides."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    requester = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="credential_requests"
    )
    office = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="received_credential_requests"
    )
    credential_type = models.CharField(max_length=64)
    # The credentialSubject claims requested (without `id`, which is the requester's DID).
    claims = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Both formats are issued on approval (same claims), so either can be downloaded; status
    # changes from the portal apply to both.
    ldp_credential_id = models.CharField(max_length=255, blank=True)
    jwt_credential_id = models.CharField(max_length=255, blank=True)
    # The one-time key of the request form that made it: sending that form again gives this
    # request back instead of filing another. Empty for requests made otherwise.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["office", "state"], name="portal_request_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="portal_request_one_per_form_key",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.credential_type} for {self.requester_id} from {self.office_id} ({self.state})"
        )

    @property
    def credential_ids(self) -> list[str]:
        return [c for c in (self.ldp_credential_id, self.jwt_credential_id) if c]


class MandateGrant(models.Model):
    """An applicant authorises an agent through the portal (an IPMandateCredential)."""

    class RightType(models.TextChoices):
        PATENT = "patent", _("Patent")
        TRADEMARK = "trademark", _("Trademark")
        DESIGN = "design", _("Design")
        UTILITY_MODEL = "utilityModel", _("Utility model")

    applicant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="mandates_granted"
    )
    agent = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="mandates_held")
    office = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    right_type = models.CharField(max_length=16, choices=RightType.choices)
    application_numbers = models.JSONField(default=list, blank=True)
    valid_until = models.DateField()
    credential_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"mandate {self.applicant_id} -> {self.agent_id} ({self.right_type})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.valid_until < timezone.now().date()
