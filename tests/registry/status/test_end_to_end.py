"""End to end through the HTTP API only: an office issues (POST /credentials/issue), revokes
(POST /credentials/status), anyone fetches the list (GET /status-lists/{id}) and verifies
(POST /credentials/verify): verified false, with a problem naming the "status" check."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from registry.credentials.verification import parse_credential
from registry.status.bitstring import bit_get, bitstring_decode
from tests.openapi_check import assert_response_matches_schema
from tests.registry.credentials.conftest import api_client, applicant_claims
from tests.registry.credentials.conftest import applicant as applicant  # noqa: F401 (fixture)
from tests.registry.credentials.conftest import office as office  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _verify(document) -> dict:
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": document}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _bit(status: dict) -> bool:
    path = status["statusListCredential"].removeprefix("http://localhost:8000")
    response = APIClient().get(path)
    assert response.status_code == 200
    encoded = json.loads(response.content)["credentialSubject"]["encodedList"]
    return bit_get(bitstring_decode(encoded), int(status["statusListIndex"]))


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_issue_revoke_verify_through_the_api(
    office,  # noqa: F811
    applicant,  # noqa: F811
    proof_format,
    django_capture_on_commit_callbacks,
):
    client = api_client(office, scopes=("issue", "revoke", "verify"))
    response = client.post(
        "/credentials/issue",
        {
            "credential": {
                "type": ["VerifiableCredential", "IPApplicantCredential"],
                "credentialSubject": applicant_claims(applicant),
            },
            "options": {"proofFormat": proof_format},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    document = response.json()["verifiableCredential"]
    body = parse_credential(document).body
    status = body["credentialStatus"]
    assert status["type"] == "StatusList2021Entry"
    assert _verify(document)["verified"] is True
    assert _bit(status) is False

    with django_capture_on_commit_callbacks(execute=True):
        revoked = client.post(
            "/credentials/status",
            {"credentialId": body["id"], "credentialStatus": [{"status": "revoked"}]},
            format="json",
        )
    assert revoked.status_code == 200, revoked.content
    assert_response_matches_schema(revoked, "/credentials/status", "POST")
    assert revoked.json()["status"] == "revoked"
    assert _bit(status) is True

    result = _verify(document)
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False
    problems = [p for p in result["problemDetails"] if p["check"] == "status"]
    assert len(problems) == 1
    assert "revoked" in json.dumps(problems[0])
    assert all(v["ok"] for k, v in result["results"].items() if k != "status")


def test_suspendable_credential_suspend_reinstate_revoke_through_the_api(
    office,  # noqa: F811
    applicant,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = api_client(office, scopes=("issue", "revoke"))
    response = client.post(
        "/credentials/issue",
        {
            "credential": {
                "type": ["VerifiableCredential", "IPApplicantCredential"],
                "credentialSubject": applicant_claims(applicant),
            },
            "options": {"statusPurpose": "suspension"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    document = response.json()["verifiableCredential"]
    status = document["credentialStatus"]
    assert status["statusPurpose"] == "suspension"

    def change(value):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/credentials/status",
                {"credentialId": document["id"], "credentialStatus": [{"status": value}]},
                format="json",
            )

    def status_problem():
        result = _verify(document)
        if result["verified"]:
            return None
        return json.dumps([p for p in result["problemDetails"] if p["check"] == "status"])

    assert status_problem() is None
    assert change("suspended").json()["status"] == "suspended"
    assert _bit(status) is True
    assert "suspended" in status_problem()
    assert change("active").json()["status"] == "active"
    assert _bit(status) is False
    assert status_problem() is None
    assert change("revoked").json()["status"] == "revoked"
    assert "revoked" in status_problem()
    refused = change("active")
    assert refused.status_code == 409
    assert "revoked" in status_problem()


def test_issue_refuses_an_unknown_status_purpose(office, applicant):  # noqa: F811
    client = api_client(office, scopes=("issue",))
    response = client.post(
        "/credentials/issue",
        {
            "credential": {
                "type": ["VerifiableCredential", "IPApplicantCredential"],
                "credentialSubject": applicant_claims(applicant),
            },
            "options": {"statusPurpose": "expiry"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalidInput"
