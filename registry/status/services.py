"""Status lists: index allocation, revoke / suspend / reinstate, and publishing signed lists.

The write path of a status change (see docs/ARCHITECTURE.md, "Revocation and status lists"):

1. `credential_status_change` flips the entry's state, appends a `StatusChange` and a
   `StatusOutbox` row in ONE transaction, and enqueues the publish task on commit. If Redis is
   down the enqueue fails softly (logged); the periodic sweep catches up.
2. `status_list_publish` (the Celery task's body, also run by the sweep) locks the list, takes the
   pending outbox rows it can see, re-encodes the list from the entries, signs it with the
   issuer's current did:key, stores the version and anchors its SHA-256 in the log, and marks
   exactly those outbox rows published, all in one transaction. A worker killed anywhere before
   the commit leaves nothing behind (the transaction rolls back, the rows stay pending); after
   the commit the rows are no longer pending, so a re-run publishes nothing twice.

Suspension: a credential carries ONE `credentialStatus` (didkit refuses an array). Issuing with
purpose `suspension` puts it in the issuer's suspension list: it can then be suspended and
reinstated; revoking it sets its bit for good (the entry is `revoked` in the database, reported
as revoked by our verifier and API, and never reinstated). A credential issued with purpose
`revocation` (the default) can only be revoked.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Value
from django.utils import timezone

from identity.crypto import didkit_adapter
from identity.models import Did
from identity.precompiled import PrecompiledInsert, PrecompiledQuery, PrecompiledUpdate
from identity.services import did_key_owner, did_signing_key

from . import conf
from .bitstring import bits_from_indexes, bitstring_encode
from .errors import (
    CredentialStatusNotFound,
    StatusEntryExists,
    StatusInvalidInput,
    StatusTransitionRefused,
)
from .models import (
    STATUS_PURPOSES,
    StatusChange,
    StatusEntry,
    StatusList,
    StatusListVersion,
    StatusOutbox,
    StatusPurpose,
)

logger = logging.getLogger(__name__)

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
STATUS_LIST_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
ENTRY_TYPE = "StatusList2021Entry"
ANCHOR_KIND = "status-list"

ACTIONS = ("revoke", "suspend", "reinstate")
# Random indexes are drawn several at a time and checked against the list in one query, so that
# a claim (and, at issuance, the signature made before it) goes to an index that was free: drawn
# blind, a half-full list wasted one signature per issuance and a 90% full one nine (issuance
# 1.5x and 3-5x slower). The draws, in order, before listing every free index of a nearly full
# list: 16 offer a free index below 85% full nine times in ten; 64, at 99% full, about half the
# time.
_CANDIDATE_DRAWS = (16, 64, 64, 64)
# Claims tried per draw: others claiming the same free index at the same moment are rare.
_CLAIMS_PER_DRAW = 4
_rng = secrets.SystemRandom()


# --- helpers -------------------------------------------------------------------------------


def _issuer_did_row(issuer) -> Did:
    """The issuer's registry DID row, from a Participant, a Did, a registry DID or a did:key."""
    if isinstance(issuer, Did):
        return issuer
    related = getattr(issuer, "did", None)  # a Participant
    if isinstance(related, Did):
        return related
    did_value = issuer
    if not isinstance(did_value, str) or not did_value:
        raise StatusInvalidInput("issuer must be a registry DID")
    if did_value.startswith("did:key:"):
        owner = did_key_owner(did_value)
        if owner is None:
            raise StatusInvalidInput("issuer did:key is not a registry key")
        did_value = owner.controller
    did = Did.objects.filter(did=did_value).first()
    if did is None:
        raise StatusInvalidInput(f"{did_value[:100]} is not a registry DID")
    return did


def _check_purpose(purpose: str) -> str:
    if purpose not in STATUS_PURPOSES:
        raise StatusInvalidInput(
            f"statusPurpose must be one of {', '.join(STATUS_PURPOSES)}, not {str(purpose)[:40]!r}"
        )
    return purpose


def _check_credential_id(credential_id: str) -> str:
    if not isinstance(credential_id, str) or not credential_id.strip():
        raise StatusInvalidInput("credentialId must be a non-empty string")
    if len(credential_id) > 300:
        raise StatusInvalidInput("credentialId is longer than 300 characters")
    return credential_id


def credential_status_object(entry: StatusEntry) -> dict:
    """The `credentialStatus` object a credential embeds for this entry."""
    url = entry.status_list.url
    return {
        "id": f"{url}#{entry.index}",
        "type": ENTRY_TYPE,
        "statusPurpose": entry.purpose,
        "statusListIndex": str(entry.index),
        "statusListCredential": url,
    }


# --- allocation ----------------------------------------------------------------------------


def _list_create(*, issuer: Did, purpose: str) -> StatusList | None:
    """Start the next list of this issuer and purpose, and publish its first (all clear)
    version right away, so that every index ever handed out points at a published list."""
    last = (
        StatusList.objects.filter(issuer=issuer, purpose=purpose)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            status_list = StatusList.objects.create(
                public_id=secrets.token_urlsafe(12),
                issuer=issuer,
                purpose=purpose,
                sequence=(last or 0) + 1,
                size=conf.list_size(),
                created_at=timezone.now(),
            )
    except IntegrityError:
        return None  # another process created it first; the caller reads it back
    _publish_locked(status_list)
    return status_list


# The open list of an issuer and purpose: read by every issuance (identity.precompiled).
_OPEN_LIST = PrecompiledQuery(
    lambda issuer_id, purpose: StatusList.objects.filter(
        issuer_id=issuer_id, purpose=purpose, is_full=False
    ).order_by("sequence")[:1],
    issuer_id=int,
    purpose=str,
)


def _open_list(*, issuer: Did, purpose: str) -> StatusList:
    for _ in range(5):
        status_list = _OPEN_LIST.first(issuer_id=issuer.pk, purpose=purpose)
        if status_list is not None:
            return status_list
        created = _list_create(issuer=issuer, purpose=purpose)
        if created is not None:
            return created
    raise RuntimeError("could not open a status list (too much contention)")


_ENTRY_INSERT = PrecompiledInsert(StatusEntry, ignore_conflicts=True)


def _try_index(status_list: StatusList, index: int, credential_id: str) -> bool:
    """Claim `index` of the list for the credential: one INSERT that does nothing when the index
    (or the credential id) is taken, so no savepoint is needed and a collision leaves the
    caller's transaction usable (PostgreSQL: ON CONFLICT DO NOTHING, which waits for a
    concurrent claim of the same index to commit or roll back; SQLite: INSERT OR IGNORE under
    its write lock). The unique constraints stay the arbiters: two credentials never share an
    index, whatever the number of processes."""
    now = timezone.now()
    entry = StatusEntry(
        status_list=status_list,
        index=index,
        credential_id=credential_id,
        purpose=status_list.purpose,
        allocated_at=now,
        updated_at=now,
    )
    if _ENTRY_INSERT.insert(entry):
        return True
    if StatusEntry.objects.filter(credential_id=credential_id).exists():
        raise StatusEntryExists(f"{credential_id[:100]} already has a status entry")
    return False


_taken_sql: dict[tuple[str, int], str] = {}


def _free_candidates(status_list: StatusList, draw: int) -> list[int]:
    """`draw` distinct random indexes of the list, those not taken when read, in random order:
    each is a uniformly random free index (herd privacy: an index must not tell when a
    credential was issued). One query on the (list, index) unique index, its SQL the same for
    every draw of this size, so that it is prepared once."""
    count = min(draw, status_list.size)
    candidates = _rng.sample(range(status_list.size), count)
    sql = _taken_sql.get((connection.vendor, count))
    if sql is None:
        quote = connection.ops.quote_name
        meta = StatusEntry._meta
        index_column = quote(meta.get_field("index").column)
        # Identifiers from the model's metadata, quoted by the backend; values are parameters.
        sql = "SELECT {} FROM {} WHERE {} = %s AND {} IN ({})".format(  # noqa: S608
            index_column,
            quote(meta.db_table),
            quote(meta.get_field("status_list").column),
            index_column,
            ", ".join(["%s"] * count),
        )
        _taken_sql[connection.vendor, count] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [status_list.pk, *candidates])
        taken = {row[0] for row in cursor.fetchall()}
    return [index for index in candidates if index not in taken]


def _claim_random_index(status_list: StatusList, credential_id: str) -> int | None:
    # The unique constraint (list, index) settles races between processes; a collision retries.
    for draw in _CANDIDATE_DRAWS:
        for index in _free_candidates(status_list, draw)[:_CLAIMS_PER_DRAW]:
            if _try_index(status_list, index, credential_id):
                return index
    # A nearly full list: pick among the indexes still free.
    used = set(StatusEntry.objects.filter(status_list=status_list).values_list("index", flat=True))
    free = [i for i in range(status_list.size) if i not in used]
    _rng.shuffle(free)
    for index in free[:_CLAIMS_PER_DRAW]:
        if _try_index(status_list, index, credential_id):
            return index
    if not free:
        StatusList.objects.filter(pk=status_list.pk, is_full=False).update(is_full=True)
    return None


def _status_object(status_list: StatusList, index: int) -> dict:
    url = status_list.url
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": status_list.purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


@transaction.atomic
def status_entry_allocate(
    *, issuer_did: str | Did, credential_id: str, purpose: str = "revocation"
) -> dict:
    """Give `credential_id` a random unused index in the issuer's open list for `purpose` (a new
    list starts when one is full) and return the `credentialStatus` object to embed.

    Call it inside the issuance transaction: if the issuance rolls back, so does the entry.
    `issuer_did` is the issuer's registry DID or its `Did` row (a did:key of the registry is
    mapped to its DID). Raises StatusInvalidInput (400) or StatusEntryExists (409).
    """
    _check_purpose(purpose)
    _check_credential_id(credential_id)
    issuer = _issuer_did_row(issuer_did)
    # A duplicate credential id is caught by its unique constraint (StatusEntryExists).
    for _ in range(10):
        status_list = _open_list(issuer=issuer, purpose=purpose)
        index = _claim_random_index(status_list, credential_id)
        if index is not None:
            return _status_object(status_list, index)
    raise RuntimeError("could not allocate a status list index")


@dataclass(frozen=True)
class StatusSlot:
    """A random index of an open list, proposed before the issuance transaction and claimed
    in it (`status_slot_claim`): the credential is signed in between, outside the transaction,
    so that on SQLite the signature does not hold the database's write lock."""

    status_list: StatusList
    index: int

    def credential_status(self) -> dict:
        return _status_object(self.status_list, self.index)


def status_slot_propose(*, issuer_did: str | Did, purpose: str = "revocation") -> StatusSlot | None:
    """A random free index of the issuer's open list for `purpose`; reads only. None when the
    issuer has no open list yet (the first allocation creates and publishes one), or none of
    the indexes drawn was free (a nearly full list): use `status_entry_allocate`. The index may
    be taken by the time it is claimed."""
    _check_purpose(purpose)
    issuer = _issuer_did_row(issuer_did)
    status_list = _OPEN_LIST.first(issuer_id=issuer.pk, purpose=purpose)
    if status_list is None:
        return None
    for draw in _CANDIDATE_DRAWS[:2]:
        free = _free_candidates(status_list, draw)
        if free:
            return StatusSlot(status_list=status_list, index=free[0])
    return None


def status_slot_claim(slot: StatusSlot, *, credential_id: str) -> bool:
    """Claim a proposed slot for `credential_id` inside the issuance transaction (one INSERT,
    no savepoint): False when the index was taken meanwhile (propose again), StatusEntryExists
    when the credential already has an entry. Rolled back with the issuance."""
    _check_credential_id(credential_id)
    return _try_index(slot.status_list, slot.index, credential_id)


# --- status changes ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChangeResult:
    entry: StatusEntry
    changed: bool
    change: StatusChange | None


# (action, current state) -> new state; absent pairs are refused with the reason given below.
_TRANSITIONS = {
    ("revoke", StatusEntry.State.ACTIVE): StatusEntry.State.REVOKED,
    ("revoke", StatusEntry.State.SUSPENDED): StatusEntry.State.REVOKED,
    ("revoke", StatusEntry.State.REVOKED): None,  # already: no change
    ("suspend", StatusEntry.State.ACTIVE): StatusEntry.State.SUSPENDED,
    ("suspend", StatusEntry.State.SUSPENDED): None,
    ("reinstate", StatusEntry.State.SUSPENDED): StatusEntry.State.ACTIVE,
    ("reinstate", StatusEntry.State.ACTIVE): None,
}


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor[:200]
    prefix = getattr(actor, "prefix", None)
    if prefix:
        return f"api-key {prefix}"[:200]
    username = getattr(actor, "get_username", None)
    return (username() if callable(username) else str(actor))[:200]


def _audit(*, actor, action: str, target: str, data: dict, request=None, issuer=None) -> None:
    from registry.audit.services import audit_record

    office = getattr(issuer, "st3_code", None) or getattr(
        getattr(getattr(issuer, "did", issuer), "participant", None), "st3_code", None
    )
    audit_record(
        actor=actor, action=action, target=target, data=data, request=request, office=office
    )


# Every status change runs these (identity.precompiled): compiled once, read every time.
_ENTRY_LOCKED = PrecompiledQuery(
    lambda credential_id, issuer_id: (
        StatusEntry.objects.select_for_update()
        .select_related("status_list")
        .filter(credential_id=credential_id, status_list__issuer_id=issuer_id)
        .order_by()[:1]
    ),
    credential_id=str,
    issuer_id=int,
)
_ENTRY_UPDATE = PrecompiledUpdate(StatusEntry, ["state", "reason", "updated_at"])
_CHANGE_INSERT = PrecompiledInsert(StatusChange)
_OUTBOX_INSERT = PrecompiledInsert(StatusOutbox)


@transaction.atomic
def credential_status_change(
    *,
    issuer,
    credential_id: str,
    action: str,
    reason: str | None = None,
    actor=None,
    request=None,
) -> StatusChangeResult:
    """Revoke, suspend or reinstate one of `issuer`'s own credentials.

    `issuer` is the acting issuer (a Participant, its Did, or its registry DID). Another issuer's
    credential is reported exactly like an unknown one (404): no existence oracle. Repeating a
    change already in effect succeeds without a new version (`changed` False). Refused (409):
    suspending a credential issued without suspension, anything but revoke on a revoked one.
    Nothing is written on error.
    """
    if action not in ACTIONS:
        raise StatusInvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    _check_credential_id(credential_id)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise StatusInvalidInput("reason is longer than 500 characters")
    # A Participant's did_id spares a query; anything else is looked up.
    issuer_did_id = getattr(issuer, "did_id", None) or _issuer_did_row(issuer).pk
    entry = _ENTRY_LOCKED.first(credential_id=credential_id, issuer_id=issuer_did_id)
    if entry is None:
        raise CredentialStatusNotFound(f"no credential {credential_id[:100]!r} of this issuer")
    if action == "suspend" and entry.purpose != StatusPurpose.SUSPENSION:
        raise StatusTransitionRefused(
            "this credential was issued with statusPurpose revocation: it can be revoked, "
            "not suspended"
        )
    key = (action, entry.state)
    if key not in _TRANSITIONS:
        raise StatusTransitionRefused(f"a {entry.state} credential cannot be {action}d")
    new_state = _TRANSITIONS[key]
    if new_state is None:
        return StatusChangeResult(entry=entry, changed=False, change=None)
    now = timezone.now()
    old_state = entry.state
    entry.state = new_state
    entry.reason = reason
    entry.updated_at = now
    _ENTRY_UPDATE.update(entry)
    change = StatusChange(
        entry=entry,
        action=action,
        from_state=old_state,
        to_state=new_state,
        reason=reason,
        actor=_actor_label(actor),
        at=now,
    )
    _CHANGE_INSERT.insert(change)
    _OUTBOX_INSERT.insert(
        StatusOutbox(status_list=entry.status_list, change=change, created_at=now)
    )
    _audit(
        actor=actor,
        action=f"credential.{action}",
        target=credential_id,
        data={
            "from": old_state,
            "to": new_state,
            "reason": reason,
            "list": entry.status_list.public_id,
        },
        request=request,
        issuer=issuer,
    )
    list_id = entry.status_list_id
    public_id = entry.status_list.public_id

    def enqueue_publish() -> None:
        from .verification import status_change_committed

        status_change_committed(public_id)  # this process's verifiers see it at once
        status_list_publish_enqueue(list_id)

    transaction.on_commit(enqueue_publish, robust=True)
    return StatusChangeResult(entry=entry, changed=True, change=change)


def credential_status_of(credential_id: str, *, issuer=None) -> StatusEntry | None:
    """The status entry of a credential (scoped to `issuer` when given)."""
    qs = StatusEntry.objects.select_related("status_list").filter(credential_id=credential_id)
    if issuer is not None:
        qs = qs.filter(status_list__issuer=_issuer_did_row(issuer))
    return qs.first()


# --- publishing ----------------------------------------------------------------------------

# After a failed enqueue, skip the broker for a while: the sweep catches up, and the enqueue
# thread does not pay a connection timeout per change while Redis is down.
_broker_down_until = 0.0
# Messages are handed to the broker from one background thread, so that a request never waits
# on Redis (down, slow, or a connection timeout away). Lists already waiting for that thread
# are not queued twice: the task publishes everything pending when it runs.
_enqueue_executor: ThreadPoolExecutor | None = None
_enqueue_waiting: set[int] = set()
_enqueue_lock = threading.Lock()


def _celery_eager() -> bool:
    from .tasks import status_list_publish_task

    return bool(getattr(status_list_publish_task.app.conf, "task_always_eager", False))


def status_list_publish_enqueue(status_list_id: int) -> None:
    """Ask a worker to publish the list (called on commit). Never raises, never blocks: with
    Redis down the change waits in the outbox for the periodic sweep."""
    global _enqueue_executor
    if _celery_eager():  # tests and single-process runs: publish now, in this thread
        _enqueue_send(status_list_id)
        return
    with _enqueue_lock:
        if status_list_id in _enqueue_waiting:
            return
        _enqueue_waiting.add(status_list_id)
        if _enqueue_executor is None:
            _enqueue_executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="status-enqueue"
            )
        executor = _enqueue_executor
    executor.submit(_enqueue_send, status_list_id)


def _enqueue_send(status_list_id: int) -> bool:
    global _broker_down_until
    with _enqueue_lock:
        _enqueue_waiting.discard(status_list_id)
    if time.monotonic() < _broker_down_until:
        logger.warning(
            "broker marked down: status list %s left to the outbox sweep", status_list_id
        )
        return False
    from .tasks import status_list_publish_task

    try:
        status_list_publish_task.apply_async(args=[status_list_id], retry=False)
    except Exception as exc:  # the broker's errors vary by transport: any failure is soft here
        if _celery_eager():
            raise  # eager mode: the task itself failed; surface it
        _broker_down_until = time.monotonic() + conf.broker_backoff_seconds()
        logger.warning(
            "could not enqueue publishing of status list %s (%s: %s); the outbox sweep will",
            status_list_id,
            exc.__class__.__name__,
            str(exc)[:200],
        )
        return False
    return True


def status_enqueue_drain(timeout: float = 10.0) -> None:
    """Wait until the enqueue thread has handed over what it holds (tests, shutdown)."""
    with _enqueue_lock:
        executor = _enqueue_executor
    if executor is not None:
        executor.submit(lambda: None).result(timeout=timeout)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_list_credential_build(
    *, status_list: StatusList, encoded_list: str, issuer_did_key: str, issued_at: datetime
) -> dict:
    """The unsigned StatusList2021Credential (VC 1.1, the form didkit signs)."""
    url = status_list.url
    return {
        "@context": [VC_V1_CONTEXT, STATUS_LIST_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        # A plain did:key: proofs verify offline; `did_key_owner` maps it to the registry DID.
        "issuer": issuer_did_key,
        "issuanceDate": _timestamp(issued_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "StatusList2021",
            "statusPurpose": status_list.purpose,
            "encodedList": encoded_list,
        },
    }


def _anchor(version: StatusListVersion) -> int | None:
    from registry.anchoring.services import anchor_record

    leaf = anchor_record(
        kind=ANCHOR_KIND,
        key=version.anchor_key,
        data=status_list_anchor_data(version),
    )
    for name in ("leaf_index", "index"):
        value = getattr(leaf, name, None)
        if isinstance(value, int):
            return value
    return None


def status_list_anchor_data(version: StatusListVersion) -> dict:
    """What the log records for a published version (canonicalised by the log)."""
    return {
        "list": version.status_list.public_id,
        "url": version.status_list.url,
        "version": version.version,
        "sha256": version.sha256,
        "publishedAt": _timestamp(version.published_at),
    }


# The publish path runs these on every status change (identity.precompiled): compiled once,
# read every time.
_LIST_LOCKED = PrecompiledQuery(
    lambda list_id: (
        StatusList.objects.select_for_update().select_related("issuer").filter(pk=list_id)
    ),
    list_id=int,
)


class _SqlString(Value):
    """A string constant of our own written into the SQL, not passed as a parameter: the
    partial index `statusentry_set_bits` is usable only when the query's condition is its
    condition, which a parameter hides from PostgreSQL's generic plan of a prepared statement
    (what psycopg's prepared statements settle on after a few runs)."""

    def as_sql(self, compiler, connection):
        if not isinstance(self.value, str) or not self.value.isalnum():
            raise ValueError("only plain words are written into SQL")
        return f"'{self.value}'", []


# What a publication reads under the list's lock, in one statement (one round trip, and one
# snapshot): the pending outbox rows, the last version number, the indexes whose bit is set,
# each row tagged by its first column.
_PENDING, _LAST_VERSION, _SET_INDEX = 0, 1, 2
_PUBLICATION_STATE = PrecompiledQuery(
    lambda list_id: (
        StatusOutbox.objects.filter(status_list_id=list_id, published_at__isnull=True)
        .order_by()
        .annotate(part=Value(_PENDING))
        .values_list("part", "pk")
        .union(
            # MAX, not ORDER BY ... LIMIT 1: SQLite refuses those inside a UNION. One row,
            # (_LAST_VERSION, NULL) before the first version.
            StatusListVersion.objects.filter(status_list_id=list_id)
            .order_by()
            .annotate(part=Value(_LAST_VERSION))
            .values("part")
            .annotate(last=Max("version"))
            .values_list("part", "last"),
            StatusEntry.objects.filter(status_list_id=list_id)
            .exclude(state=_SqlString(StatusEntry.State.ACTIVE))
            .order_by()
            .annotate(part=Value(_SET_INDEX))
            .values_list("part", "index"),
            all=True,
        )
    ),
    list_id=int,
)


def _publication_state(list_id: int) -> tuple[list[int], int | None, list[int]]:
    """(pending outbox ids in order, last version number or None, set indexes)."""
    parts: tuple[list, list, list] = ([], [], [])
    for part, value in _PUBLICATION_STATE.all(list_id=list_id):
        parts[part].append(value)
    pending, last, set_indexes = parts
    pending.sort()
    return pending, (last[0] if last else None), set_indexes


_VERSION_INSERT = PrecompiledInsert(StatusListVersion)


# Rows per UPDATE of the claim: far below any backend's limit on parameters.
_CLAIM_BATCH = 500


def _outbox_claim(pending: list[int], *, version: StatusListVersion, at: datetime) -> int:
    """Mark exactly the outbox rows `pending` (if still pending) published by `version`; returns
    how many were. One statement per 500 rows, its SQL built from the model's metadata: the
    ORM's `filter(pk__in=...).update(...)` cost ~0.7 ms of Python for this one statement on
    every publication."""
    quote = connection.ops.quote_name
    meta = StatusOutbox._meta
    published_field, version_field = meta.get_field("published_at"), meta.get_field("version")
    published_at = quote(published_field.column)
    # Values prepared by their own fields, as PrecompiledUpdate and save() do.
    values = [
        published_field.get_db_prep_save(at, connection),
        version_field.get_db_prep_save(version.pk, connection),
    ]
    claimed = 0
    with connection.cursor() as cursor:
        for start in range(0, len(pending), _CLAIM_BATCH):
            batch = pending[start : start + _CLAIM_BATCH]
            # Identifiers from the model's metadata, quoted by the backend; values are parameters.
            cursor.execute(
                "UPDATE {} SET {} = %s, {} = %s WHERE {} IN ({}) AND {} IS NULL".format(  # noqa: S608
                    quote(meta.db_table),
                    published_at,
                    quote(version_field.column),
                    quote(meta.pk.column),
                    ", ".join(["%s"] * len(batch)),
                    published_at,
                ),
                [*values, *batch],
            )
            claimed += cursor.rowcount
    return claimed


def _publish_locked(status_list: StatusList) -> StatusListVersion | None:
    """Publish the list as the entries now stand; the caller holds the list's lock and the
    transaction. Returns None when there is nothing new to publish."""
    # One statement, one snapshot: every change whose outbox row is read here is in the bits
    # read with it.
    pending, last_number, set_indexes = _publication_state(status_list.pk)
    if last_number is not None and not pending:
        return None
    bits = bits_from_indexes(set_indexes, status_list.size)
    key, pair = did_signing_key(status_list.issuer.did)
    now = timezone.now()
    unsigned = status_list_credential_build(
        status_list=status_list,
        encoded_list=bitstring_encode(bits),
        issuer_did_key=key.did_key,
        issued_at=now,
    )
    signed = didkit_adapter.issue_credential(unsigned, key=pair)
    body = json.dumps(signed, separators=(",", ":"), ensure_ascii=False)
    version = StatusListVersion(
        status_list=status_list,
        version=(last_number or 0) + 1,
        body=body,
        sha256=sha256(body.encode()).hexdigest(),
        bits_set=len(set_indexes),
        published_at=now,
    )
    # Anchored in this same transaction: the version and its leaf commit (or vanish) together.
    version.anchor_leaf_index = _anchor(version)
    _VERSION_INSERT.insert(version)
    # The claim: exactly the rows read above, still pending. We hold the list's lock, so no one
    # else can have taken them; a mismatch means something is badly wrong: roll back.
    claimed = _outbox_claim(pending, version=version, at=now)
    if claimed != len(pending):
        raise RuntimeError(f"outbox of list {status_list.public_id} changed under its lock")
    conf.fault_pause("published and anchored, before commit")
    public_id, number = status_list.public_id, version.version

    def remember_current() -> None:
        _remember_current(public_id, number)

    transaction.on_commit(remember_current)
    logger.info(
        "status list %s version %s published (%s changes, leaf %s)",
        status_list.public_id,
        version.version,
        len(pending),
        version.anchor_leaf_index,
    )
    return version


def _remember_current(public_id: str, version: int) -> None:
    from .verification import current_version_remember

    current_version_remember(public_id, version)


def status_list_publish(*, status_list_id: int) -> StatusListVersion | None:
    """Publish (re-encode, sign, store, anchor) the list if it has unpublished changes.
    Idempotent: a second run with nothing pending publishes nothing."""
    with transaction.atomic():
        status_list = _LIST_LOCKED.first(list_id=status_list_id)
        if status_list is None:
            logger.warning("status list %s does not exist", status_list_id)
            return None
        return _publish_locked(status_list)


def _pending_list_ids(*, after: int = 0, limit: int) -> list[int]:
    return list(
        StatusOutbox.objects.filter(published_at__isnull=True, status_list_id__gt=after)
        .values_list("status_list_id", flat=True)
        .distinct()
        .order_by("status_list_id")[:limit]
    )


@dataclass(frozen=True)
class StatusListPublishFailure:
    list_id: str  # the list's public id
    error: str  # the exception's class and message


def _publish_pending(list_ids: list[int]) -> tuple[int, list[StatusListPublishFailure]]:
    published, failed = 0, []
    for list_id in list_ids:
        try:
            if status_list_publish(status_list_id=list_id) is not None:
                published += 1
        except Exception as exc:
            logger.exception("publishing status list %s failed; the next sweep retries", list_id)
            try:
                public_id = (
                    StatusList.objects.filter(pk=list_id)
                    .values_list("public_id", flat=True)
                    .first()
                )
            except DatabaseError:  # the database itself failed: keep going on the id
                public_id = None
            failed.append(
                StatusListPublishFailure(
                    list_id=public_id or str(list_id),
                    error=f"{exc.__class__.__name__}: {str(exc)[:200]}",
                )
            )
    return published, failed


# Where the last sweep stopped (a list id), so that the next one goes on from there.
_SWEEP_CURSOR_KEY = "status:outbox-sweep:after"


def _sweep_window(max_lists: int) -> list[int]:
    """Up to `max_lists` pending lists, going on after the list the last sweep stopped at and
    wrapping round to the lowest ids: with more pending lists than one sweep takes, each is
    reached in turn, and lists that keep failing do not hold the first places for ever."""
    after = cache.get(_SWEEP_CURSOR_KEY) or 0
    window = _pending_list_ids(after=after, limit=max_lists)
    if len(window) < max_lists and after:
        window += [
            list_id
            for list_id in _pending_list_ids(limit=max_lists - len(window))
            if list_id <= after
        ]
    return window


def status_outbox_sweep(*, max_lists: int = 200) -> int:
    """Publish lists with pending changes, up to `max_lists` a run (beat runs this periodically,
    so nothing waits on a lost or never-sent message). Returns how many versions it published."""
    window = _sweep_window(max_lists)
    if window:
        cache.set(_SWEEP_CURSOR_KEY, window[-1], timeout=None)
    published, _ = _publish_pending(window)
    return published


@dataclass(frozen=True)
class OutboxPublishReport:
    published: int  # versions published
    failed: list[StatusListPublishFailure]
    pending: int  # changes still waiting afterwards (those of failed lists, or newer ones)


def status_outbox_publish_all(*, batch_size: int = 200) -> OutboxPublishReport:
    """Publish every list with pending changes, however many, going past lists that fail
    (`manage.py publish_status_lists`); says which failed and what still waits."""
    published, failed, after = 0, [], 0
    while list_ids := _pending_list_ids(after=after, limit=batch_size):
        done, failures = _publish_pending(list_ids)
        published += done
        failed += failures
        after = list_ids[-1]
    pending = StatusOutbox.objects.filter(published_at__isnull=True).count()
    return OutboxPublishReport(published=published, failed=failed, pending=pending)


def status_list_current_version(public_id: str) -> StatusListVersion | None:
    if "\x00" in public_id:  # never a list id, and PostgreSQL refuses NUL in text
        return None
    return (
        StatusListVersion.objects.select_related("status_list")
        .filter(status_list__public_id=public_id)
        .order_by("-version")
        .first()
    )


def status_list_version_get(public_id: str, version: int) -> StatusListVersion | None:
    """A published version of a list, or None."""
    if "\x00" in public_id:  # never a list id, and PostgreSQL refuses NUL in text
        return None
    return (
        StatusListVersion.objects.select_related("status_list")
        .filter(status_list__public_id=public_id, version=version)
        .first()
    )


@dataclass(frozen=True)
class StatusListAuditProblem:
    list_id: str
    version: int
    problem: str


def status_lists_audit() -> list[StatusListAuditProblem]:
    """Check every stored version behind the log's back: body hash, proof, anchored hash."""
    from .verification import list_credential_verify

    problems = []
    for version in (
        StatusListVersion.objects.select_related("status_list").order_by("pk").iterator()
    ):
        pid = version.status_list.public_id
        if sha256(version.body.encode()).hexdigest() != version.sha256:
            problems.append(
                StatusListAuditProblem(pid, version.version, "body does not match its sha256")
            )
            continue
        failure = list_credential_verify(version.body)
        if failure:
            problems.append(StatusListAuditProblem(pid, version.version, failure))
            continue
        anchored = _anchored_sha256(version)
        if anchored is not None and anchored != version.sha256:
            problems.append(
                StatusListAuditProblem(pid, version.version, "sha256 differs from the anchored one")
            )
    return problems


def _anchored_sha256(version: StatusListVersion) -> str | None:
    try:
        from registry.anchoring.models import LogLeaf
    except ImportError:
        return None
    leaf = LogLeaf.objects.filter(kind=ANCHOR_KIND, key=version.anchor_key).first()
    if leaf is None:
        return "missing"
    data = leaf.data if isinstance(leaf.data, dict) else json.loads(leaf.data)
    return data.get("sha256")
