"""Bad issuance requests: each a clean 4xx naming the problem, and nothing recorded."""

from __future__ import annotations

import pytest

from registry.credentials.context import CREDENTIALS_V1
from registry.credentials.errors import CredentialRequestInvalid
from registry.credentials.models import IssuedCredential
from registry.credentials.services import credential_issue_mandate
from registry.participants.services import participant_deactivate
from tests.openapi_check import assert_response_matches_schema

from .conftest import applicant_claims, mandate_claims, representative_claims

pytestmark = pytest.mark.django_db


def post(client, body, raw=False):
    if raw:
        return client.post("/credentials/issue", body, content_type="application/json")
    return client.post("/credentials/issue", body, format="json")


def good_body(applicant) -> dict:
    return {
        "credential": {
            "type": ["VerifiableCredential", "IPApplicantCredential"],
            "credentialSubject": applicant_claims(applicant),
        },
        "options": {"proofFormat": "ldp"},
    }


def mutate(body: dict, path: str, value) -> dict:
    node = body
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return body


CASES = [
    # (path to change, new value, status, error code)
    ("credential.credentialSubject.name", KeyError, 400, "invalidCredential"),  # missing field
    ("credential.credentialSubject.nickname", "Ex", 400, "invalidCredential"),  # extra field
    ("credential.credentialSubject.personType", "robot", 400, "invalidCredential"),
    ("credential.credentialSubject.country", "France", 400, "invalidCredential"),
    # `$` ends the value: no trailing newline slips through a pattern
    ("credential.credentialSubject.country", "FR\n", 400, "invalidCredential"),
    ("credential.credentialSubject.lei", "123", 400, "invalidCredential"),
    (
        "credential.credentialSubject.partyIdentifiers",
        [{"office": "EP", "partyIdentifier": "1"}, {"office": "EP", "partyIdentifier": "1"}],
        400,
        "invalidCredential",
    ),
    # ISO 17442 check digits (MOD 97-10): one character mistyped, or two swapped
    ("credential.credentialSubject.lei", "969500T3MBS4SQAMHJ99", 400, "invalidCredential"),
    ("credential.credentialSubject.lei", "969500T3MBS4SQMAHJ98", 400, "invalidCredential"),
    ("credential.credentialSubject.partyIdentifiers", [{"office": "EP"}], 400, "invalidCredential"),
    ("credential.credentialSubject.id", "not a did", 400, "invalidCredential"),
    ("credential.credentialSubject", "x", 400, "invalidInput"),
    # text no credential should sign, though the schema lets it through (NUL was a 500 on
    # PostgreSQL: jsonb cannot store it)
    ("credential.credentialSubject.name", "Example\u0000Ltd", 400, "invalidCredential"),
    ("credential.credentialSubject.name", "Example\u202eLtd", 400, "invalidCredential"),
    ("credential.credentialSubject.name", "Example\u2067Ltd", 400, "invalidCredential"),
    ("credential.credentialSubject.name", "Example\nLtd", 400, "invalidCredential"),
    ("credential.credentialSubject.name", " \u3000 ", 400, "invalidCredential"),
    ("credential.credentialSubject.address", "1 rue\u001b[2J", 400, "invalidCredential"),
    (
        "credential.credentialSubject.partyIdentifiers",
        [{"office": "EP", "partyIdentifier": "\u0085"}],
        400,
        "invalidCredential",
    ),
    (
        "credential.type",
        ["VerifiableCredential", "IPPassportCredential"],
        400,
        "unknownCredentialType",
    ),
    ("credential.type", ["VerifiableCredential"], 400, "unknownCredentialType"),
    ("credential.type", 5, 400, "invalidInput"),
    (
        "credential.@context",
        [CREDENTIALS_V1, "https://example.org/ctx.jsonld"],
        400,
        "unsupportedContext",
    ),
    (
        "credential.@context",
        [CREDENTIALS_V1, {"@vocab": "https://example.org/#"}],
        400,
        "unsupportedContext",
    ),
    ("credential.id", "urn:uuid:00000000-0000-0000-0000-000000000000", 400, "invalidInput"),
    ("credential.issuanceDate", "2020-01-01T00:00:00Z", 400, "invalidInput"),
    ("credential.issuer", "did:web:evil.example", 400, "invalidInput"),
    ("credential.expirationDate", "tomorrow", 400, "invalidInput"),
    ("credential.expirationDate", "2020-01-01T00:00:00Z", 400, "invalidCredential"),
    ("credential.expirationDate", "2099-01-01T00:00:00", 400, "invalidInput"),  # no timezone
    # past year 9999 once in UTC: no date-time a credential can carry (was a 500)
    ("credential.expirationDate", "9999-12-31T23:59:59-01:00", 400, "invalidInput"),
    ("options.proofFormat", "jsonld-signature-2018", 400, "invalidInput"),
    ("options.extra", True, 400, "invalidInput"),
    ("extra", True, 400, "invalidInput"),
    ("credential", KeyError, 400, "invalidInput"),
]


@pytest.mark.parametrize(("path", "value", "status", "code"), CASES)
def test_bad_issuance_requests_are_refused(
    issuer_client, office, applicant, path, value, status, code
):
    response = post(issuer_client, mutate(good_body(applicant), path, value))
    assert response.status_code == status, response.content
    assert_response_matches_schema(response, "/credentials/issue", method="POST")
    assert response.json()["error"] == code
    assert not IssuedCredential.objects.filter(issuer=office).exists()


def test_a_multiline_address_and_a_right_to_left_name_are_issued(issuer_client, applicant):
    body = good_body(applicant)
    subject = body["credential"]["credentialSubject"]
    subject["address"] = "1 rue de l'Exemple\n75001 Paris"
    subject["name"] = "\u0634\u0631\u0643\u0629 \u200fACME"
    response = post(issuer_client, body)
    assert response.status_code == 201, response.content
    issued = response.json()["verifiableCredential"]["credentialSubject"]
    assert issued["address"] == subject["address"]
    assert issued["name"] == subject["name"]


def test_text_problems_name_the_field(issuer_client, applicant):
    body = mutate(good_body(applicant), "credential.credentialSubject.name", "A\u202eB")
    problems = post(issuer_client, body).json()["problems"]
    assert problems == ["credentialSubject/name: contains the bidirectional control U+202E"]


def test_schema_problems_are_listed(issuer_client, applicant):
    body = mutate(good_body(applicant), "credential.credentialSubject.personType", "robot")
    problems = post(issuer_client, body).json()["problems"]
    assert any("personType" in p for p in problems)


@pytest.mark.parametrize(
    "raw",
    ["{", "[]", "null", '"text"', '{"credential": NaN}', "\udcff".encode("utf-8", "surrogatepass")],
)
def test_malformed_bodies_are_400(issuer_client, raw):
    response = post(issuer_client, raw, raw=True)
    assert response.status_code == 400
    assert response.json()["error"]


def test_oversized_issue_body_is_413(issuer_client, settings):
    body = '{"credential": {"x": "' + "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}}'
    response = post(issuer_client, body, raw=True)
    assert response.status_code == 413
    assert response.json()["error"] == "payloadTooLarge"
    assert_response_matches_schema(response, "/credentials/issue", method="POST")


def test_the_subject_of_a_mandate_is_not_chosen_by_an_office(issuer_client, agent, applicant):
    body = good_body(applicant)
    body["credential"]["type"] = ["VerifiableCredential", "IPMandateCredential"]
    response = post(issuer_client, body)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "valid_until", ["2099-02-30T00:00:00Z", "2099-12-31T24:00:00Z", "9999-12-31T23:59:59-01:00"]
)
def test_a_mandate_whose_end_is_no_date_is_refused_not_signed(applicant, agent, valid_until):
    # These match the schema's pattern; signed, the mandate would never verify.
    with pytest.raises(CredentialRequestInvalid, match="validUntil"):
        credential_issue_mandate(
            applicant=applicant,
            agent_did=agent.did.did,
            claims={**mandate_claims(agent), "validUntil": valid_until},
        )
    assert not IssuedCredential.objects.filter(issuer=applicant).exists()


SUBJECTS = [
    # (credential type, whose DID is the subject, why it is refused)
    ("IPApplicantCredential", "unknown", "not the DID of a registry participant"),
    ("IPApplicantCredential", "fragment", "not the DID of a registry participant"),
    ("IPApplicantCredential", "nul", "not the DID of a registry participant"),
    ("IPApplicantCredential", "office", "must be an applicant's DID"),
    ("IPApplicantCredential", "agent", "must be an applicant's DID"),
    ("IPRepresentativeCredential", "applicant", "must be an agent's DID"),
    ("IPApplicantCredential", "deactivated applicant", "deactivated"),
    ("IPRepresentativeCredential", "deactivated agent", "deactivated"),
]


@pytest.mark.parametrize(("credential_type", "whose", "reason"), SUBJECTS)
def test_the_subject_is_an_active_participant_of_the_kind_the_type_is_about(
    issuer_client, office, applicant, agent, credential_type, whose, reason
):
    subject_did = {
        "unknown": "did:web:elsewhere.example:applicants:x",
        "fragment": applicant.did.did + "#key-1",
        "nul": applicant.did.did + "\u0000",
        "office": office.did.did,
        "agent": agent.did.did,
        "applicant": applicant.did.did,
        "deactivated applicant": applicant.did.did,
        "deactivated agent": agent.did.did,
    }[whose]
    if whose.startswith("deactivated"):
        participant_deactivate(participant=applicant if "applicant" in whose else agent)
    claims = (
        applicant_claims(applicant)
        if credential_type == "IPApplicantCredential"
        else representative_claims(agent, office)
    )
    body = {
        "credential": {
            "type": ["VerifiableCredential", credential_type],
            "credentialSubject": {**claims, "id": subject_did},
        }
    }
    response = post(issuer_client, body)
    assert response.status_code == 400, response.content
    assert_response_matches_schema(response, "/credentials/issue", method="POST")
    assert response.json()["error"] == "invalidCredential"
    assert "credentialSubject.id" in response.json()["message"]
    assert reason in response.json()["message"]
    assert not IssuedCredential.objects.filter(issuer=office).exists()


@pytest.mark.parametrize("whose", ["unknown", "applicant"])
def test_a_mandate_is_granted_to_a_registry_agent_only(applicant, agent, whose):
    agent_did = {"unknown": "did:web:elsewhere.example:agents:x", "applicant": applicant.did.did}
    with pytest.raises(CredentialRequestInvalid, match="credentialSubject.agent"):
        credential_issue_mandate(
            applicant=applicant, agent_did=agent_did[whose], claims=mandate_claims(agent)
        )
    assert not IssuedCredential.objects.filter(issuer=applicant).exists()
