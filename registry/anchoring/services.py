"""The anchoring log's write and read paths.

`anchor_record` is the one way in: it appends a leaf to the built-in RFC 9162 Merkle log (and
hands it to any external anchor backends after commit). Appends are serialised by locking the
single `LogHead` row, which also carries the compact range of the tree, so an append is one
locked read, one leaf insert, at most one amortised subtree insert and one update. Roots and
proofs read O(log n) cached subtree hashes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import rfc8785
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from identity.crypto.keys import public_bytes_from_did_key
from identity.models import DidKey
from identity.precompiled import PrecompiledInsert, PrecompiledQuery, PrecompiledUpdate
from identity.services import did_signing_key, registry_did_ensure

from . import merkle, note
from .backends import external_backends, log_backend
from .errors import AnchoringError, LeafNotFound, LogEmpty
from .models import AnchorReceipt, Checkpoint, LogHead, LogLeaf, LogSubtree

logger = logging.getLogger(__name__)

_KIND = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_ENTRY_BYTES = 64 * 1024


# --- appending ------------------------------------------------------------------------------


def leaf_entry(*, kind: str, key: str, data: dict) -> bytes:
    """The bytes hashed into a leaf: RFC 8785 canonical JSON of {"kind", "key", "data"}, so a
    leaf commits to what it is about as well as to its data."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise AnchoringError("kind must be 1-64 characters of a-z, 0-9, '.', '_', '-'")
    if not isinstance(key, str) or not key or len(key) > 255:
        raise AnchoringError("key must be a non-empty string of at most 255 characters")
    if not isinstance(data, dict):
        raise AnchoringError("data must be a JSON object")
    try:
        entry = rfc8785.dumps({"kind": kind, "key": key, "data": data})
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise AnchoringError(f"data is not canonicalisable JSON: {exc}") from None
    if len(entry) > MAX_ENTRY_BYTES:
        raise AnchoringError(f"a log entry is limited to {MAX_ENTRY_BYTES} bytes")
    return entry


# Every anchoring runs these (identity.precompiled): compiled once, read every time.
_LEAF_BY_KIND_KEY = PrecompiledQuery(
    lambda kind, key: LogLeaf.objects.filter(kind=kind, key=key).order_by(),
    kind=str,
    key=str,
)
_HEAD_LOCKED = PrecompiledQuery(lambda: LogHead.objects.select_for_update().filter(pk=1))
_LEAF_INSERT = PrecompiledInsert(LogLeaf)
_HEAD_UPDATE = PrecompiledUpdate(LogHead, ["size", "frontier", "updated_at"])


def anchor_record(*, kind: str, key: str, data: dict) -> LogLeaf:
    """Anchor `data` under (kind, key) and return its leaf.

    Idempotent: if (kind, key) is already anchored the existing leaf is returned (whatever
    `data` says now; a leaf is never rewritten). Safe under concurrency from any number of
    processes: the lookup runs under the log head's lock, so two callers anchoring the same key
    get the same leaf. Inside the caller's transaction it takes no savepoint (two round trips
    on PostgreSQL for a rollback no caller uses): a failed append fails the whole transaction,
    which commits nothing; the log head stays locked until the caller commits, so keep such
    transactions short.
    """
    entry = leaf_entry(kind=kind, key=key, data=data)
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        # Looked up under the lock only: a lookup before it would spare idempotent calls (rare:
        # sweeps) the lock, and cost every new leaf, the usual case, one more statement.
        existing = _LEAF_BY_KIND_KEY.first(kind=kind, key=key)
        if existing is not None:
            return _same_or_warn(existing, entry)
        leaf = log_backend().append_locked(head=head, kind=kind, key=key, entry=entry)
    transaction.on_commit(lambda: _after_append(leaf.pk))
    return leaf


def _same_or_warn(leaf: LogLeaf, entry: bytes) -> LogLeaf:
    if leaf.entry.encode() != entry:
        logger.warning(
            "anchor_record: %s:%s is already anchored with other data", leaf.kind, leaf.key
        )
    return leaf


def _lock_head() -> LogHead:
    head = _HEAD_LOCKED.first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            LogHead.objects.create(pk=1, size=0, frontier=[])
    except IntegrityError:  # created concurrently
        pass
    return LogHead.objects.select_for_update().get(pk=1)


def log_append_locked(*, head: LogHead, kind: str, key: str, entry: bytes) -> LogLeaf:
    """Append one leaf; the caller holds the lock on `head` (see `anchor_record`)."""
    now = timezone.now()
    frontier = [bytes.fromhex(h) for h in head.frontier]
    index = head.size
    leaf_hash = merkle.leaf_hash(entry)
    completed = merkle.frontier_push(frontier, index, leaf_hash)
    leaf = LogLeaf(
        index=index,
        kind=kind,
        key=key,
        entry=entry.decode(),
        leaf_hash=leaf_hash.hex(),
        created_at=now,
    )
    _LEAF_INSERT.insert(leaf)
    if completed:
        LogSubtree.objects.bulk_create(
            [LogSubtree(level=lv, index=ix, hash=h.hex()) for lv, ix, h in completed]
        )
    head.size = index + 1
    head.frontier = [h.hex() for h in frontier]
    head.updated_at = now
    _HEAD_UPDATE.update(head)
    return leaf


# Messages go to the broker from one background thread, so that a request never waits on
# Redis (down, slow, or a connection timeout away). Checkpoint requests coalesce: one waiting
# is enough, the task signs whatever size the log has when it runs. With the broker down,
# nothing is lost: GET /log/checkpoint signs on demand and the beat sweep catches up.
BROKER_BACKOFF_SECONDS = 30.0
_sender: ThreadPoolExecutor | None = None
_sender_lock = threading.Lock()
_checkpoint_waiting = False
_broker_down_until = 0.0


def _celery_eager() -> bool:
    from .tasks import publish_checkpoint

    return bool(getattr(publish_checkpoint.app.conf, "task_always_eager", False))


def _after_append(leaf_id: int) -> None:
    from . import tasks

    global _checkpoint_waiting
    jobs = [(tasks.deliver_leaf, (leaf_id, b.name)) for b in external_backends()]
    if _celery_eager():  # tests and single-process runs: now, in this thread
        for task, args in [(tasks.publish_checkpoint, ()), *jobs]:
            task.apply_async(args=args)
        return
    with _sender_lock:
        if not _checkpoint_waiting:
            _checkpoint_waiting = True
            jobs.insert(0, (tasks.publish_checkpoint, ()))
    for task, args in jobs:
        _submit(task, args)


def _submit(task, args: tuple) -> None:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anchoring-enqueue")
        sender = _sender
    sender.submit(_send, task, args)


def _send(task, args: tuple) -> bool:
    global _broker_down_until, _checkpoint_waiting
    if task.name == "anchoring.publish_checkpoint":
        with _sender_lock:
            _checkpoint_waiting = False
    if time.monotonic() < _broker_down_until:
        return False
    try:
        task.apply_async(args=args, retry=False)
    except Exception as exc:  # noqa: BLE001 - the broker's errors vary by transport
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "anchoring: could not enqueue %s (%s); the sweep will catch up",
            task.name,
            exc.__class__.__name__,
        )
        return False
    return True


def anchor_enqueue_drain(timeout: float = 10.0) -> None:
    """Wait until the background sender has handed over what it holds (tests, shutdown)."""
    with _sender_lock:
        sender = _sender
    if sender is not None:
        sender.submit(lambda: None).result(timeout=timeout)


def anchor_deliver(*, leaf_id: int, backend_name: str) -> AnchorReceipt | None:
    """Hand a leaf to an external backend once (idempotent: one receipt per leaf/backend)."""
    backend = next((b for b in external_backends() if b.name == backend_name), None)
    if backend is None:
        return None
    existing = AnchorReceipt.objects.filter(leaf_id=leaf_id, backend=backend_name).first()
    if existing is not None:
        return existing
    leaf = LogLeaf.objects.get(pk=leaf_id)
    receipt = backend.append(leaf) or ""
    try:
        with transaction.atomic():
            return AnchorReceipt.objects.create(
                leaf=leaf, backend=backend_name, receipt=receipt, created_at=timezone.now()
            )
    except IntegrityError:
        return AnchorReceipt.objects.get(leaf_id=leaf_id, backend=backend_name)


# The sweep gives up on an external backend for this run after this many failures in a row:
# one that is down would otherwise cost a network timeout per pending leaf, and a sweep longer
# than beat's interval (or the broker's visibility timeout) runs twice and fills the workers.
BACKEND_DOWN_AFTER_FAILURES = 3


def anchor_sweep(*, batch_size: int = 500) -> dict:
    """What beat runs: anchor DID versions the on-commit hook missed, publish a checkpoint for
    the current size, and hand undelivered leaves to external backends. A leaf a backend
    refuses is logged and left for the next sweep; it never holds up the leaves after it nor
    the checkpoint."""
    from .hooks import anchor_did_version, did_versions_unanchored

    registry_did_ensure()  # so that its first version is anchored in this same sweep
    anchored = 0
    for version in did_versions_unanchored(limit=batch_size):
        anchor_did_version(version)
        anchored += 1
    # Before the deliveries: the checkpoint depends on the log only, not on any backend.
    checkpoint = checkpoint_publish()
    delivered = 0
    for backend in external_backends():
        pending = LogLeaf.objects.exclude(receipts__backend=backend.name).order_by("index")
        failures_in_a_row = 0
        for leaf_id in pending.values_list("pk", flat=True)[:batch_size]:
            try:
                anchor_deliver(leaf_id=leaf_id, backend_name=backend.name)
            except Exception as exc:  # noqa: BLE001 - a backend's errors are its own
                failures_in_a_row += 1
                logger.warning(
                    "anchoring sweep: backend %s failed on leaf %s (%s: %s); next sweep retries",
                    backend.name,
                    leaf_id,
                    exc.__class__.__name__,
                    str(exc)[:200],
                )
                if failures_in_a_row >= BACKEND_DOWN_AFTER_FAILURES:
                    logger.warning(
                        "anchoring sweep: backend %s failed %s times in a row; skipped until "
                        "the next sweep",
                        backend.name,
                        failures_in_a_row,
                    )
                    break
                continue
            failures_in_a_row = 0
            delivered += 1
    return {
        "did_versions_anchored": anchored,
        "delivered": delivered,
        "checkpoint_size": checkpoint.tree_size if checkpoint else 0,
    }


# --- reading: roots and proofs -----------------------------------------------------------------


def log_size() -> int:
    return LogHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def log_head_root() -> tuple[int, bytes]:
    """(size, root hash) of the log now, from the compact range alone."""
    head = LogHead.objects.filter(pk=1).first()
    if head is None or head.size == 0:
        return 0, merkle.EMPTY_ROOT
    return head.size, merkle.root_from_frontier([bytes.fromhex(h) for h in head.frontier])


def _fetch_nodes(ranges: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The perfect-subtree hashes the ranges are made of, in at most two queries."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for start, end in ranges:
        for level, index in merkle.perfect_subtrees(start, end):
            wanted[level].add(index)
    nodes: dict[tuple[int, int], bytes] = {}
    if wanted.get(0):
        for index, h in LogLeaf.objects.filter(index__in=wanted[0]).values_list(
            "index", "leaf_hash"
        ):
            nodes[(0, index)] = bytes.fromhex(h)
    upper = Q()
    for level, indexes in wanted.items():
        if level:
            upper |= Q(level=level, index__in=indexes)
    if upper:
        for level, index, h in LogSubtree.objects.filter(upper).values_list(
            "level", "index", "hash"
        ):
            nodes[(level, index)] = bytes.fromhex(h)
    return nodes


def _hashes_for(ranges: list[tuple[int, int]]) -> list[bytes]:
    nodes = _fetch_nodes(ranges)

    def lookup(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise AnchoringError(f"log node {level}/{index} is missing") from None

    return [merkle.hash_range(a, b, lookup) for a, b in ranges]


def _check_size(tree_size: int, *, name: str = "tree_size") -> None:
    size = log_size()
    if size == 0:
        raise LogEmpty("the log is empty")
    if not 1 <= tree_size <= size:
        raise AnchoringError(f"{name} must be between 1 and the log size ({size})")


def log_root(tree_size: int) -> bytes:
    """MTH of the first `tree_size` leaves (O(log n) stored hashes)."""
    _check_size(tree_size)
    return _hashes_for([(0, tree_size)])[0]


def inclusion_proof(*, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
    """(leaf index, audit path) for the first leaf with `leaf_hash` in the tree of `tree_size`."""
    _check_size(tree_size)
    index = (
        LogLeaf.objects.filter(leaf_hash=leaf_hash.hex(), index__lt=tree_size)
        .order_by("index")
        .values_list("index", flat=True)
        .first()
    )
    if index is None:
        raise LeafNotFound(f"no leaf with this hash in the tree of size {tree_size}")
    return index, _hashes_for(merkle.inclusion_ranges(index, tree_size))


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    _check_size(second, name="second")
    if not 1 <= first <= second:
        raise AnchoringError("first must be between 1 and second")
    return _hashes_for(merkle.consistency_ranges(first, second))


def log_entries(*, start: int, end: int, max_count: int | None = None) -> list[LogLeaf]:
    """Leaves start..end (inclusive, as RFC 9162 get-entries), at most `max_count`."""
    max_count = max_count or settings.ANCHORING_MAX_ENTRIES
    size = log_size()
    if start < 0 or end < start:
        raise AnchoringError("need 0 <= start <= end")
    if start >= size:
        raise AnchoringError(f"start must be below the log size ({size})")
    end = min(end, size - 1, start + max_count - 1)
    return list(LogLeaf.objects.filter(index__gte=start, index__lte=end).order_by("index"))


def leaf_get(*, kind: str, key: str) -> LogLeaf:
    leaf = LogLeaf.objects.filter(kind=kind, key=key).first()
    if leaf is None:
        raise LeafNotFound(f"nothing is anchored under {kind}:{key}")
    return leaf


# --- checkpoints ---------------------------------------------------------------------------------


def log_origin() -> str:
    """The checkpoint origin line, also the note key name: `<host>/log` unless configured."""
    return settings.ANCHORING_LOG_ORIGIN or f"{settings.REGISTRY_HOST}/log"


def verifier_key_for(did_key: str) -> str:
    return note.verifier_key(log_origin(), public_bytes_from_did_key(did_key))


def log_verifier_keys() -> list[dict]:
    """Every registry key, current first, as note verifier keys: checkpoints signed before a
    rotation stay verifiable with the key that was current then."""
    registry = registry_did_ensure()
    keys = DidKey.objects.filter(did=registry).order_by("-number")
    return [
        {
            "verifier_key": verifier_key_for(k.did_key),
            "did_key": k.did_key,
            "verification_method": k.verification_method_id,
            "active_from": k.activated_at,
            "active_until": k.retired_at,
        }
        for k in keys
    ]


def checkpoint_publish(*, at: datetime | None = None) -> Checkpoint | None:
    """Sign a checkpoint of the log's current size, unless one exists (idempotent). None
    while the log is empty."""
    registry = registry_did_ensure()  # may itself anchor the registry's first DID version
    size, root = log_head_root()
    if size == 0:
        return None
    existing = Checkpoint.objects.filter(tree_size=size).first()
    if existing is not None:
        return existing
    key, pair = did_signing_key(registry)
    origin = log_origin()
    text = note.Checkpoint(origin=origin, tree_size=size, root_hash=root).text()
    signed = note.sign_note(text, name=origin, public_key=pair.public_bytes, sign=pair.sign)
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                tree_size=size,
                root_hash=root.hex(),
                note=signed,
                signer_did_key=key.did_key,
                verifier_key=verifier_key_for(key.did_key),
                created_at=at or timezone.now(),
            )
    except IntegrityError:  # published concurrently
        return Checkpoint.objects.get(tree_size=size)


def checkpoint_latest(*, publish_if_stale: bool = True) -> Checkpoint:
    """The checkpoint of the current size, signed on demand if the task has not yet run."""
    size = log_size()
    if size == 0:
        raise LogEmpty("the log is empty")
    latest = Checkpoint.objects.order_by("-tree_size").first()
    if latest is None or (publish_if_stale and latest.tree_size < size):
        latest = checkpoint_publish() or latest
    if latest is None:
        raise LogEmpty("no checkpoint yet")
    return latest
