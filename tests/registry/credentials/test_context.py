"""Our JSON-LD context with didkit: every term we use is defined, anything else fails expansion
(no @vocab catch-all), and its terms cannot be redefined by a later context (@protected)."""

from __future__ import annotations

import pytest

from identity.crypto import didkit_adapter
from identity.crypto.errors import CryptoError
from identity.crypto.keys import Ed25519KeyPair
from registry.credentials.context import (
    CREDENTIALS_V1,
    STATUS_LIST_2021,
    credential_contexts,
    ip_context,
)

SUBJECT = {
    "id": "did:web:localhost%3A8000:applicants:0123456789abcdef0123",
    "name": "Example Ltd",
    "personType": "legal",
    "country": "FR",
    "address": "Paris",
    "partyIdentifiers": [{"office": "EP", "partyIdentifier": "1"}],
}


def credential(key, *, contexts=None, subject=None, issuer_extra=None) -> dict:
    return {
        "@context": contexts or credential_contexts(with_status=False),
        "id": "urn:uuid:6a1b3f4e-8c2d-4f5a-9b7c-1d2e3f4a5b6c",
        "type": ["VerifiableCredential", "IPApplicantCredential"],
        "issuer": {
            "id": key.did_key,
            "registryDid": "did:web:localhost%3A8000:offices:ep",
            **(issuer_extra or {}),
        },
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": subject or SUBJECT,
    }


def test_every_term_of_every_type_signs_and_verifies():
    key = Ed25519KeyPair.generate()
    subject = {
        **SUBJECT,
        "lei": "969500T3MBS4SQAMHJ98",
        "registrationNumber": "R-1",
        "office": "EP",
        "field": "patents",
        "credentialTypes": ["IPApplicantCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "agent": "did:web:localhost%3A8000:agents:0123456789abcdef0123",
        "rightType": "patent",
        "applicationNumbers": ["EP20230012345"],
        "validUntil": "2027-01-01T00:00:00Z",
    }
    for with_status in (False, True):
        document = credential(
            key, contexts=credential_contexts(with_status=with_status), subject=subject
        )
        if with_status:
            document["credentialStatus"] = {
                "id": "http://localhost:8000/status-lists/abc#7",
                "type": "StatusList2021Entry",
                "statusPurpose": "revocation",
                "statusListIndex": "7",
                "statusListCredential": "http://localhost:8000/status-lists/abc",
            }
        signed = didkit_adapter.issue_credential(document, key=key)
        assert didkit_adapter.verify_credential(signed).ok
        assert didkit_adapter.verify_credential(
            didkit_adapter.issue_credential(document, key=key, proof_format="jwt")
        ).ok


@pytest.mark.parametrize(
    ("subject", "issuer_extra"),
    [({**SUBJECT, "nickname": "Ex"}, None), (SUBJECT, {"homepage": "https://example.org"})],
)
def test_undefined_terms_fail_instead_of_being_dropped(subject, issuer_extra):
    key = Ed25519KeyPair.generate()
    with pytest.raises(CryptoError, match="expansion"):
        didkit_adapter.issue_credential(
            credential(key, subject=subject, issuer_extra=issuer_extra), key=key
        )


def test_our_terms_cannot_be_redefined_by_a_later_context():
    key = Ed25519KeyPair.generate()
    contexts = [CREDENTIALS_V1, ip_context(), {"name": "https://example.org/#name"}]
    with pytest.raises(CryptoError, match="(?i)protected"):
        didkit_adapter.issue_credential(credential(key, contexts=contexts), key=key)


def test_context_has_no_vocab_and_is_protected():
    context = ip_context()
    assert "@vocab" not in context
    assert context["@protected"] is True
    assert credential_contexts(with_status=True)[1] == STATUS_LIST_2021
