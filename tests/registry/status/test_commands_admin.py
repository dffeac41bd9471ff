"""The management commands and the admin actions, through the same services."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from registry.status.models import StatusEntry, StatusListVersion, StatusOutbox
from registry.status.services import credential_status_change, status_entry_allocate
from tests.registry.participants.factories import OfficeFactory

pytestmark = pytest.mark.django_db


def test_verify_status_lists_passes_then_catches_a_tampered_version(office):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:cmd:1")
    out = StringIO()
    call_command("verify_status_lists", stdout=out)
    assert "every status list version verifies" in out.getvalue()
    version = StatusListVersion.objects.get()
    StatusListVersion.objects.filter(pk=version.pk).update(
        body=version.body.replace("H4sI", "H4sJ")
    )
    with pytest.raises(CommandError, match="1 status list version"):
        call_command("verify_status_lists", stdout=StringIO(), stderr=StringIO())


def test_publish_status_lists_publishes_pending_changes(office, monkeypatch):
    from registry.status import services

    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:cmd:2")
    monkeypatch.setattr(services, "status_list_publish_enqueue", lambda list_id: None)
    credential_status_change(issuer=office, credential_id="urn:cmd:2", action="revoke")
    assert StatusOutbox.objects.filter(published_at__isnull=True).count() == 1
    out = StringIO()
    call_command("publish_status_lists", stdout=out)
    assert "1 status list version(s) published" in out.getvalue()
    assert StatusListVersion.objects.count() == 2


def _revoke_unpublished(office, credential_id: str) -> None:
    """A revocation committed and waiting in the outbox (the on-commit enqueue never runs
    inside a test's transaction)."""
    status_entry_allocate(issuer_did=office.did.did, credential_id=credential_id)
    credential_status_change(issuer=office, credential_id=credential_id, action="revoke")


def _lose_master_key(office) -> None:
    """The office's signing key stays under a master key dropped from REGISTRY_MASTER_KEYS
    (the case `rotate_master_key` warns of): its lists can no longer be signed."""
    from identity.models import DidKey

    DidKey.objects.filter(did=office.did).update(master_key_id="dropped-1")


def test_publish_status_lists_fails_loudly_when_a_list_cannot_be_published(office, other_office):
    # An operator runs the command to publish what waits (after an outage, before a release):
    # "published" with exit status 0 while a revocation still waits would be a lie.
    _revoke_unpublished(office, "urn:cmd:3")
    _revoke_unpublished(other_office, "urn:cmd:4")
    _lose_master_key(office)
    out = StringIO()
    with pytest.raises(CommandError, match="1 status list\\(s\\) could not be published"):
        call_command("publish_status_lists", stdout=out, stderr=StringIO())
    assert "1 status list version(s) published" in out.getvalue()
    assert "MasterKeyError" in out.getvalue()
    waiting = StatusOutbox.objects.filter(published_at__isnull=True)
    assert list(waiting.values_list("status_list__issuer__did", flat=True)) == [office.did.did]


def test_publishing_everything_goes_past_lists_that_fail_and_past_one_batch(office, other_office):
    from registry.status.services import status_outbox_publish_all

    third = OfficeFactory()
    for n, each in enumerate((office, other_office, third)):
        _revoke_unpublished(each, f"urn:cmd:batch-{n}")
    _lose_master_key(office)  # the first list in id order
    report = status_outbox_publish_all(batch_size=1)
    assert report.published == 2
    assert [f.list_id for f in report.failed] == [office.did.status_lists.get().public_id]
    assert report.pending == 1


def test_beat_sweeps_go_on_past_lists_that_keep_failing(office, other_office):
    # Beat's sweep takes a limited number of lists a run. Lists that fail every time (here the
    # lowest ids) must not take every run's places: the next sweep goes on where the last one
    # stopped, so the others are published in turn.
    from registry.status.services import status_outbox_sweep

    third, fourth = OfficeFactory(), OfficeFactory()
    offices = (office, other_office, third, fourth)
    for n, each in enumerate(offices):
        _revoke_unpublished(each, f"urn:cmd:sweep-{n}")
    _lose_master_key(office)
    _lose_master_key(other_office)

    def waiting() -> set[str]:
        return set(
            StatusOutbox.objects.filter(published_at__isnull=True).values_list(
                "status_list__issuer__did", flat=True
            )
        )

    published = sum(status_outbox_sweep(max_lists=2) for _ in range(3))
    assert published == 2
    assert waiting() == {office.did.did, other_office.did.did}


def test_admin_revoke_action_goes_through_the_service(
    office, client, django_capture_on_commit_callbacks
):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:adm:1")
    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    client.force_login(admin_user)
    entry = StatusEntry.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/status/statusentry/",
            {"action": "revoke_selected", "_selected_action": [entry.pk]},
        )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == "revoked"
    assert entry.changes.get().actor == "root"
    assert StatusListVersion.objects.count() == 2
    page = client.get("/admin/status/statuslistversion/")
    assert page.status_code == 200


def test_admin_status_actions_need_more_than_the_view_permission(office, client):
    # The change permission (superusers only) guards the actions, not only the change form.
    from django.contrib.auth.models import Permission

    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:adm:view-only")
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.org", "pw-123456")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_statusentry"))
    client.force_login(viewer)
    page = client.get("/admin/status/statusentry/")
    assert page.status_code == 200
    assert "revoke_selected" not in page.content.decode()
    entry = StatusEntry.objects.get()
    for action in ("revoke_selected", "suspend_selected"):
        client.post(
            "/admin/status/statusentry/", {"action": action, "_selected_action": [entry.pk]}
        )
    entry.refresh_from_db()
    assert entry.state == "active"
    assert not entry.changes.exists()


def test_saving_a_status_entry_change_page_writes_nothing(office, client):
    # Every field is read-only there, but Django would write the row back as it read it: a
    # revocation committed between that read and the save would be undone.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:adm:save")
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    client.force_login(root)
    entry = StatusEntry.objects.get()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/admin/status/statusentry/{entry.pk}/change/", {"_save": "Save"})
    assert response.status_code == 302
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [sql for sql in writes if "status_statusentry" in sql]
