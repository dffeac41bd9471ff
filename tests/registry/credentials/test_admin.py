from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from registry.credentials.models import IssuedCredential
from registry.credentials.verification import credential_verify

from .conftest import api_client, applicant_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


def post_issue(admin_client, issuer, applicant, **overrides):
    data = {
        "issuing_participant": issuer.pk,
        "type": "IPApplicantCredential",
        "subject": applicant.did.did,
        "claims": json.dumps(applicant_claims(applicant)),
        "format": "ldp",
        "expiration": "",
        **overrides,
    }
    return admin_client.post("/admin/credentials/issuedcredential/add/", data)


def test_admin_issues_through_the_service(admin_client, office, applicant):
    response = post_issue(admin_client, office, applicant)
    assert response.status_code == 302, response.content[:2000]
    issued = IssuedCredential.objects.get(issuer=office)
    assert issued.issued_by == "root"
    assert credential_verify(issued.document).verified
    page = admin_client.get(f"/admin/credentials/issuedcredential/{issued.pk}/change/")
    assert page.status_code == 200
    assert issued.credential_id in page.content.decode()


def test_admin_shows_refusals_on_the_form(admin_client, office, applicant):
    claims = applicant_claims(applicant)
    claims["personType"] = "robot"
    response = post_issue(admin_client, office, applicant, claims=json.dumps(claims))
    assert response.status_code == 200
    assert "personType" in response.content.decode()
    assert not IssuedCredential.objects.filter(issuer=office).exists()
    assert admin_client.get("/admin/credentials/issuedcredential/").status_code == 200


def test_support_finds_a_credential_by_the_idempotency_key_an_office_sent(
    admin_client, office, applicant
):
    body = {
        "credential": {
            "type": ["VerifiableCredential", "IPApplicantCredential"],
            "credentialSubject": applicant_claims(applicant),
        }
    }
    response = api_client(office).post(
        "/credentials/issue", body, format="json", HTTP_IDEMPOTENCY_KEY="crm-order-99"
    )
    assert response.status_code == 201
    issued = IssuedCredential.objects.get(issuer=office)
    listing = admin_client.get("/admin/credentials/issuedcredential/", {"q": "crm-order-99"})
    assert issued.credential_id in listing.content.decode()
    assert "1 result" in listing.content.decode()
    page = admin_client.get(f"/admin/credentials/issuedcredential/{issued.pk}/change/")
    assert "crm-order-99" in page.content.decode()
