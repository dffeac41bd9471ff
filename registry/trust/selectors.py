"""Reads for the trust query API: who an entity_id (a DID or a did:key) is."""

from __future__ import annotations

from dataclasses import dataclass

from identity.errors import InvalidDid
from identity.services import KeyOwnership, did_key_owner
from registry.participants.models import Participant


@dataclass
class TrustEntity:
    entity_id: str
    participant: Participant | None
    key: KeyOwnership | None  # when entity_id was a did:key (or a linked wallet DID)


def trust_entity_get(entity_id: str) -> TrustEntity:
    """The participant behind a registry DID or one of its did:keys (fragment ignored).
    Applicants are never disclosed: their DIDs answer like unknown ones."""
    value = (entity_id or "").strip()
    if (
        not value.startswith("did:")
        or len(value) > 2048
        or not value.isprintable()
        or any(c.isspace() for c in value)
    ):
        raise InvalidDid("entity_id must be a DID (did:web of the registry, or a did:key)")
    base = value.split("#", 1)[0]
    key = None
    if base.startswith(("did:key:", "did:jwk:")):
        key = did_key_owner(base)
        controller = key.controller if key else None
    else:
        controller = base
    participant = None
    if controller:
        participant = (
            Participant.objects.select_related("did")
            .filter(did__did=controller)
            .exclude(kind=Participant.Kind.APPLICANT)
            .first()
        )
    if participant is None:
        key = None
    return TrustEntity(entity_id=value, participant=participant, key=key)
