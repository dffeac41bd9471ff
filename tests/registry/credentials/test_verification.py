"""Every bad credential fails the right named check, and never verifies."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from identity.crypto import didkit_adapter
from identity.crypto.keys import Ed25519KeyPair
from identity.services import did_key_mark_compromised, did_key_rotate
from registry.credentials.context import CREDENTIALS_V1, context_url
from registry.credentials.services import credential_issue, format_datetime
from registry.credentials.verification import credential_verify
from registry.trust.services import accreditation_grant
from tests.openapi_check import assert_response_matches_schema
from tests.registry.trust.factories import office as make_office

from .conftest import applicant_claims, issue_applicant_credential
from .forge import (
    deeply_nested_jwt,
    forge_applicant_credential,
    jwt_with_alg,
    office_key,
    record_as_issued,
    sign,
    tamper_jwt,
    unsigned,
)

pytestmark = pytest.mark.django_db

CHECKS = {
    "context",
    "proof",
    "proofPurpose",
    "issuerKey",
    "accreditation",
    "dates",
    "schema",
    "status",
}


def verify(document) -> dict:
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": document}, format="json"
    )
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, "/credentials/verify", method="POST")
    return response.json()


def assert_fails(document, *checks: str) -> dict:
    """Not verified, and each named check failed with a problem detail naming it."""
    result = verify(document)
    assert result["verified"] is False
    assert set(result["results"]) >= CHECKS
    failed = {p["check"] for p in result["problemDetails"]}
    for check in checks:
        assert result["results"][check]["ok"] is False, (check, result["results"])
        assert check in failed
    return result


@pytest.fixture
def issued_jwt(office, applicant):
    return issue_applicant_credential(office, applicant, proof_format="jwt")


def now_iso(delta=timedelta(0)) -> str:
    return format_datetime(timezone.now() + delta)


def test_a_valid_credential_passes_every_check(issued):
    result = verify(issued.document)
    assert result["verified"] is True
    assert all(result["results"][c]["ok"] for c in CHECKS)


def test_tampered_claim_fails_the_proof(issued):
    document = copy.deepcopy(issued.document)
    document["credentialSubject"]["name"] = "Someone Else Ltd"
    assert not didkit_adapter.verify_credential(document).ok
    assert_fails(document, "proof")


def test_tampered_jwt_payload_fails_the_proof(issued_jwt):
    def change(body):
        body["vc"]["credentialSubject"]["name"] = "Someone Else Ltd"

    assert_fails(tamper_jwt(issued_jwt.document, change), "proof")


def test_forged_signature_fails_the_proof(issued):
    document = copy.deepcopy(issued.document)
    value = document["proof"]["proofValue"]
    document["proof"]["proofValue"] = value[:-4] + ("1111" if value[-4:] != "1111" else "2222")
    assert_fails(document, "proof")


def test_resigned_by_an_unknown_key_fails_issuer_key(office, applicant):
    stranger = Ed25519KeyPair.generate()
    document = forge_applicant_credential(
        office, stranger, applicant_claims(applicant), issuance_date=now_iso()
    )
    assert didkit_adapter.verify_credential(document).ok  # the signature itself is fine
    result = assert_fails(document, "issuerKey")
    assert "not a key known" in result["results"]["issuerKey"]["detail"]


def test_signed_by_another_offices_key_fails_issuer_key(office, other_office, applicant):
    key = office_key(other_office)
    document = forge_applicant_credential(
        office, key, applicant_claims(applicant), issuance_date=now_iso()
    )
    result = assert_fails(document, "issuerKey")
    assert other_office.did.did in result["results"]["issuerKey"]["detail"]


def test_issuer_id_naming_another_key_than_the_signer_fails(office, applicant):
    stranger = Ed25519KeyPair.generate()
    document = forge_applicant_credential(
        office, stranger, applicant_claims(applicant), issuance_date=now_iso()
    )
    # didkit refuses to sign for another issuer; claim the office's key afterwards
    document["issuer"]["id"] = office_key(office).did_key
    result = assert_fails(document, "issuerKey", "proof")
    assert "another key" in result["results"]["issuerKey"]["detail"]


@pytest.mark.parametrize("jwt", [False, True])
def test_expired_credential_fails_dates(office, applicant, jwt):
    key = office_key(office)
    document = forge_applicant_credential(
        office,
        key,
        applicant_claims(applicant),
        issuance_date=now_iso(-timedelta(days=2)),
        expiration_date=now_iso(-timedelta(days=1)),
        jwt=jwt,
    )
    result = assert_fails(document, "dates")
    assert "expired" in result["results"]["dates"]["detail"]


def test_expiry_within_the_clock_skew_still_verifies(office, applicant):
    key = office_key(office)
    document = forge_applicant_credential(
        office,
        key,
        applicant_claims(applicant),
        issuance_date=now_iso(),
        expiration_date=now_iso(-timedelta(seconds=10)),
    )
    record_as_issued(document, issuer=office, key=key)
    assert verify(document)["verified"] is True


@pytest.mark.parametrize("jwt", [False, True])
def test_a_credential_signed_with_a_registry_key_but_never_issued_fails_issuer_key(
    office, applicant, jwt
):
    # A key the registry holds signs only through issuance, which records what it signed: a
    # well-formed, well-signed credential the registry never issued is a forgery with a stolen
    # key, whatever else about it is right.
    key = office_key(office)
    document = forge_applicant_credential(
        office, key, applicant_claims(applicant), issuance_date=now_iso(), jwt=jwt
    )
    result = assert_fails(document, "issuerKey")
    assert "no record of issuing this credential" in result["results"]["issuerKey"]["detail"]
    assert [p["check"] for p in result["problemDetails"]] == ["issuerKey"]
    # Recorded as issued (as issuance does), the same document verifies.
    record_as_issued(document, issuer=office, key=key)
    assert verify(document)["verified"] is True


def test_a_recorded_credential_altered_and_re_signed_with_the_same_key_fails(
    issued, office, applicant
):
    key = office_key(office)
    altered = copy.deepcopy(issued.document)
    altered.pop("proof")
    altered["credentialSubject"]["name"] = "Mallory Holdings"
    document = sign(altered, key)
    result = assert_fails(document, "issuerKey")
    assert "not the credential the registry issued" in result["results"]["issuerKey"]["detail"]


def test_a_stolen_rotated_out_key_cannot_backdate_credentials(office, applicant):
    # The key's holder rotated it out (not marked compromised: nobody knows it leaked). A thief
    # with a backup of it signs a credential dated within its active period: the proof, the
    # key's period and the accreditation all check out, and there is no status to revoke.
    old_key = office_key(office)
    signed_while_current = now_iso()
    did_key_rotate(did=office.did)
    assert office_key(office).did_key != old_key.did_key
    document = forge_applicant_credential(
        office, old_key, applicant_claims(applicant), issuance_date=signed_while_current
    )
    result = assert_fails(document, "issuerKey")
    assert "no record of issuing this credential" in result["results"]["issuerKey"]["detail"]


@pytest.mark.parametrize("jwt", [False, True])
def test_future_dated_credential_fails_dates(office, applicant, jwt):
    key = office_key(office)
    document = forge_applicant_credential(
        office, key, applicant_claims(applicant), issuance_date=now_iso(timedelta(hours=1)), jwt=jwt
    )
    result = assert_fails(document, "dates")
    assert "future" in result["results"]["dates"]["detail"]


def test_wrong_proof_purpose_fails(office, applicant):
    key = office_key(office)
    document = sign(
        unsigned(
            issuer_did=office.did.did,
            signer=key,
            credential_type="IPApplicantCredential",
            subject=applicant_claims(applicant),
            issuance_date=now_iso(),
        ),
        key,
        purpose="authentication",
    )
    assert document["proof"]["proofPurpose"] == "authentication"
    assert_fails(document, "proofPurpose", "proof")


def test_remote_context_is_refused_cleanly(issued):
    document = copy.deepcopy(issued.document)
    document["@context"] = [CREDENTIALS_V1, "https://example.org/contexts/evil.jsonld"]
    result = assert_fails(document, "context", "proof")
    assert "remote context" in result["results"]["context"]["detail"]
    # our own context by URL is remote to didkit too
    document["@context"] = [CREDENTIALS_V1, context_url()]
    assert_fails(document, "context")


def test_undefined_term_fails_the_proof_and_the_schema(issued):
    document = copy.deepcopy(issued.document)
    document["credentialSubject"]["nickname"] = "Ex"
    result = assert_fails(document, "proof", "schema")
    assert "expansion" in result["results"]["proof"]["detail"].lower()


def test_context_without_our_terms_fails(issued):
    document = copy.deepcopy(issued.document)
    document["@context"][-1] = {"@vocab": "https://example.org/#"}
    assert_fails(document, "context")


def test_unknown_type_fails_accreditation_and_schema(issued):
    document = copy.deepcopy(issued.document)
    document["type"] = ["VerifiableCredential", "IPUnknownCredential"]
    assert_fails(document, "accreditation", "schema", "proof")


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512"])
def test_jwt_with_alg_none_or_hmac_is_refused(issued_jwt, alg):
    from registry.credentials.verification import parse_jwt

    payload = parse_jwt(issued_jwt.document).payload
    token = jwt_with_alg(payload, alg, kid=parse_jwt(issued_jwt.document).header["kid"])
    result = assert_fails(token, "proof")
    assert "algorithm" in result["results"]["proof"]["detail"]


def test_did_web_verification_method_is_never_handed_to_didkit(issued):
    document = copy.deepcopy(issued.document)
    # a loopback port nothing listens on: didkit would try to fetch it
    document["proof"]["verificationMethod"] = "did:web:127.0.0.1%3A9#key-1"
    document["issuer"]["id"] = "did:web:127.0.0.1%3A9"
    result = assert_fails(document, "proof", "issuerKey")
    assert "did:key" in result["results"]["proof"]["detail"]


def test_key_compromised_before_issuance_fails_issuer_key(office, issued):
    did_key_mark_compromised(
        did_key=issued.issuer_did_key, since=issued.issued_at - timedelta(minutes=1)
    )
    result = assert_fails(issued.document, "issuerKey")
    assert "compromised" in result["results"]["issuerKey"]["detail"]


def test_key_compromised_after_issuance_keeps_earlier_credentials_valid(issued):
    did_key_mark_compromised(
        did_key=issued.issuer_did_key, since=issued.issued_at + timedelta(minutes=1)
    )
    assert verify(issued.document)["verified"] is True


def test_rotation_keeps_earlier_credentials_valid_and_retires_the_old_key(
    office, applicant, issued
):
    old = office_key(office)
    did_key_rotate(did=office.did, at=timezone.now() + timedelta(seconds=2))
    assert verify(issued.document)["verified"] is True
    # the retired key signing "after" its retirement is refused
    late = forge_applicant_credential(
        office, old, applicant_claims(applicant), issuance_date=now_iso(timedelta(seconds=30))
    )
    assert_fails(late, "issuerKey")


def test_issuance_before_accreditation_fails_accreditation(applicant):
    office = make_office()
    accreditation_grant(
        office=office,
        credential_types=["IPApplicantCredential"],
        valid_from=timezone.now() + timedelta(days=1),
    )
    key = office_key(office)
    document = forge_applicant_credential(
        office, key, applicant_claims(applicant), issuance_date=now_iso()
    )
    result = assert_fails(document, "accreditation")
    assert office.st3_code in result["results"]["accreditation"]["detail"]


def test_unaccredited_type_fails_accreditation(office, agent):
    key = office_key(office)
    claims = {
        "id": agent.did.did,
        "agent": agent.did.did,
        "office": "EP",
        "rightType": "patent",
    }
    document = sign(
        unsigned(
            issuer_did=office.did.did,
            signer=key,
            credential_type="IPMandateCredential",
            subject=claims,
            issuance_date=now_iso(),
        ),
        key,
    )
    assert_fails(document, "accreditation")


def test_accreditation_credential_not_signed_by_the_registry_fails(office):
    key = office_key(office)
    document = sign(
        unsigned(
            issuer_did=office.did.did,
            signer=key,
            credential_type="IPOfficeAccreditationCredential",
            subject={
                "id": office.did.did,
                "office": office.st3_code,
                "credentialTypes": ["IPApplicantCredential"],
                "validFrom": now_iso(),
            },
            issuance_date=now_iso(),
        ),
        key,
    )
    assert_fails(document, "accreditation")


def test_schema_violation_in_a_signed_credential_fails_schema(office, applicant):
    key = office_key(office)
    claims = applicant_claims(applicant)
    claims["personType"] = "robot"
    document = forge_applicant_credential(office, key, claims, issuance_date=now_iso())
    assert_fails(document, "schema")


def test_service_reports_named_checks_directly(issued):
    report = credential_verify(issued.document)
    assert report.verified
    assert [c.name for c in report.checks] == [
        "context",
        "proof",
        "proofPurpose",
        "issuerKey",
        "accreditation",
        "dates",
        "schema",
        "status",
    ]


@pytest.mark.parametrize(
    "document",
    [
        "not a jwt",
        "a.b.c",
        "eyJhbGciOiJFZERTQSJ9.e30.",
        {"proof": "x"},
        {"@context": "nope", "proof": {"verificationMethod": 5}},
        {"@context": [CREDENTIALS_V1], "issuer": [], "proof": {}, "credentialSubject": 3},
        deeply_nested_jwt(),
    ],
)
def test_garbage_credentials_are_not_verified(document):
    result = verify(document)
    assert result["verified"] is False
    assert result["problemDetails"]


def test_a_lone_surrogate_quoted_in_a_detail_is_not_a_500(issued):
    # "\ud800" is a valid JSON escape but no UTF-8 character: details quote the document, and
    # the response must still encode.
    document = copy.deepcopy(issued.document)
    document["issuer"]["registryDid"] = "did:example:\ud800"
    response = APIClient().post(
        "/credentials/verify",
        json.dumps({"verifiableCredential": document}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert_response_matches_schema(response, "/credentials/verify", method="POST")
    assert response.json()["verified"] is False


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ("[1, 2]", 400),
        ("{}", 400),
        ('{"verifiableCredential": 5}', 400),
        ('{"verifiableCredential": ""}', 400),
        ('{"verifiableCredential": {"a": 1}, "extra": 1}', 400),
        ('{"verifiableCredential": {"a": 1}, "options": {"x": 1}}', 400),
        ('{"verifiableCredential": NaN}', 400),
        ("[" * 100000 + "]" * 100000, 400),
    ],
)
def test_malformed_verify_bodies_are_400(body, status):
    response = APIClient().post("/credentials/verify", body, content_type="application/json")
    assert response.status_code == status
    assert_response_matches_schema(response, "/credentials/verify", method="POST")
    assert response.json()["error"]


def test_oversized_body_is_a_clean_413(settings):
    big = json.dumps({"verifiableCredential": {"x": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}})
    for path in ["/credentials/verify", "/presentations/verify", "/credentials/issue"]:
        response = APIClient().post(path, big, content_type="application/json")
        if path == "/credentials/issue":
            assert response.status_code in (401, 413)  # authentication may come first
            continue
        assert response.status_code == 413, path
        assert response.json()["error"] == "payloadTooLarge"
        assert_response_matches_schema(response, path, method="POST")


def test_sub_issuer_accredited_by_an_office_issues_and_verifies(office, agent):
    from registry.participants.services import participant_create
    from registry.trust.models import IssuerAccreditation

    chamber = participant_create(kind="agent", display_name="Chamber of Attorneys", country="FR")
    parent = IssuerAccreditation.objects.get(office=office)
    accreditation_grant(
        office=chamber, credential_types=["IPRepresentativeCredential"], parent=parent
    )
    issued = credential_issue(
        issuer=chamber,
        credential_type="IPRepresentativeCredential",
        subject_did=agent.did.did,
        claims={
            "registrationNumber": "C-12",
            "office": office.st3_code,
            "field": "trademarks",
        },
    )
    result = verify(issued.document)
    assert result["verified"] is True, result["problemDetails"]
    assert "Chamber" in result["results"]["accreditation"]["detail"]


def test_applicants_never_issue_office_credentials(applicant, agent):
    from registry.credentials.errors import IssuanceRefused

    with pytest.raises(IssuanceRefused):
        credential_issue(
            issuer=applicant,
            credential_type="IPRepresentativeCredential",
            subject_did=agent.did.did,
            claims={"registrationNumber": "X", "office": "EP", "field": "patents"},
        )


def test_jwt_whose_sub_differs_from_the_subject_fails(office, applicant, agent):
    import base64
    import json as _json

    from registry.credentials.verification import parse_jwt

    key = office_key(office)
    token = forge_applicant_credential(
        office, key, applicant_claims(applicant), issuance_date=now_iso(), jwt=True
    )
    assert parse_jwt(token).payload["sub"] == applicant.did.did
    # re-sign a payload whose sub names someone else (didkit signs what it is given)
    header, payload, _ = token.split(".")
    body = _json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["sub"] = agent.did.did
    signing_input = (
        f"{header}.{base64.urlsafe_b64encode(_json.dumps(body).encode()).rstrip(b'=').decode()}"
    )
    signature = base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b"=").decode()
    result = assert_fails(f"{signing_input}.{signature}", "proof")
    assert "sub" in result["results"]["proof"]["detail"]


@pytest.mark.parametrize(
    ("claim", "shift"),
    [("nbf", timedelta(days=-1)), ("exp", timedelta(days=60))],
)
def test_jwt_whose_nbf_or_exp_disagrees_with_the_vc_dates_fails(office, applicant, claim, shift):
    # VC-JWT (VC Data Model 1.1, s.6.3.1): nbf IS the issuanceDate and exp the expirationDate.
    # An nbf a day before the issuer's key existed must not pass on a later issuanceDate.
    import base64
    import json as _json

    key = office_key(office)
    credential = unsigned(
        issuer_did=office.did.did,
        signer=key,
        credential_type="IPApplicantCredential",
        subject=applicant_claims(applicant),
        issuance_date=now_iso(),
        expiration_date=now_iso(timedelta(days=30)),
    )
    token = sign(credential, key, jwt=True)
    header, payload, _ = token.split(".")
    body = _json.loads(base64.urlsafe_b64decode(payload + "=="))
    body[claim] = int((timezone.now() + shift).timestamp())
    signing_input = (
        f"{header}.{base64.urlsafe_b64encode(_json.dumps(body).encode()).rstrip(b'=').decode()}"
    )
    signature = base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b"=").decode()
    result = assert_fails(f"{signing_input}.{signature}", "proof")
    assert claim in result["results"]["proof"]["detail"]


def test_mandate_past_its_valid_until_fails_dates(applicant, agent):
    key = office_key(applicant)
    claims = {
        "id": applicant.did.did,
        "agent": agent.did.did,
        "office": "EP",
        "rightType": "trademark",
        "validUntil": now_iso(-timedelta(days=1)),
    }
    document = sign(
        unsigned(
            issuer_did=applicant.did.did,
            signer=key,
            credential_type="IPMandateCredential",
            subject=claims,
            issuance_date=now_iso(-timedelta(days=2)),
        ),
        key,
    )
    result = assert_fails(document, "dates")
    assert "validUntil" in result["results"]["dates"]["detail"]


def test_accreditation_credential_before_its_valid_from_fails_dates():
    # The registry may accredit an office from a later date; its credential is issued at once
    # and must not verify as in force before then (as a mandate stops at its validUntil).
    from registry.credentials.models import IssuedCredential

    office = make_office()
    accreditation = accreditation_grant(
        office=office,
        credential_types=["IPApplicantCredential"],
        valid_from=timezone.now() + timedelta(days=30),
    )
    document = IssuedCredential.objects.get(credential_id=accreditation.credential_id).document
    result = assert_fails(document, "dates")
    assert "validFrom" in result["results"]["dates"]["detail"]
    for check in CHECKS - {"dates"}:
        assert result["results"][check]["ok"] is True, (check, result["results"][check])


def test_a_check_that_raises_fails_closed_and_never_500s(issued, monkeypatch):
    import registry.status.verification

    def broken(*args, **kwargs):
        raise RuntimeError("status backend exploded")

    # fault injection: a bug or an outage inside one check
    monkeypatch.setattr(registry.status.verification, "status_check", broken)
    result = assert_fails(issued.document, "status")
    assert "could not be completed" in result["results"]["status"]["detail"]
    assert all(result["results"][c]["ok"] for c in CHECKS - {"status"})
