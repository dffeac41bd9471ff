"""Redis unreachable: a status change still commits at once, and the sweep publishes it later."""

from __future__ import annotations

import logging
import time

import pytest

from registry.status.models import StatusListVersion, StatusOutbox
from registry.status.services import (
    credential_status_change,
    status_enqueue_drain,
    status_entry_allocate,
    status_outbox_sweep,
)

from .celery_helpers import celery_broker, free_port

pytestmark = pytest.mark.django_db


def test_changes_commit_quickly_with_the_broker_unreachable_and_the_sweep_catches_up(
    office, django_capture_on_commit_callbacks, caplog
):
    for i in range(3):
        status_entry_allocate(issuer_did=office.did.did, credential_id=f"urn:down:{i}")
    versions_before = StatusListVersion.objects.count()
    caplog.set_level(logging.WARNING, logger="registry.status.services")
    with celery_broker(f"redis://127.0.0.1:{free_port()}/5"):  # nothing listens there
        durations = []
        for i in range(3):
            started = time.perf_counter()
            with django_capture_on_commit_callbacks(execute=True):
                credential_status_change(
                    issuer=office, credential_id=f"urn:down:{i}", action="revoke"
                )
            durations.append(time.perf_counter() - started)
        status_enqueue_drain()
    assert max(durations) < 0.5, durations  # the request never waits on the broker
    assert "could not enqueue publishing" in caplog.text
    assert StatusOutbox.objects.filter(published_at__isnull=True).count() == 3
    assert StatusListVersion.objects.count() == versions_before
    # Beat's sweep (run here directly) publishes all three changes in one new version.
    assert status_outbox_sweep() == 1
    assert not StatusOutbox.objects.filter(published_at__isnull=True).exists()
    latest = StatusListVersion.objects.order_by("-pk").first()
    assert latest.bits_set == 3
