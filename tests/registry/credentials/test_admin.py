from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from registry.credentials.models import IssuedCredential
from registry.credentials.verification import credential_verify

from .conftest import applicant_claims

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
