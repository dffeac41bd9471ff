"""Bad input to the trust and administration endpoints: always a 4xx with a clear error, never a
500 (NUL bytes and impossible dates included, which PostgreSQL and the date parser reject)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from registry.trust.services import accreditation_grant

from .factories import UserFactory, office

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    user = UserFactory(is_superuser=True, is_staff=True)
    user.save()
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def ep():
    ep = office("EP")
    accreditation_grant(office=ep, credential_types=["IPApplicantCredential"])
    return ep


@pytest.mark.parametrize(
    "query",
    [
        "entity_id=did:web:x%00y&action=issue&resource=T",
        "entity_id=did:key:z%00&action=issue&resource=T",
        "entity_id=" + "did:" + "a" * 5000 + "&action=issue&resource=T",
        "entity_id=did:web:x&action=issue&resource=T&time=2026-13-45T00:00:00Z",
        "entity_id=did:web:x&action=issue&resource=T&time=2026-01-01T00:00:00%00",
        "entity_id=did:web:x&action=issue&resource=T&time=" + "9" * 200,
        "entity_id=did:web:x&action=%00&resource=T",
        "entity_id[]=x&action=issue&resource=T",
    ],
)
def test_bad_authorization_queries_are_400(ep, query):
    response = Client().get("/trust/authorization?" + query)
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert response.json()["message"]


def test_resource_with_a_nul_byte_is_just_not_accredited(ep):
    response = Client().get(
        "/trust/authorization",
        {"entity_id": ep.did.did, "action": "issue", "resource": "IPApplicant\x00Credential"},
    )
    assert response.status_code == 200
    assert response.json()["authorized"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/trust/accreditations?entity_id=did:web:%00",
        "/trust/issuers?time=2026-02-30T00:00:00Z",
        "/trust/offices/E%00/members",
        "/trust/offices/EPO/api-keys",
        "/audit/events?since=2026-02-30T00:00:00Z",
        "/audit/events?office=E%00",
    ],
)
def test_bad_reads_are_4xx(admin_client, ep, path):
    response = admin_client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/trust/api-keys/%00abc/revoke", None),
        ("post", "/trust/api-keys/" + "f" * 40 + "/rotate", None),
        ("post", "/trust/api-keys/99999999999999999999999/revoke", None),
        ("delete", "/trust/offices/EP/members/a%00b", None),
        ("post", "/trust/accreditations/grant", {"entity_id": "did:web:x\x00", "credential_types": ["T"]}),
        ("post", "/trust/accreditations/grant", {"entity_id": "x", "credential_types": "notalist"}),
        ("post", "/trust/accreditations/grant", {"credential_types": ["IPApplicantCredential"]}),
        ("post", "/trust/accreditations/grant", {"entity_id": "did:web:x", "credential_types": ["T"],
                                                 "parent": 10**30}),
        ("post", "/trust/accreditations/grant", {"entity_id": "did:web:x", "credential_types": ["T"],
                                                 "valid_from": "2026-02-30T00:00:00Z"}),
        ("post", "/trust/accreditations/grant", ["not", "an", "object"]),
        ("post", "/trust/offices/EP/members", {"username": "x\x00", "role": "officer"}),
        ("post", "/trust/offices/EP/members", {"username": "nobody", "role": "king"}),
        ("post", "/trust/offices/EP/api-keys", {"scopes": ["everything"]}),
        ("post", "/trust/offices/EP/api-keys", {"scopes": ["issue"], "expires_at": "2020-01-01T00:00:00Z"}),
        ("post", "/trust/keys/compromised", {"did_key": "did:key:z\x00", "since": "2026-01-01T00:00:00Z"}),
        ("post", "/trust/keys/compromised", {"did_key": "did:key:z6Mk", "since": "not a date"}),
        ("post", "/trust/accreditations/999999/suspend", {}),
        ("post", "/trust/accreditations/1/withdraw", {"reason": "x" * 1000}),
    ],
)  # fmt: skip
def test_bad_writes_are_4xx(admin_client, ep, method, path, body):
    response = getattr(admin_client, method)(path, body, format="json")
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content[:200])
    assert response.json()["error"]
    assert response.json()["message"]


def test_malformed_json_is_400(admin_client, ep):
    response = admin_client.post(
        "/trust/accreditations/grant", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_api_key_with_nul_in_prefix_is_401(ep):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ipr_\x00\x00_secret")
    response = client.post("/credentials/issue", {}, format="json")
    assert response.status_code == 401
