"""The status check of a credential, for the verifier (`status_check`).

Our own lists are read from the database, never over HTTP. A list is trusted only after its
proof verifies (didkit, `errors == []`), its issuer is the credential's issuer (same did:key, or
both keys belong to the same registry DID), it is long enough and it decodes within a size cap.
Everything that cannot be checked fails closed.

Cache: verified, decoded lists are kept per process for the spec's default TTL (300 s), keyed by
list id and version, so verifying many credentials that share a list reads and checks it once.
Which version is current is read from the database, at most once a second per list and process
(`CURRENT_VERSION_MEMO_SECONDS`): another process's publication is seen within a second, this
process's own at once (the publisher tells it on commit). The database, not a cache, is the
source: a version never goes back, whatever the order in which publishers finish, and nothing
depends on Redis. Asking on every verification cost ~10% of verification throughput (a Redis
round trip, bench/status.py); once a second costs nothing measurable.

Lists of other hosts are refused (`foreignStatusList`): the registry verifies credentials of its
own issuers; fetching arbitrary URLs from the verifier would be an SSRF door.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, Max, OuterRef

from identity.crypto import didkit_adapter
from identity.crypto.errors import CryptoError
from identity.services import did_key_owner

from . import conf
from .bitstring import MIN_LIST_BITS, BitstringError, bit_get, bitstring_decode
from .models import (
    STATUS_PURPOSES,
    StatusEntry,
    StatusList,
    StatusListVersion,
    StatusOutbox,
    StatusPurpose,
)

ENTRY_TYPE = "StatusList2021Entry"
LIST_TYPE = "StatusList2021Credential"
_MAX_CACHED_LISTS = 256


@dataclass(frozen=True)
class StatusCheckResult:
    """`ok` False means the credential must not verify; `code` says why (or its status)."""

    ok: bool
    code: str
    detail: str


@dataclass(frozen=True)
class _VerifiedList:
    public_id: str
    version: int
    url: str
    purpose: str
    issuer: str  # the list credential's issuer (a did:key)
    issuer_controller: str | None  # its registry DID
    bits: bytes | None
    failure: str | None  # set when the list did not verify: it fails every check
    expires_at: float


CURRENT_VERSION_MEMO_SECONDS = 1.0

_lists: OrderedDict[tuple[str, int], _VerifiedList] = OrderedDict()
_controllers: dict[str, tuple[str | None, float]] = {}
# public id -> (current version, whether changes wait to be published, until when this process
# trusts both without asking the database)
_current_memo: dict[str, tuple[int, bool, float]] = {}
_lock = threading.Lock()


def status_cache_clear() -> None:
    """Forget every cached list (tests; after an operator repairs a list)."""
    with _lock:
        _lists.clear()
        _controllers.clear()
        _current_memo.clear()


def current_version_remember(public_id: str, version: int) -> None:
    """Called by the publisher on commit: this process's verifiers switch to the new version at
    once, the other processes' within CURRENT_VERSION_MEMO_SECONDS. More changes may have come
    in meanwhile: they are assumed to (an entry read per check, until the memo expires)."""
    _current_memo[public_id] = (version, True, time.monotonic() + CURRENT_VERSION_MEMO_SECONDS)


def status_change_committed(public_id: str) -> None:
    """Called on commit of a status change: this process's verifiers see it at once (it is
    pending until published), the other processes' within CURRENT_VERSION_MEMO_SECONDS."""
    _current_memo.pop(public_id, None)


def _current_version(public_id: str) -> tuple[int | None, bool]:
    """The list's current version, and whether changes to it wait to be published: from the
    database, in one query, at most once per CURRENT_VERSION_MEMO_SECONDS per list and process."""
    now = time.monotonic()
    memo = _current_memo.get(public_id)
    if memo is not None and memo[2] > now:
        return memo[0], memo[1]
    row = (
        StatusList.objects.filter(public_id=public_id)
        .annotate(
            current=Max("versions__version"),
            pending=Exists(
                StatusOutbox.objects.filter(status_list=OuterRef("pk"), published_at__isnull=True)
            ),
        )
        .values_list("current", "pending")
        .first()
    )
    version, pending = row if row is not None else (None, False)
    if version is not None:
        _current_memo[public_id] = (version, pending, now + CURRENT_VERSION_MEMO_SECONDS)
    return version, pending


def _entry_state(public_id: str, index: int) -> str | None:
    return (
        StatusEntry.objects.filter(status_list__public_id=public_id, index=index)
        .values_list("state", flat=True)
        .first()
    )


def _issuer_of(list_credential: dict) -> str | None:
    issuer = list_credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def list_credential_verify(body: str | dict) -> str | None:
    """None when `body` is a StatusList2021Credential whose proof verifies, else why not."""
    try:
        document = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return "the stored list is not JSON"
    if not isinstance(document, dict):
        return "the stored list is not a JSON object"
    types = document.get("type") or []
    if LIST_TYPE not in (types if isinstance(types, list) else [types]):
        return f"the list is not a {LIST_TYPE}"
    issuer = _issuer_of(document)
    try:
        didkit_adapter.ensure_offline_did(issuer, role="status list issuer")
    except CryptoError as exc:
        return str(exc)
    proof = document.get("proof")
    if not isinstance(proof, dict) or not str(proof.get("verificationMethod", "")).startswith(
        f"{issuer}#"
    ):
        return "the list's proof is missing or not made by its issuer"
    verdict = didkit_adapter.verify_credential(document)
    if not verdict.ok:
        return f"the list's proof does not verify: {'; '.join(verdict.errors)[:200]}"
    return None


def _controller_of(did_key: str) -> str | None:
    now = time.monotonic()
    with _lock:
        hit = _controllers.get(did_key)
    if hit is not None and hit[1] > now:
        return hit[0]
    owner = did_key_owner(did_key)
    controller = owner.controller if owner is not None else None
    with _lock:
        if len(_controllers) > 10_000:  # bounded: keys are few, but inputs are not trusted
            _controllers.clear()
        _controllers[did_key] = (controller, now + conf.cache_seconds())
    return controller


def _load_list(public_id: str, version: int) -> _VerifiedList | None:
    now = time.monotonic()
    with _lock:
        cached = _lists.get((public_id, version))
        if cached is not None and cached.expires_at > now:
            _lists.move_to_end((public_id, version))
            return cached
    row = (
        StatusListVersion.objects.select_related("status_list")
        .filter(status_list__public_id=public_id, version=version)
        .first()
    )
    if row is None:
        return None
    expires = now + conf.cache_seconds()
    base = {
        "public_id": public_id,
        "version": version,
        "url": row.status_list.url,
        "purpose": row.status_list.purpose,
        "expires_at": expires,
    }
    failure = list_credential_verify(row.body)
    bits = None
    issuer = ""
    if failure is None:
        document = json.loads(row.body)
        issuer = _issuer_of(document) or ""
        subject = document.get("credentialSubject") or {}
        if document.get("id") != row.status_list.url:
            failure = "the list credential's id is not its URL"
        elif subject.get("statusPurpose") != row.status_list.purpose:
            failure = "the list credential's statusPurpose is not the list's"
        else:
            try:
                bits = bitstring_decode(subject.get("encodedList"))
            except BitstringError as exc:
                failure = f"the list's encodedList is refused: {exc}"
            else:
                if len(bits) * 8 < MIN_LIST_BITS:
                    failure = f"the list has {len(bits) * 8} entries, under {MIN_LIST_BITS}"
    verified = _VerifiedList(
        **base,
        issuer=issuer,
        issuer_controller=_controller_of(issuer) if issuer and failure is None else None,
        bits=bits if failure is None else None,
        failure=failure,
    )
    with _lock:
        _lists[(public_id, version)] = verified
        while len(_lists) > _MAX_CACHED_LISTS:
            _lists.popitem(last=False)
    return verified


def _fail(code: str, detail: str) -> StatusCheckResult:
    return StatusCheckResult(ok=False, code=code, detail=detail)


def _same_issuer(verified: _VerifiedList, issuer_did_key: str) -> bool:
    if issuer_did_key == verified.issuer:
        return True
    if verified.issuer_controller is None:
        return False
    if issuer_did_key.startswith("did:web:"):  # the registry DID itself
        return issuer_did_key == verified.issuer_controller
    return _controller_of(issuer_did_key) == verified.issuer_controller


def _check_entry(status: object, issuer_did_key: str) -> StatusCheckResult:
    if not isinstance(status, dict):
        return _fail("statusEntryInvalid", "credentialStatus must be an object")
    if status.get("type") != ENTRY_TYPE:
        return _fail(
            "unsupportedStatusType",
            f"credentialStatus type must be {ENTRY_TYPE}, not {str(status.get('type'))[:60]!r}",
        )
    purpose = status.get("statusPurpose")
    if purpose not in STATUS_PURPOSES:
        return _fail("statusEntryInvalid", f"unknown statusPurpose {str(purpose)[:40]!r}")
    raw_index = status.get("statusListIndex")
    if isinstance(raw_index, bool) or not isinstance(raw_index, str | int):
        return _fail("statusEntryInvalid", "statusListIndex must be a string of digits")
    text_index = str(raw_index)
    if not text_index.isascii() or not text_index.isdigit() or len(text_index) > 12:
        return _fail("statusEntryInvalid", "statusListIndex must be a string of digits")
    index = int(text_index)
    url = status.get("statusListCredential")
    prefix = f"{settings.REGISTRY_BASE_URL}/status-lists/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return _fail(
            "foreignStatusList",
            "only this registry's status lists are checked; lists of other hosts are not fetched",
        )
    public_id = url[len(prefix) :]
    if not public_id or any(c in public_id for c in "/?#\x00"):  # NUL: PostgreSQL refuses it
        return _fail("statusEntryInvalid", "statusListCredential is not a status list URL")
    version, pending = _current_version(public_id)
    verified = _load_list(public_id, version) if version is not None else None
    if verified is None:
        return _fail("statusListUnavailable", f"status list {public_id[:40]} is not published")
    if verified.failure:
        return _fail("statusListInvalid", verified.failure)
    if not _same_issuer(verified, issuer_did_key):
        return _fail(
            "statusListIssuerMismatch", "the status list is not signed by the credential's issuer"
        )
    if purpose != verified.purpose:
        return _fail(
            "statusPurposeMismatch",
            f"the entry's statusPurpose ({purpose}) is not the list's ({verified.purpose})",
        )
    if index >= len(verified.bits) * 8:
        return _fail("statusIndexOutOfRange", f"statusListIndex {index} is outside the list")
    if not bit_get(verified.bits, index):
        # The registry is the issuer's own status service: a revocation it has accepted holds
        # from then on, not from when a worker publishes it (later still if the broker is down).
        state = _entry_state(public_id, index) if pending else None
        if state == StatusEntry.State.REVOKED:
            return _fail(
                "revoked", "the credential has been revoked (not yet in the published list)"
            )
        if state == StatusEntry.State.SUSPENDED:
            return _fail("suspended", "the credential is suspended (not yet in the published list)")
        state_word = "revoked" if purpose == StatusPurpose.REVOCATION else "suspended"
        return StatusCheckResult(
            ok=True, code="active", detail=f"the credential is not {state_word}"
        )
    if purpose == StatusPurpose.REVOCATION:
        return _fail("revoked", "the credential has been revoked")
    # A suspendable credential that was revoked keeps its bit for good: say so.
    state = _entry_state(public_id, index)
    if state == StatusEntry.State.REVOKED:
        return _fail("revoked", "the credential has been revoked")
    return _fail("suspended", "the credential is suspended")


def status_check(credential: dict, *, issuer_did_key: str) -> StatusCheckResult:
    """Check the `credentialStatus` of `credential`, issued (signed) by `issuer_did_key`.

    No `credentialStatus`: ok (code `noStatus`). Otherwise ok only when every entry (one, as we
    issue them; an array is accepted from others) is a StatusList2021Entry of one of our lists,
    the list verifies and belongs to the same issuer, and the bit is clear.
    """
    if not isinstance(credential, dict):
        return _fail("statusEntryInvalid", "the credential is not a JSON object")
    status = credential.get("credentialStatus")
    if status is None:
        return StatusCheckResult(
            ok=True, code="noStatus", detail="the credential has no credentialStatus"
        )
    if not isinstance(issuer_did_key, str) or not issuer_did_key:
        return _fail("statusListIssuerMismatch", "the credential's issuer key is unknown")
    entries = status if isinstance(status, list) else [status]
    if not entries:
        return _fail("statusEntryInvalid", "credentialStatus is empty")
    result = None
    for entry in entries[:4]:
        result = _check_entry(entry, issuer_did_key)
        if not result.ok:
            return result
    if len(entries) > 4:
        return _fail("statusEntryInvalid", "too many credentialStatus entries")
    return result
