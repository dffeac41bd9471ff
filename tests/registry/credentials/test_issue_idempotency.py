"""Retrying an issuance safely: with an `Idempotency-Key`, an office whose first response was
lost (a timeout, a dropped connection) sends the same request again and gets the same
credential back, never a second one; the key with another request is refused."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from registry.audit.models import AuditEvent
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
def test_concurrent_retries_with_one_key_issue_one_credential(office, applicant):
    """Retries racing each other (a client timing out twice in a row): each request has its own
    database connection; whichever inserts first issues, the others get its credential."""
    body = _body(applicant)
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
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == len(clients) - 1
    assert IssuedCredential.objects.filter(issuer=office).count() == 1
    assert StatusEntry.objects.filter(status_list__issuer=office.did).count() == 1
