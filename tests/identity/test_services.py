import pytest
from django.db import connection

from identity.crypto import didkit_adapter
from identity.crypto.keys import Ed25519KeyPair
from identity.errors import DidDeactivated
from identity.models import DidKey
from identity.services import (
    did_create,
    did_deactivate,
    did_key_owner,
    did_key_rotate,
    did_service_add,
    did_service_remove,
    did_signing_key,
)

pytestmark = pytest.mark.django_db


def test_created_did_document_lists_its_key_and_did_key():
    did = did_create(path="agents:abc123")
    version = did.versions.get()
    doc = version.document
    key = did.keys.get()
    assert did.did == "did:web:localhost%3A8000:agents:abc123"
    assert doc["id"] == did.did
    assert doc["verificationMethod"][0]["id"] == f"{did.did}#key-1"
    assert doc["verificationMethod"][0]["publicKeyMultibase"] == key.public_key_multibase
    assert doc["assertionMethod"] == [f"{did.did}#key-1"]
    assert doc["authentication"] == [f"{did.did}#key-1"]
    assert doc["alsoKnownAs"] == [key.did_key]


def test_rotation_keeps_history_and_reverse_lookup():
    did = did_create(path="agents:rot")
    old = did.keys.get()
    new = did_key_rotate(did=did)
    assert new.number == 2
    versions = list(did.versions.order_by("version_id"))
    assert [v.version_id for v in versions] == [1, 2]
    assert versions[1].document["verificationMethod"][0]["id"].endswith("#key-2")
    assert versions[0].document["verificationMethod"][0]["id"].endswith("#key-1")
    owner = did_key_owner(old.did_key)
    assert owner.controller == did.did
    old.refresh_from_db()
    assert owner.active_until == old.retired_at
    assert not owner.active_at(new.activated_at)
    assert owner.active_at(old.activated_at)


def test_services_and_deactivation_append_versions():
    did = did_create(path="agents:svc")
    did_service_add(
        did=did, service_id="portal", service_type="LinkedDomains", endpoint="https://example.org"
    )
    doc = did.versions.order_by("-version_id").first().document
    assert doc["service"] == [
        {
            "id": f"{did.did}#portal",
            "type": "LinkedDomains",
            "serviceEndpoint": "https://example.org",
        }
    ]
    did_service_remove(did=did, service_id="portal")
    last = did_deactivate(did=did)
    assert last.deactivated
    assert last.version_id == 4
    with pytest.raises(DidDeactivated):
        did_key_rotate(did=did)


def test_private_key_is_encrypted_at_rest():
    did = did_create(path="agents:enc")
    key, pair = did_signing_key(did)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM identity_didkey WHERE id = %s", [key.pk])
        row = b"".join(
            bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode()
            for v in cursor.fetchone()
        )
    assert pair.private_bytes not in row
    assert Ed25519KeyPair.from_private_bytes(pair.private_bytes).did_key == key.did_key


def test_proof_with_participant_did_key_verifies_with_didkit():
    did = did_create(path="agents:proof")
    key, pair = did_signing_key(did)
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": key.did_key,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": did.did},
    }
    signed = didkit_adapter.issue_credential(credential, key=pair)
    assert didkit_adapter.verify_credential(signed).ok
    signed["credentialSubject"]["id"] = "did:example:other"
    assert not didkit_adapter.verify_credential(signed).ok
    assert DidKey.objects.filter(did_key=signed["issuer"]).exists()
