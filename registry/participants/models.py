from __future__ import annotations

from django.conf import settings
from django.db import models

from identity.models import Did


class Participant(models.Model):
    """Someone in the IP ecosystem with a registry DID: an IP office, an agent, an applicant."""

    class Kind(models.TextChoices):
        OFFICE = "office", "IP office"
        AGENT = "agent", "Agent (patent or trademark attorney)"
        APPLICANT = "applicant", "Applicant"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    display_name = models.CharField(max_length=200)
    # WIPO ST.3 code of the participant's country (or organisation, for EP, EM, WO ...).
    country = models.CharField(max_length=2)
    # Offices only: the office's own ST.3 code, which also names its DID (offices:ep).
    st3_code = models.CharField(max_length=2, unique=True, null=True, blank=True)
    did = models.OneToOneField(Did, on_delete=models.PROTECT, related_name="participant")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="participants",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "display_name"]
        indexes = [models.Index(fields=["kind", "display_name"], name="participant_kind_name")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="office") | models.Q(st3_code__isnull=False),
                name="participant_office_has_st3",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.kind})"

    @property
    def is_public(self) -> bool:
        """Offices and agents are listed in the public directory; applicants never are."""
        return self.kind != self.Kind.APPLICANT
