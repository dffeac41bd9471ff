"""The JSON-LD context of the IP credential types, and the contexts an issued credential uses.

One context of ours defines every term our credentials use (the four types, the subjects'
properties and `registryDid` on the issuer object). It is served at `/contexts/ip/v1` and,
because didkit cannot load remote contexts, embedded inline in every issued credential. It is
`@protected` and has no `@vocab`: a term it does not define makes JSON-LD expansion fail instead
of being silently dropped from what the proof covers.
"""

from __future__ import annotations

import functools

from django.conf import settings

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_LIST_2021 = "https://w3id.org/vc/status-list/2021/v1"
CONTEXT_PATH = "/contexts/ip/v1"

CREDENTIAL_TYPES = (
    "IPApplicantCredential",
    "IPRepresentativeCredential",
    "IPOfficeAccreditationCredential",
    "IPMandateCredential",
)

# Subject (and issuer) properties: term -> extra JSON-LD definition.
_ID = {"@type": "@id"}
_SET = {"@container": "@set"}


def _VC_DATE(term: str) -> dict:  # noqa: N802
    # The StatusList2021 context (built into didkit) defines these two as protected terms of
    # the VC vocabulary; a different definition here would be a "protected term redefinition"
    # whenever a credential carries a status entry, so ours is identical.
    return {
        "@id": f"https://www.w3.org/2018/credentials#{term}",
        "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
    }


_TERMS: dict[str, dict] = {
    "registryDid": _ID,
    # IPApplicantCredential
    "name": {},
    "personType": {},
    "country": {},
    "address": {},
    "lei": {},
    "partyIdentifiers": _SET,
    "partyIdentifier": {},
    # IPRepresentativeCredential
    "registrationNumber": {},
    "office": {},
    "field": {},
    # IPOfficeAccreditationCredential
    "credentialTypes": _SET,
    "validFrom": _VC_DATE("validFrom"),
    # IPMandateCredential
    "agent": _ID,
    "rightType": {},
    "applicationNumbers": _SET,
    "validUntil": _VC_DATE("validUntil"),
}


def context_url() -> str:
    return settings.REGISTRY_BASE_URL + CONTEXT_PATH


def vocabulary_base() -> str:
    return context_url() + "#"


@functools.cache
def _ip_context_for(base: str) -> dict:
    body: dict = {"@version": 1.1, "@protected": True}
    for name in CREDENTIAL_TYPES:
        body[name] = {"@id": base + name}
    for term, extra in _TERMS.items():
        body[term] = {"@id": base + term, **extra}  # extra may carry its own @id
    return body


def ip_context() -> dict:
    """The inner context object (what goes inline in a credential's `@context`)."""
    return _ip_context_for(vocabulary_base())


def context_document() -> dict:
    """The document served at CONTEXT_PATH."""
    return {"@context": ip_context()}


def credential_contexts(*, with_status: bool) -> list:
    """The `@context` of an issued credential: VC 1.1, StatusList2021 if it has a status, ours."""
    contexts: list = [CREDENTIALS_V1]
    if with_status:
        contexts.append(STATUS_LIST_2021)
    contexts.append(ip_context())
    return contexts


def presentation_contexts() -> list:
    return [CREDENTIALS_V1]
