"""Nobody sees or changes what is not theirs: applicants, agents, officers of two offices,
anonymous visitors and registry administrators against every portal page."""

import pytest
from django.urls import reverse

from registry.credentials.models import IssuedCredential
from registry.portal.models import CredentialRequest

from . import factories
from .pages import form_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(client, alice, ep, ep_officer, django_capture_on_commit_callbacks):
    client.force_login(alice.user)
    client.post(
        reverse("portal:request-new"),
        {
            "office": "EP",
            "name": "Alice",
            "person_type": "legal",
            "country": "FR",
            "address": "Paris",
            "form_key": form_key(client, reverse("portal:request-new")),
        },
    )
    req = CredentialRequest.objects.get()
    client.force_login(ep_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:office-request", args=[req.pk]), {"action": "approve"})
    req.refresh_from_db()
    assert req.state == "approved"
    client.logout()
    return req


def test_anonymous_is_sent_to_login(client, approved):
    for url in (
        reverse("portal:dashboard"),
        reverse("portal:request-new"),
        reverse("portal:request-detail", args=[approved.pk]),
        reverse("portal:credential-detail", args=[approved.ldp_credential_id]),
        reverse("portal:credential-download", args=[approved.ldp_credential_id, "jwt"]),
        reverse("portal:mandates"),
        reverse("portal:wallet"),
        reverse("portal:office-queue", args=["EP"]),
        reverse("portal:tool-verify"),
        reverse("portal:admin-home"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("portal:login"))


def test_another_applicant_sees_nothing(client, approved, bob):
    client.force_login(bob.user)
    for url in (
        reverse("portal:request-detail", args=[approved.pk]),
        reverse("portal:credential-detail", args=[approved.ldp_credential_id]),
        reverse("portal:credential-download", args=[approved.ldp_credential_id, "jsonld"]),
        reverse("portal:credential-download", args=[approved.jwt_credential_id, "jwt"]),
        reverse("portal:office-queue", args=["EP"]),
        reverse("portal:office-request", args=[approved.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("portal:request-withdraw", args=[approved.pk])).status_code == 404
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert approved.ldp_credential_id not in dashboard
    assert "Alice" not in dashboard


def test_officer_of_another_office_sees_nothing(client, approved, us_officer, alice):
    client.force_login(us_officer)
    assert client.get(reverse("portal:office-queue", args=["EP"])).status_code == 404
    assert client.get(reverse("portal:office-credentials", args=["EP"])).status_code == 404
    assert client.get(reverse("portal:office-request", args=[approved.pk])).status_code == 404
    assert (
        client.get(
            reverse("portal:credential-detail", args=[approved.ldp_credential_id])
        ).status_code
        == 404
    )
    response = client.post(
        reverse("portal:office-credential-status", args=["EP", approved.ldp_credential_id]),
        {"action": "revoke"},
    )
    assert response.status_code == 404
    # Through its own office's URL, the EP credential is not found either.
    client.post(
        reverse("portal:office-credential-status", args=["US", approved.ldp_credential_id]),
        {"action": "revoke"},
    )
    from registry.portal.selectors import credential_states

    assert set(credential_states(approved.credential_ids).values()) == {"active"}
    # Officers have no applicant pages.
    assert client.get(reverse("portal:request-new")).status_code == 404


def test_officer_cannot_decide_another_office_request(client, alice, us_officer, ep):
    client.force_login(alice.user)
    client.post(
        reverse("portal:request-new"),
        {
            "office": "EP",
            "name": "Alice",
            "person_type": "legal",
            "country": "FR",
            "address": "x",
            "form_key": form_key(client, reverse("portal:request-new")),
        },
    )
    req = CredentialRequest.objects.get()
    client.force_login(us_officer)
    assert (
        client.post(
            reverse("portal:office-request", args=[req.pk]), {"action": "approve"}
        ).status_code
        == 404
    )
    req.refresh_from_db()
    assert req.state == "pending"
    assert not IssuedCredential.objects.filter(subject_did=alice.did.did).exists()


def test_admin_screens_for_registry_administrators_only(client, alice, ep_officer, ep):
    for user in (alice.user, ep_officer):
        client.force_login(user)
        assert client.get(reverse("portal:admin-home")).status_code == 404
    admin = factories.user("root@example.org", is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get(reverse("portal:admin-home")).content.decode()
    assert "IPApplicantCredential" in page  # EP's accreditation
