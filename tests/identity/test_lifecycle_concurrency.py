"""The DID life cycle under concurrent writers: rotations, deactivation, compromise marks and
wallet links that wait for one another's row locks must still leave one consistent history.

PostgreSQL only (real row locks between connections). Each race is made deterministic: a
transaction holds the DID's row lock while the other writer is seen waiting for it
(`pg_blocking_pids`), then the holder acts and commits.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from identity.errors import DidOperationRefused
from identity.models import Did, DidKey, LinkedDid
from identity.resolution import resolve
from identity.services import (
    did_create,
    did_deactivate,
    did_key_rotate,
    did_link_wallet,
    registry_did_ensure,
)
from registry.anchoring.hooks import DID_VERSION_KIND, did_version_data, did_version_key
from registry.anchoring.models import LogLeaf
from registry.audit.models import AuditEvent
from registry.credentials.services import credential_verify
from registry.participants.services import participant_create
from registry.trust.services import (
    accreditation_grant,
    issuer_key_mark_compromised,
    office_signing_key_rotate,
)
from tests.registry.trust.factories import office as make_office
from tests.registry.trust.test_key_management import issue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite in memory cannot run them)",
    ),
]

WALLET = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


class Background:
    """Run `target` in a thread with its own connection; keep what it returns or raises."""

    def __init__(self, target):
        self.result = None
        self.error = None

        def run():
            try:
                self.result = target()
            except Exception as exc:  # noqa: BLE001 - asserted by the test
                self.error = exc
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        return self


class LockHolder:
    """A transaction in another thread that locks rows, waits to be told, runs `then` inside
    the same transaction, and commits."""

    def __init__(self, lock, then=None):
        self.locked = threading.Event()
        self.release = threading.Event()

        def run():
            with transaction.atomic():
                lock()
                self.locked.set()
                assert self.release.wait(60)
                if then is not None:
                    then()

        self.background = Background(run)
        assert self.locked.wait(60), self.background.join().error

    def commit(self):
        self.release.set()
        self.background.join()
        assert self.background.error is None, self.background.error


def wait_until_blocked(n: int = 1) -> None:
    """Until `n` other backends wait for a lock held by another backend of this test."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
            )
            if cursor.fetchone()[0] >= n:
                return
        time.sleep(0.02)
    raise AssertionError("the other writer never waited for the lock")


def lock_did(did: str):
    return lambda: Did.objects.select_for_update().get(did=did)


def next_second():
    # issuanceDate has second precision: make the issuance's second later than anything before.
    time.sleep(1.05 - (timezone.now().microsecond / 1e6))


def assert_history_is_consistent(did: str):
    versions = list(Did.objects.get(did=did).versions.order_by("version_id"))
    times = [v.created_at for v in versions]
    assert times == sorted(times), "version times go backwards"
    for key in DidKey.objects.filter(did__did=did):
        assert key.retired_at is None or key.retired_at >= key.activated_at, key
    # versionTime at the last version's time resolves to the last version
    latest = resolve(did, version_time=times[-1])
    assert latest.document_metadata["versionId"] == str(versions[-1].version_id)
    # and the log holds each version once, with its document's hash and time (two writers'
    # on-commit hooks may append in either order: the leaf carries versionId and time)
    leaves = LogLeaf.objects.filter(kind=DID_VERSION_KIND, key__startswith=f"{did}?versionId=")
    assert sorted(leaf.key for leaf in leaves) == sorted(
        did_version_key(did, v.version_id) for v in versions
    )
    anchored = {leaf.key: json.loads(leaf.entry)["data"] for leaf in leaves}
    for v in versions:  # the stored document and time are what was anchored
        assert anchored[did_version_key(did, v.version_id)] == did_version_data(v)


def test_a_rotation_that_waited_for_the_lock_does_not_go_back_in_time():
    did = did_create(path="agents:race-rotate").did
    holder = LockHolder(lock_did(did), then=lambda: did_key_rotate(did=did))
    waiting = Background(lambda: did_key_rotate(did=did))
    wait_until_blocked()
    time.sleep(0.01)
    holder.commit()  # its rotation (key-2) commits first
    assert waiting.join().error is None, waiting.error

    assert sorted(DidKey.objects.filter(did__did=did).values_list("number", flat=True)) == [1, 2, 3]
    assert DidKey.objects.filter(did__did=did, retired_at__isnull=True).count() == 1
    assert_history_is_consistent(did)


def test_a_deactivation_that_waited_for_the_lock_does_not_go_back_in_time():
    did = did_create(path="agents:race-deactivate").did
    holder = LockHolder(lock_did(did), then=lambda: did_key_rotate(did=did))
    waiting = Background(lambda: did_deactivate(did=did))
    wait_until_blocked()
    time.sleep(0.01)
    holder.commit()
    assert waiting.join().error is None, waiting.error
    assert_history_is_consistent(did)


def _issuer_and_applicant():
    office = make_office()
    accreditation_grant(office=office, credential_types=["IPApplicantCredential"])
    applicant = participant_create(kind="applicant", display_name="Example Ltd", country="FR")
    return office, applicant


def _issue(office, applicant):
    return issue(office, applicant)


def test_a_credential_signed_while_a_rotation_waits_for_the_lock_keeps_verifying():
    office, applicant = _issuer_and_applicant()
    did = office.did.did
    holder = LockHolder(lock_did(did))
    rotation = Background(lambda: did_key_rotate(did=did))
    wait_until_blocked()
    next_second()
    # The rotation has not happened yet: the current key signs (the issuance then waits too,
    # its inserts reference the locked DID row).
    issuance = Background(lambda: _issue(office, applicant))
    wait_until_blocked(2)
    holder.commit()
    assert rotation.join().error is None, rotation.error
    assert issuance.join().error is None, issuance.error
    issued = issuance.result

    signer = issued.document["proof"]["verificationMethod"].split("#")[0]
    assert signer != rotation.result.did_key
    report = credential_verify(issued.document)
    assert report.verified, report.failed


def test_compromise_marks_racing_keep_the_earliest_time():
    office, _ = _issuer_and_applicant()
    key = office.did.keys.get(number=1)
    earlier = timezone.now() - timezone.timedelta(hours=2)
    later = timezone.now() - timezone.timedelta(hours=1)
    # One mark (the earlier time) holds the DID and the key; the other (later) waits for them.
    holder = LockHolder(
        lambda: (
            Did.objects.select_for_update().get(pk=office.did.pk),
            DidKey.objects.select_for_update().get(pk=key.pk),
        ),
        then=lambda: issuer_key_mark_compromised(actor=None, did_key=key.did_key, since=earlier),
    )
    waiting = Background(
        lambda: issuer_key_mark_compromised(actor=None, did_key=key.did_key, since=later)
    )
    wait_until_blocked()
    holder.commit()
    assert waiting.join().error is None, waiting.error

    key.refresh_from_db()
    assert key.compromised_at == earlier
    # one rotation for one compromise
    assert office.did.keys.count() == 2


def test_marking_a_key_compromised_while_its_did_rotates_does_not_deadlock():
    did = did_create(path="agents:race-compromise").did
    key = DidKey.objects.get(did__did=did, number=1)
    since = timezone.now() - timezone.timedelta(minutes=5)
    # A rotation that holds the DID's lock while a compromise mark starts.
    holder = LockHolder(lock_did(did), then=lambda: did_key_rotate(did=did))
    mark = Background(
        lambda: issuer_key_mark_compromised(actor=None, did_key=key.did_key, since=since)
    )
    wait_until_blocked()
    holder.commit()
    assert mark.join().error is None, mark.error
    key.refresh_from_db()
    assert key.compromised_at == since
    assert DidKey.objects.filter(did__did=did, retired_at__isnull=True).count() == 1


def test_one_wallet_linked_to_two_dids_at_once_is_refused_not_an_error():
    first = did_create(path="agents:race-wallet-a").did
    second = did_create(path="agents:race-wallet-b").did
    # The first link is written (uncommitted) when the second checks and inserts.
    holder = LockHolder(lambda: did_link_wallet(did=first, wallet_did=WALLET))
    waiting = Background(lambda: did_link_wallet(did=second, wallet_did=WALLET))
    wait_until_blocked()
    holder.commit()
    waiting.join()
    assert isinstance(waiting.error, DidOperationRefused), repr(waiting.error)
    assert list(LinkedDid.objects.values_list("did__did", flat=True)) == [first]
    assert Did.objects.get(did=second).versions.count() == 1


def test_the_registry_did_created_twice_at_once_is_created_once():
    # On a fresh database the first web request and the first beat sweep both ensure it.
    holder = LockHolder(lambda: did_create(path=""))
    ensuring = Background(registry_did_ensure)
    wait_until_blocked()
    holder.commit()
    assert ensuring.join().error is None, repr(ensuring.error)
    assert ensuring.result.pk == Did.objects.get(path="").pk
    assert Did.objects.get(path="").versions.count() == 1


def test_the_audit_of_a_rotation_that_waited_names_the_key_it_replaced():
    office, _ = _issuer_and_applicant()
    did = office.did.did
    holder = LockHolder(lock_did(did), then=lambda: did_key_rotate(did=did))
    waiting = Background(lambda: office_signing_key_rotate(actor=None, office=office))
    wait_until_blocked()
    holder.commit()
    assert waiting.join().error is None, waiting.error
    event = AuditEvent.objects.get(action="key.rotate")
    keys = {k.number: k.did_key for k in DidKey.objects.filter(did__did=did)}
    assert (event.data["old_key"], event.data["new_key"]) == (keys[2], keys[3])
