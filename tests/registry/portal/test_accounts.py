import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from registry.participants.models import Participant
from registry.portal.services import CONFIRM_SALT

from . import factories
from .factories import PASSWORD as PASSWORD_OF_ALICE

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "Dana@Example.org",
    "password1": "a-long-and-unusual-pass",
    "password2": "a-long-and-unusual-pass",
    "kind": "applicant",
    "display_name": "Dana Devices SAS",
    "country": "fr",
}


def _confirm_link() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"https?://\S+/accounts/confirm/\S+/", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(0)


def test_signup_confirm_login_gives_a_participant_with_a_did(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:signup-done")
    user = get_user_model().objects.get(email__iexact="dana@example.org")
    assert not user.is_active
    assert not Participant.objects.filter(user=user).exists()  # DID only after confirmation

    link = _confirm_link()
    assert mail.outbox[0].to == [user.email]
    response = client.get(link[link.index("/accounts/") :])
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    participant = Participant.objects.get(user=user)
    assert participant.kind == "applicant"
    assert participant.country == "FR"
    assert participant.did.did.startswith("did:web:")
    assert ":applicants:" in participant.did.did

    # Confirming twice changes nothing.
    client.get(link[link.index("/accounts/") :])
    assert Participant.objects.filter(user=user).count() == 1

    response = client.post(
        reverse("portal:login"),
        {"username": "dana@example.org", "password": SIGNUP["password1"]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    page = client.get(reverse("portal:dashboard"))
    assert participant.did.did in page.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password1"),
        ({"kind": "office"}, "kind"),
        ({"country": "FRA"}, "country"),
        ({"display_name": ""}, "display_name"),
    ],
)
def test_signup_validation(client, change, field):
    response = client.post(reverse("portal:signup"), {**SIGNUP, **change})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not get_user_model().objects.exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_signup_refuses_a_taken_email(client, alice):
    response = client.post(reverse("portal:signup"), {**SIGNUP, "email": "ALICE@example.org"})
    assert "email" in response.context["form"].errors
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("token", ["garbage", signing.dumps({"u": 999}, salt="other-salt")])
def test_confirm_refuses_bad_tokens(client, token):
    response = client.get(reverse("portal:confirm-email", args=[token]))
    assert response.status_code == 400
    assert not Participant.objects.exists()


def test_confirm_refuses_an_expired_token(client, monkeypatch):
    user = factories.user("late@example.org", is_active=False)
    token = signing.dumps({"u": user.pk, "k": "agent", "n": "Late", "c": "FR"}, salt=CONFIRM_SALT)
    monkeypatch.setattr("registry.portal.services.CONFIRM_MAX_AGE", -1)
    response = client.get(reverse("portal:confirm-email", args=[token]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_unconfirmed_user_cannot_log_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:signup"), SIGNUP)
    response = client.post(
        reverse("portal:login"),
        {"username": SIGNUP["email"], "password": SIGNUP["password1"]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_changing_my_password_ends_my_other_sessions_and_is_audited(alice):
    from registry.audit.models import AuditEvent

    here, elsewhere = Client(), Client()
    assert here.login(username="alice@example.org", password=PASSWORD_OF_ALICE)
    assert elsewhere.login(username="alice@example.org", password=PASSWORD_OF_ALICE)
    page = here.get(reverse("portal:dashboard")).content.decode()
    assert reverse("portal:password-change") in page  # in the header

    wrong = here.post(
        reverse("portal:password-change"),
        {
            "old_password": "not-my-password",
            "new_password1": "a-brand-new-passphrase-7",
            "new_password2": "a-brand-new-passphrase-7",
        },
    )
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    response = here.post(
        reverse("portal:password-change"),
        {
            "old_password": PASSWORD_OF_ALICE,
            "new_password1": "a-brand-new-passphrase-7",
            "new_password2": "a-brand-new-passphrase-7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert here.get(reverse("portal:dashboard")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("portal:dashboard")).status_code == 302  # the other one ended
    assert not Client().login(username="alice@example.org", password=PASSWORD_OF_ALICE)
    assert Client().login(username="alice@example.org", password="a-brand-new-passphrase-7")
    assert AuditEvent.objects.filter(action="portal.password_change").count() == 1


def test_changing_a_password_needs_a_login(client):
    response = client.get(reverse("portal:password-change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_password_reset_flow(client, alice, django_capture_on_commit_callbacks):
    response = client.post(reverse("portal:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    path = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(path, follow=True)
    assert response.context["validlink"]
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"}
    )
    assert response.status_code == 302
    assert client.login(username="alice@example.org", password="brand-new-secret-42")


@override_settings(MAIL_THROTTLE_PER_ADDRESS=2, MAIL_THROTTLE_PER_IP=1000)
def test_password_reset_mails_to_one_address_are_limited_without_telling(
    client, alice, django_capture_on_commit_callbacks
):
    cache.clear()
    sent_page = reverse("portal:password_reset_done")
    for _ in range(4):
        response = client.post(reverse("portal:password_reset"), {"email": "Alice@Example.org"})
        # The same answer each time, as for an address without an account.
        assert response.status_code == 302
        assert response["Location"] == sent_page
    assert len(mail.outbox) == 2
    # Another address is not held back by this one.
    factories.user("bob@example.org")
    client.post(reverse("portal:password_reset"), {"email": "bob@example.org"})
    assert len(mail.outbox) == 3
    assert mail.outbox[-1].to == ["bob@example.org"]


@override_settings(MAIL_THROTTLE_PER_ADDRESS=1000, MAIL_THROTTLE_PER_IP=3)
def test_one_client_asking_for_mails_to_many_addresses_is_refused(
    client, alice, django_capture_on_commit_callbacks
):
    cache.clear()
    for n in range(3):
        response = client.post(reverse("portal:password_reset"), {"email": f"x{n}@example.org"})
        assert response.status_code == 302
    response = client.post(reverse("portal:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 200
    assert "Too many requests from your network" in response.content.decode()
    assert len(mail.outbox) == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:signup"), {**SIGNUP, "email": "someone.else@example.org"}
        )
    assert response.status_code == 200
    assert "Too many sign-ups from your network" in response.content.decode()
    assert not get_user_model().objects.filter(email="someone.else@example.org").exists()
    assert len(mail.outbox) == 0
    # Another client still may.
    other = Client(REMOTE_ADDR="192.0.2.7")
    with django_capture_on_commit_callbacks(execute=True):
        response = other.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 302
    assert len(mail.outbox) == 1


@override_settings(MAIL_THROTTLE_PER_ADDRESS=2, MAIL_THROTTLE_PER_IP=1000)
def test_signing_up_again_and_again_sends_a_limited_number_of_confirmations(
    django_capture_on_commit_callbacks,
):
    cache.clear()
    for n in range(2):
        # From different clients: the limit is the address's, whoever asks.
        with django_capture_on_commit_callbacks(execute=True):
            response = Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post(reverse("portal:signup"), SIGNUP)
        assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(REMOTE_ADDR="192.0.2.9").post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 200
    assert "Too many confirmation emails were sent to this address" in response.content.decode()
    assert len(mail.outbox) == 2


def test_logout_is_a_post_and_forms_carry_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 2  # logout and language forms at least
    assert client.post(reverse("portal:logout")).status_code == 403  # no token
    assert client.get(reverse("portal:logout")).status_code == 405


def test_french_pages(client):
    client.post(reverse("portal:set_language"), {"language": "fr", "next": "/"})
    page = client.get(reverse("portal:signup")).content.decode()
    assert 'lang="fr"' in page
    assert "Créer mon compte" in page
    assert "Adresse e-mail" in page


def test_error_pages_in_the_portal_look(client, alice):
    client.force_login(alice.user)
    response = client.get("/portal/requests/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "portal.css" in response.content.decode()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice.user)
    response = csrf_client.post(reverse("portal:request-new"), {"office": "EP"})
    assert response.status_code == 403
    assert "Form expired" in response.content.decode()


@override_settings(LOGIN_THROTTLE_ATTEMPTS=5)
def test_portal_login_is_throttled_after_repeated_failures(client, alice):
    cache.clear()
    for _ in range(5):
        response = client.post(
            reverse("portal:login"), {"username": "alice@example.org", "password": "wrong"}
        )
        assert response.status_code == 200
    response = client.post(
        reverse("portal:login"), {"username": "alice@example.org", "password": PASSWORD_OF_ALICE}
    )
    assert response.status_code == 429
    assert response["Retry-After"]


def test_signup_race_on_the_same_address_is_a_clear_error(alice, monkeypatch):
    from registry.portal import services

    # Two sign-ups raced past the "email taken" check: the unique username stops the second.
    monkeypatch.setattr(services, "account_email_taken", lambda email: False)
    with pytest.raises(services.PortalError):
        services.account_signup(
            email="ALICE@example.org",
            password="a-long-and-unusual-pass",
            kind="agent",
            display_name="Alice again",
            country="FR",
        )
    assert get_user_model().objects.filter(email__iexact="alice@example.org").count() == 1


def test_signing_up_again_before_confirming_reuses_the_account(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:signup"), SIGNUP)
    first_link = _confirm_link()
    mail.outbox.clear()
    again = {**SIGNUP, "password1": "another-long-secret-9", "password2": "another-long-secret-9"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:signup"), {**again, "kind": "agent"})
    assert response.status_code == 302
    assert get_user_model().objects.filter(email__iexact="dana@example.org").count() == 1
    second_link = _confirm_link()
    # The first link was for the old password: it no longer works.
    assert client.get(first_link[first_link.index("/accounts/") :]).status_code == 400
    assert client.get(second_link[second_link.index("/accounts/") :]).status_code == 302
    participant = Participant.objects.get(user__email__iexact="dana@example.org")
    assert participant.kind == "agent"
    assert client.login(username="dana@example.org", password="another-long-secret-9")
    # Once confirmed, the address is taken.
    client.logout()
    response = client.post(reverse("portal:signup"), SIGNUP)
    assert "email" in response.context["form"].errors


def test_a_confirmation_link_does_not_revive_a_deactivated_account(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:signup"), SIGNUP)
    link = _confirm_link()
    path = link[link.index("/accounts/") :]
    assert client.get(path).status_code == 302
    user = get_user_model().objects.get(email__iexact="dana@example.org")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(path).status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_signing_up_does_not_revive_a_deactivated_staff_or_officer_account(
    client, ep, django_capture_on_commit_callbacks
):
    # An officer (made staff) whose account was deactivated before its first login: signing up
    # with its address must not hand the account back, active, with its office and staff rights.
    officer = factories.officer(ep, email="dana@example.org")
    officer.is_staff = True
    officer.is_active = False
    officer.save(update_fields=["is_staff", "is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert mail.outbox == []
    officer.refresh_from_db()
    assert not officer.is_active
    assert officer.check_password(PASSWORD_OF_ALICE)
