from __future__ import annotations

from datetime import datetime

from .models import AuditEvent


def audit_events_filter(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    office: str | None = None,
    actor: str | None = None,
    target: str | None = None,
):
    """Audit events, oldest first, filtered. `action` ending in "." matches a prefix
    ("accreditation." -> every accreditation event)."""
    events = AuditEvent.objects.all()
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    if action:
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if office:
        events = events.filter(office=office.upper())
    if actor:
        events = events.filter(actor_label=actor)
    if target:
        events = events.filter(target=target)
    return events.order_by("created_at", "id")
