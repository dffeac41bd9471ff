"""Celery tasks of the credentials app: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="registry.credentials.tasks.challenges_purge", acks_late=True)
def challenges_purge_task() -> int:
    """Delete long-expired presentation challenges (beat, hourly)."""
    return services.challenges_purge()


@shared_task(name="registry.credentials.tasks.idempotency_keys_purge", acks_late=True)
def idempotency_keys_purge_task() -> int:
    """Forget Idempotency-Keys past their retention window (beat, hourly)."""
    return services.idempotency_keys_purge()
