"""Demo data for the trust registry (a step of registry.participants.demo.DEMO_STEPS):
every demo office is accredited by the registry for the applicant and representative types,
and a demo chamber of representatives is accredited by EP for representative credentials."""

from __future__ import annotations

from registry.participants.models import Participant
from registry.participants.services import participant_create

from .models import IssuerAccreditation
from .services import accreditation_check, accreditation_grant

DEMO_OFFICE_TYPES = ["IPApplicantCredential", "IPRepresentativeCredential"]
DEMO_CHAMBER = ("Chamber of European Patent Representatives (demo)", "EP")


def _accredit(office, types, *, parent=None) -> IssuerAccreditation | None:
    """Grant only what the issuer does not hold already (so a second run changes nothing)."""
    from django.utils import timezone

    now = timezone.now()
    missing = [
        t
        for t in types
        if not accreditation_check(issuer=office, credential_type=t, at=now).authorized
    ]
    if not missing:
        return None
    return accreditation_grant(
        office=office, credential_types=missing, parent=parent, actor="load_demo_data"
    )


def step_accreditations(ctx) -> None:
    for code, office in ctx.offices.items():
        if _accredit(office, DEMO_OFFICE_TYPES):
            ctx.created.append(f"accreditation of {code}")
    ep = ctx.offices.get("EP")
    if ep is None:
        return
    name, country = DEMO_CHAMBER
    chamber = Participant.objects.filter(kind=Participant.Kind.AGENT, display_name=name).first()
    if chamber is None:
        chamber = participant_create(
            kind=Participant.Kind.AGENT, display_name=name, country=country
        )
        ctx.created.append(f"agent {name}")
    parent = (
        IssuerAccreditation.objects.filter(
            office=ep, parent__isnull=True, withdrawn_at__isnull=True
        )
        .order_by("-valid_from")
        .first()
    )
    if parent is not None and _accredit(chamber, ["IPRepresentativeCredential"], parent=parent):
        ctx.created.append(f"accreditation of {name} by EP")
    ctx.say(f"accredited issuers: {', '.join(ctx.offices)} + {name} (via EP)")
