"""Issuing through the VC API, for each type and format, verified through the API and by didkit."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from identity.crypto import didkit_adapter
from registry.credentials.context import CREDENTIALS_V1, context_url, ip_context
from registry.credentials.errors import CredentialRequestInvalid
from registry.credentials.models import IssuedCredential
from registry.credentials.services import credential_issue_mandate
from registry.credentials.verification import parse_jwt
from registry.participants.services import participant_create
from registry.trust.services import accreditation_grant
from tests.openapi_check import assert_response_matches_schema
from tests.registry.trust.factories import office as make_office

from .conftest import api_client, applicant_claims, mandate_claims, representative_claims

pytestmark = pytest.mark.django_db


def issue(client, credential_type, subject, proof_format="ldp", **credential):
    return client.post(
        "/credentials/issue",
        {
            "credential": {
                "type": ["VerifiableCredential", credential_type],
                "credentialSubject": subject,
                **credential,
            },
            "options": {"proofFormat": proof_format},
        },
        format="json",
    )


def verify_via_api(document) -> dict:
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": document}, format="json"
    )
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, method="POST")
    return response.json()


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
@pytest.mark.parametrize("credential_type", ["IPApplicantCredential", "IPRepresentativeCredential"])
def test_office_issues_each_type_and_it_verifies_by_api_and_didkit(
    office, issuer_client, applicant, agent, credential_type, proof_format
):
    subject = (
        applicant_claims(applicant)
        if credential_type == "IPApplicantCredential"
        else representative_claims(agent, office)
    )
    response = issue(issuer_client, credential_type, subject, proof_format)
    assert response.status_code == 201, response.content
    assert_response_matches_schema(response, method="POST")
    document = response.json()["verifiableCredential"]

    record = IssuedCredential.objects.get(issuer=office)
    assert record.credential_type == credential_type
    assert record.subject_did == subject["id"]
    assert record.proof_format == proof_format
    assert record.document == document
    signing_key = office.did.keys.get().did_key
    assert record.issuer_did_key == signing_key

    if proof_format == "jwt":
        assert isinstance(document, str)
        jwt = parse_jwt(document)
        assert jwt.header["alg"] == "EdDSA"
        assert jwt.payload["iss"] == signing_key
        assert jwt.payload["sub"] == subject["id"]
        body = jwt.payload["vc"]
    else:
        body = document
        assert body["proof"]["type"] == "Ed25519Signature2020"
        assert body["proof"]["proofPurpose"] == "assertionMethod"
        assert body["proof"]["verificationMethod"].startswith(signing_key + "#")
    assert body["id"] == record.credential_id
    assert body["issuer"] == {"id": signing_key, "registryDid": office.did.did}
    assert body["type"] == ["VerifiableCredential", credential_type]
    assert body["credentialSubject"] == subject
    assert body["@context"][0] == CREDENTIALS_V1
    assert body["@context"][-1] == ip_context()

    # didkit alone (offline, no registry) accepts it ...
    assert didkit_adapter.verify_credential(document).ok
    # ... and so does the registry, with every check passing.
    result = verify_via_api(document)
    assert result["verified"] is True, result
    assert result["problemDetails"] == []
    assert {k for k, v in result["results"].items() if v["ok"]} >= {
        "context",
        "proof",
        "proofPurpose",
        "issuerKey",
        "accreditation",
        "dates",
        "schema",
        "status",
    }


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_mandate_signed_by_the_applicant_verifies(applicant, agent, proof_format):
    issued = credential_issue_mandate(
        applicant=applicant,
        agent_did=agent.did.did,
        claims=mandate_claims(agent),
        proof_format=proof_format,
    )
    assert issued.issuer == applicant
    assert issued.subject_did == applicant.did.did
    assert issued.expires_at is not None  # validUntil
    assert didkit_adapter.verify_credential(issued.document).ok
    result = verify_via_api(issued.document)
    assert result["verified"] is True, result


def test_a_mandate_names_a_registered_agent_and_a_real_end_date(applicant, agent, office):
    # The portal checks these; the command and the admin issue through the same service, and
    # verification only checks that the applicant signed: the service must refuse them itself.
    other_applicant = participant_create(kind="applicant", display_name="Rival", country="DE")
    for not_an_agent in [
        other_applicant.did.did,
        office.did.did,
        applicant.did.did,
        "did:web:localhost%3A8000:agents:0000000000000000dead",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ]:
        with pytest.raises(CredentialRequestInvalid, match="credentialSubject.agent"):
            credential_issue_mandate(
                applicant=applicant, agent_did=not_an_agent, claims=mandate_claims(agent)
            )
    # A validUntil of the right shape but no real date: the credential could never verify.
    with pytest.raises(CredentialRequestInvalid, match="validUntil"):
        credential_issue_mandate(
            applicant=applicant,
            agent_did=agent.did.did,
            claims=mandate_claims(agent) | {"validUntil": "2099-02-30T00:00:00Z"},
        )
    assert not IssuedCredential.objects.filter(credential_type="IPMandateCredential").exists()


def test_accreditation_grant_issues_a_registry_signed_accreditation_credential(office):
    issued = IssuedCredential.objects.get(credential_type="IPOfficeAccreditationCredential")
    assert issued.issuer is None
    assert issued.subject_did == office.did.did
    subject = issued.document["credentialSubject"]
    assert subject["office"] == office.st3_code
    assert sorted(subject["credentialTypes"]) == [
        "IPApplicantCredential",
        "IPRepresentativeCredential",
    ]
    assert didkit_adapter.verify_credential(issued.document).ok
    assert verify_via_api(issued.document)["verified"] is True


def test_unaccredited_office_is_refused_with_a_reason(applicant):
    office = make_office()
    response = issue(api_client(office), "IPApplicantCredential", applicant_claims(applicant))
    assert response.status_code == 403
    assert_response_matches_schema(response, method="POST")
    body = response.json()
    assert body["error"] == "notAccredited"
    assert office.st3_code in body["message"]
    assert not IssuedCredential.objects.filter(issuer=office).exists()


def test_office_accredited_for_one_type_only_is_refused_the_other(applicant, agent):
    office = make_office()
    accreditation_grant(office=office, credential_types=["IPRepresentativeCredential"])
    client = api_client(office)
    assert (
        issue(
            client, "IPRepresentativeCredential", representative_claims(agent, office)
        ).status_code
        == 201
    )
    response = issue(client, "IPApplicantCredential", applicant_claims(applicant))
    assert response.status_code == 403
    assert response.json()["error"] == "notAccredited"


@pytest.mark.parametrize(
    "credential_type", ["IPMandateCredential", "IPOfficeAccreditationCredential"]
)
def test_office_cannot_issue_mandates_or_accreditations(issuer_client, agent, credential_type):
    response = issue(issuer_client, credential_type, {"id": agent.did.did, **mandate_claims(agent)})
    assert response.status_code == 403
    assert response.json()["error"] == "wrongIssuer"


def test_issue_requires_a_key_with_the_issue_scope(office, applicant):
    anonymous = issue(APIClient(), "IPApplicantCredential", applicant_claims(applicant))
    assert anonymous.status_code == 401
    assert_response_matches_schema(anonymous, "/credentials/issue", method="POST")
    verify_only = api_client(office, scopes=["verify"])
    response = issue(verify_only, "IPApplicantCredential", applicant_claims(applicant))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficientScope"


def test_contexts_by_our_url_are_accepted_and_embedded_inline(issuer_client, applicant):
    response = issue(
        issuer_client,
        "IPApplicantCredential",
        applicant_claims(applicant),
        **{"@context": [CREDENTIALS_V1, context_url()]},
    )
    assert response.status_code == 201, response.content
    assert response.json()["verifiableCredential"]["@context"][-1] == ip_context()


def test_issuer_retrieves_its_credential_and_nobody_else_does(
    office, other_office, issuer_client, applicant
):
    document = issue(issuer_client, "IPApplicantCredential", applicant_claims(applicant)).json()[
        "verifiableCredential"
    ]
    credential_id = document["id"]
    response = issuer_client.get(f"/credentials/{credential_id}")
    assert response.status_code == 200
    assert_response_matches_schema(response)
    body = response.json()
    assert body["verifiableCredential"] == document
    assert body["type"] == "IPApplicantCredential"
    assert body["issuer"] == office.did.did
    assert body["subject"] == applicant.did.did
    assert body["issuanceDate"] == document["issuanceDate"]
    assert body["status"] == "active"
    assert body["statusPurpose"] == "revocation"
    # the bare UUID works too
    bare = credential_id.removeprefix("urn:uuid:")
    assert issuer_client.get(f"/credentials/{bare}").json()["id"] == credential_id

    other = api_client(other_office).get(f"/credentials/{credential_id}")
    assert other.status_code == 404
    assert_response_matches_schema(other)
    assert APIClient().get(f"/credentials/{credential_id}").status_code == 401


def test_context_and_schemas_are_served(client):
    response = client.get("/contexts/ip/v1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert response.json() == {"@context": ip_context()}
    for credential_type in [
        "IPApplicantCredential",
        "IPRepresentativeCredential",
        "IPOfficeAccreditationCredential",
        "IPMandateCredential",
    ]:
        schema = client.get(f"/schemas/{credential_type}.json")
        assert schema.status_code == 200
        assert schema.json()["title"] == credential_type
        assert schema.json()["$id"].endswith(f"/schemas/{credential_type}.json")
    assert client.get("/schemas/Nope.json").status_code == 404


def test_issue_and_verify_stay_within_a_query_budget(
    issuer_client, applicant, django_assert_max_num_queries
):
    issue(issuer_client, "IPApplicantCredential", applicant_claims(applicant))  # warm up
    # key + office, accreditation, signing key, status entry (with savepoints), record, audit
    with django_assert_max_num_queries(18):
        response = issue(issuer_client, "IPApplicantCredential", applicant_claims(applicant), "jwt")
    document = response.json()["verifiableCredential"]
    verify_via_api(document)  # warm the status list cache
    # key owner, the issuance record, participant, accreditation (the status list comes from
    # the cache)
    with django_assert_max_num_queries(6):
        assert verify_via_api(document)["verified"] is True


def test_registry_signs_accreditation_credentials_in_both_formats(office):
    from registry.credentials.services import credential_issue_accreditation

    for proof_format in ("ldp", "jwt"):
        issued = credential_issue_accreditation(
            office=office,
            credential_types=["IPApplicantCredential"],
            proof_format=proof_format,
        )
        assert didkit_adapter.verify_credential(issued.document).ok
        result = verify_via_api(issued.document)
        assert result["verified"] is True, result["problemDetails"]


def test_a_credential_never_predates_the_key_that_signs_it(office, applicant):
    # A rotation committing between the issuance's clock read and its key read (in a later
    # second) made the credential older than its key, and its issuerKey check failed. A key
    # activated two seconds ahead stands for that: the credential is dated from the key.
    from datetime import timedelta

    from django.utils import timezone

    from identity.services import did_key_rotate
    from registry.credentials.services import credential_issue
    from registry.credentials.verification import credential_verify

    key = did_key_rotate(did=office.did, at=timezone.now() + timedelta(seconds=2))
    issued = credential_issue(
        issuer=office,
        credential_type="IPApplicantCredential",
        subject_did=applicant.did.did,
        claims=applicant_claims(applicant),
    )
    assert issued.issued_at == key.activated_at.replace(microsecond=0)
    report = credential_verify(issued.document)
    assert report.verified, report.as_dict()["problemDetails"]


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_claims_are_signed_in_unicode_nfc_whatever_the_caller_sent(
    issuer_client, applicant, proof_format
):
    claims = applicant_claims(applicant)
    claims["name"] = "Mu\u0308ller Erfindungen GmbH"  # u + combining diaeresis
    claims["address"] = "Hauptstra\u00dfe 1, Mu\u0308nchen"
    response = issue(issuer_client, "IPApplicantCredential", claims, proof_format)
    assert response.status_code == 201, response.content
    document = response.json()["verifiableCredential"]
    record = IssuedCredential.objects.get(credential_type="IPApplicantCredential")
    assert record.document == document
    if proof_format == "jwt":
        document = parse_jwt(document).payload["vc"]
    subject = document["credentialSubject"]
    assert subject["name"] == "M\u00fcller Erfindungen GmbH"
    assert subject["address"] == "Hauptstra\u00dfe 1, M\u00fcnchen"
    from registry.credentials.verification import credential_verify

    assert credential_verify(response.json()["verifiableCredential"]).verified
