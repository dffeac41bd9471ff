"""Shared fixtures of the status tests: offices made as in production, and credentials carrying
a status entry, signed for real with didkit by the issuer's did:key."""

from __future__ import annotations

import uuid

import pytest

from identity.crypto import didkit_adapter
from identity.services import did_signing_key
from registry.status.services import (
    STATUS_LIST_CONTEXT,
    VC_V1_CONTEXT,
    credential_status_change,
    status_entry_allocate,
)
from registry.status.verification import status_cache_clear
from tests.registry.participants.factories import OfficeFactory


@pytest.fixture(autouse=True)
def _fresh_status_cache():
    # The verifier's list cache is per process: start every test from nothing.
    from django.core.cache import cache

    status_cache_clear()
    cache.clear()
    yield
    status_cache_clear()


@pytest.fixture
def change(django_capture_on_commit_callbacks):
    """credential_status_change, with its on-commit work (the eager publish task) run."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return credential_status_change(**kwargs)

    return run


@pytest.fixture
def office():
    return OfficeFactory()


@pytest.fixture
def other_office():
    return OfficeFactory()


def make_credential(issuer, *, purpose: str = "revocation", credential_id: str | None = None):
    """Allocate a status entry and sign a small credential carrying it. Returns
    (signed credential, issuer did:key)."""
    credential_id = credential_id or f"urn:uuid:{uuid.uuid4()}"
    status = status_entry_allocate(
        issuer_did=issuer.did.did, credential_id=credential_id, purpose=purpose
    )
    key, pair = did_signing_key(issuer.did.did)
    unsigned = {
        "@context": [VC_V1_CONTEXT, STATUS_LIST_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential"],
        "issuer": key.did_key,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
        "credentialStatus": status,
    }
    return didkit_adapter.issue_credential(unsigned, key=pair), key.did_key
