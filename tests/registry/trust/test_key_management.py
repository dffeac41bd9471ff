"""Issuer key management end to end, with real credentials: rotation keeps old credentials
verifying; a key marked compromised from a time invalidates what it signed after that time;
suspension and withdrawal stop new issuance but not earlier credentials."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from registry.audit.models import AuditEvent
from registry.credentials.services import credential_issue, credential_verify
from registry.participants.services import participant_create
from registry.trust.models import OfficeMembership
from registry.trust.services import (
    accreditation_grant,
    accreditation_suspend,
    accreditation_withdraw,
)
from tests.openapi_check import assert_response_matches_schema

from .factories import member, office

pytestmark = pytest.mark.django_db

APPLICANT = "IPApplicantCredential"


@pytest.fixture
def ep():
    ep = office("EP", "European Patent Office")
    accreditation_grant(office=ep, credential_types=[APPLICANT, "IPRepresentativeCredential"])
    return ep


@pytest.fixture
def applicant():
    return participant_create(kind="applicant", display_name="Example Ltd", country="FR")


def issue(ep, applicant):
    return credential_issue(
        issuer=ep,
        credential_type=APPLICANT,
        subject_did=applicant.did.did,
        claims={
            "name": "Example Ltd",
            "personType": "legal",
            "country": "FR",
            "address": "1 rue de l'Exemple, 75001 Paris",
            "partyIdentifiers": [{"office": "EP", "partyIdentifier": "48213"}],
        },
    )


def signer(credential) -> str:
    return credential.document["proof"]["verificationMethod"].split("#")[0]


def next_second():
    # issuanceDate has second precision: make the next credential's differ.
    time.sleep(1.05 - (timezone.now().microsecond / 1e6))


def test_rotation_keeps_earlier_credentials_verifying(ep, applicant):
    admin = member(ep, OfficeMembership.Role.ADMIN)
    before = issue(ep, applicant)
    client = Client()
    client.force_login(admin)
    response = client.post(f"/trust/offices/{ep.st3_code}/signing-key/rotate")
    assert response.status_code == 201
    assert_response_matches_schema(response, method="POST")
    new_key = response.json()["did_key"]
    after = issue(ep, applicant)
    assert signer(before) != signer(after) == new_key
    assert credential_verify(before.document).verified
    assert credential_verify(after.document).verified
    event = AuditEvent.objects.get(action="key.rotate")
    assert (event.actor_label, event.data["new_key"]) == (admin.username, new_key)


def test_compromised_key_invalidates_only_what_it_signed_after(ep, applicant):
    admin = member(ep, OfficeMembership.Role.ADMIN)
    early = issue(ep, applicant)
    next_second()
    late = issue(ep, applicant)
    assert signer(early) == signer(late)
    since = parse_datetime(late.document["issuanceDate"])
    assert since > parse_datetime(early.document["issuanceDate"])

    client = Client()
    client.force_login(admin)
    response = client.post(
        "/trust/keys/compromised",
        {"did_key": signer(late), "since": since.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, method="POST")
    assert response.json()["compromised_at"] is not None

    assert credential_verify(early.document).verified
    report = credential_verify(late.document)
    assert not report.verified
    assert "issuerKey" in report.failed
    # The key was in use: the office now signs with a fresh key, and that verifies.
    fresh = issue(ep, applicant)
    assert signer(fresh) != signer(late)
    assert credential_verify(fresh.document).verified
    # The trust query agrees.
    body = (
        Client()
        .get(
            "/trust/authorization",
            {"entity_id": signer(late), "action": "issue", "resource": APPLICANT},
        )
        .json()
    )
    assert (body["authorized"], body["code"]) == (False, "keyCompromised")
    event = AuditEvent.objects.get(action="key.compromised")
    assert event.data["did_key"] == signer(late)
    assert event.data["rotated_to"] == signer(fresh)


def test_compromise_input_and_access(ep, applicant):
    jp = office("JP")
    jp_admin = member(jp, OfficeMembership.Role.ADMIN)
    ep_officer = member(ep, OfficeMembership.Role.OFFICER)
    key = ep.did.keys.get().did_key
    body = {"did_key": key, "since": timezone.now().isoformat()}
    for user in (jp_admin, ep_officer):
        client = Client()
        client.force_login(user)
        response = client.post("/trust/keys/compromised", body, content_type="application/json")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    ep_admin = member(ep, OfficeMembership.Role.ADMIN)
    client = Client()
    client.force_login(ep_admin)
    future = {"did_key": key, "since": (timezone.now() + timedelta(days=1)).isoformat()}
    response = client.post("/trust/keys/compromised", future, content_type="application/json")
    assert response.status_code == 400
    assert "future" in response.json()["message"]
    unknown = {"did_key": "did:key:z6MkUnknown", "since": timezone.now().isoformat()}
    response = client.post("/trust/keys/compromised", unknown, content_type="application/json")
    assert response.status_code == 404
    ep.did.keys.get()  # nothing changed: still one key
    assert ep.did.keys.get().compromised_at is None


def test_suspension_and_withdrawal_stop_new_issuance_not_old_credentials(ep, applicant):
    from registry.credentials.errors import IssuanceRefused

    old = issue(ep, applicant)
    root = ep.accreditations.get()
    next_second()  # verification judges at issuanceDate, which has second precision
    accreditation_suspend(accreditation=root)
    with pytest.raises(IssuanceRefused):
        issue(ep, applicant)
    report = credential_verify(old.document)
    assert report.verified, report.failed
    accreditation_withdraw(accreditation=root)
    with pytest.raises(IssuanceRefused):
        issue(ep, applicant)
    assert credential_verify(old.document).verified


def early_in_a_second():
    time.sleep(1.02 - (timezone.now().microsecond / 1e6))


def test_a_suspension_in_the_issuance_second_keeps_the_earlier_credential_verifying(ep, applicant):
    early_in_a_second()
    issued = issue(ep, applicant)
    accreditation_suspend(accreditation=ep.accreditations.get())
    assert issued.issued_at.replace(microsecond=0) == timezone.now().replace(microsecond=0)
    report = credential_verify(issued.document)
    assert report.verified, report.as_dict()["problemDetails"]
