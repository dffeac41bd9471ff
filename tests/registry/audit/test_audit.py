"""The audit trail: append-only at every level, login events, filters and JSON-lines export."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from registry.api.services import api_key_create
from registry.audit.models import AuditEvent, AuditTrailIsAppendOnly
from registry.audit.services import audit_record
from tests.registry.trust.factories import UserFactory, office

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_admin():
    user = UserFactory(is_superuser=True, is_staff=True)
    user.save()
    return user


def test_record_fields_from_a_request(rf, root_admin):
    request = rf.post("/x", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="curl/8")
    event = audit_record(
        actor=root_admin, action="thing.do", target="did:web:x", data={"at": timezone.now()},
        request=request,
    )  # fmt: skip
    event.refresh_from_db()
    assert (event.actor_type, event.actor_label) == ("user", root_admin.username)
    assert (event.ip, event.user_agent) == ("192.0.2.7", "curl/8")
    assert isinstance(event.data["at"], str)


def test_api_key_actor_carries_its_office():
    ep = office("EP")
    api_key, _ = api_key_create(office=ep, scopes="issue")
    event = audit_record(actor=api_key, action="credential.issue", target="urn:uuid:1")
    assert (event.actor_type, event.actor_label, event.office) == (
        "api_key",
        f"api-key {api_key.prefix}",
        "EP",
    )


def test_data_is_stored_as_json_whatever_its_values():
    at = datetime(2026, 12, 3, 14, 5, 6, 789012, tzinfo=UTC)
    flat = audit_record(actor=None, action="t.flat", target="x", data={"a": "b", "n": 1, "z": None})
    rich = audit_record(
        actor=None,
        action="t.rich",
        target="x",
        data={"at": at, "nested": {"list": (1, 2)}, "other": object.__new__(_Opaque)},
    )
    flat.refresh_from_db()
    rich.refresh_from_db()
    assert flat.data == {"a": "b", "n": 1, "z": None}
    # Datetimes in ISO 8601 (RFC 3339), as every other time the registry writes; a value with
    # no JSON form is kept as its text rather than failing the action it records.
    assert rich.data == {
        "at": "2026-12-03T14:05:06.789Z",
        "nested": {"list": [1, 2]},
        "other": "opaque value",
    }


class _Opaque:
    def __str__(self) -> str:
        return "opaque value"


def test_no_update_or_delete_path():
    event = audit_record(actor=None, action="x.y", target="t")
    event.action = "changed"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.action == "x.y"


def test_database_refuses_updates_behind_the_orms_back():
    event = audit_record(actor=None, action="x.y", target="t")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.action == "x.y"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE guard is PostgreSQL only")
def test_postgresql_refuses_deletes_too():
    event = audit_record(actor=None, action="x.y", target="t")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_logins_and_failures_are_recorded(root_admin):
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.post("/admin/login/", {"username": root_admin.username, "password": "wrong"})
    client.post("/admin/login/", {"username": root_admin.username, "password": "pw-for-tests"})
    events = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("id"))
    assert [e.action for e in events] == ["auth.login_failed", "auth.login"]
    assert events[0].target == f"user:{root_admin.username}"
    assert events[0].ip == "198.51.100.4"
    assert events[1].actor_label == root_admin.username
    assert events[1].data["path"] == "/admin/login/"


def test_a_failed_login_names_no_username_that_is_not_an_account(root_admin):
    # People type their password in the username field: it must not be kept in the trail.
    client = Client(REMOTE_ADDR="198.51.100.5")
    client.post("/admin/login/", {"username": "Hunter2-my-password", "password": "x"})
    client.post("/accounts/login/", {"username": "hunter2@my-password.example", "password": "x"})
    events = list(AuditEvent.objects.filter(action="auth.login_failed"))
    assert len(events) == 2
    for event in events:
        assert event.target == "user:(no such account)"
        assert event.data["knownAccount"] is False
        assert "unter2" not in json.dumps(event.data)
        assert event.ip == "198.51.100.5"  # the attempt itself stays on record
    client.post("/admin/login/", {"username": root_admin.username.upper(), "password": "x"})
    assert AuditEvent.objects.filter(action="auth.login_failed", data__knownAccount=True).exists()


def test_admin_is_read_only_and_for_registry_admins(root_admin):
    event = audit_record(actor=None, action="x.y", target="t")
    client = Client()
    client.force_login(root_admin)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/audit/auditevent/",
        {"action": "export_json_lines", "_selected_action": [event.pk]},
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert json.loads(lines[0])["action"] == "x.y"
    staff = UserFactory(is_staff=True)
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/audit/auditevent/").status_code == 403


def test_export_command_filters_and_orders(tmp_path):
    old = audit_record(actor=None, action="accreditation.grant", target="accreditation:1")
    audit_record(actor=None, action="api_key.create", target="api-key:x", office="EP")
    audit_record(actor=None, action="accreditation.withdraw", target="accreditation:1")
    out = StringIO()
    call_command("audit_export", "--action", "accreditation.", stdout=out, stderr=StringIO())
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["accreditation.grant", "accreditation.withdraw"]
    path = tmp_path / "audit.jsonl"
    call_command("audit_export", "--office", "ep", "--output", str(path), stderr=StringIO())
    assert [json.loads(x)["action"] for x in path.read_text().splitlines()] == ["api_key.create"]
    out = StringIO()
    since = (old.created_at + timedelta(days=1)).isoformat()
    call_command("audit_export", "--since", since, stdout=out, stderr=StringIO())
    assert out.getvalue() == ""


def test_export_to_a_path_that_cannot_be_written_is_a_clear_error(tmp_path):
    # was a FileNotFoundError traceback
    with pytest.raises(CommandError, match="cannot write"):
        call_command(
            "audit_export", "--output", str(tmp_path / "missing" / "a.jsonl"), stderr=StringIO()
        )


def test_export_endpoint_for_registry_admins_only(root_admin):
    audit_record(actor=None, action="accreditation.grant", target="accreditation:1")
    client = Client()
    assert client.get("/audit/events").status_code in (401, 403)
    officer = UserFactory()
    officer.save()
    client.force_login(officer)
    response = client.get("/audit/events")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    client.force_login(root_admin)
    response = client.get("/audit/events?action=accreditation.grant")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [r["action"] for r in rows] == ["accreditation.grant"]
    assert client.get("/audit/events?since=yesterday").status_code == 400
    # Exporting is itself on record.
    assert AuditEvent.objects.filter(
        action="audit.export", actor_label=root_admin.username
    ).exists()
