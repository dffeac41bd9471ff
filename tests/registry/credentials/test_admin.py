from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages

from registry.audit.models import AuditEvent
from registry.credentials.models import IssuedCredential
from registry.credentials.verification import credential_verify

from .conftest import api_client, applicant_claims, mandate_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


ADD = "/admin/credentials/issuedcredential/add/"


def form_key(page) -> str:
    """The one-time key of a rendered issue form (its hidden field)."""
    found = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode())
    assert found, "the issue form has no idempotency key"
    return found.group(1)


def post_issue(admin_client, issuer, applicant, key=None, **overrides):
    data = {
        "issuing_participant": issuer.pk,
        "type": "IPApplicantCredential",
        "subject": applicant.did.did,
        "claims": json.dumps(applicant_claims(applicant)),
        "format": "ldp",
        "expiration": "",
        "idempotency_key": key or form_key(admin_client.get(ADD)),
        **overrides,
    }
    return admin_client.post(ADD, data)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


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


def test_submitting_the_same_form_twice_issues_one_credential(admin_client, office, applicant):
    key = form_key(admin_client.get(ADD))
    first = post_issue(admin_client, office, applicant, key=key)
    assert first.status_code == 302
    issued = IssuedCredential.objects.get(issuer=office)
    # A double click, or the browser sending the form again: the same rendering, the same key.
    again = post_issue(admin_client, office, applicant, key=key)
    assert IssuedCredential.objects.filter(issuer=office).count() == 1
    assert again.status_code == 302
    assert again["Location"] == f"/admin/credentials/issuedcredential/{issued.pk}/change/"
    assert any("already submitted" in t and issued.credential_id in t for t in texts(again))
    assert AuditEvent.objects.filter(action="credential.issue", actor_label="root").count() == 1


def test_a_mandate_submitted_twice_is_issued_once(admin_client, applicant, agent):
    key = form_key(admin_client.get(ADD))
    for _ in range(2):
        response = post_issue(
            admin_client,
            applicant,
            applicant,
            key=key,
            type="IPMandateCredential",
            claims=json.dumps(mandate_claims(agent)),
        )
        assert response.status_code == 302, response.content[:2000]
    assert IssuedCredential.objects.filter(credential_type="IPMandateCredential").count() == 1


def test_each_rendering_of_the_form_issues_anew(admin_client, office, applicant):
    keys = {form_key(admin_client.get(ADD)) for _ in range(2)}
    assert len(keys) == 2
    for key in keys:
        assert post_issue(admin_client, office, applicant, key=key).status_code == 302
    assert IssuedCredential.objects.filter(issuer=office).count() == 2


def test_a_submitted_form_changed_and_sent_again_asks_before_issuing_another(
    admin_client, office, applicant
):
    key = form_key(admin_client.get(ADD))
    post_issue(admin_client, office, applicant, key=key)
    issued = IssuedCredential.objects.get(issuer=office)
    claims = {**applicant_claims(applicant), "name": "Example Holdings Ltd"}
    changed = post_issue(admin_client, office, applicant, key=key, claims=json.dumps(claims))
    assert changed.status_code == 200
    assert "already submitted" in changed.content.decode()
    assert issued.credential_id in changed.content.decode()
    assert IssuedCredential.objects.filter(issuer=office).count() == 1
    # The form comes back with a new key: sending it again is a deliberate second credential.
    new_key = form_key(changed)
    assert new_key != key
    resent = post_issue(admin_client, office, applicant, key=new_key, claims=json.dumps(claims))
    assert resent.status_code == 302
    assert IssuedCredential.objects.filter(issuer=office).count() == 2


def test_a_form_without_its_key_issues_nothing_and_comes_back_with_one(
    admin_client, office, applicant
):
    response = post_issue(admin_client, office, applicant, key=" ")
    assert response.status_code == 200
    assert "no valid one-time key" in response.content.decode()
    assert not IssuedCredential.objects.filter(issuer=office).exists()
    assert post_issue(admin_client, office, applicant, key=form_key(response)).status_code == 302
    assert IssuedCredential.objects.filter(issuer=office).count() == 1
