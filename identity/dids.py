"""Registry DID names: did:web:{host}[:path], and the URL each maps to (did:web spec s.3.2)."""

from __future__ import annotations

import re
import secrets

from django.conf import settings

from .errors import InvalidDid

# did:web idchar set, plus pct-encoded (did-core ABNF).
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")
PARTICIPANT_SEGMENTS = {"office": "offices", "agent": "agents", "applicant": "applicants"}


def registry_host_segment(host: str | None = None) -> str:
    return (host or settings.REGISTRY_HOST).replace(":", "%3A")


def registry_did(host: str | None = None) -> str:
    return f"did:web:{registry_host_segment(host)}"


def did_for_path(path: str) -> str:
    return registry_did() + (f":{path}" if path else "")


def new_participant_path(kind: str, st3_code: str | None = None) -> str:
    """`offices:{st3}` for offices; an opaque random id for agents and applicants, so that no
    name or personal data ever appears in a DID."""
    segment = PARTICIPANT_SEGMENTS[kind]
    if kind == "office":
        if not st3_code or not re.fullmatch(r"[A-Za-z]{2}", st3_code):
            raise InvalidDid("an office DID needs a two-letter WIPO ST.3 code")
        return f"{segment}:{st3_code.lower()}"
    return f"{segment}:{secrets.token_hex(10)}"


def registry_path_of(did: str) -> str | None:
    """The path of a DID under our host ("" for the registry), or None if it is not ours."""
    root = registry_did()
    if did == root:
        return ""
    if did.startswith(root + ":"):
        return did[len(root) + 1 :]
    return None


def did_web_url(did: str, *, scheme: str = "https") -> str:
    """Map a did:web DID to the URL of its document."""
    if not did.startswith("did:web:"):
        raise InvalidDid("not a did:web DID")
    parts = did[len("did:web:") :].split(":")
    if not parts or not all(_SEGMENT.match(p) for p in parts):
        raise InvalidDid("did:web identifier has an empty or invalid segment")
    host = parts[0].replace("%3A", ":").replace("%3a", ":")
    if "%" in host or "/" in host or "@" in host:
        raise InvalidDid("did:web host is not a valid host name")
    path = "/".join(parts[1:])
    return (
        f"{scheme}://{host}/{path}/did.json" if path else f"{scheme}://{host}/.well-known/did.json"
    )


def document_path_for(path: str) -> str:
    """The local URL path of a registry DID's document."""
    return "/" + path.replace(":", "/") + "/did.json" if path else "/.well-known/did.json"
