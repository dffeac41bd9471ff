"""Readiness (registry.health): GET /api/ready and `manage.py health` tell an operator whether
the database answers, whether Redis is shared, and whether status changes are being published:
a revocation left unpublished keeps verifying as active, so it must show."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from registry.health import health_report
from registry.status.models import StatusOutbox
from registry.status.services import (
    credential_status_change,
    status_entry_allocate,
    status_outbox_sweep,
)
from tests.openapi_check import assert_response_matches_schema
from tests.registry.database_helpers import backend_pid, terminate_backend
from tests.registry.participants.factories import OfficeFactory


def _pending_revocation() -> StatusOutbox:
    """A revocation committed but not yet published (no worker ran: on-commit work is not run
    inside a test's transaction)."""
    office = OfficeFactory()
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:uuid:health-1")
    credential_status_change(issuer=office, credential_id="urn:uuid:health-1", action="revoke")
    return StatusOutbox.objects.get(published_at__isnull=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_ready_is_ok_with_the_database_up_and_nothing_waiting():
    response = APIClient().get("/api/ready")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["ms"] >= 0
    assert body["checks"]["statusPublishing"] == {
        "status": "ok",
        "detail": "no change waiting",
        "pending": 0,
        "oldestSeconds": 0,
    }
    assert_response_matches_schema(response, "/api/ready")


@pytest.mark.django_db
def test_a_status_change_waiting_past_the_limit_is_degraded_until_published(settings):
    settings.HEALTH_PUBLISH_LAG_SECONDS = 120
    pending = _pending_revocation()

    fresh = health_report(now=pending.created_at + timedelta(seconds=119))
    assert fresh.status == "ok"
    assert fresh.as_dict()["checks"]["statusPublishing"]["pending"] == 1

    late = health_report(now=pending.created_at + timedelta(seconds=300))
    assert late.status == "degraded"
    publishing = late.as_dict()["checks"]["statusPublishing"]
    assert publishing["status"] == "degraded"
    assert publishing["pending"] == 1
    assert publishing["oldestSeconds"] == 300
    assert "Celery worker" in publishing["detail"]

    # Through the API (a limit of 0: any waiting change is late): degraded is still 200, the
    # process can serve; monitoring alerts on the status.
    settings.HEALTH_PUBLISH_LAG_SECONDS = 0
    response = APIClient().get("/api/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert_response_matches_schema(response, "/api/ready")

    # The beat sweep publishes it: ok again.
    assert status_outbox_sweep() == 1
    assert health_report().status == "ok"


@pytest.mark.django_db
def test_redis_unreachable_is_degraded_and_redis_reachable_is_ok(settings):
    from django.conf import settings as live

    def resilient(location):
        return {
            "default": {
                "BACKEND": "registry.cache.ResilientRedisCache",
                "LOCATION": location,
                "KEY_PREFIX": "health-test",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }

    settings.CACHES = resilient(f"redis://127.0.0.1:{_free_port()}/0")  # nothing listens
    cache = health_report().as_dict()["checks"]["cache"]
    assert cache["status"] == "degraded"
    assert "own memory" in cache["detail"]
    assert cache["shared"] is False

    settings.CACHES = resilient(live.REDIS_URL)
    report = health_report()
    assert report.as_dict()["checks"]["cache"] == {
        "status": "ok",
        "detail": "Redis, shared by every process",
        "shared": True,
    }
    assert report.status == "ok"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="drops a PostgreSQL connection")
def test_ready_is_503_down_while_the_database_is_gone_and_names_no_internals():
    client = APIClient()
    assert client.get("/api/ready").status_code == 200
    terminate_backend(backend_pid())

    response = client.get("/api/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["detail"].startswith("unreachable: ")
    # the class of the error, not the driver's message (which can name internal hosts)
    assert ":" not in body["checks"]["database"]["detail"].removeprefix("unreachable: ")
    assert body["checks"]["statusPublishing"]["detail"] == "not checked: database down"
    assert_response_matches_schema(response, "/api/ready")

    connection.close()  # Django replaces the broken connection after a request
    assert client.get("/api/ready").json()["status"] == "ok"


@pytest.mark.django_db
def test_the_command_prints_each_check_and_exits_as_monitoring_plugins_expect(settings, capsys):
    call_command("health")  # ok: returns normally (exit status 0)
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["database", "ok"]
    assert out.splitlines()[-1].split() == ["overall", "ok"]

    settings.HEALTH_PUBLISH_LAG_SECONDS = 0
    _pending_revocation()
    with pytest.raises(SystemExit) as exited:
        call_command("health", "--json")
    assert exited.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "degraded"
    assert report["checks"]["statusPublishing"]["pending"] == 1


OTHER_MASTER_KEY = "other-1:b3RoZXItbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE"


@pytest.mark.django_db
def test_a_master_key_ring_that_cannot_read_the_signing_key_is_degraded_and_issuance_is_503(
    settings,
):
    # A deployment whose REGISTRY_MASTER_KEYS lost the key the signing keys are encrypted under:
    # the registry still resolves and verifies, but cannot sign. Say so, and answer 503 (the
    # server's configuration), not 500, to an office trying to issue.
    from identity.services import registry_did_ensure
    from registry.api.services import api_key_create
    from registry.participants.services import participant_create
    from registry.trust.services import accreditation_grant

    registry_did_ensure()
    office = OfficeFactory()
    accreditation_grant(office=office, credential_types=["IPApplicantCredential"])
    _, key = api_key_create(office=office, scopes=["issue"])
    applicant = participant_create(kind="applicant", display_name="Ada Ltd", country="FR")
    assert health_report().as_dict()["checks"]["signingKeys"]["status"] == "ok"

    settings.REGISTRY_MASTER_KEYS = OTHER_MASTER_KEY
    report = health_report().as_dict()
    assert report["status"] == "degraded"
    assert report["checks"]["signingKeys"]["status"] == "degraded"
    assert "REGISTRY_MASTER_KEYS" in report["checks"]["signingKeys"]["detail"]
    response = APIClient().get("/api/ready")
    assert response.status_code == 200  # degraded, not down: resolution and verification work
    assert_response_matches_schema(response, "/api/ready")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(
        "/credentials/issue",
        {
            "credential": {
                "type": ["VerifiableCredential", "IPApplicantCredential"],
                "credentialSubject": {
                    "id": applicant.did.did,
                    "name": "Ada Ltd",
                    "personType": "legal",
                    "country": "FR",
                    "address": "1 rue Ada, Paris",
                },
            }
        },
        format="json",
    )
    assert response.status_code == 503, response.content
    assert response.json()["error"] == "signingUnavailable"
    assert "other-1" not in response.content.decode()  # no key ids to the client
