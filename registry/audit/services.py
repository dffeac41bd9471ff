"""`audit_record`: the one way to write to the audit trail. Call it inside the service's own
transaction, so the audit row commits (or rolls back) with the change it describes."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from identity.precompiled import PrecompiledInsert

from .models import AuditEvent

_MAX_TARGET = 500
# Every audited write runs this INSERT: compiled once (identity.precompiled). It inserts only,
# so AuditEvent.save's append-only guard (against updates) has nothing to add here.
_EVENT_INSERT = PrecompiledInsert(AuditEvent)


def _actor_fields(actor) -> dict:
    """Normalise an actor: a user, an ApiKey, a Participant-less system (None) or a label."""
    if actor is None:
        return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_id": "", "actor_label": "system"}
    if isinstance(actor, str):
        return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_id": "", "actor_label": actor}
    # An office API key (registry.api.models.ApiKey); duck-typed to avoid an import cycle.
    if hasattr(actor, "secret_hash") and hasattr(actor, "office_id"):
        office = getattr(actor, "office", None)
        return {
            "actor_type": AuditEvent.ActorType.API_KEY,
            "actor_id": str(actor.pk),
            "actor_label": f"api-key {actor.prefix}",
            "office": (getattr(office, "st3_code", None) or "") if office else "",
        }
    if getattr(actor, "is_authenticated", False):
        return {
            "actor_type": AuditEvent.ActorType.USER,
            "actor_id": str(actor.pk),
            "actor_label": actor.get_username(),
        }
    return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_id": "", "actor_label": "anonymous"}


def _client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites
    # REMOTE_ADDR, which is the deployment's job.
    value = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


_JSON_SCALARS = (str, int, float, bool, type(None))


class _AuditJSONEncoder(DjangoJSONEncoder):
    """Django's encoder (datetimes as ISO 8601 with `Z`, dates, decimals, UUIDs), and `str()`
    for anything else: recording an event never fails on a value. (Passing `default=str` next to
    DjangoJSONEncoder replaced its `default` altogether: datetimes came out as `str(dt)`,
    "2026-12-03 14:00:00.123456+00:00", not ISO 8601.)"""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _jsonable(data: dict | None) -> dict:
    if data and all(type(k) is str and type(v) in _JSON_SCALARS for k, v in data.items()):
        return dict(data)  # already JSON, as most audit data is: no round trip
    return json.loads(json.dumps(data or {}, cls=_AuditJSONEncoder))


def audit_record(
    *,
    actor,
    action: str,
    target: str,
    data: dict | None = None,
    request=None,
    office: str | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a User, an ApiKey, None (the system) or a label; `target`
    names what was acted on (a DID, "accreditation:12", "api-key:ab12cd34" ...); `request`
    (Django or DRF) adds the client IP and user agent."""
    fields = _actor_fields(actor)
    if office:
        fields["office"] = office
    ip = user_agent = None
    if request is not None:
        ip = _client_ip(request)
        user_agent = (request.META.get("HTTP_USER_AGENT") or "")[:400]
    event = AuditEvent(
        created_at=timezone.now(),
        action=action[:64],
        target=str(target)[:_MAX_TARGET],
        data=_jsonable(data),
        ip=ip,
        user_agent=user_agent or "",
        **fields,
    )
    _EVENT_INSERT.insert(event)
    return event


def audit_export_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """JSON lines (one event per line, oldest first as given), for export."""
    for event in events:
        yield json.dumps(event.as_json(), cls=DjangoJSONEncoder, sort_keys=True) + "\n"
