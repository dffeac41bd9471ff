"""Presentations: challenge (ours, unexpired, single use, domain), holder binding through the
reverse lookup, and every embedded credential verified."""

from __future__ import annotations

import copy
import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from identity.crypto import didkit_adapter
from identity.crypto.keys import Ed25519KeyPair, did_key_verification_method
from registry.credentials.context import CREDENTIALS_V1
from registry.credentials.models import Challenge
from registry.credentials.services import (
    challenge_claim,
    challenge_create,
    credential_issue,
    credential_issue_mandate,
)
from tests.openapi_check import assert_response_matches_schema

from .conftest import applicant_claims, mandate_claims
from .forge import deeply_nested_jwt, office_key, sign, unsigned

pytestmark = pytest.mark.django_db


def new_challenge(domain=None) -> str:
    response = APIClient().post("/challenges", {"domain": domain} if domain else {}, format="json")
    assert response.status_code == 201
    assert_response_matches_schema(response, "/challenges", method="POST")
    return response.json()["challenge"]


def present(credentials, key: Ed25519KeyPair, *, challenge, domain=None, holder=None, jwt=False):
    presentation = {
        "@context": [CREDENTIALS_V1],
        "type": ["VerifiablePresentation"],
        "holder": holder or key.did_key,
        "verifiableCredential": credentials,
    }
    return didkit_adapter.issue_presentation(
        presentation,
        key=key,
        challenge=challenge,
        domain=domain,
        proof_format="jwt" if jwt else "ldp",
    )


def verify(presentation, challenge, domain=None) -> dict:
    options = {"challenge": challenge} if challenge is not None else {}
    if domain:
        options["domain"] = domain
    response = APIClient().post(
        "/presentations/verify",
        {"verifiablePresentation": presentation, "options": options},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, "/presentations/verify", method="POST")
    return response.json()


def _wallet_signed_mandate(applicant, agent, wallet: Ed25519KeyPair) -> dict:
    """A mandate signed offline by the applicant's linked wallet, naming its registry DID."""
    return sign(
        unsigned(
            issuer_did=applicant.did.did,
            signer=wallet,
            credential_type="IPMandateCredential",
            subject={"id": applicant.did.did, **mandate_claims(agent)},
            issuance_date=timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        wallet,
    )


@pytest.fixture
def applicant_credential(issued):
    return issued.document


@pytest.mark.parametrize("jwt_credential", [False, True])
def test_subject_presents_its_credential(office, applicant, jwt_credential):
    document = credential_issue(
        issuer=office,
        credential_type="IPApplicantCredential",
        subject_did=applicant.did.did,
        claims=applicant_claims(applicant),
        proof_format="jwt" if jwt_credential else "ldp",
    ).document
    challenge = new_challenge()
    vp = present([document], office_key(applicant), challenge=challenge)
    assert didkit_adapter.verify_presentation(vp, challenge=challenge).ok
    result = verify(vp, challenge)
    assert result["verified"] is True, result["problemDetails"]
    assert result["results"]["credentials"][0]["verified"] is True
    assert Challenge.objects.get(value=challenge).used_at is not None


def test_jwt_presentation_verifies(applicant, applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], office_key(applicant), challenge=challenge, jwt=True)
    assert isinstance(vp, str)
    result = verify(vp, challenge)
    assert result["verified"] is True, result["problemDetails"]


def test_replayed_challenge_fails(applicant, applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], office_key(applicant), challenge=challenge)
    assert verify(vp, challenge)["verified"] is True
    replay = verify(vp, challenge)
    assert replay["verified"] is False
    assert replay["results"]["challenge"]["ok"] is False
    assert "replay" in replay["results"]["challenge"]["detail"]


@pytest.mark.parametrize("jwt", [False, True])
def test_a_presentation_that_fails_its_proof_does_not_use_the_challenge_up(
    applicant, applicant_credential, jwt
):
    # Whoever saw the challenge (it is shown to the holder) must not be able to burn it.
    challenge = new_challenge()
    intruder = Ed25519KeyPair.generate()
    forged = present([applicant_credential], intruder, challenge=challenge, jwt=jwt)
    if jwt:  # signed by the intruder, claiming the applicant's key as its signer
        header, payload, signature = forged.split(".")
        genuine = present(
            [applicant_credential], office_key(applicant), challenge=challenge, jwt=True
        )
        forged = ".".join([genuine.split(".")[0], payload, signature])
    else:  # the intruder's proof over the applicant's presentation
        forged["holder"] = office_key(applicant).did_key
    result = verify(forged, challenge)
    assert result["verified"] is False
    assert result["results"]["proof"]["ok"] is False
    assert result["results"]["challenge"]["ok"] is True
    assert "left unused" in result["results"]["challenge"]["detail"]
    assert Challenge.objects.get(value=challenge).used_at is None

    genuine = present([applicant_credential], office_key(applicant), challenge=challenge, jwt=jwt)
    result = verify(genuine, challenge)
    assert result["verified"] is True, result["problemDetails"]
    assert result["results"]["challenge"]["detail"].endswith("now used")
    assert verify(genuine, challenge)["results"]["challenge"]["ok"] is False  # then single use


@pytest.mark.parametrize("challenge", [None, "", "made-up-by-the-holder"])
def test_missing_or_foreign_challenge_fails(applicant, applicant_credential, challenge):
    vp = present(
        [applicant_credential],
        office_key(applicant),
        challenge=challenge or "made-up-by-the-holder",
    )
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["challenge"]["ok"] is False
    assert "challenge" in {p["check"] for p in result["problemDetails"]}


def test_expired_challenge_fails(applicant, applicant_credential):
    challenge = new_challenge()
    Challenge.objects.filter(value=challenge).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    vp = present([applicant_credential], office_key(applicant), challenge=challenge)
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert "expired" in result["results"]["challenge"]["detail"]


def test_presentation_bound_to_another_challenge_fails(applicant, applicant_credential):
    mine, other = new_challenge(), new_challenge()
    vp = present([applicant_credential], office_key(applicant), challenge=other)
    result = verify(vp, mine)
    assert result["verified"] is False
    assert result["results"]["challenge"]["ok"] is False
    assert result["results"]["proof"]["ok"] is False


def test_domain_must_match(applicant, applicant_credential):
    challenge = new_challenge(domain="portal.example.org")
    vp = present(
        [applicant_credential],
        office_key(applicant),
        challenge=challenge,
        domain="evil.example.net",
    )
    result = verify(vp, challenge, domain="portal.example.org")
    assert result["verified"] is False
    assert result["results"]["domain"]["ok"] is False

    challenge = new_challenge(domain="portal.example.org")
    vp = present(
        [applicant_credential],
        office_key(applicant),
        challenge=challenge,
        domain="portal.example.org",
    )
    assert verify(vp, challenge, domain="portal.example.org")["verified"] is True


def test_challenge_bound_to_a_domain_needs_it(applicant, applicant_credential):
    challenge = new_challenge(domain="portal.example.org")
    vp = present([applicant_credential], office_key(applicant), challenge=challenge)
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert "domain" in result["results"]["challenge"]["detail"]


def test_holder_who_is_not_the_subject_fails(agent, applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], office_key(agent), challenge=challenge)
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["holder"]["ok"] is False
    assert result["results"]["credentials"][0]["verified"] is True


def test_unknown_wallet_key_is_not_the_subject(applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], Ed25519KeyPair.generate(), challenge=challenge)
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["holder"]["ok"] is False


def test_mandated_agent_presents_the_mandate(applicant, agent):
    mandate = credential_issue_mandate(
        applicant=applicant, agent_did=agent.did.did, claims=mandate_claims(agent)
    ).document
    challenge = new_challenge()
    result = verify(present([mandate], office_key(agent), challenge=challenge), challenge)
    assert result["verified"] is True, result["problemDetails"]
    # someone else holding the mandate is not the agent
    challenge = new_challenge()
    stranger = Ed25519KeyPair.generate()
    result = verify(present([mandate], stranger, challenge=challenge), challenge)
    assert result["verified"] is False
    assert result["results"]["holder"]["ok"] is False


def test_tampered_embedded_credential_fails_credentials(applicant, applicant_credential):
    tampered = copy.deepcopy(applicant_credential)
    tampered["credentialSubject"]["name"] = "Someone Else Ltd"
    challenge = new_challenge()
    vp = present([tampered], office_key(applicant), challenge=challenge)
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["proof"]["ok"] is True  # the presentation itself is fine
    assert result["results"]["credentials"][0]["results"]["proof"]["ok"] is False
    assert "credentials[0].proof" in {p["check"] for p in result["problemDetails"]}


def test_tampered_presentation_fails_the_proof(agent, applicant, applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], office_key(applicant), challenge=challenge)
    vp["holder"] = office_key(agent).did_key
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["proof"]["ok"] is False


def test_wrong_purpose_fails(applicant, applicant_credential):
    key = office_key(applicant)
    challenge = new_challenge()
    options = {
        "proofPurpose": "assertionMethod",
        "verificationMethod": did_key_verification_method(key.did_key),
        "type": "Ed25519Signature2020",
        "challenge": challenge,
    }
    vp = json.loads(
        didkit_adapter._didkit(
            didkit_adapter.didkit.issue_presentation,
            json.dumps(
                {
                    "@context": [CREDENTIALS_V1],
                    "type": ["VerifiablePresentation"],
                    "holder": key.did_key,
                    "verifiableCredential": [applicant_credential],
                }
            ),
            json.dumps(options),
            key.private_jwk_json,
        )
    )
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert result["results"]["proofPurpose"]["ok"] is False


def test_did_web_holder_is_refused_without_network(applicant, applicant_credential):
    challenge = new_challenge()
    vp = present([applicant_credential], office_key(applicant), challenge=challenge)
    vp["holder"] = "did:web:127.0.0.1%3A9"
    result = verify(vp, challenge)
    assert result["verified"] is False
    assert "did:key" in result["results"]["proof"]["detail"]


@pytest.mark.parametrize(
    "body",
    [
        "{oops",
        "{}",
        '{"verifiablePresentation": 1, "options": {"challenge": "x"}}',
        '{"verifiablePresentation": {}, "options": {"challenge": "x", "extra": 1}}',
        '{"verifiablePresentation": {"a": 1}, "options": {"challenge": "x", "domain": 5}}',
    ],
)
def test_malformed_presentation_bodies_are_400(body):
    response = APIClient().post("/presentations/verify", body, content_type="application/json")
    assert response.status_code == 400
    assert_response_matches_schema(response, "/presentations/verify", method="POST")


@pytest.mark.parametrize(
    "document",
    ["x.y.z", "garbage", {"type": "VerifiablePresentation"}, deeply_nested_jwt("vp")],
)
def test_garbage_presentations_are_not_verified(document):
    challenge = new_challenge()
    result = verify(document, challenge)
    assert result["verified"] is False


def test_challenge_is_claimed_once_in_the_service():
    challenge = challenge_create()
    assert challenge_claim(value=challenge.value, domain=None) == ""
    assert "replay" in challenge_claim(value=challenge.value, domain=None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_challenge_let_exactly_one_through():
    if connection.vendor == "sqlite":
        pytest.skip("needs a database shared between threads (PostgreSQL)")
    challenge = challenge_create()
    barrier = threading.Barrier(8)
    outcomes = []

    def claim():
        from django.db import connections

        barrier.wait()
        try:
            outcomes.append(challenge_claim(value=challenge.value, domain=None))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("") == 1
    assert len(outcomes) == 8


def test_linked_wallet_presents_for_its_registry_did_and_signs_mandates(
    applicant, agent, applicant_credential
):
    from identity.services import did_link_wallet

    wallet = Ed25519KeyPair.generate()
    did_link_wallet(did=applicant.did, wallet_did=wallet.did_key)
    challenge = new_challenge()
    result = verify(present([applicant_credential], wallet, challenge=challenge), challenge)
    assert result["verified"] is True, result["problemDetails"]

    # a mandate signed offline by the wallet, naming the applicant's registry DID
    mandate = _wallet_signed_mandate(applicant, agent, wallet)
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": mandate}, format="json"
    )
    assert response.json()["verified"] is True, response.json()["problemDetails"]


def test_a_deactivated_did_s_wallet_no_longer_presents_nor_signs_for_it(
    applicant, agent, applicant_credential
):
    # Deactivation is for good: it retires the registry keys, and must end the wallet's
    # authority too (the wallet link itself is never undone by it).
    from identity.services import did_deactivate, did_link_wallet

    wallet = Ed25519KeyPair.generate()
    now = timezone.now()
    did_link_wallet(did=applicant.did, wallet_did=wallet.did_key, at=now - timedelta(minutes=1))
    did_deactivate(did=applicant.did, at=now - timedelta(seconds=5))

    challenge = new_challenge()
    result = verify(present([applicant_credential], wallet, challenge=challenge), challenge)
    assert result["verified"] is False
    assert result["results"]["holder"]["ok"] is False

    mandate = _wallet_signed_mandate(applicant, agent, wallet)
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": mandate}, format="json"
    )
    assert response.json()["verified"] is False
    assert response.json()["results"]["issuerKey"]["ok"] is False


def test_purge_deletes_only_long_expired_challenges():
    from registry.credentials.services import challenges_purge
    from registry.credentials.tasks import challenges_purge_task

    fresh = challenge_create()
    old = challenge_create()
    Challenge.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))
    assert challenges_purge_task.delay().get() == 1
    assert list(Challenge.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert challenges_purge() == 0
