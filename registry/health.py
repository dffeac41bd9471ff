"""Readiness: can this process serve, and is the status pipeline keeping up?

`GET /api/health` says only that the process answers (liveness, no database). This says what an
operator must act on:

* database: reachable (else the process cannot serve: `down`);
* cache: Redis shared by every process, or this process on its in-memory fallback
  (`registry.cache`: throttle counters and cached documents are then per process: `degraded`);
* statusPublishing: the oldest revocation, suspension or reinstatement still waiting in the
  outbox. Until it is published, verifiers keep seeing the old status, so a change older than
  `HEALTH_PUBLISH_LAG_SECONDS` (no worker running, or neither the message nor the beat sweep
  reaching one) is `degraded`.

* signingKeys: the registry's current signing key decrypts under REGISTRY_MASTER_KEYS. A ring
  missing the key it was encrypted under (a bad deployment, a rotation half done) makes every
  issuance, status publication and checkpoint fail: `degraded` (resolution and verification
  still work).

The API (`GET /api/ready`) and the `health` command are thin wrappers over `health_report`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.utils import timezone

OK, DEGRADED, DOWN = "ok", "degraded", "down"
STATUSES = (OK, DEGRADED, DOWN)
_SEVERITY = {OK: 0, DEGRADED: 1, DOWN: 2}
_PROBE_KEY = "health:probe"


@dataclass(frozen=True)
class HealthCheck:
    name: str
    status: str  # OK, DEGRADED or DOWN
    detail: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    checks: list[HealthCheck]

    @property
    def status(self) -> str:
        """The worst status of the checks."""
        return max((c.status for c in self.checks), key=_SEVERITY.__getitem__, default=OK)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "checks": {
                c.name: {"status": c.status, "detail": c.detail, **c.data} for c in self.checks
            },
        }


def publish_lag_limit() -> float:
    return float(getattr(settings, "HEALTH_PUBLISH_LAG_SECONDS", 120))


def _error(exc: Exception, explain: bool) -> str:
    # The public API names the class only: a driver's message can name internal hosts.
    name = exc.__class__.__name__
    return f"{name}: {str(exc).strip()[:300]}" if explain else name


def _database(explain: bool) -> HealthCheck:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # Django replaces a broken connection after the request; the next probe reconnects.
        return HealthCheck("database", DOWN, f"unreachable: {_error(exc, explain)}")
    milliseconds = round((time.perf_counter() - started) * 1000, 1)
    return HealthCheck("database", OK, f"{connection.vendor}, answered", {"ms": milliseconds})


def _cache() -> HealthCheck:
    cache = caches["default"]
    reachable = getattr(cache, "redis_reachable", None)
    if reachable is None:  # not the shared Redis cache (tests, a custom CACHES)
        return HealthCheck(
            "cache", OK, f"{cache.__class__.__name__} (not shared)", {"shared": False}
        )
    cache.get(_PROBE_KEY)  # a round trip: a Redis that stopped answering shows now
    if cache.redis_reachable:
        return HealthCheck("cache", OK, "Redis, shared by every process", {"shared": True})
    return HealthCheck(
        "cache",
        DEGRADED,
        "Redis unreachable: this process caches and counts rate limits in its own memory",
        {"shared": False},
    )


def _status_publishing(now: datetime) -> HealthCheck:
    from registry.status.models import StatusOutbox

    pending = StatusOutbox.objects.filter(published_at__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    if not pending["count"]:
        return HealthCheck(
            "statusPublishing", OK, "no change waiting", {"pending": 0, "oldestSeconds": 0}
        )
    lag = max(0.0, (now - pending["oldest"]).total_seconds())
    data = {"pending": pending["count"], "oldestSeconds": round(lag, 1)}
    limit = publish_lag_limit()
    if lag <= limit:
        return HealthCheck("statusPublishing", OK, "changes are being published", data)
    return HealthCheck(
        "statusPublishing",
        DEGRADED,
        f"a status change has waited {lag:.0f} s (limit {limit:.0f} s): verifiers still see "
        "the old status; is a Celery worker (and beat) running and reaching Redis?",
        data,
    )


def _signing_keys(explain: bool) -> HealthCheck:
    from identity.crypto.errors import CryptoError
    from identity.dids import registry_did
    from identity.errors import DidNotFound
    from identity.services import did_signing_key

    try:
        did_signing_key(registry_did())  # decrypts it: the ring holds its master key
    except DidNotFound:
        return HealthCheck("signingKeys", OK, "no registry key yet (created on first use)")
    except CryptoError as exc:
        return HealthCheck(
            "signingKeys",
            DEGRADED,
            "the registry's signing key cannot be decrypted: issuance, status publication and "
            f"checkpoints fail until REGISTRY_MASTER_KEYS holds its master key ({_error(exc, explain)})",
        )
    return HealthCheck("signingKeys", OK, "the registry's signing key decrypts")


def health_report(*, now: datetime | None = None, explain_errors: bool = False) -> HealthReport:
    """Every check; those that need the database are skipped (and the report is `down`)
    while it is unreachable. `explain_errors` adds the driver's message to a failure (for the
    operator's command, not the public API)."""
    database = _database(explain_errors)
    checks = [database, _cache()]
    if database.status == OK:
        try:
            checks.append(_status_publishing(now or timezone.now()))
            checks.append(_signing_keys(explain_errors))
        except DatabaseError as exc:  # lost between the statements
            checks.append(
                HealthCheck("statusPublishing", DOWN, f"not checked: {_error(exc, explain_errors)}")
            )
    else:
        checks.append(HealthCheck("statusPublishing", DOWN, "not checked: database down"))
        checks.append(HealthCheck("signingKeys", DOWN, "not checked: database down"))
    return HealthReport(checks)
