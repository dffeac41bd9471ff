"""Allocation, status changes and publishing, with real didkit signatures and the real log."""

from __future__ import annotations

import json
from hashlib import sha256

import pytest
from django.test import override_settings

from identity.crypto import didkit_adapter
from registry.status.bitstring import MIN_LIST_BITS, bitstring_decode, set_indexes
from registry.status.errors import (
    CredentialStatusNotFound,
    StatusEntryExists,
    StatusInvalidInput,
    StatusTransitionRefused,
)
from registry.status.models import (
    StatusChange,
    StatusEntry,
    StatusList,
    StatusListVersion,
    StatusOutbox,
)
from registry.status.services import (
    credential_status_change,
    status_entry_allocate,
    status_list_publish,
    status_outbox_sweep,
    status_slot_propose,
)

pytestmark = pytest.mark.django_db


def _latest(status_list: StatusList) -> StatusListVersion:
    return status_list.versions.order_by("-version").first()


def _published_set_bits(status_list: StatusList) -> list[int]:
    body = json.loads(_latest(status_list).body)
    return set_indexes(bitstring_decode(body["credentialSubject"]["encodedList"]))


def test_allocation_returns_a_statuslist2021_entry_pointing_at_a_published_list(office):
    status = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:uuid:one")
    status_list = StatusList.objects.get()
    url = f"http://localhost:8000/status-lists/{status_list.public_id}"
    index = int(status["statusListIndex"])
    assert status == {
        "id": f"{url}#{index}",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }
    assert 0 <= index < MIN_LIST_BITS
    assert status_list.size >= MIN_LIST_BITS
    entry = StatusEntry.objects.get()
    assert (entry.credential_id, entry.index, entry.state) == ("urn:uuid:one", index, "active")
    # The first version (all clear) is published with the list, signed by the office's did:key.
    version = _latest(status_list)
    assert version.version == 1
    body = json.loads(version.body)
    assert body["type"] == ["VerifiableCredential", "StatusList2021Credential"]
    assert body["issuer"] == office.did.keys.get().did_key
    assert body["credentialSubject"]["statusPurpose"] == "revocation"
    assert didkit_adapter.verify_credential(body).ok
    assert version.sha256 == sha256(version.body.encode()).hexdigest()
    assert _published_set_bits(status_list) == []


def test_indexes_are_random_not_sequential(office):
    indexes = [
        int(
            status_entry_allocate(issuer_did=office.did.did, credential_id=f"urn:x:{i}")[
                "statusListIndex"
            ]
        )
        for i in range(40)
    ]
    assert len(set(indexes)) == 40
    assert indexes != sorted(indexes)
    assert max(indexes) - min(indexes) > 1000  # spread over the list, not 0, 1, 2, ...


def test_each_issuer_and_purpose_has_its_own_list(office, other_office):
    a = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:a")
    b = status_entry_allocate(
        issuer_did=office.did.did, credential_id="urn:b", purpose="suspension"
    )
    c = status_entry_allocate(issuer_did=other_office.did.did, credential_id="urn:c")
    d = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:d")
    assert a["statusListCredential"] == d["statusListCredential"]
    assert (
        len({a["statusListCredential"], b["statusListCredential"], c["statusListCredential"]}) == 3
    )
    assert b["statusPurpose"] == "suspension"


@override_settings(STATUS_LIST_SIZE=16)
def test_a_full_list_rolls_over_to_a_new_one_and_never_reuses_an_index(office):
    statuses = [
        status_entry_allocate(issuer_did=office.did.did, credential_id=f"urn:full:{i}")
        for i in range(40)
    ]
    lists = list(StatusList.objects.order_by("sequence"))
    assert [sl.sequence for sl in lists] == [1, 2, 3]
    assert [sl.is_full for sl in lists] == [True, True, False]
    pairs = {(s["statusListCredential"], s["statusListIndex"]) for s in statuses}
    assert len(pairs) == 40
    assert StatusEntry.objects.filter(status_list=lists[0]).count() == 16


@override_settings(STATUS_LIST_SIZE=64)
def test_a_proposed_slot_is_an_index_still_free_even_in_a_nearly_full_list(office):
    for i in range(63):
        status_entry_allocate(issuer_did=office.did.did, credential_id=f"urn:nearly:{i}")
    status_list = StatusList.objects.get()
    taken = set(StatusEntry.objects.values_list("index", flat=True))
    (free,) = set(range(64)) - taken
    # Drawn blind, 63 proposals in 64 would be taken, and each cost issuance a signature.
    proposals = {status_slot_propose(issuer_did=office.did.did).index for _ in range(10)}
    assert proposals == {free}
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:nearly:last")
    assert StatusEntry.objects.get(credential_id="urn:nearly:last").index == free
    assert status_slot_propose(issuer_did=office.did.did) is None  # full: nothing to propose
    status_list.refresh_from_db()
    assert not status_list.is_full  # marked full by the next allocation, which rolls over
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:next")
    assert StatusList.objects.filter(is_full=True).get() == status_list


def test_allocation_refuses_bad_input_and_changes_nothing(office):
    with pytest.raises(StatusInvalidInput):
        status_entry_allocate(issuer_did=office.did.did, credential_id="urn:x", purpose="expiry")
    with pytest.raises(StatusInvalidInput):
        status_entry_allocate(issuer_did="did:web:elsewhere.example", credential_id="urn:x")
    with pytest.raises(StatusInvalidInput):
        status_entry_allocate(issuer_did=office.did.did, credential_id="")
    assert not StatusEntry.objects.exists()
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:x")
    with pytest.raises(StatusEntryExists):
        status_entry_allocate(issuer_did=office.did.did, credential_id="urn:x")
    assert StatusEntry.objects.count() == 1


def test_revoke_publishes_a_new_signed_version_with_that_bit_set(office, change):
    status = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:r")
    other = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:keep")
    result = change(issuer=office, credential_id="urn:r", action="revoke", reason="fraud")
    assert result.changed
    status_list = StatusList.objects.get()
    assert _latest(status_list).version == 2  # eager task in unit tests, on commit
    assert _published_set_bits(status_list) == [int(status["statusListIndex"])]
    assert int(other["statusListIndex"]) not in _published_set_bits(status_list)
    assert not StatusOutbox.objects.filter(published_at__isnull=True).exists()
    change = StatusChange.objects.get()
    assert (change.from_state, change.to_state, change.reason) == ("active", "revoked", "fraud")
    assert change.outbox.version.version == 2


def _plan_of_publication_state(list_id: int) -> str:
    """The database's plan for the statement a publication reads its set bits with, planned as
    the registry runs it: with its parameters bound, not written into the SQL (on PostgreSQL
    the generic plan of a prepared statement, what psycopg's prepared statements settle on)."""
    from django.db import connection, transaction

    from registry.status.services import _PUBLICATION_STATE

    compiled = _PUBLICATION_STATE._compile(connection)
    args = [list_id if slot == "list_id" else slot.value for slot in compiled.slots]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + compiled.sql, args)
            return "\n".join(str(row) for row in cursor.fetchall())
        types = ", ".join("bigint" if isinstance(arg, int) else "text" for arg in args)
        numbered = compiled.sql % tuple(f"${i}" for i in range(1, len(args) + 1))
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny
        cursor.execute(f"PREPARE publication_state ({types}) AS {numbered}")
        try:
            literals = ", ".join(str(arg) if isinstance(arg, int) else f"'{arg}'" for arg in args)
            cursor.execute(f"EXPLAIN EXECUTE publication_state({literals})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE publication_state")


def test_a_publication_reads_only_the_set_bits_not_every_entry(office, change):
    # A full list holds 131,072 entries; reading them all made each publication 23 ms slower on
    # PostgreSQL. The partial index of set bits is what spares it, if the planner can use it.
    for n in range(3):
        status_entry_allocate(issuer_did=office.did.did, credential_id=f"urn:bits:{n}")
    change(issuer=office, credential_id="urn:bits:1", action="revoke")
    status_list = StatusList.objects.get()
    assert "statusentry_set_bits" in _plan_of_publication_state(status_list.pk)


def test_suspend_and_reinstate_a_suspendable_credential(office, change):
    status = status_entry_allocate(
        issuer_did=office.did.did, credential_id="urn:s", purpose="suspension"
    )
    index = int(status["statusListIndex"])
    status_list = StatusList.objects.get(purpose="suspension")
    change(issuer=office, credential_id="urn:s", action="suspend")
    assert _published_set_bits(status_list) == [index]
    change(issuer=office, credential_id="urn:s", action="reinstate")
    assert _published_set_bits(status_list) == []
    assert _latest(status_list).version == 3
    # Revoking a suspendable credential is final: bit set for good, state revoked.
    change(issuer=office, credential_id="urn:s", action="revoke")
    assert _published_set_bits(status_list) == [index]
    assert StatusEntry.objects.get().state == "revoked"
    with pytest.raises(StatusTransitionRefused):
        credential_status_change(issuer=office, credential_id="urn:s", action="reinstate")
    with pytest.raises(StatusTransitionRefused):
        credential_status_change(issuer=office, credential_id="urn:s", action="suspend")
    assert StatusEntry.objects.get().state == "revoked"


def test_repeating_a_change_in_effect_is_a_no_op_without_a_new_version(office, change):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:n")
    change(issuer=office, credential_id="urn:n", action="revoke")
    again = change(issuer=office, credential_id="urn:n", action="revoke")
    assert not again.changed
    assert StatusListVersion.objects.count() == 2
    assert StatusChange.objects.count() == 1


def test_bad_changes_are_refused_and_change_nothing(office, other_office):
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:mine")
    before = (
        StatusChange.objects.count(),
        StatusOutbox.objects.count(),
        StatusListVersion.objects.count(),
    )
    with pytest.raises(CredentialStatusNotFound):
        credential_status_change(issuer=office, credential_id="urn:unknown", action="revoke")
    # Another issuer's credential is exactly as unknown as a missing one.
    with pytest.raises(CredentialStatusNotFound):
        credential_status_change(issuer=other_office, credential_id="urn:mine", action="revoke")
    with pytest.raises(StatusInvalidInput):
        credential_status_change(issuer=office, credential_id="urn:mine", action="delete")
    # Issued with purpose revocation: cannot be suspended.
    with pytest.raises(StatusTransitionRefused):
        credential_status_change(issuer=office, credential_id="urn:mine", action="suspend")
    assert StatusEntry.objects.get().state == "active"
    after = (
        StatusChange.objects.count(),
        StatusOutbox.objects.count(),
        StatusListVersion.objects.count(),
    )
    assert after == before


def test_publish_is_idempotent_and_the_sweep_publishes_what_the_queue_missed(office, monkeypatch):
    status = status_entry_allocate(issuer_did=office.did.did, credential_id="urn:q")
    status_list = StatusList.objects.get()
    assert status_list_publish(status_list_id=status_list.pk) is None  # nothing pending
    # A change whose publish message was lost: write the change with the enqueue failing.
    from registry.status import services

    monkeypatch.setattr(services, "status_list_publish_enqueue", lambda list_id: False)
    credential_status_change(issuer=office, credential_id="urn:q", action="revoke")
    monkeypatch.undo()
    assert StatusOutbox.objects.filter(published_at__isnull=True).count() == 1
    assert _latest(status_list).version == 1
    assert status_outbox_sweep() == 1
    assert _latest(status_list).version == 2
    assert _published_set_bits(status_list) == [int(status["statusListIndex"])]
    assert status_outbox_sweep() == 0
    assert status_list_publish(status_list_id=status_list.pk) is None
    assert StatusListVersion.objects.count() == 2


def test_one_publication_claims_every_pending_change_past_one_claim_batch(office, monkeypatch):
    """Changes queued while no worker ran (the outbox claim updates them in batches of 500)."""
    from registry.status import services

    ids = [f"urn:batch:{i}" for i in range(services._CLAIM_BATCH + 7)]
    indexes = [
        int(status_entry_allocate(issuer_did=office.did.did, credential_id=i)["statusListIndex"])
        for i in ids
    ]
    status_list = StatusList.objects.get()
    monkeypatch.setattr(services, "status_list_publish_enqueue", lambda list_id: False)
    for credential_id in ids:
        credential_status_change(issuer=office, credential_id=credential_id, action="revoke")
    monkeypatch.undo()
    assert StatusOutbox.objects.filter(published_at__isnull=True).count() == len(ids)

    version = status_list_publish(status_list_id=status_list.pk)

    assert StatusOutbox.objects.filter(published_at__isnull=True).count() == 0
    assert StatusOutbox.objects.filter(version=version).count() == len(ids)
    assert _published_set_bits(status_list) == sorted(indexes)
    assert status_list_publish(status_list_id=status_list.pk) is None


def test_every_published_version_is_anchored_once_in_the_log(office, change):
    from registry.anchoring.models import LogLeaf

    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:l1")
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:l2")
    change(issuer=office, credential_id="urn:l1", action="revoke")
    change(issuer=office, credential_id="urn:l2", action="revoke")
    versions = list(StatusListVersion.objects.order_by("version"))
    leaves = list(LogLeaf.objects.filter(kind="status-list").order_by("index"))
    assert len(leaves) == len(versions) == 3
    for version, leaf in zip(versions, leaves, strict=True):
        assert leaf.key == f"{version.status_list.public_id}:{version.version}"
        assert leaf.data["sha256"] == version.sha256 == sha256(version.body.encode()).hexdigest()
        assert version.anchor_leaf_index == leaf.index
