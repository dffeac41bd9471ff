import datetime as dt
import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from registry.credentials.models import IssuedCredential
from registry.portal.models import MandateGrant

from .pages import form_key, form_key_in, post_at_once

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
        "form_key": form_key(client, reverse("portal:mandate-new")),
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


def _mandate_form(client, applicant, agent_, key, **extra) -> dict:
    client.force_login(applicant.user)
    return {
        "agent": agent_.display_name,
        "office": "EP",
        "right_type": "patent",
        "application_numbers": "EP2023000123",
        "valid_until": _future(),
        "form_key": key,
        **extra,
    }


def test_the_same_mandate_form_sent_twice_grants_and_signs_once(
    client, alice, carol, ep, django_capture_on_commit_callbacks
):
    from registry.audit.models import AuditEvent

    client.force_login(alice.user)
    url = reverse("portal:mandate-new")
    data = _mandate_form(client, alice, carol, form_key(client, url))
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
    assert first.status_code == 302
    grant = MandateGrant.objects.get()
    # A double click, or the browser sending the page again: the same rendering, the same key.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, data, follow=True)
    assert MandateGrant.objects.count() == 1
    assert IssuedCredential.objects.filter(credential_type="IPMandateCredential").count() == 1
    assert AuditEvent.objects.filter(action="portal.mandate.grant").count() == 1
    assert again.redirect_chain[-1][0] == reverse("portal:mandates")
    page = again.content.decode()
    assert (
        "This form was already sent: the mandate to Carol Patent Attorneys was granted once."
        in page
    )
    assert f'href="{reverse("portal:credential-detail", args=[grant.credential_id])}' in page


def test_each_rendering_of_the_mandate_form_grants_anew(
    client, alice, carol, ep, django_capture_on_commit_callbacks
):
    client.force_login(alice.user)
    url = reverse("portal:mandate-new")
    keys = {form_key(client, url) for _ in range(2)}
    assert len(keys) == 2
    for key in keys:
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, _mandate_form(client, alice, carol, key)).status_code == 302
    assert MandateGrant.objects.count() == 2
    assert IssuedCredential.objects.filter(credential_type="IPMandateCredential").count() == 2


@pytest.mark.parametrize("key", ["", "portal-forged", "altered"])
def test_a_mandate_form_without_a_valid_key_signs_nothing_and_comes_back_with_one(
    client, alice, carol, ep, django_capture_on_commit_callbacks, key
):
    client.force_login(alice.user)
    url = reverse("portal:mandate-new")
    if key == "altered":  # a real key with its random part changed
        real = form_key(client, url)
        key = real.replace("portal-", "portal-x", 1)
    response = client.post(url, _mandate_form(client, alice, carol, key))
    assert response.status_code == 200
    assert "This form has expired or was altered: nothing was done." in response.content.decode()
    assert not MandateGrant.objects.exists()
    assert not IssuedCredential.objects.filter(credential_type="IPMandateCredential").exists()
    new_key = form_key_in(response)
    assert new_key != key
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, _mandate_form(client, alice, carol, new_key)).status_code == 302
    assert MandateGrant.objects.count() == 1


def test_a_sent_mandate_form_changed_and_sent_again_asks_before_granting_another(
    client, alice, carol, ep, django_capture_on_commit_callbacks
):
    client.force_login(alice.user)
    url = reverse("portal:mandate-new")
    key = form_key(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, _mandate_form(client, alice, carol, key))
    changed = client.post(url, _mandate_form(client, alice, carol, key, right_type="trademark"))
    assert changed.status_code == 200
    assert "This form was already sent and granted a mandate" in changed.content.decode()
    assert MandateGrant.objects.count() == 1
    # The form comes back with a new key: sending it again is a deliberate second mandate.
    new_key = form_key_in(changed)
    assert new_key != key
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(
            url, _mandate_form(client, alice, carol, new_key, right_type="trademark")
        )
    assert resent.status_code == 302
    assert sorted(MandateGrant.objects.values_list("right_type", flat=True)) == [
        "patent",
        "trademark",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
def test_a_double_click_on_the_mandate_form_grants_once(client, alice, carol, ep):
    client.force_login(alice.user)
    url = reverse("portal:mandate-new")
    data = _mandate_form(client, alice, carol, form_key(client, url))
    responses = post_at_once(alice.user, url, data, times=4)
    assert [r.status_code for r in responses] == [302] * 4
    assert MandateGrant.objects.count() == 1
    assert IssuedCredential.objects.filter(credential_type="IPMandateCredential").count() == 1
