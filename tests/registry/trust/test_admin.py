"""Admin screens go through the services: accreditations, memberships, API keys, signing keys."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from registry.api.authentication import ApiKeyAuthentication
from registry.api.models import ApiKey
from registry.audit.models import AuditEvent
from registry.trust.models import IssuerAccreditation, OfficeMembership
from registry.trust.services import accreditation_grant, office_member_add

from .factories import UserFactory, member, office, participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def ep():
    return office("EP")


@pytest.fixture
def root_admin():
    user = UserFactory(is_superuser=True, is_staff=True)
    user.save()
    return user


@pytest.fixture
def ep_admin(ep):
    user = UserFactory()
    user.save()
    office_member_add(actor=None, office=ep, user=user, role="admin")
    user.refresh_from_db()
    assert user.is_staff  # appointed office administrators can use the admin
    return user


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_registry_admin_grants_through_the_admin(ep, root_admin):
    response = login(root_admin).post(
        "/admin/trust/issueraccreditation/add/",
        {
            "office": ep.pk,
            "credential_types": "IPApplicantCredential, IPRepresentativeCredential",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    acc = IssuerAccreditation.objects.get()
    assert acc.credential_types == ["IPApplicantCredential", "IPRepresentativeCredential"]
    assert acc.granted_by == root_admin
    assert AuditEvent.objects.filter(action="accreditation.grant", actor_label=root_admin.username)


def test_office_admin_cannot_grant_root_accreditations_in_the_admin(ep, ep_admin):
    response = login(ep_admin).post(
        "/admin/trust/issueraccreditation/add/",
        {"office": ep.pk, "credential_types": "IPApplicantCredential"},
        follow=True,
    )
    assert not IssuerAccreditation.objects.exists()
    assert any("registry administrator" in t for t in texts(response))


def test_admin_actions_suspend_and_withdraw(ep, root_admin):
    acc = accreditation_grant(office=ep, credential_types=["IPApplicantCredential"])
    client = login(root_admin)
    client.post(
        "/admin/trust/issueraccreditation/",
        {"action": "suspend", "_selected_action": [acc.pk]},
    )
    acc.refresh_from_db()
    assert acc.suspended_at is not None
    client.post(
        "/admin/trust/issueraccreditation/", {"action": "withdraw", "_selected_action": [acc.pk]}
    )
    acc.refresh_from_db()
    assert acc.withdrawn_at is not None
    assert client.get(f"/admin/trust/issueraccreditation/{acc.pk}/change/").status_code == 200


def test_office_admin_creates_a_key_shown_once(ep, ep_admin):
    response = login(ep_admin).post(
        "/admin/api/apikey/add/", {"office": ep.pk, "name": "ci", "scopes": ["issue", "verify"]}
    )
    # Shown on the page that answers the form, not in a message: a message would wait for the
    # next page in a cookie (or the session), the key in it.
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r"(ipr_[0-9a-f]{12}_[A-Za-z0-9_-]+)", response.content.decode()).group(1)
    assert not [t for t in texts(response) if key in t]
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["issue", "verify"]
    assert ApiKeyAuthentication().authenticate_key(key)[1] == api_key
    page = login(ep_admin).get(f"/admin/api/apikey/{api_key.pk}/change/").content.decode()
    assert key not in page
    assert api_key.secret_hash not in page


def test_office_admin_sees_only_its_own_keys(ep, ep_admin):
    from registry.api.services import api_key_create

    jp = office("JP")
    mine, _ = api_key_create(office=ep, scopes="issue")
    theirs, _ = api_key_create(office=jp, scopes="issue")
    page = login(ep_admin).get("/admin/api/apikey/").content.decode()
    assert mine.prefix in page
    assert theirs.prefix not in page
    assert login(ep_admin).get(f"/admin/api/apikey/{theirs.pk}/change/").status_code == 302


def test_members_are_added_through_the_service(ep, ep_admin):
    newcomer = UserFactory()
    newcomer.save()
    login(ep_admin).post(
        "/admin/trust/officemembership/add/",
        {"user": newcomer.username, "office": ep.pk, "role": "officer"},
    )
    assert OfficeMembership.objects.filter(user=newcomer, office=ep, role="officer").exists()
    other = UserFactory()
    other.save()
    response = login(ep_admin).post(
        "/admin/trust/officemembership/add/",
        {"user": other.username, "office": ep.pk, "role": "admin"},
        follow=True,
    )
    assert not OfficeMembership.objects.filter(user=other).exists()
    assert any("registry administrator" in t for t in texts(response))


def test_signing_key_screen_rotates_and_marks_compromised(ep, root_admin):
    client = login(root_admin)
    client.post(
        "/admin/trust/issuersigningkeys/",
        {"action": "rotate_signing_key", "_selected_action": [ep.pk]},
    )
    assert ep.did.keys.count() == 2
    first = ep.did.keys.get(number=1)
    page = client.post(
        "/admin/trust/issuersigningkeys/",
        {"action": "mark_key_compromised", "_selected_action": [ep.pk]},
    )
    assert page.status_code == 200
    assert first.did_key[:20] in page.content.decode()
    since = timezone.now().replace(microsecond=0)
    client.post(
        "/admin/trust/issuersigningkeys/",
        {
            "action": "mark_key_compromised",
            "_selected_action": [ep.pk],
            "confirm": "1",
            "did_key": first.did_key,
            "since": since.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    first.refresh_from_db()
    assert first.compromised_at == since
    assert ep.did.keys.count() == 2  # a retired key is not rotated again


def test_rotating_in_the_admin_shows_the_new_key_on_the_answer_only(ep, ep_admin):
    from registry.api.services import api_key_create

    old, _ = api_key_create(office=ep, scopes="issue")
    response = login(ep_admin).post(
        "/admin/api/apikey/", {"action": "rotate", "_selected_action": [old.pk]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = ApiKey.objects.get(rotated_from=old)
    page = response.content.decode()
    key = re.search(r"(ipr_[0-9a-f]{12}_[A-Za-z0-9_-]+)", page).group(1)
    assert ApiKeyAuthentication().authenticate_key(key)[1] == new
    assert old.prefix in page
    assert not [t for t in texts(response) if key in t]


def test_office_admin_screens_name_no_other_participant_or_user(ep, ep_admin):
    # The "office" filters listed every participant (applicants' names are personal data) and
    # the membership form offered every account of the registry to pick from.
    from registry.api.services import api_key_create

    jp = office("JP", name="Japan Patent Office")
    participant(kind="applicant", name="Jane Private Applicant")
    stranger = UserFactory(username="stranger.elsewhere")
    stranger.save()
    member(jp, user=UserFactory(username="jp.officer"))
    api_key_create(office=ep, scopes="issue")
    client = login(ep_admin)
    for path in (
        "/admin/api/apikey/",
        "/admin/api/apikey/add/",
        "/admin/trust/officemembership/",
        "/admin/trust/officemembership/add/",
        "/admin/trust/issuersigningkeys/",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        body = page.content.decode()
        for name in ("Japan Patent Office", "Jane Private Applicant", "stranger.elsewhere"):
            assert name not in body, (path, name)
        assert "jp.officer" not in body, path


def test_membership_form_takes_a_username(ep, ep_admin):
    client = login(ep_admin)
    response = client.post(
        "/admin/trust/officemembership/add/",
        {"user": "nobody-by-that-name", "office": ep.pk, "role": "officer"},
    )
    assert response.status_code == 200
    assert "No account has this username." in response.content.decode()
    membership = OfficeMembership.objects.get(user=ep_admin)
    page = client.get(f"/admin/trust/officemembership/{membership.pk}/change/")
    assert page.status_code == 200
    assert ep_admin.username in page.content.decode()


def test_rotating_a_deactivated_office_key_is_a_message_not_a_500(ep, root_admin):
    from registry.participants.services import participant_deactivate

    participant_deactivate(participant=ep, actor=None)
    response = login(root_admin).post(
        "/admin/trust/issuersigningkeys/",
        {"action": "rotate_signing_key", "_selected_action": [ep.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert any("deactivated" in t for t in texts(response))
    assert ep.did.keys.count() == 1


def test_the_changelist_cannot_filter_on_a_key_hash(ep, ep_admin):
    # Django lets any local field be filtered from the query string: the changelist answered
    # "yes" or "no" to ?secret_hash__startswith=..., enough to read a key's hash character by
    # character.
    from registry.api.services import api_key_create

    api_key, _ = api_key_create(office=ep, scopes="issue")
    client = login(ep_admin)
    for value in (api_key.secret_hash[:1], api_key.secret_hash):
        response = client.get("/admin/api/apikey/", {"secret_hash__startswith": value})
        assert response.status_code == 400
        assert api_key.prefix not in response.content.decode()
    response = client.get("/admin/api/apikey/", {"secret_hash": api_key.secret_hash})
    assert response.status_code == 400


def test_revoking_in_the_admin_names_the_keys_revoked(ep, ep_admin):
    from registry.api.services import api_key_create

    key, _ = api_key_create(office=ep, scopes="issue")
    response = login(ep_admin).post(
        "/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert f"Revoked: {key.prefix}." in texts(response)
    key.refresh_from_db()
    assert key.revoked_at is not None
