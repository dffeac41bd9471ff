"""Administration screens: registry administrators manage accreditations; office
administrators manage their own office's members and API keys (shown once) and nothing of
another office; the audit log is scoped the same way."""

import html
import re

import pytest
from django.urls import reverse

from registry.api.models import ApiKey
from registry.audit.models import AuditEvent
from registry.trust.models import IssuerAccreditation, OfficeMembership

from . import factories

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
    page = client.get(reverse("portal:admin-home")).content.decode()
    assert 'id="accreditations"' in page
    response = client.post(
        reverse("portal:admin-accreditation-grant"),
        {"office": "JP", "credential_types": ["IPRepresentativeCredential"]},
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
        {"office": "ZZ", "credential_types": []},
        follow=True,
    )
    assert response.status_code == 200
    assert "No office matches" in response.content.decode()


def test_office_admin_keys_shown_once_and_work(client, ep, ep_admin):
    client.force_login(ep_admin)
    url = reverse("portal:admin-office", args=["EP"])
    response = client.post(
        url, {"form": "key", "key-name": "backoffice", "key-scopes": ["verify", "issue"]}
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
