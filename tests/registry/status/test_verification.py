"""`status_check`: what H3's verifier calls for the "status" check."""

from __future__ import annotations

import base64
import gzip
import json
import random
import time
from hashlib import sha256

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.crypto import didkit_adapter
from identity.services import did_key_rotate, did_signing_key
from registry.status import verification
from registry.status.bitstring import bits_from_indexes, bitstring_encode
from registry.status.models import StatusEntry, StatusList, StatusListVersion
from registry.status.services import (
    credential_status_object,
    status_entry_allocate,
    status_list_credential_build,
    status_lists_audit,
)
from registry.status.verification import status_check

from .conftest import make_credential

pytestmark = pytest.mark.django_db


def _store_version(status_list: StatusList, encoded_list: str, *, signer=None) -> StatusListVersion:
    """Publish a hand-made version of `status_list`, signed by `signer` (default: its issuer)."""
    key, pair = did_signing_key((signer or status_list.issuer).did)
    signed = didkit_adapter.issue_credential(
        status_list_credential_build(
            status_list=status_list,
            encoded_list=encoded_list,
            issuer_did_key=key.did_key,
            issued_at=timezone.now(),
        ),
        key=pair,
    )
    body = json.dumps(signed)
    last = status_list.versions.order_by("-version").first().version
    return StatusListVersion.objects.create(
        status_list=status_list,
        version=last + 1,
        body=body,
        sha256=sha256(body.encode()).hexdigest(),
        published_at=timezone.now(),
    )


def test_an_active_credential_passes(office):
    credential, did_key = make_credential(office)
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (True, "active")


def test_a_credential_without_status_passes_with_its_own_code(office):
    result = status_check({"id": "urn:x"}, issuer_did_key="did:key:z6Mk")
    assert (result.ok, result.code) == (True, "noStatus")


def test_revoked_credential_fails_with_code_revoked(office, change):
    credential, did_key = make_credential(office)
    assert status_check(credential, issuer_did_key=did_key).ok
    change(issuer=office, credential_id=credential["id"], action="revoke")
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "revoked")


def test_suspension_then_reinstatement_then_final_revocation(office, change):
    credential, did_key = make_credential(office, purpose="suspension")
    change(issuer=office, credential_id=credential["id"], action="suspend")
    assert status_check(credential, issuer_did_key=did_key).code == "suspended"
    change(issuer=office, credential_id=credential["id"], action="reinstate")
    assert status_check(credential, issuer_did_key=did_key).code == "active"
    change(issuer=office, credential_id=credential["id"], action="revoke")
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "revoked")


def test_other_hosts_lists_are_refused_not_fetched(office):
    credential, did_key = make_credential(office)
    credential["credentialStatus"]["statusListCredential"] = (
        "https://example.com/credentials/status/3"
    )
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "foreignStatusList")


def test_a_list_of_another_issuer_fails(office, other_office):
    credential, did_key = make_credential(office)
    foreign, _ = make_credential(other_office)
    credential["credentialStatus"] = foreign["credentialStatus"]
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusListIssuerMismatch")


def test_purpose_mismatch_fails(office):
    credential, did_key = make_credential(office)
    credential["credentialStatus"]["statusPurpose"] = "suspension"
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusPurposeMismatch")


@pytest.mark.parametrize("index", ["131072", "99999999999"])
def test_index_out_of_range_fails(office, index):
    credential, did_key = make_credential(office)
    credential["credentialStatus"]["statusListIndex"] = index
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusIndexOutOfRange")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("statusListIndex", "-1", "statusEntryInvalid"),
        ("statusListIndex", "12a", "statusEntryInvalid"),
        ("statusListIndex", None, "statusEntryInvalid"),
        ("statusPurpose", "expiry", "statusEntryInvalid"),
        ("type", "RevocationList2020Status", "unsupportedStatusType"),
        (
            "statusListCredential",
            "http://localhost:8000/status-lists/nope",
            "statusListUnavailable",
        ),
        # PostgreSQL refuses NUL in text: this must not reach a query.
        (
            "statusListCredential",
            "http://localhost:8000/status-lists/a\x00b",
            "statusEntryInvalid",
        ),
    ],
)
def test_malformed_entries_fail_closed(office, field, value, code):
    credential, did_key = make_credential(office)
    credential["credentialStatus"][field] = value
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, code)


def test_a_list_shorter_than_131072_entries_fails_closed(office):
    credential, did_key = make_credential(office)
    _store_version(StatusList.objects.get(), bitstring_encode(bits_from_indexes([], 1024)))
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusListInvalid")
    assert "under 131072" in result.detail


def test_a_gzip_bomb_list_fails_closed(office):
    credential, did_key = make_credential(office)
    bomb = base64.urlsafe_b64encode(gzip.compress(bytes(16 * 1024 * 1024), 6)).decode()
    _store_version(StatusList.objects.get(), bomb)
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusListInvalid")
    assert "inflates past" in result.detail


def test_a_list_signed_by_someone_else_fails(office, other_office):
    credential, did_key = make_credential(office)
    _store_version(
        StatusList.objects.get(issuer=office.did),
        bitstring_encode(bits_from_indexes([], 131072)),
        signer=other_office.did,
    )
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusListIssuerMismatch")


def test_a_stored_list_altered_in_the_database_is_detected(office, change):
    credential, did_key = make_credential(office)
    change(issuer=office, credential_id=credential["id"], action="revoke")
    assert status_check(credential, issuer_did_key=did_key).code == "revoked"
    # Someone clears the revocation behind the service's back, keeping the old proof.
    version = StatusListVersion.objects.order_by("-pk").first()
    body = json.loads(version.body)
    body["credentialSubject"]["encodedList"] = bitstring_encode(bits_from_indexes([], 131072))
    StatusListVersion.objects.filter(pk=version.pk).update(body=json.dumps(body))
    verification.status_cache_clear()
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, "statusListInvalid")
    problems = status_lists_audit()
    assert [(p.version, p.problem) for p in problems] == [
        (version.version, "body does not match its sha256")
    ]
    # Even with the hash rewritten too, the proof (and the anchored hash) give it away.
    StatusListVersion.objects.filter(pk=version.pk).update(
        sha256=sha256(json.dumps(body).encode()).hexdigest()
    )
    problems = status_lists_audit()
    assert len(problems) == 1
    assert "proof does not verify" in problems[0].problem


def test_audit_is_clean_for_untouched_lists(office, change):
    credential, _ = make_credential(office)
    change(issuer=office, credential_id=credential["id"], action="revoke")
    assert status_lists_audit() == []


def test_after_key_rotation_old_credentials_still_check_against_new_list_versions(office, change):
    credential, old_key = make_credential(office)
    did_key_rotate(did=office.did)
    second, _ = make_credential(office)
    change(issuer=office, credential_id=second["id"], action="revoke")
    body = json.loads(StatusListVersion.objects.order_by("-pk").first().body)
    assert body["issuer"] != old_key  # signed with the new key
    assert status_check(credential, issuer_did_key=old_key).code == "active"
    assert status_check(second, issuer_did_key=old_key).code == "revoked"


def test_a_thousand_credentials_sharing_a_list_read_and_verify_it_once(office, monkeypatch):
    # Within one memo period (the current version is re-read once a second, tested below).
    monkeypatch.setattr(verification, "CURRENT_VERSION_MEMO_SECONDS", 60)
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:many:0")
    status_list = StatusList.objects.get()
    now = timezone.now()
    # The other 999 entries in bulk (allocation itself is tested elsewhere): distinct indexes.
    StatusEntry.objects.bulk_create(
        StatusEntry(
            status_list=status_list,
            index=index,
            credential_id=f"urn:many:{i}",
            purpose="revocation",
            allocated_at=now,
            updated_at=now,
        )
        for i, index in enumerate(
            random.sample(sorted(set(range(131072)) - {status_list.entries.get().index}), 999),
            start=1,
        )
    )
    statuses = [
        credential_status_object(entry)
        for entry in StatusEntry.objects.select_related("status_list").order_by("credential_id")
    ]
    assert len(statuses) == 1000
    did_key = office.did.keys.get().did_key
    credentials = [{"id": f"urn:many:{i}", "credentialStatus": s} for i, s in enumerate(statuses)]
    calls = []
    real_verify = didkit_adapter.verify_credential

    def counting_verify(document, **kwargs):
        calls.append(document.get("id") if isinstance(document, dict) else document)
        return real_verify(document, **kwargs)

    monkeypatch.setattr(didkit_adapter, "verify_credential", counting_verify)
    with CaptureQueriesContext(connection) as queries:
        results = [status_check(c, issuer_did_key=did_key) for c in credentials]
    assert all(r.ok for r in results)
    assert len(calls) == 1  # the list's proof, once
    list_reads = [q for q in queries.captured_queries if "status_statuslistversion" in q["sql"]]
    assert len(list_reads) <= 2  # current version + the body, once
    assert len(queries.captured_queries) <= 3


def test_the_spec_example_list_served_as_ours_reads_as_all_clear(office, vectors_dir):
    # The StatusList2021 spec's own encodedList (16 KiB, nothing set), signed as our list.
    text = (vectors_dir / "status-list-2021/spec-examples/example-02.txt").read_text()
    encoded = text.split('"encodedList": "')[1].split('"')[0]
    credential, did_key = make_credential(office)
    _store_version(StatusList.objects.get(), encoded)
    for index in ("0", "94567", "131071"):
        credential["credentialStatus"]["statusListIndex"] = index
        assert status_check(credential, issuer_did_key=did_key).code == "active"
    credential["credentialStatus"]["statusListIndex"] = "131072"
    assert status_check(credential, issuer_did_key=did_key).code == "statusIndexOutOfRange"


def _version_reads(queries) -> int:
    """The queries that asked which version of a list is current."""
    return sum(
        1
        for q in queries.captured_queries
        if 'MAX("status_statuslistversion"."version")' in q["sql"]
    )


def test_the_current_version_is_read_at_most_once_per_memo_time(office, monkeypatch):
    monkeypatch.setattr(verification, "CURRENT_VERSION_MEMO_SECONDS", 0.2)
    credential, did_key = make_credential(office)
    verification.status_cache_clear()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(200):
            assert status_check(credential, issuer_did_key=did_key).code == "active"
    assert _version_reads(queries) == 1  # asking on every verification cost ~10%
    time.sleep(0.25)
    with CaptureQueriesContext(connection) as queries:
        assert status_check(credential, issuer_did_key=did_key).code == "active"
    assert _version_reads(queries) == 1


def test_a_version_published_by_another_process_is_seen_within_the_memo_time(
    office, change, monkeypatch
):
    monkeypatch.setattr(verification, "CURRENT_VERSION_MEMO_SECONDS", 0.2)
    credential, did_key = make_credential(office)
    assert status_check(credential, issuer_did_key=did_key).code == "active"
    # The publisher is a worker: it tells its own process, not this one.
    memo = dict(verification._current_memo)
    change(issuer=office, credential_id=credential["id"], action="revoke")
    verification._current_memo.clear()
    # this process's memo, still fresh (the revocation above may take longer than the memo time)
    fresh_until = time.monotonic() + 0.2
    verification._current_memo.update(
        {k: (v, pending, fresh_until) for k, (v, pending, _) in memo.items()}
    )
    assert status_check(credential, issuer_did_key=did_key).code == "active"
    time.sleep(0.25)
    assert status_check(credential, issuer_did_key=did_key).code == "revoked"


def test_this_processs_own_publication_is_seen_at_once(office, change, monkeypatch):
    monkeypatch.setattr(verification, "CURRENT_VERSION_MEMO_SECONDS", 60)
    credential, did_key = make_credential(office)
    assert status_check(credential, issuer_did_key=did_key).code == "active"
    change(issuer=office, credential_id=credential["id"], action="revoke")
    assert status_check(credential, issuer_did_key=did_key).code == "revoked"


@pytest.mark.parametrize(
    ("purpose", "action", "code"),
    [("revocation", "revoke", "revoked"), ("suspension", "suspend", "suspended")],
)
def test_a_change_accepted_while_the_broker_is_down_holds_at_once(
    office, change, monkeypatch, purpose, action, code
):
    # The office was told "revoked": verification must not say "active" until a worker
    # publishes the list (which, with the broker down, waits for the sweep).
    from registry.status import services

    credential, did_key = make_credential(office, purpose=purpose)
    assert status_check(credential, issuer_did_key=did_key).code == "active"
    published = StatusListVersion.objects.count()
    monkeypatch.setattr(services, "_broker_down_until", time.monotonic() + 60)
    change(issuer=office, credential_id=credential["id"], action=action)
    assert StatusListVersion.objects.count() == published  # nothing published yet
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.ok, result.code) == (False, code)
    assert "not yet in the published list" in result.detail

    # Another process, its memo past: the same.
    verification._current_memo.clear()
    assert status_check(credential, issuer_did_key=did_key).code == code
    # Once published, the list itself says so.
    services.status_outbox_sweep()
    assert StatusListVersion.objects.count() == published + 1
    verification._current_memo.clear()  # the sweep ran in a worker: seen after the memo time
    result = status_check(credential, issuer_did_key=did_key)
    assert (result.code, "not yet" in result.detail) == (code, False)


def test_a_reinstatement_waiting_to_be_published_still_fails_closed(office, change, monkeypatch):
    from registry.status import services

    credential, did_key = make_credential(office, purpose="suspension")
    change(issuer=office, credential_id=credential["id"], action="suspend")
    assert status_check(credential, issuer_did_key=did_key).code == "suspended"
    monkeypatch.setattr(services, "_broker_down_until", time.monotonic() + 60)
    change(issuer=office, credential_id=credential["id"], action="reinstate")
    # The published list still has the bit set: until it is published, the safer answer.
    assert status_check(credential, issuer_did_key=did_key).code == "suspended"
    services.status_outbox_sweep()
    verification._current_memo.clear()
    assert status_check(credential, issuer_did_key=did_key).code == "active"


def test_checking_an_active_credential_reads_no_entry_while_nothing_is_pending(office):
    credential, did_key = make_credential(office)
    verification.status_cache_clear()
    status_check(credential, issuer_did_key=did_key)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            assert status_check(credential, issuer_did_key=did_key).code == "active"
    assert len(queries.captured_queries) == 0
