"""Participants: creation with a registry DID, key rotation and deactivation (audited), and
office upsert."""

from __future__ import annotations

import re

from django.db import transaction

from identity.dids import new_participant_path
from identity.models import DidKey
from identity.services import did_create, did_deactivate, did_key_rotate
from registry.audit.services import audit_record

from .models import Participant
from .st3 import st3_code_known
from .text import nfc, text_problem

ST3_PATTERN = re.compile(r"^[A-Z]{2}$")


class ParticipantError(ValueError):
    """Invalid participant data; the message says which field and why."""


def _clean_st3(value: str | None, field: str) -> str:
    if value is not None and not isinstance(value, str):
        raise ParticipantError(f"{field} must be a two-letter WIPO ST.3 code, not {value!r}")
    code = (value or "").strip().upper()
    if not ST3_PATTERN.match(code):
        raise ParticipantError(f"{field} must be a two-letter WIPO ST.3 code, not {value!r}")
    if not st3_code_known(code):
        raise ParticipantError(f"{field}: {code} is not a WIPO ST.3 code")
    return code


def _clean_name(value: str | None, field: str) -> str:
    if value is not None and not isinstance(value, str):
        raise ParticipantError(f"{field} must be text")
    name = nfc((value or "").strip())
    if not name or len(name) > 200:
        raise ParticipantError(f"{field} must be 1 to 200 characters")
    problem = text_problem(name)
    if problem:  # shown in the public directory and the portal, signed into credentials
        raise ParticipantError(f"{field} {problem}")
    return name


def participant_clean(
    *, kind: str, display_name: str, country: str, st3_code: str | None = None
) -> dict:
    """Validate and normalise participant fields (as `participant_create` will store them);
    raises ParticipantError. Forms call it to show errors before anything is written."""
    if kind not in Participant.Kind.values:
        raise ParticipantError(f"kind must be one of {', '.join(Participant.Kind.values)}")
    display_name = _clean_name(display_name, "display_name")
    country = _clean_st3(country, "country")
    if kind == Participant.Kind.OFFICE:
        st3_code = _clean_st3(st3_code, "st3_code")
        if Participant.objects.filter(st3_code=st3_code).exists():
            raise ParticipantError(f"an office with ST.3 code {st3_code} already exists")
    else:
        st3_code = None
    return {"kind": kind, "display_name": display_name, "country": country, "st3_code": st3_code}


@transaction.atomic
def participant_create(
    *,
    kind: str,
    display_name: str,
    country: str,
    st3_code: str | None = None,
    user=None,
    actor=None,
) -> Participant:
    """Create a participant and its registry DID (with its first key)."""
    fields = participant_clean(
        kind=kind, display_name=display_name, country=country, st3_code=st3_code
    )
    did = did_create(path=new_participant_path(fields["kind"], fields["st3_code"]))
    participant = Participant.objects.create(**fields, did=did, user=user)
    audit_record(
        actor=actor,
        action="participant.create",
        target=did.did,
        # An applicant's name may be personal data: the audit trail keeps only its DID.
        data={k: v for k, v in fields.items() if not (k == "display_name" and kind == "applicant")},
    )
    return participant


@transaction.atomic
def participant_key_rotate(*, participant: Participant, actor=None, request=None) -> DidKey:
    """Rotate the participant's key: `key-N+1` replaces the current one in its DID document."""
    key = did_key_rotate(did=participant.did)
    # The key it replaced, read after the rotation's lock: another rotation may have run first.
    old = participant.did.keys.filter(number=key.number - 1).first()
    audit_record(
        actor=actor,
        action="key.rotate",
        target=participant.did.did,
        data={"old_key": old.did_key if old else None, "new_key": key.did_key},
        request=request,
        office=participant.st3_code or "",
    )
    return key


@transaction.atomic
def participant_deactivate(*, participant: Participant, actor=None, request=None):
    """Deactivate the participant's DID for good (it then resolves with HTTP 410)."""
    version = did_deactivate(did=participant.did)
    audit_record(
        actor=actor,
        action="did.deactivate",
        target=participant.did.did,
        data={"version_id": version.version_id},
        request=request,
    )
    return version


@transaction.atomic
def office_upsert(
    *, st3_code: str, name: str, country: str | None = None, actor=None
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
                actor=actor,
            ),
            True,
        )
    name = _clean_name(name, "name")
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
        audit_record(
            actor=actor,
            action="office.update",
            target=office.did.did,
            data={field: getattr(office, field) for field in changed},
        )
    return office, False
