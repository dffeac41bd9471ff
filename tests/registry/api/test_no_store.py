"""What a key or a login was needed to see is not stored by browsers or proxies
(`Cache-Control: no-store`); public documents keep their own caching."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from identity.services import registry_did_ensure
from registry.participants.services import participant_create
from tests.registry.credentials.conftest import api_client, issue_applicant_credential
from tests.registry.portal import factories

pytestmark = pytest.mark.django_db


def test_credentials_read_with_an_api_key_are_not_stored():
    office = factories.office("EP")  # accredited for the office types
    applicant = participant_create(kind="applicant", display_name="Example Ltd", country="FR")
    issued = issue_applicant_credential(office, applicant)
    client = api_client(office)
    for path in (f"/credentials/{issued.credential_id}", "/credentials"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store", path


def test_a_refused_key_still_gets_no_cache_header_of_ours():
    # nothing was authenticated: the 401 is not personal data
    response = APIClient(HTTP_AUTHORIZATION="Bearer ipr_000000000000_nope").get("/credentials")
    assert response.status_code == 401
    assert not response.has_header("Cache-Control")


def test_portal_pages_of_a_logged_in_user_are_not_stored(client):
    user = factories.user("alice@example.org")
    client.force_login(user)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_public_documents_keep_their_own_caching():
    registry_did_ensure()
    response = APIClient().get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.get("Cache-Control") != "no-store"
