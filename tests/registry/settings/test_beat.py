"""Beat's periodic tasks expire within their own interval: while no worker runs, beat keeps
queueing them, and without an expiry every queued run would execute when a worker comes back."""

from registry.celery import app


def test_every_periodic_task_expires_within_its_interval():
    schedule = app.conf.beat_schedule
    assert {"anchoring-sweep", "status-outbox-sweep", "credentials-challenges-purge"} <= set(
        schedule
    )
    for name, entry in schedule.items():
        expires = entry.get("options", {}).get("expires")
        assert expires is not None, name
        assert 0 < expires <= entry["schedule"], name
