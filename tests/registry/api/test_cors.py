"""CORS: browser wallets, web verifiers and JavaScript resolvers on any origin read the public
API (DID documents, context, schemas, status lists, log, verification); endpoints that take an
office API key or a session are not readable cross-origin."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from identity.services import registry_did_ensure
from tests.registry.trust.factories import office

ORIGIN = {"HTTP_ORIGIN": "https://wallet.example"}


def _preflight(client, path, method="POST", headers="content-type"):
    return client.options(
        path,
        HTTP_ORIGIN="https://wallet.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.mark.django_db
def test_did_documents_and_resolution_are_readable_from_any_origin():
    registry_did_ensure()
    ep = office("EP")
    client = APIClient()
    for path in (
        "/.well-known/did.json",
        "/offices/ep/did.json",
        f"/1.0/identifiers/{ep.did.did}",
        "/1.0/methods",
        "/contexts/ip/v1",
        "/schemas/IPApplicantCredential.json",
        f"/api/participants/{ep.did.did}/",
    ):
        response = client.get(path, **ORIGIN)
        assert response.status_code == 200, (path, response.content[:200])
        assert response["Access-Control-Allow-Origin"] == "*", path
        assert "ETag" in response["Access-Control-Expose-Headers"]
        assert not response.has_header("Access-Control-Allow-Credentials")


@pytest.mark.django_db
def test_errors_are_readable_too_so_a_web_app_can_show_them():
    response = APIClient().get("/1.0/identifiers/did:web:localhost%3A8000:offices:nope", **ORIGIN)
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_a_web_verifier_preflights_then_posts_a_credential():
    client = APIClient()
    preflight = _preflight(client, "/credentials/verify")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight["Access-Control-Allow-Methods"].split(", ")
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    assert "Authorization" not in preflight["Access-Control-Allow-Headers"]
    assert int(preflight["Access-Control-Max-Age"]) > 0

    response = client.post(
        "/credentials/verify", {"verifiableCredential": "not.a.jwt"}, format="json", **ORIGIN
    )
    assert response.status_code == 200
    assert response.json()["verified"] is False
    assert response["Access-Control-Allow-Origin"] == "*"

    challenge = _preflight(client, "/challenges")
    assert challenge.status_code == 204
    assert "POST" in challenge["Access-Control-Allow-Methods"]


@pytest.mark.django_db
def test_endpoints_taking_an_api_key_or_a_session_are_not_cross_origin():
    client = APIClient()
    for path in ("/credentials/issue", "/credentials/status", "/credentials", "/audit/events"):
        for response in (_preflight(client, path), client.get(path, **ORIGIN)):
            assert not response.has_header("Access-Control-Allow-Origin"), path
    assert not client.get("/accounts/login/", **ORIGIN).has_header("Access-Control-Allow-Origin")


def _drf_views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _drf_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if isinstance(view_class, type) and issubclass(view_class, APIView):
                yield str(pattern.pattern), view_class


def test_every_public_api_view_is_cross_origin_and_no_authenticated_one_is():
    """A new public endpoint must opt in (cors_public): this names any that did not."""
    views = list(_drf_views(get_resolver().url_patterns))
    assert len(views) > 20
    for route, view_class in views:
        public = not view_class.authentication_classes
        if route.startswith(("api/schema", "api/docs")):
            continue  # drf-spectacular's own views
        assert bool(getattr(view_class, "cors_public", False)) == public, (
            f"{route} ({view_class.__name__}): public={public}"
        )
