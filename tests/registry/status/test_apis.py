"""`POST /credentials/status` and `GET /status-lists/{id}`, checked against the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from registry.api.services import api_key_create
from registry.audit.models import AuditEvent
from registry.status.bitstring import bitstring_decode, set_indexes
from registry.status.models import StatusChange, StatusEntry, StatusListVersion
from registry.status.services import status_entry_allocate
from tests.openapi_check import assert_response_matches_schema

pytestmark = pytest.mark.django_db

UPDATE = "/credentials/status"


def _client(office, scopes=("revoke",)) -> APIClient:
    _, key = api_key_create(office=office, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _body(credential_id, status="revoked", **extra):
    return {
        "credentialId": credential_id,
        "credentialStatus": [{"type": "StatusList2021Credential", "status": status}],
        **extra,
    }


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def run(client, body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(UPDATE, body, format="json")

    return run


def _bits(list_url: str) -> list[int]:
    response = APIClient().get(list_url.removeprefix("http://localhost:8000"))
    assert response.status_code == 200
    document = json.loads(response.content)
    return set_indexes(bitstring_decode(document["credentialSubject"]["encodedList"]))


def test_revoke_through_the_api_publishes_the_bit(office, post):
    status = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:1")
    response = post(_client(office), _body("urn:api:1", reason="issued in error"))
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, UPDATE, "POST")
    assert response.json() == {
        "credentialId": "urn:api:1",
        "status": "revoked",
        "statusPurpose": "revocation",
        "changed": True,
        "statusListCredential": status["statusListCredential"],
    }
    assert _bits(status["statusListCredential"]) == [int(status["statusListIndex"])]
    event = AuditEvent.objects.get(action="credential.revoke")
    assert event.target == "urn:api:1"
    assert event.data["reason"] == "issued in error"


def test_suspend_and_reinstate_through_the_api(office, post):
    status = status_entry_allocate(
        issuer_did=office.did.did, credential_id="urn:api:s", purpose="suspension"
    )
    client = _client(office)
    response = post(client, _body("urn:api:s", "suspended"))
    assert (response.status_code, response.json()["status"]) == (200, "suspended")
    assert _bits(status["statusListCredential"]) == [int(status["statusListIndex"])]
    response = post(client, _body("urn:api:s", "active"))
    assert (response.status_code, response.json()["status"]) == (200, "active")
    assert _bits(status["statusListCredential"]) == []


def test_repeating_a_revocation_says_unchanged(office, post):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:r")
    client = _client(office)
    post(client, _body("urn:api:r"))
    response = post(client, _body("urn:api:r"))
    assert response.status_code == 200
    assert response.json()["changed"] is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"credentialId": "urn:api:x"}, 400, "invalidInput"),
        (_body("urn:api:x", "deleted"), 400, "invalidInput"),
        ({**_body("urn:api:x"), "credentialStatus": []}, 400, "invalidInput"),
        (
            {
                **_body("urn:api:x"),
                "credentialStatus": [{"status": "revoked"}, {"status": "revoked"}],
            },
            400,
            "invalidInput",
        ),
        (
            {**_body("urn:api:x"), "credentialStatus": [{"type": "Nope", "status": "revoked"}]},
            400,
            "invalidInput",
        ),
        ({**_body("urn:api:x"), "extra": 1}, 400, "invalidInput"),
        (_body("urn:api:unknown"), 404, "credentialNotFound"),
        (_body("urn:api:x", "suspended"), 409, "transitionRefused"),  # issued for revocation
    ],
)
def test_bad_requests_are_clear_4xx_and_change_nothing(office, post, body, status, code):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:x")
    versions = StatusListVersion.objects.count()
    response = post(_client(office), body)
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert_response_matches_schema(response, UPDATE, "POST")
    assert StatusEntry.objects.get().state == "active"
    assert not StatusChange.objects.exists()
    assert StatusListVersion.objects.count() == versions


def test_malformed_json_is_a_400(office):
    response = _client(office).post(UPDATE, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_reinstating_a_revoked_credential_is_refused(office, post):
    status_entry_allocate(
        issuer_did=office.did.did, credential_id="urn:api:f", purpose="suspension"
    )
    client = _client(office)
    post(client, _body("urn:api:f", "revoked"))
    response = post(client, _body("urn:api:f", "active"))
    assert response.status_code == 409
    assert response.json()["error"] == "transitionRefused"
    assert StatusEntry.objects.get().state == "revoked"


def test_an_office_cannot_touch_another_offices_credential(office, other_office, post):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:theirs")
    response = post(_client(other_office), _body("urn:api:theirs"))
    assert response.status_code == 404
    assert StatusEntry.objects.get().state == "active"


def test_authentication_and_scope_are_required(office, post):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:a")
    response = APIClient().post(UPDATE, _body("urn:api:a"), format="json")
    assert response.status_code == 401
    response = post(_client(office, scopes=("issue", "verify")), _body("urn:api:a"))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficientScope"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer ipr_nope_nope")
    assert bad.post(UPDATE, _body("urn:api:a"), format="json").status_code == 401
    assert StatusEntry.objects.get().state == "active"


def test_status_list_is_served_with_etag_and_cache_headers(office, post):
    status = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:api:e")
    path = status["statusListCredential"].removeprefix("http://localhost:8000")
    client = APIClient()
    first = client.get(path)
    assert first.status_code == 200
    assert_response_matches_schema(first, path)
    assert first["Content-Type"] == "application/json"
    assert first["Cache-Control"] == "public, max-age=300"
    document = json.loads(first.content)
    assert document["type"] == ["VerifiableCredential", "StatusList2021Credential"]
    assert document["id"] == status["statusListCredential"]
    etag = first["ETag"]
    not_modified = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    # A change publishes a new version: new ETag, the old one no longer matches.
    post(_client(office), _body("urn:api:e"))
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag
    # Past versions stay available byte for byte (what the log anchored).
    v1 = client.get(f"{path}/versions/1")
    assert v1.status_code == 200
    assert v1.content == first.content
    assert v1["ETag"] == etag


def test_unknown_status_list_is_a_404():
    response = APIClient().get("/status-lists/does-not-exist")
    assert response.status_code == 404
    assert_response_matches_schema(response)
    assert response.json()["error"] == "notFound"
    assert APIClient().get("/status-lists/does-not-exist/versions/1").status_code == 404


@pytest.mark.parametrize("path", ["/status-lists/a%00b", "/status-lists/a%00b/versions/1"])
def test_a_list_id_with_a_nul_is_a_404_not_a_500(path):
    # PostgreSQL refuses NUL in text: the id must be refused before any query.
    response = APIClient().get(path)
    assert response.status_code == 404
    assert_response_matches_schema(response)
