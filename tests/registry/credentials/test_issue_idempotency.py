"""Retrying an issuance safely: with an `Idempotency-Key`, an office whose first response was
lost (a timeout, a dropped connection) sends the same request again and gets the same
credential back, never a second one; the key with another request is refused."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from registry import celery_app
from registry.audit.models import AuditEvent
from registry.credentials import tasks  # noqa: F401  (registers the purge task)
from registry.credentials.models import IssuedCredential
from registry.status.models import StatusEntry
from tests.openapi_check import assert_response_matches_schema

from .conftest import api_client, applicant_claims


def _body(applicant, proof_format="ldp", **subject_changes) -> dict:
    return {
        "credential": {
            "type": ["VerifiableCredential", "IPApplicantCredential"],
            "credentialSubject": {**applicant_claims(applicant), **subject_changes},
        },
        "options": {"proofFormat": proof_format},
    }


def _issue(client, body, key=None, *, raw: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    if raw is not None:
        return client.generic(
            "POST", "/credentials/issue", raw, content_type="application/json", **headers
        )
    return client.post("/credentials/issue", body, format="json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_a_retry_with_the_same_key_gets_the_same_credential(office, applicant, proof_format):
    client = api_client(office)
    body = _body(applicant, proof_format)
    first = _issue(client, body, "order-4711")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first

    retry = _issue(client, body, "order-4711")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert_response_matches_schema(retry, method="POST")

    # one credential, one status entry, one audited issuance (naming the key)
    assert IssuedCredential.objects.filter(issuer=office).count() == 1
    assert StatusEntry.objects.filter(status_list__issuer=office.did).count() == 1
    credential_id = IssuedCredential.objects.get(issuer=office).credential_id
    events = AuditEvent.objects.filter(action="credential.issue", target=credential_id)
    assert [e.data["idempotencyKey"] for e in events] == ["order-4711"]


@pytest.mark.django_db
def test_the_same_request_in_another_key_order_and_spacing_is_a_retry(office, applicant):
    client = api_client(office)
    body = _body(applicant)
    first = _issue(client, body, "k-1")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    retry = _issue(client, None, "k-1", raw=reordered)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert IssuedCredential.objects.filter(issuer=office).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused_and_issues_nothing(office, applicant):
    client = api_client(office)
    first = _issue(client, _body(applicant), "k-2")
    other = _issue(client, _body(applicant, address="2 rue Autre, Lyon"), "k-2")
    assert other.status_code == 422
    assert other.json()["error"] == "idempotencyKeyReused"
    assert first.json()["verifiableCredential"]["id"] in other.json()["message"]
    assert_response_matches_schema(other, method="POST")
    # another format is another request too
    assert _issue(client, _body(applicant, "jwt"), "k-2").status_code == 422
    assert IssuedCredential.objects.filter(issuer=office).count() == 1


@pytest.mark.django_db
def test_keys_are_per_office_and_requests_without_a_key_each_issue(office, other_office, applicant):
    body = _body(applicant)
    ours = _issue(api_client(office), body, "shared-key").json()["verifiableCredential"]
    theirs = _issue(api_client(other_office), body, "shared-key").json()["verifiableCredential"]
    assert ours["id"] != theirs["id"]
    assert ours["issuer"]["registryDid"] == office.did.did
    assert theirs["issuer"]["registryDid"] == other_office.did.did

    client = api_client(office)
    assert _issue(client, body).status_code == 201
    assert _issue(client, body).status_code == 201
    assert IssuedCredential.objects.filter(issuer=office).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "   ", "x" * 256, "clé", 'a"b', '""', "tab\there"], ids=repr)
def test_a_malformed_key_is_a_400_and_issues_nothing(office, applicant, bad):
    response = _issue(api_client(office), _body(applicant), bad)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalidInput"
    assert "Idempotency-Key" in response.json()["message"]
    assert IssuedCredential.objects.filter(issuer=office).count() == 0


@pytest.mark.django_db
def test_a_structured_field_string_is_the_same_key_unquoted(office, applicant):
    client = api_client(office)
    body = _body(applicant)
    first = _issue(client, body, '"8e0b7c52-6f9c-4f6e-9d1b-2a0c3f7a9e11"')
    retry = _issue(client, body, "8e0b7c52-6f9c-4f6e-9d1b-2a0c3f7a9e11")
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert (
        IssuedCredential.objects.get(issuer=office).idempotency_key
        == "8e0b7c52-6f9c-4f6e-9d1b-2a0c3f7a9e11"
    )


def _age(credential_id: str, *, hours: float) -> None:
    """Make a credential (and its key) look issued `hours` earlier than it was."""
    IssuedCredential.objects.filter(credential_id=credential_id).update(
        issued_at=F("issued_at") - timedelta(hours=hours)
    )


def _credential_id(response) -> str:
    return response.json()["verifiableCredential"]["id"]


@pytest.mark.django_db
def test_a_key_replays_within_its_retention_window_and_issues_anew_after_it(office, applicant):
    client = api_client(office)
    body = _body(applicant)
    window = settings.IDEMPOTENCY_KEY_RETENTION_HOURS
    first = _credential_id(_issue(client, body, "order-1"))

    _age(first, hours=window - 0.1)
    retry = _issue(client, body, "order-1")
    assert retry["Idempotent-Replayed"] == "true"
    assert _credential_id(retry) == first

    _age(first, hours=0.2)  # now past the window
    late = _issue(client, body, "order-1")
    assert late.status_code == 201, late.content
    assert "Idempotent-Replayed" not in late
    second = _credential_id(late)
    assert second != first
    # The old credential stays, its key forgotten; the new one holds the key from now on.
    old = IssuedCredential.objects.get(credential_id=first)
    assert (old.idempotency_key, old.request_sha256) == ("", "")
    assert IssuedCredential.objects.get(idempotency_key="order-1").credential_id == second
    assert _credential_id(_issue(client, body, "order-1")) == second  # replays the new one
    assert IssuedCredential.objects.filter(issuer=office).count() == 2


@pytest.mark.django_db
def test_an_expired_key_with_another_request_issues_instead_of_refusing(office, applicant):
    client = api_client(office)
    first = _credential_id(_issue(client, _body(applicant), "k-9"))
    _age(first, hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS + 1)
    other = _issue(client, _body(applicant, address="2 rue Autre, Lyon"), "k-9")
    assert other.status_code == 201, other.content
    assert _credential_id(other) != first
    # Looking a key up finds only what it issued within the window.
    found = client.get("/credentials", {"idempotencyKey": "k-9"}).json()["results"]
    assert [c["id"] for c in found] == [_credential_id(other)]


@pytest.mark.django_db
def test_the_retention_window_is_the_setting(office, applicant, settings):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 2
    client = api_client(office)
    body = _body(applicant)
    first = _credential_id(_issue(client, body, "k-10"))
    _age(first, hours=3)
    assert _credential_id(_issue(client, body, "k-10")) != first


@pytest.mark.django_db
def test_the_purge_forgets_expired_keys_only_and_keeps_every_credential(office, applicant):
    client = api_client(office)
    window = settings.IDEMPOTENCY_KEY_RETENTION_HOURS
    expired = _credential_id(_issue(client, _body(applicant), "old"))
    _age(expired, hours=window + 1)
    recent = _credential_id(_issue(client, _body(applicant, address="3 rue Neuve"), "recent"))
    _age(recent, hours=window - 1)
    keyless = _credential_id(_issue(client, _body(applicant, address="4 rue Sans Clé")))
    _age(keyless, hours=window + 1)

    # What beat runs every hour, by the name its schedule gives.
    entry = settings.CELERY_BEAT_SCHEDULE["credentials-idempotency-keys-purge"]
    assert celery_app.tasks[entry["task"]].delay().get() == 1

    rows = {
        c.credential_id: (c.idempotency_key, c.request_sha256)
        for c in IssuedCredential.objects.filter(issuer=office)
    }
    assert set(rows) == {expired, recent, keyless}
    assert rows[expired] == ("", "")
    assert rows[recent][0] == "recent"
    assert len(rows[recent][1]) == 64
    assert rows[keyless] == ("", "")
    # The audit trail still names the key the expired credential was issued with.
    event = AuditEvent.objects.get(action="credential.issue", target=expired)
    assert event.data["idempotencyKey"] == "old"

    _age(recent, hours=2)
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue().startswith(f"1 idempotency key(s) older than {window} hours")
    assert not IssuedCredential.objects.exclude(idempotency_key="").exists()
    assert IssuedCredential.objects.filter(issuer=office).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
@pytest.mark.parametrize("key_held_before", [False, True], ids=["new-key", "expired-key"])
def test_concurrent_retries_with_one_key_issue_one_credential(office, applicant, key_held_before):
    """Retries racing each other (a client timing out twice in a row): each request has its own
    database connection; whichever inserts first issues, the others get its credential. The
    same when the key was last used past the retention window: each request forgets the old
    holder, one issues."""
    body = _body(applicant)
    expired = None
    if key_held_before:
        expired = _credential_id(_issue(api_client(office), body, "race-1"))
        _age(expired, hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS + 1)
    clients = [api_client(office) for _ in range(6)]
    start = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)

    def retry(i):
        try:
            start.wait()
            responses[i] = _issue(clients[i], body, "race-1")
        finally:
            connection.close()

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201] * len(clients), [
        r.content for r in responses
    ]
    ids = {r.json()["verifiableCredential"]["id"] for r in responses}
    assert len(ids) == 1
    assert expired not in ids
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == len(clients) - 1
    issued = 1 + key_held_before
    assert IssuedCredential.objects.filter(issuer=office).count() == issued
    assert StatusEntry.objects.filter(status_list__issuer=office.did).count() == issued
