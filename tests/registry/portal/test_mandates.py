import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.credentials.models import IssuedCredential
from registry.portal.models import MandateGrant

pytestmark = pytest.mark.django_db


def _future(days=90) -> str:
    return (timezone.now().date() + dt.timedelta(days=days)).isoformat()


def _grant(client, applicant, agent_, capture, **extra):
    client.force_login(applicant.user)
    data = {
        "agent": agent_.display_name,
        "office": "EP",
        "right_type": "patent",
        "application_numbers": "EP2023000123, ep2024000456\nEP2023000123",
        "valid_until": _future(),
        **extra,
    }
    with capture(execute=True):
        return client.post(reverse("portal:mandate-new"), data)


def _verify(client, document) -> dict:
    response = client.post(
        reverse("credentials-verify"),
        data=json.dumps({"verifiableCredential": document}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def test_grant_is_seen_by_the_agent_verifies_and_revocation_fails_it(
    client, alice, carol, ep, django_capture_on_commit_callbacks
):
    response = _grant(client, alice, carol, django_capture_on_commit_callbacks)
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = MandateGrant.objects.get()
    assert grant.application_numbers == ["EP2023000123", "EP2024000456"]
    issued = IssuedCredential.objects.get(credential_id=grant.credential_id)
    assert issued.credential_type == "IPMandateCredential"
    assert issued.issuer == alice
    subject = issued.document["credentialSubject"]
    assert subject["agent"] == carol.did.did
    assert subject["office"] == "EP"
    assert subject["applicationNumbers"] == ["EP2023000123", "EP2024000456"]
    assert _verify(client, issued.document)["verified"] is True

    client.force_login(carol.user)
    page = client.get(reverse("portal:mandates")).content.decode()
    assert "Alice Inventions SARL" in page
    assert 'id="mandates-held"' in page
    # The agent can open the mandate credential; nobody else can.
    assert (
        client.get(reverse("portal:credential-detail", args=[issued.credential_id])).status_code
        == 200
    )

    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:mandate-revoke", args=[grant.pk]))
    grant.refresh_from_db()
    assert grant.is_revoked
    result = _verify(client, issued.document)
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False


def test_agent_found_by_did(client, alice, carol, ep, django_capture_on_commit_callbacks):
    response = _grant(client, alice, carol, django_capture_on_commit_callbacks, agent=carol.did.did)
    assert response.status_code == 302
    assert MandateGrant.objects.get().agent == carol


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"agent": "Nobody Known"}, "agent"),
        ({"application_numbers": "not a number"}, "application_numbers"),
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"right_type": "copyright"}, "right_type"),
        ({"office": "ZZ"}, "office"),
    ],
)
def test_grant_validation(
    client, alice, carol, ep, django_capture_on_commit_callbacks, change, field
):
    response = _grant(client, alice, carol, django_capture_on_commit_callbacks, **change)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not MandateGrant.objects.exists()


def test_an_applicant_cannot_be_mandated(
    client, alice, bob, ep, django_capture_on_commit_callbacks
):
    response = _grant(client, alice, bob, django_capture_on_commit_callbacks, agent=bob.did.did)
    assert response.status_code == 200
    assert "agent" in response.context["form"].errors


def test_agents_cannot_grant_and_others_cannot_revoke(
    client, alice, bob, carol, ep, django_capture_on_commit_callbacks
):
    client.force_login(carol.user)
    assert client.get(reverse("portal:mandate-new")).status_code == 404
    _grant(client, alice, carol, django_capture_on_commit_callbacks)
    grant = MandateGrant.objects.get()
    client.force_login(bob.user)
    client.post(reverse("portal:mandate-revoke", args=[grant.pk]))
    grant.refresh_from_db()
    assert not grant.is_revoked
    assert "Carol" not in client.get(reverse("portal:mandates")).content.decode()
