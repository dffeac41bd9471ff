"""Participants: creation with a registry DID, and office import."""

from __future__ import annotations

import re

from django.db import transaction

from identity.dids import new_participant_path
from identity.services import did_create

from .models import Participant

ST3_PATTERN = re.compile(r"^[A-Z]{2}$")


class ParticipantError(ValueError):
    """Invalid participant data; the message says which field and why."""


def _clean_st3(value: str | None, field: str) -> str:
    code = (value or "").strip().upper()
    if not ST3_PATTERN.match(code):
        raise ParticipantError(f"{field} must be a two-letter WIPO ST.3 code, not {value!r}")
    return code


@transaction.atomic
def participant_create(
    *, kind: str, display_name: str, country: str, st3_code: str | None = None, user=None
) -> Participant:
    """Create a participant and its registry DID (with its first key)."""
    if kind not in Participant.Kind.values:
        raise ParticipantError(f"kind must be one of {', '.join(Participant.Kind.values)}")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 200:
        raise ParticipantError("display_name must be 1 to 200 characters")
    country = _clean_st3(country, "country")
    if kind == Participant.Kind.OFFICE:
        st3_code = _clean_st3(st3_code, "st3_code")
        if Participant.objects.filter(st3_code=st3_code).exists():
            raise ParticipantError(f"an office with ST.3 code {st3_code} already exists")
    else:
        st3_code = None
    did = did_create(path=new_participant_path(kind, st3_code))
    return Participant.objects.create(
        kind=kind,
        display_name=display_name,
        country=country,
        st3_code=st3_code,
        did=did,
        user=user,
    )


@transaction.atomic
def office_upsert(
    *, st3_code: str, name: str, country: str | None = None
) -> tuple[Participant, bool]:
    """Create the office with this ST.3 code, or update its name (and country, if given).
    Returns (office, created)."""
    code = _clean_st3(st3_code, "st3_code")
    office = Participant.objects.select_for_update().filter(st3_code=code).first()
    if office is None:
        return (
            participant_create(
                kind=Participant.Kind.OFFICE,
                display_name=name,
                country=country or code,
                st3_code=code,
            ),
            True,
        )
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ParticipantError("name must be 1 to 200 characters")
    changed = []
    if office.display_name != name:
        office.display_name = name
        changed.append("display_name")
    if country is not None:
        country = _clean_st3(country, "country")
        if office.country != country:
            office.country = country
            changed.append("country")
    if changed:
        office.save(update_fields=changed)
    return office, False
