"""The portal takes only real WIPO ST.3 codes as a country: sign-up and credential requests, on
the form (an error on the country field, in English or French) and in the services."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from registry.portal import services
from registry.portal.models import CredentialRequest

from .pages import form_key
from .test_accounts import SIGNUP
from .test_credentials import APPLICANT_FORM

pytestmark = pytest.mark.django_db

KNOWN = ["fr", "EP", "WO", "EM", "XX"]
UNKNOWN = ["ZZ", "QQ", "xy"]


@pytest.mark.parametrize("code", KNOWN)
def test_signup_accepts_a_known_code(client, code):
    response = client.post(reverse("portal:signup"), {**SIGNUP, "country": code})
    assert response.status_code == 302


@pytest.mark.parametrize("code", UNKNOWN)
def test_signup_refuses_an_unknown_code_on_the_country_field(client, code):
    response = client.post(reverse("portal:signup"), {**SIGNUP, "country": code})
    assert response.status_code == 200
    assert response.context["form"].errors["country"] == [
        f"{code.upper()} is not a WIPO ST.3 code."
    ]
    assert not get_user_model().objects.exists()


def test_the_refusal_is_in_french_too(client):
    response = client.post(
        reverse("portal:signup"), {**SIGNUP, "country": "ZZ"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.context["form"].errors["country"] == ["ZZ n’est pas un code OMPI ST.3."]


def test_the_signup_service_refuses_an_unknown_code():
    # English whatever language an earlier request left active in this thread.
    with translation.override("en"), pytest.raises(services.PortalError, match="^QQ is not a"):
        services.account_signup(
            email="dana@example.org",
            password="a-long-and-unusual-pass",
            kind="agent",
            display_name="Dana",
            country="qq",
        )
    assert not get_user_model().objects.exists()


def _request(client, participant, country):
    client.force_login(participant.user)
    url = reverse("portal:request-new")
    return client.post(
        url, {**APPLICANT_FORM, "country": country, "form_key": form_key(client, url)}
    )


@pytest.mark.parametrize("code", KNOWN)
def test_a_credential_request_with_a_known_country_is_sent(client, alice, ep, code):
    assert _request(client, alice, code).status_code == 302
    assert CredentialRequest.objects.get().claims["country"] == code.upper()


@pytest.mark.parametrize("code", UNKNOWN)
def test_a_credential_request_with_an_unknown_country_is_refused(client, alice, ep, code):
    response = _request(client, alice, code)
    assert response.status_code == 200
    assert response.context["form"].errors["country"] == [
        f"{code.upper()} is not a WIPO ST.3 code."
    ]
    assert not CredentialRequest.objects.exists()


def test_the_request_service_refuses_an_unknown_country(alice, ep):
    claims = {"name": "Alice", "personType": "legal", "country": "ZZ", "address": "Paris"}
    with translation.override("en"), pytest.raises(services.PortalError, match="^ZZ is not a"):
        services.credential_request_create(requester=alice, office=ep, claims=claims)
    assert not CredentialRequest.objects.exists()
