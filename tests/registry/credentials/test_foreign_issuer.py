"""A credential naming a DID of another host as its issuer: the signing key must be one that
DID lists for assertionMethod (resolved through the guarded resolver, from a loopback host here),
not merely one of its keys."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from identity.crypto.keys import Ed25519KeyPair
from tests.identity.test_resolution_remote import did_host  # noqa: F401 - the fixture

from .forge import sign, unsigned
from .test_verification import verify

pytestmark = pytest.mark.django_db


def _foreign_document(did: str, key: Ed25519KeyPair, relationship: str, reference) -> dict:
    method = {
        "id": f"{did}#k1",
        "type": "Ed25519VerificationKey2020",
        "controller": did,
        "publicKeyMultibase": key.did_key.removeprefix("did:key:"),
    }
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [method],
        relationship: [method if reference == "embedded" else reference],
    }


def _credential_signed_for(did: str, key: Ed25519KeyPair) -> dict:
    return sign(
        unsigned(
            issuer_did=did,
            signer=key,
            credential_type="IPApplicantCredential",
            subject={
                "id": "did:web:example.org:applicants:1",
                "name": "Foreign Ltd",
                "personType": "legal",
                "country": "FR",
                "address": "1 rue Ailleurs",
            },
        ),
        key,
    )


@pytest.mark.parametrize(
    ("relationship", "reference", "bound"),
    [
        ("assertionMethod", "#k1", True),  # relative reference
        ("assertionMethod", "absolute", True),
        ("assertionMethod", "embedded", True),
        ("keyAgreement", "#k1", False),  # a key for another purpose does not sign credentials
        ("authentication", "#k1", False),
        ("capabilityInvocation", "absolute", False),
    ],
)
def test_a_foreign_issuer_key_counts_only_for_assertion_method(
    did_host,  # noqa: F811
    relationship,
    reference,
    bound,
):
    cache.clear()
    did = f"{did_host.did_prefix}:issuers:acme"
    key = Ed25519KeyPair.generate()
    ref = f"{did}#k1" if reference == "absolute" else reference
    did_host.routes["/issuers/acme/did.json"] = {
        "body": _foreign_document(did, key, relationship, ref)
    }
    result = verify(_credential_signed_for(did, key))
    issuer_key = result["results"]["issuerKey"]
    assert issuer_key["ok"] is bound, issuer_key
    if not bound:
        assert "for assertionMethod" in issuer_key["detail"]
    assert result["verified"] is False  # a foreign issuer is never accredited here
