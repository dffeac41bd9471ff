"""Offices accredited for the office credential types, API keys, applicants and agents, all made
through the real services (real DIDs and keys, real didkit)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.api.services import api_key_create
from registry.credentials.services import credential_issue
from registry.participants.models import Participant
from registry.participants.services import participant_create
from registry.trust.services import accreditation_grant
from tests.registry.trust.factories import office as make_office

OFFICE_TYPES = ["IPApplicantCredential", "IPRepresentativeCredential"]


@pytest.fixture
def office(db) -> Participant:
    office = make_office()
    accreditation_grant(office=office, credential_types=OFFICE_TYPES)
    return office


@pytest.fixture
def other_office(db) -> Participant:
    office = make_office()
    accreditation_grant(office=office, credential_types=OFFICE_TYPES)
    return office


@pytest.fixture
def applicant(db) -> Participant:
    return participant_create(kind="applicant", display_name="Example Ltd", country="FR")


@pytest.fixture
def agent(db) -> Participant:
    return participant_create(kind="agent", display_name="Cabinet Exemple", country="FR")


def api_client(office: Participant, scopes=("issue", "verify")) -> APIClient:
    _, key = api_key_create(office=office, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def client_for(db):
    return api_client


@pytest.fixture
def issuer_client(office) -> APIClient:
    return api_client(office)


def applicant_claims(applicant: Participant) -> dict:
    return {
        "id": applicant.did.did,
        "name": "Example Ltd",
        "personType": "legal",
        "country": "FR",
        "address": "1 rue de l'Exemple, 75001 Paris",
        "lei": "969500T3MBS4SQAMHJ98",
        "partyIdentifiers": [
            {"office": "EP", "partyIdentifier": "48213"},
            {"office": "FR", "partyIdentifier": "FR-77120"},
        ],
    }


def representative_claims(agent: Participant, office: Participant) -> dict:
    return {
        "id": agent.did.did,
        "registrationNumber": "R-2024-0042",
        "office": office.st3_code,
        "field": "patents",
    }


def mandate_claims(agent: Participant) -> dict:
    return {
        "agent": agent.did.did,
        "office": "EP",
        "rightType": "patent",
        "applicationNumbers": ["EP20230012345", "EP20240000001"],
        "validUntil": "2099-12-31T00:00:00Z",
    }


def issue_applicant_credential(office: Participant, applicant: Participant, proof_format="ldp"):
    """An applicant credential issued by `office` through the real service."""
    return credential_issue(
        issuer=office,
        credential_type="IPApplicantCredential",
        subject_did=applicant.did.did,
        claims=applicant_claims(applicant),
        proof_format=proof_format,
    )


@pytest.fixture
def issued(office, applicant):
    return issue_applicant_credential(office, applicant)
