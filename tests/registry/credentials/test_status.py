"""Issued credentials carry one StatusList2021 entry (purpose revocation); revoking one fails\nthe `status` check and nothing else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.credentials.services import credential_issue
from registry.credentials.verification import credential_verify, parse_credential
from registry.status.services import credential_status_change

from .conftest import applicant_claims

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_revoked_credential_fails_the_status_check(
    office, applicant, proof_format, django_capture_on_commit_callbacks
):
    issued = credential_issue(
        issuer=office,
        credential_type="IPApplicantCredential",
        subject_did=applicant.did.did,
        claims=applicant_claims(applicant),
        proof_format=proof_format,
    )
    status = parse_credential(issued.document).body["credentialStatus"]
    assert isinstance(status, dict)  # one object: didkit refuses an array
    assert status["type"] == "StatusList2021Entry"
    assert status["statusPurpose"] == "revocation"
    assert credential_verify(issued.document).verified

    # the status list is republished on commit (Celery runs eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        credential_status_change(issuer=office, credential_id=issued.credential_id, action="revoke")

    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": issued.document}, format="json"
    )
    result = response.json()
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False
    assert "status" in {p["check"] for p in result["problemDetails"]}
    # every other check still passes: only the status changed
    assert all(v["ok"] for k, v in result["results"].items() if k != "status")
