"""Administration screens: registry administrators manage accreditations; office
administrators manage their own office's members and API keys (shown once) and nothing of
another office; the audit log is scoped the same way."""

import html
import re

import pytest
from django.db import connection
from django.urls import reverse

from registry.api.models import ApiKey
from registry.audit.models import AuditEvent
from registry.credentials.models import IssuedCredential
from registry.trust.models import IssuerAccreditation, OfficeMembership

from . import factories
from .pages import form_key, form_key_in, post_at_once

ACCREDITATION_CREDENTIAL = "IPOfficeAccreditationCredential"

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return factories.user("root@example.org", is_superuser=True, is_staff=True)


@pytest.fixture
def ep_admin(ep):
    return factories.officer(ep, email="admin@ep.example.org", role=OfficeMembership.Role.ADMIN)


def test_registry_admin_grants_suspends_and_withdraws(client, root, ep):
    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    client.force_login(root)
    page = client.get(reverse("portal:admin-home"))
    assert 'id="accreditations"' in page.content.decode()
    response = client.post(
        reverse("portal:admin-accreditation-grant"),
        {
            "office": "JP",
            "credential_types": ["IPRepresentativeCredential"],
            "form_key": form_key_in(page),
        },
    )
    assert response.status_code == 302
    acc = IssuerAccreditation.objects.get(office=jp)
    assert acc.credential_types == ["IPRepresentativeCredential"]
    client.post(
        reverse("portal:admin-accreditation-change", args=[acc.pk, "suspend"]), {"reason": "audit"}
    )
    acc.refresh_from_db()
    assert acc.suspended_at is not None
    client.post(reverse("portal:admin-accreditation-change", args=[acc.pk, "reinstate"]))
    acc.refresh_from_db()
    assert acc.suspended_at is None
    client.post(
        reverse("portal:admin-accreditation-change", args=[acc.pk, "withdraw"]),
        {"reason": "closed"},
    )
    acc.refresh_from_db()
    assert acc.withdrawn_at is not None
    assert AuditEvent.objects.filter(action__startswith="accreditation.").count() >= 4


def test_grant_form_errors_are_shown(client, root, ep):
    client.force_login(root)
    response = client.post(
        reverse("portal:admin-accreditation-grant"),
        {
            "office": "ZZ",
            "credential_types": [],
            "form_key": form_key(client, reverse("portal:admin-home")),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "No office matches" in response.content.decode()


def test_office_admin_keys_shown_once_and_work(client, ep, ep_admin):
    client.force_login(ep_admin)
    url = reverse("portal:admin-office", args=["EP"])
    response = client.post(
        url,
        {
            "form": "key",
            "key-name": "backoffice",
            "key-scopes": ["verify", "issue"],
            "key-form_key": form_key(client, url, "key-form_key"),
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'id="new-api-key"[^>]*>([^<]+)<', response.content.decode()).group(1)
    api_key = ApiKey.objects.get(office=ep)
    assert sorted(api_key.scopes) == ["issue", "verify"]
    assert key not in api_key.secret_hash
    assert key not in client.get(url).content.decode()  # never shown again
    # The key authenticates (a credential lookup that does not exist: 404, not 401).
    missing = "urn:uuid:00000000-0000-4000-8000-000000000000"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(f"/credentials/{missing}", **headers).status_code == 404
    client.post(reverse("portal:admin-key-change", args=["EP", api_key.pk, "revoke"]))
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get(f"/credentials/{missing}", **headers).status_code == 401


def _messages(response) -> str:
    return html.unescape(response.content.decode())


def _grant_form(client, **values) -> dict:
    return {
        "office": "JP",
        "credential_types": ["IPRepresentativeCredential"],
        "form_key": form_key(client, reverse("portal:admin-home")),
        **values,
    }


def test_a_grant_form_sent_twice_grants_once(client, root, ep):
    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    client.force_login(root)
    url = reverse("portal:admin-accreditation-grant")
    data = _grant_form(client)
    first = client.post(url, data, follow=True)
    assert "Accreditation granted." in _messages(first)
    again = client.post(url, data, follow=True)
    assert again.status_code == 200
    assert (
        "This form was already sent: the accreditation of Japan Patent Office was granted once."
        in _messages(again)
    )
    assert IssuerAccreditation.objects.filter(office=jp).count() == 1
    assert (
        IssuedCredential.objects.filter(
            credential_type=ACCREDITATION_CREDENTIAL, subject_did=jp.did.did
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(action="accreditation.grant", office="JP").count() == 1
    # The same key with other values grants nothing either.
    other = client.post(url, {**data, "credential_types": ["IPApplicantCredential"]}, follow=True)
    assert "already sent and granted an accreditation; nothing more was granted" in _messages(other)
    assert IssuerAccreditation.objects.filter(office=jp).count() == 1
    # A new rendering of the form is a new grant.
    client.post(url, _grant_form(client, credential_types=["IPApplicantCredential"]))
    assert sorted(a.credential_types[0] for a in IssuerAccreditation.objects.filter(office=jp)) == [
        "IPApplicantCredential",
        "IPRepresentativeCredential",
    ]


def test_a_grant_form_without_its_key_or_with_an_altered_one_grants_nothing(client, root, ep):
    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    client.force_login(root)
    url = reverse("portal:admin-accreditation-grant")
    data = _grant_form(client)
    for key in ("", data["form_key"][:-2] + "xx", "made-up"):
        response = client.post(url, {**data, "form_key": key}, follow=True)
        page = _messages(response)
        assert "This form has expired or was altered: nothing was done." in page
        assert ">invalid<" not in page
        assert ">This field is required.<" not in page
    assert not IssuerAccreditation.objects.filter(office=jp).exists()


def test_the_grant_service_replays_a_key_and_still_grants_without_one(root, ep):
    from registry.trust.services import (
        AccreditationAlreadyGranted,
        GrantFormKeyReused,
        accreditation_grant,
    )

    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    types = ["IPApplicantCredential"]
    first = accreditation_grant(office=jp, credential_types=types, actor=root, idempotency_key="k")
    with pytest.raises(AccreditationAlreadyGranted) as replay:
        accreditation_grant(office=jp, credential_types=types, actor=root, idempotency_key="k")
    assert replay.value.accreditation == first
    with pytest.raises(GrantFormKeyReused):
        accreditation_grant(office=ep, credential_types=types, actor=root, idempotency_key="k")
    # Callers without a key (admin, commands, demo data) grant each time.
    accreditation_grant(office=jp, credential_types=types, actor=root)
    accreditation_grant(office=jp, credential_types=types, actor=root)
    assert IssuerAccreditation.objects.filter(office=jp).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
def test_a_double_click_on_the_grant_form_grants_once(client, root, ep):
    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    client.force_login(root)
    data = _grant_form(client)
    responses = post_at_once(root, reverse("portal:admin-accreditation-grant"), data, times=4)
    assert [r.status_code for r in responses] == [302] * 4
    # One granted; the others waited for it and say so (not "already sent with other values").
    said = sorted(str(m) for r in responses for m in r.wsgi_request._messages)
    assert (
        said
        == ["Accreditation granted."]
        + ["This form was already sent: the accreditation of Japan Patent Office was granted once."]
        * 3
    )
    assert IssuerAccreditation.objects.filter(office=jp).count() == 1
    assert (
        IssuedCredential.objects.filter(
            credential_type=ACCREDITATION_CREDENTIAL, subject_did=jp.did.did
        ).count()
        == 1
    )


def _key_form(client, **values) -> dict:
    url = reverse("portal:admin-office", args=["EP"])
    return {
        "form": "key",
        "key-name": "backoffice",
        "key-scopes": ["verify"],
        "key-form_key": form_key(client, url, "key-form_key"),
        **values,
    }


def test_an_api_key_form_sent_twice_creates_one_key(client, ep, ep_admin):
    client.force_login(ep_admin)
    url = reverse("portal:admin-office", args=["EP"])
    data = _key_form(client)
    first = client.post(url, data)
    assert 'id="new-api-key"' in first.content.decode()
    api_key = ApiKey.objects.get(office=ep)
    again = client.post(url, data)
    assert again.status_code == 200
    page = _messages(again)
    assert 'id="new-api-key"' not in page
    assert (
        f"This form already created API key {api_key.prefix}; its secret was shown in the "
        "response to that first submission only. If it was not copied, revoke that key and "
        "create a new one."
    ) in page
    assert ApiKey.objects.filter(office=ep).count() == 1
    assert AuditEvent.objects.filter(action="api_key.create", office="EP").count() == 1
    # The same key with other values creates nothing, and the form comes back with a new key.
    other = client.post(url, {**data, "key-scopes": ["verify", "issue"]})
    assert "already sent and created an API key; nothing more was created" in _messages(other)
    assert ApiKey.objects.filter(office=ep).count() == 1
    renewed = form_key_in(other, "key-form_key")
    assert renewed != data["key-form_key"]
    fresh = client.post(url, {**data, "key-scopes": ["verify", "issue"], "key-form_key": renewed})
    assert 'id="new-api-key"' in fresh.content.decode()
    assert ApiKey.objects.filter(office=ep).count() == 2
    # So does a new rendering of the form.
    client.post(url, _key_form(client))
    assert ApiKey.objects.filter(office=ep).count() == 3


def test_the_replay_messages_are_in_french(client, root, ep, ep_admin):
    factories.office("JP", "Japan Patent Office", accredited=False)
    client.force_login(root)
    client.post(reverse("portal:set_language"), {"language": "fr", "next": "/portal/admin/"})
    grant = _grant_form(client)
    client.post(reverse("portal:admin-accreditation-grant"), grant)
    again = client.post(reverse("portal:admin-accreditation-grant"), grant, follow=True)
    assert "l’accréditation de Japan Patent Office a été accordée une seule fois" in _messages(
        again
    )
    url = reverse("portal:admin-office", args=["EP"])
    data = _key_form(client)
    client.post(url, data)
    prefix = ApiKey.objects.get(office=ep).prefix
    assert f"Ce formulaire a déjà créé la clé d’API {prefix} ;" in _messages(client.post(url, data))


def test_an_api_key_form_without_its_key_or_with_an_altered_one_creates_nothing(
    client, ep, ep_admin
):
    client.force_login(ep_admin)
    url = reverse("portal:admin-office", args=["EP"])
    data = _key_form(client)
    for key in ("", data["key-form_key"][:-2] + "xx", "made-up"):
        response = client.post(url, {**data, "key-form_key": key})
        assert response.status_code == 200
        assert "This form has expired or was altered: nothing was done." in _messages(response)
        assert 'id="new-api-key"' not in response.content.decode()
    assert not ApiKey.objects.filter(office=ep).exists()


def test_the_api_key_service_replays_a_key_and_still_creates_without_one(ep, us):
    from registry.api.services import ApiKeyAlreadyCreated, ApiKeyFormKeyReused, api_key_create

    first, _secret = api_key_create(office=ep, scopes=["verify"], idempotency_key="k")
    with pytest.raises(ApiKeyAlreadyCreated) as replay:
        api_key_create(office=ep, scopes=["verify"], idempotency_key="k")
    assert replay.value.api_key == first
    with pytest.raises(ApiKeyFormKeyReused):
        api_key_create(office=us, scopes=["verify"], idempotency_key="k")
    api_key_create(office=ep, scopes=["verify"])
    api_key_create(office=ep, scopes=["verify"])
    assert ApiKey.objects.filter(office=ep).count() == 3
    assert not ApiKey.objects.filter(office=us).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
def test_a_double_click_on_the_api_key_form_creates_one_key(client, ep, ep_admin):
    client.force_login(ep_admin)
    data = _key_form(client)
    responses = post_at_once(ep_admin, reverse("portal:admin-office", args=["EP"]), data, times=4)
    assert [r.status_code for r in responses] == [200] * 4
    assert sum('id="new-api-key"' in r.content.decode() for r in responses) == 1
    prefix = ApiKey.objects.get(office=ep).prefix
    assert (
        sum(f"This form already created API key {prefix};" in r.content.decode() for r in responses)
        == 3
    )
    assert ApiKey.objects.filter(office=ep).count() == 1


def test_office_admin_rotates_a_key(client, ep, ep_admin):
    from registry.api.services import api_key_create

    api_key, _ = api_key_create(office=ep, scopes=["verify"])
    client.force_login(ep_admin)
    response = client.post(reverse("portal:admin-key-change", args=["EP", api_key.pk, "rotate"]))
    assert response.status_code == 200
    assert 'id="new-api-key"' in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert ApiKey.objects.filter(office=ep, revoked_at__isnull=True).count() == 1


def test_office_admin_adds_and_removes_officers(client, ep, ep_admin, alice):
    newcomer = factories.user("newcomer@ep.example.org")
    client.force_login(ep_admin)
    url = reverse("portal:admin-office", args=["EP"])
    response = client.post(
        url, {"form": "member", "member-email": "NEWCOMER@ep.example.org", "member-role": "officer"}
    )
    assert response.status_code == 302
    assert OfficeMembership.objects.filter(user=newcomer, office=ep, role="officer").exists()
    # Only registry administrators appoint office administrators.
    other = factories.user("other@ep.example.org")
    response = client.post(
        url, {"form": "member", "member-email": other.email, "member-role": "admin"}
    )
    assert response.status_code == 200
    assert not OfficeMembership.objects.filter(user=other).exists()
    client.post(reverse("portal:admin-member-remove", args=["EP", newcomer.pk]))
    assert not OfficeMembership.objects.filter(user=newcomer).exists()
    # Unknown address.
    response = client.post(
        url, {"form": "member", "member-email": "ghost@example.org", "member-role": "officer"}
    )
    assert "email" in response.context["member_form"].errors


def test_nobody_administers_another_office(client, ep, us, ep_admin, ep_officer, alice):
    from registry.api.services import api_key_create

    us_key, _ = api_key_create(office=us, scopes=["verify"])
    client.force_login(ep_admin)
    assert client.get(reverse("portal:admin-office", args=["US"])).status_code == 404
    assert (
        client.post(
            reverse("portal:admin-key-change", args=["US", us_key.pk, "revoke"])
        ).status_code
        == 404
    )
    # Through its own office's URL, another office's key is not found either.
    assert (
        client.post(
            reverse("portal:admin-key-change", args=["EP", us_key.pk, "revoke"])
        ).status_code
        == 404
    )
    us_key.refresh_from_db()
    assert us_key.revoked_at is None
    assert (
        client.post(reverse("portal:admin-accreditation-grant"), {"office": "EP"}).status_code
        == 404
    )
    for user in (ep_officer, alice.user):
        client.force_login(user)
        assert client.get(reverse("portal:admin-office", args=["EP"])).status_code == 404
        assert client.get(reverse("portal:admin-audit")).status_code == 404
        assert client.get(reverse("portal:admin-home")).status_code == 404


def test_audit_log_is_scoped(client, root, ep, us, ep_admin):
    from registry.api.services import api_key_create

    api_key_create(office=ep, scopes=["verify"], name="ep-key")
    api_key_create(office=us, scopes=["verify"], name="us-key")
    client.force_login(root)
    page = client.get(reverse("portal:admin-audit"), {"action": "api_key."}).content.decode()
    assert page.count("api_key.create") == 2
    client.force_login(ep_admin)
    page = client.get(reverse("portal:admin-audit")).content.decode()
    assert page.count("api_key.create") == 1
    assert ">EP<" in page
    assert ">US<" not in page


def _health_table(page: str) -> str:
    match = re.search(r'<table id="health">(.*?)</table>', page, re.S)
    assert match, "no health table"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))))


def test_registry_admins_see_the_service_health_and_a_publishing_lag(client, root, ep, settings):
    from registry.status.services import credential_status_change, status_entry_allocate

    client.force_login(root)
    table = _health_table(client.get(reverse("portal:admin-home")).content.decode())
    assert "Database ok answers" in table
    assert "Shared cache (Redis) ok this process's memory only" in table  # tests: no Redis
    assert "Status list publishing ok no change waiting" in table

    # a revocation no worker published (on-commit work does not run in a test transaction)
    status_entry_allocate(issuer_did=ep.did.did, credential_id="urn:uuid:lag-1")
    credential_status_change(issuer=ep, credential_id="urn:uuid:lag-1", action="revoke")
    settings.HEALTH_PUBLISH_LAG_SECONDS = 0
    table = _health_table(client.get(reverse("portal:admin-home")).content.decode())
    assert "Status list publishing degraded 1 change waiting, for" in table
    assert "is a Celery worker running?" in table

    client.post(reverse("portal:set_language"), {"language": "fr", "next": "/portal/admin/"})
    table = _health_table(client.get(reverse("portal:admin-home")).content.decode())
    assert "Publication des listes de statut dégradé 1 changement en attente depuis" in table


def test_registry_admins_see_when_the_signing_keys_cannot_be_read(client, root, ep, settings):
    from identity.services import registry_did_ensure

    registry_did_ensure()
    client.force_login(root)
    table = _health_table(client.get(reverse("portal:admin-home")).content.decode())
    assert "Signing keys ok readable" in table
    settings.REGISTRY_MASTER_KEYS = "other-1:b3RoZXItbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE"
    table = _health_table(client.get(reverse("portal:admin-home")).content.decode())
    assert "Signing keys degraded cannot be decrypted: set REGISTRY_MASTER_KEYS" in table


def test_office_admins_do_not_see_the_service_health(client, ep_admin):
    client.force_login(ep_admin)
    page = client.get(reverse("portal:admin-home")).content.decode()
    assert 'id="health"' not in page
