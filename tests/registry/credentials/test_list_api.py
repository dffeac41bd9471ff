"""GET /credentials: an office system reconciles what it issued (to whom, of which type, what
is revoked, what a retried request produced), its own credentials only, page by page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from registry.credentials.models import IssuedCredential
from registry.participants.services import participant_create
from registry.status.services import credential_status_change
from tests.openapi_check import assert_response_matches_schema

from .conftest import api_client, issue_applicant_credential, representative_claims

pytestmark = pytest.mark.django_db


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _newest_first(office) -> list[str]:
    return list(
        IssuedCredential.objects.filter(issuer=office)
        .order_by("-id")
        .values_list("credential_id", flat=True)
    )


@pytest.fixture
def issued(office, other_office, applicant, agent):
    """Three credentials of `office` (two subjects, both types), one of `other_office`."""
    from registry.credentials.services import credential_issue

    first = issue_applicant_credential(office, applicant)
    second = issue_applicant_credential(office, applicant, proof_format="jwt")
    third = credential_issue(
        issuer=office,
        credential_type="IPRepresentativeCredential",
        subject_did=agent.did.did,
        claims=representative_claims(agent, office),
    )
    issue_applicant_credential(other_office, applicant)
    return first, second, third


def test_an_office_lists_its_own_credentials_newest_first(office, issued):
    client = api_client(office)
    response = client.get("/credentials")
    assert _ids(response) == _newest_first(office)
    assert len(_ids(response)) == 3
    assert_response_matches_schema(response)
    # each entry is what GET /credentials/{id} returns
    first = response.json()["results"][0]
    assert first == client.get(f"/credentials/{first['id']}").json()
    assert first["status"] == "active"
    assert first["statusPurpose"] == "revocation"


def test_filters_combine(office, issued, applicant, agent):
    client = api_client(office)
    by_applicant = _ids(client.get("/credentials", {"subject": applicant.did.did}))
    assert set(by_applicant) == {issued[0].credential_id, issued[1].credential_id}
    representatives = _ids(client.get("/credentials", {"type": "IPRepresentativeCredential"}))
    assert representatives == [issued[2].credential_id]
    assert (
        _ids(
            client.get("/credentials", {"subject": agent.did.did, "type": "IPApplicantCredential"})
        )
        == []
    )

    credential_status_change(issuer=office, credential_id=issued[1].credential_id, action="revoke")
    revoked = client.get("/credentials", {"status": "revoked"})
    assert _ids(revoked) == [issued[1].credential_id]
    assert revoked.json()["results"][0]["status"] == "revoked"
    assert issued[1].credential_id not in _ids(client.get("/credentials", {"status": "active"}))

    now = timezone.now()
    assert (
        len(
            _ids(
                client.get("/credentials", {"issuedAfter": (now - timedelta(hours=1)).isoformat()})
            )
        )
        == 3
    )
    assert (
        _ids(client.get("/credentials", {"issuedBefore": (now - timedelta(hours=1)).isoformat()}))
        == []
    )


def test_a_credential_issued_with_an_idempotency_key_is_found_by_it(office, applicant):
    client = api_client(office)
    body = {
        "credential": {
            "type": ["VerifiableCredential", "IPApplicantCredential"],
            "credentialSubject": {
                "id": applicant.did.did,
                "name": "Example Ltd",
                "personType": "legal",
                "country": "FR",
                "address": "1 rue de l'Exemple, 75001 Paris",
                "partyIdentifiers": [{"office": "EP", "partyIdentifier": "48213"}],
            },
        }
    }
    created = client.post("/credentials/issue", body, format="json", HTTP_IDEMPOTENCY_KEY="k-77")
    assert created.status_code == 201
    found = _ids(client.get("/credentials", {"idempotencyKey": "k-77"}))
    assert found == [created.json()["verifiableCredential"]["id"]]
    assert _ids(client.get("/credentials", {"idempotencyKey": "k-78"})) == []


def test_pages_follow_a_cursor_that_new_issuance_does_not_shift(office, applicant):
    for _ in range(5):
        issue_applicant_credential(office, applicant, proof_format="jwt")
    client = api_client(office)
    first = client.get("/credentials", {"pageSize": 2})
    assert len(_ids(first)) == 2
    seen = _ids(first)
    issue_applicant_credential(office, applicant, proof_format="jwt")  # arrives meanwhile
    page = first
    while page.json()["next"]:
        query = parse_qs(urlsplit(page.json()["next"]).query)
        page = client.get("/credentials", {k: v[0] for k, v in query.items()})
        seen += _ids(page)
    # the five that existed when listing began, each once, in order; the newcomer is on top
    newest_first = _newest_first(office)
    assert seen == newest_first[1:]
    assert _ids(client.get("/credentials", {"pageSize": 1})) == newest_first[:1]


def test_the_list_reads_status_in_one_query_not_one_per_credential(
    office, applicant, django_assert_max_num_queries
):
    for _ in range(12):
        issue_applicant_credential(office, applicant, proof_format="jwt")
    client = api_client(office)
    client.get("/credentials", {"pageSize": 2})  # warm: API key, connection
    with django_assert_max_num_queries(4):  # key, page, status entries (+ last-used stamp)
        assert len(_ids(client.get("/credentials", {"pageSize": 12}))) == 12


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"subjet": "did:web:x"}, "subjet"),
        ({"status": "lost"}, "status"),
        ({"type": "IPPassportCredential"}, "type"),
        ({"issuedAfter": "yesterday"}, "issuedAfter"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
    ids=["unknown-parameter", "status", "type", "date", "cursor"],
)
def test_bad_queries_are_a_400_naming_the_parameter(office, issued, query, needle):
    response = api_client(office).get("/credentials", query)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalidInput"
    assert needle in response.content.decode()
    assert_response_matches_schema(response, "/credentials")


def test_a_key_without_the_issue_scope_or_no_key_lists_nothing(office, issued):
    assert APIClient().get("/credentials").status_code == 401
    response = api_client(office, scopes=("revoke",)).get("/credentials")
    assert response.status_code == 403
    assert_response_matches_schema(response, "/credentials")


def test_an_office_with_nothing_issued_gets_an_empty_page(issued):
    newcomer = participant_create(
        kind="office", display_name="Nouvel Office", country="QZ", st3_code="QZ"
    )
    response = api_client(newcomer).get("/credentials")
    assert response.json() == {"next": None, "previous": None, "results": []}
