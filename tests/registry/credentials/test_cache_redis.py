"""Verification and the public API with the deployed cache configuration (the Redis-backed
default cache, registry/cache.py): a revocation shows at once, and a Redis outage costs no
request a 500 (Django's RedisCache raised on every call, throttles included)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.status.services import credential_status_change
from registry.status.verification import status_cache_clear
from tests.registry.status.processes import RedisServer, free_port

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not RedisServer.available(), reason="redis-server not installed"),
]


def use_redis_cache(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "registry.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "registry",
            "RETRY_SECONDS": 5,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    status_cache_clear()


def verify(document) -> dict:
    response = APIClient().post(
        "/credentials/verify", {"verifiableCredential": document}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_revocation_shows_at_once_with_the_redis_cache(
    settings, tmp_path, office, issued, django_capture_on_commit_callbacks
):
    server = RedisServer(tmp_path).start()
    try:
        use_redis_cache(settings, server.url)
        assert verify(issued.document)["verified"] is True  # caches the list's current version
        # Published on commit (Celery runs eagerly in tests).
        with django_capture_on_commit_callbacks(execute=True):
            credential_status_change(
                issuer=office, credential_id=issued.credential_id, action="revoke"
            )
        result = verify(issued.document)
        assert result["verified"] is False
        assert result["results"]["status"]["ok"] is False
    finally:
        server.stop()


def test_with_the_cache_redis_down_the_api_still_answers(
    settings, office, issued, django_capture_on_commit_callbacks
):
    use_redis_cache(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    client = APIClient()
    # Throttled public endpoints (their counters live in the cache).
    assert client.get("/api/participants/").status_code == 200
    assert client.get(f"/1.0/identifiers/{office.did.did}").status_code == 200
    assert verify(issued.document)["verified"] is True
    with django_capture_on_commit_callbacks(execute=True):
        credential_status_change(issuer=office, credential_id=issued.credential_id, action="revoke")
    assert verify(issued.document)["verified"] is False
