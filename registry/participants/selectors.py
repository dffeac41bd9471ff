"""Read paths of the public participant directory.

Applicants are never public: every lookup here filters them out, so no view can leak one by
forgetting a filter.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404

from identity.dids import registry_did
from identity.models import Did

from .models import Participant
from .text import nfc

PUBLIC_KINDS = (Participant.Kind.OFFICE, Participant.Kind.AGENT)
MAX_DID_LENGTH = Did._meta.get_field("did").max_length


def participant_directory_list(*, kind: str | None = None, q: str | None = None) -> QuerySet:
    """Offices and agents, optionally of one `kind`, whose display name or ST.3 code contains
    `q` (case-insensitive). The caller validates `kind` (see `PUBLIC_KINDS`)."""
    qs = Participant.objects.select_related("did").filter(kind__in=PUBLIC_KINDS)
    if kind:
        qs = qs.filter(kind=kind)
    q = nfc((q or "").strip())  # names are stored in NFC (participants.text.nfc)
    if q:
        qs = qs.filter(Q(display_name__icontains=q) | Q(st3_code__iexact=q))
    return qs.order_by("kind", "display_name", "pk")


def did_from_url_segment(value: str) -> str:
    """Undo the percent-decoding a URL path undergoes.

    A registry DID with a port carries it percent-encoded (`did:web:localhost%3A8000:...`); a
    client that puts it in a URL path as is gets it decoded by the server to
    `did:web:localhost:8000:...`, which is another DID. Our own host is known, so its decoded form
    is mapped back; a DID sent fully encoded (`%253A`) arrives intact and is left alone.
    """
    root = registry_did()
    for alias in (f"did:web:{settings.REGISTRY_HOST}", root.replace("%3A", "%3a")):
        if alias != root and (value == alias or value.startswith(alias + ":")):
            return root + value[len(alias) :]
    return value


def participant_public_get(*, did: str) -> Participant:
    """The office or agent with this registry DID; 404 for applicants and unknown DIDs alike
    (an applicant's existence is not disclosed)."""
    if "\x00" in did or len(did) > MAX_DID_LENGTH:
        # Never a registry DID, and PostgreSQL refuses NUL in text: answer before querying.
        raise Http404("No office or agent has this DID.")
    participant = (
        Participant.objects.select_related("did")
        .filter(kind__in=PUBLIC_KINDS, did__did=did_from_url_segment(did))
        .first()
    )
    if participant is None:
        raise Http404("No office or agent has this DID.")
    return participant
