"""The management commands and the admin actions, through the same services."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from registry.status.models import StatusEntry, StatusListVersion, StatusOutbox
from registry.status.services import credential_status_change, status_entry_allocate

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
