"""Celery tasks of the status app: thin wrappers over the services (idempotent, retried)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from . import services


@shared_task(
    name="registry.status.tasks.status_list_publish",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def status_list_publish_task(status_list_id: int) -> int | None:
    """Publish one list if it has pending changes; returns the version number published."""
    version = services.status_list_publish(status_list_id=status_list_id)
    return version.version if version is not None else None


@shared_task(name="registry.status.tasks.status_outbox_sweep", acks_late=True)
def status_outbox_sweep_task() -> int:
    """Publish every list with pending changes (beat, periodically)."""
    return services.status_outbox_sweep()
