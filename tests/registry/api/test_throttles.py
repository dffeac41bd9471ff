"""Rate limits: public endpoints (trust queries, resolution, verification) and logins answer 429
with Retry-After once over their (configurable) rate."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.registry.trust.factories import UserFactory, office

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def low_rates(**rates):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }
    )


@pytest.mark.parametrize(
    ("scope", "method", "path", "body"),
    [
        ("trust", "get", "/trust/issuers", None),
        ("trust", "get", "/trust/authorization?entity_id=did:web:x&action=issue&resource=T", None),
        ("resolve", "get", "/1.0/methods", None),
        ("verify", "post", "/credentials/verify", {"verifiableCredential": {}}),
    ],
)
def test_public_endpoints_answer_429_with_retry_after(scope, method, path, body):
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    with low_rates(**{scope: "2/min"}):
        for _ in range(2):
            response = getattr(client, method)(path, body, format="json")
            assert response.status_code != 429
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 429
        assert response.json()["error"] == "throttled"
        assert 0 < int(response["Retry-After"]) <= 60
        # Another client is not affected.
        other = getattr(APIClient(REMOTE_ADDR="203.0.113.10"), method)(path, body, format="json")
        assert other.status_code != 429


def test_rates_are_per_scope():
    client = APIClient()
    with low_rates(trust="1/min"):
        assert client.get("/trust/issuers").status_code == 200
        assert client.get("/trust/issuers").status_code == 429
        assert client.get("/1.0/methods").status_code == 200


@override_settings(LOGIN_THROTTLE_ATTEMPTS=2, LOGIN_THROTTLE_WINDOW=120)
def test_admin_login_is_throttled_per_ip_and_username():
    user = UserFactory(is_staff=True, is_superuser=True)
    user.save()
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(2):
        response = client.post("/admin/login/", {"username": user.username, "password": "bad"})
        assert response.status_code == 200  # the form again, with an error
    # Now even the right password is refused for a while.
    response = client.post("/admin/login/", {"username": user.username, "password": "pw-for-tests"})
    assert response.status_code == 429
    assert response["Retry-After"] == "120"
    assert response.json()["error"] == "throttled"
    # Another client address, or another username, is not blocked.
    other = Client(REMOTE_ADDR="198.51.100.21")
    response = other.post("/admin/login/", {"username": user.username, "password": "pw-for-tests"})
    assert response.status_code == 302
    response = client.post("/admin/login/", {"username": "someone-else", "password": "bad"})
    assert response.status_code == 200


@override_settings(LOGIN_THROTTLE_ATTEMPTS=2)
def test_a_successful_login_clears_the_failures():
    user = UserFactory(username="alice@example.org")  # the portal logs in by email
    user.save()
    client = Client(REMOTE_ADDR="198.51.100.30")
    client.post("/accounts/login/", {"username": user.username, "password": "bad"})
    assert (
        client.post(
            "/accounts/login/", {"username": user.username, "password": "pw-for-tests"}
        ).status_code
        == 302
    )
    client.logout()
    client.post("/accounts/login/", {"username": user.username, "password": "bad"})
    response = client.post("/accounts/login/", {"username": user.username, "password": "bad"})
    assert response.status_code != 429  # 1 failure since the success, then the 2nd


def test_api_key_clients_are_throttled_by_key():
    from registry.api.services import api_key_create

    _, key = api_key_create(office=office("EP"), scopes="verify")
    with low_rates(trust="1/min"):
        keyed = APIClient(REMOTE_ADDR="203.0.113.50")
        keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        # /trust/issuers does not authenticate keys: keyed by address there.
        assert keyed.get("/trust/issuers").status_code == 200
        assert keyed.get("/trust/issuers").status_code == 429


@override_settings(LOGIN_THROTTLE_ATTEMPTS=100, LOGIN_THROTTLE_IP_ATTEMPTS=3)
def test_one_address_trying_many_usernames_is_throttled():
    client = Client(REMOTE_ADDR="198.51.100.40")
    for n in range(3):
        assert (
            client.post("/admin/login/", {"username": f"u{n}", "password": "x"}).status_code == 200
        )
    response = client.post("/admin/login/", {"username": "u9", "password": "x"})
    assert response.status_code == 429
    assert response["Retry-After"]
    other = Client(REMOTE_ADDR="198.51.100.41")
    assert other.post("/admin/login/", {"username": "u9", "password": "x"}).status_code == 200


@override_settings(LOGIN_THROTTLE_ATTEMPTS=2, LOGIN_THROTTLE_WINDOW=120)
def test_a_compatibility_form_of_the_username_is_the_same_username_to_the_throttle():
    # The admin's login form NFKC-normalises the username ("ｒｏｏｔ" logs in as "root"): the
    # failures are counted for "root", so the check must look there too, or fullwidth
    # spellings give unlimited tries at one account.
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.save()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "root")
    client = Client(REMOTE_ADDR="198.51.100.50")
    for _ in range(2):
        response = client.post("/admin/login/", {"username": fullwidth, "password": "bad"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": fullwidth, "password": "pw-for-tests"})
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": "root", "password": "pw-for-tests"})
    assert response.status_code == 429


def test_a_client_cannot_escape_the_rate_limit_with_x_forwarded_for():
    # No proxy is configured in front of the registry: X-Forwarded-For is whatever the client
    # wrote, so it must not name the client (a new value per request would be a new budget).
    client = APIClient(REMOTE_ADDR="203.0.113.60")
    with low_rates(trust="2/min"):
        statuses = [
            client.get("/trust/issuers", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
            for n in range(4)
        ]
    assert statuses == [200, 200, 429, 429]


@override_settings(LOGIN_THROTTLE_ATTEMPTS=100, LOGIN_THROTTLE_IP_ATTEMPTS=2)
def test_behind_a_configured_proxy_logins_are_counted_per_forwarded_client():
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        proxy = Client(REMOTE_ADDR="10.0.0.2")
        for _ in range(2):
            response = proxy.post(
                "/admin/login/",
                {"username": "u", "password": "x"},
                HTTP_X_FORWARDED_FOR="192.0.2.7",
            )
            assert response.status_code == 200
        response = proxy.post(
            "/admin/login/", {"username": "v", "password": "x"}, HTTP_X_FORWARDED_FOR="192.0.2.7"
        )
        assert response.status_code == 429
        # Another client behind the same proxy is not locked out with the first one.
        response = proxy.post(
            "/admin/login/", {"username": "v", "password": "x"}, HTTP_X_FORWARDED_FOR="192.0.2.8"
        )
        assert response.status_code == 200
