"""Issuance signs only real WIPO ST.3 codes (country, partyIdentifiers[].office, office); the
verifier, which re-checks old credentials too, keeps to the schemas' two capital letters."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from registry.credentials.errors import CredentialRequestInvalid
from registry.credentials.models import IssuedCredential
from registry.credentials.services import (
    credential_issue,
    credential_issue_mandate,
    format_datetime,
)
from registry.credentials.verification import credential_verify
from tests.openapi_check import assert_response_matches_schema

from .conftest import applicant_claims, mandate_claims, representative_claims
from .forge import forge_applicant_credential, office_key, record_as_issued

pytestmark = pytest.mark.django_db

UNKNOWN = ["ZZ", "QQ", "XY"]


def post(client, credential_type: str, subject: dict):
    body = {"credential": {"type": ["VerifiableCredential", credential_type]}}
    body["credential"]["credentialSubject"] = subject
    return client.post("/credentials/issue", body, format="json")


@pytest.mark.parametrize("code", ["FR", "EP", "WO", "EM", "XX"])
def test_known_codes_are_issued(issuer_client, applicant, code):
    subject = applicant_claims(applicant)
    subject["country"] = code
    subject["partyIdentifiers"] = [{"office": code, "partyIdentifier": "48213"}]
    response = post(issuer_client, "IPApplicantCredential", subject)
    assert response.status_code == 201, response.content
    issued = response.json()["verifiableCredential"]["credentialSubject"]
    assert issued["country"] == issued["partyIdentifiers"][0]["office"] == code


@pytest.mark.parametrize("code", UNKNOWN)
def test_an_applicant_credential_with_an_unknown_code_is_a_400_naming_the_field(
    issuer_client, office, applicant, code
):
    subject = applicant_claims(applicant)
    subject["country"] = code
    subject["partyIdentifiers"].append({"office": code, "partyIdentifier": "1"})
    response = post(issuer_client, "IPApplicantCredential", subject)
    assert response.status_code == 400, response.content
    assert_response_matches_schema(response, "/credentials/issue", method="POST")
    assert response.json()["error"] == "invalidCredential"
    assert response.json()["problems"] == [
        f"credentialSubject/country: {code} is not a WIPO ST.3 code",
        f"credentialSubject/partyIdentifiers/2/office: {code} is not a WIPO ST.3 code",
    ]
    assert not IssuedCredential.objects.filter(issuer=office).exists()


@pytest.mark.parametrize("code", UNKNOWN)
def test_a_representative_credential_for_an_unknown_office_code_is_refused(
    issuer_client, office, agent, code
):
    subject = {**representative_claims(agent, office), "office": code}
    response = post(issuer_client, "IPRepresentativeCredential", subject)
    assert response.status_code == 400, response.content
    assert response.json()["problems"] == [
        f"credentialSubject/office: {code} is not a WIPO ST.3 code"
    ]
    assert not IssuedCredential.objects.filter(issuer=office).exists()


@pytest.mark.parametrize("code", UNKNOWN)
def test_a_mandate_before_an_unknown_office_code_is_refused(applicant, agent, code):
    with pytest.raises(CredentialRequestInvalid) as refused:
        credential_issue_mandate(
            applicant=applicant,
            agent_did=agent.did.did,
            claims={**mandate_claims(agent), "office": code},
        )
    assert refused.value.extra["problems"] == [
        f"credentialSubject/office: {code} is not a WIPO ST.3 code"
    ]
    assert not IssuedCredential.objects.filter(issuer=applicant).exists()


def test_a_mandate_before_a_real_office_is_issued(applicant, agent):
    issued = credential_issue_mandate(
        applicant=applicant,
        agent_did=agent.did.did,
        claims={**mandate_claims(agent), "office": "WO"},
    )
    assert issued.document["credentialSubject"]["office"] == "WO"


def test_the_issue_command_names_the_unknown_code(office, applicant):
    claims = {**applicant_claims(applicant), "country": "ZZ"}
    with pytest.raises(CommandError, match="credentialSubject/country: ZZ is not a WIPO ST.3 code"):
        call_command(
            "issue_credential",
            "--issuer",
            office.st3_code,
            "--type",
            "IPApplicantCredential",
            "--claims",
            json.dumps(claims),
        )
    assert not IssuedCredential.objects.filter(issuer=office).exists()


def test_the_service_refuses_too(office, applicant):
    with pytest.raises(CredentialRequestInvalid, match="cannot be signed"):
        credential_issue(
            issuer=office,
            credential_type="IPApplicantCredential",
            subject_did=applicant.did.did,
            claims={**applicant_claims(applicant), "country": "QQ"},
        )


def test_a_credential_signed_with_an_unknown_code_before_still_verifies(office, applicant):
    # Signed before issuance checked the list: the verifier keeps to the schema, so a credential
    # already in someone's wallet does not stop verifying.
    key = office_key(office)
    claims = {**applicant_claims(applicant), "country": "ZZ"}
    document = forge_applicant_credential(
        office, key, claims, issuance_date=format_datetime(timezone.now())
    )
    record_as_issued(document, issuer=office, key=key)
    report = credential_verify(document)
    assert report.verified, report
