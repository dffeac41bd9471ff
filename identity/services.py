"""The DID engine's write path: every change to a DID goes through one of these functions.

Each runs in a transaction, appends a new DID document version (never rewrites one) and leaves
the previous versions resolvable by `versionId` / `versionTime`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .crypto.encryption import MasterKeyRing
from .crypto.keys import Ed25519KeyPair, did_key_verification_method
from .dids import did_for_path, registry_did
from .errors import DidDeactivated, DidNotFound, DidOperationRefused
from .models import Did, DidDocumentVersion, DidKey, LinkedDid
from .precompiled import PrecompiledQuery

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

# Called (on commit) with each new DidDocumentVersion; the anchoring app registers here so the
# identity engine does not depend on it.
version_listeners: list[Callable[[DidDocumentVersion], None]] = []


def _associated_data(did_key: str) -> bytes:
    return f"identity.DidKey:{did_key}".encode()


def _new_key(*, did: Did, number: int, at: datetime, ring: MasterKeyRing) -> DidKey:
    pair = Ed25519KeyPair.generate()
    kid, ciphertext = ring.encrypt(
        pair.private_bytes, associated_data=_associated_data(pair.did_key)
    )
    return DidKey.objects.create(
        did=did,
        number=number,
        did_key=pair.did_key,
        public_key_multibase=pair.did_key.removeprefix("did:key:"),
        private_key_ciphertext=ciphertext,
        master_key_id=kid,
        activated_at=at,
    )


def did_document_build(did: Did) -> dict:
    """The current DID document of `did`, from its active keys, linked DIDs and services."""
    if did.is_deactivated:
        return {"@context": [DID_CONTEXT], "id": did.did}
    keys = [k for k in did.keys.all() if k.is_active]
    linked = [ld.linked_did for ld in did.linked_dids.all() if ld.unlinked_at is None]
    vm_ids = [k.verification_method_id for k in keys]
    document: dict = {
        "@context": [DID_CONTEXT, ED25519_2020_CONTEXT],
        "id": did.did,
        "alsoKnownAs": [k.did_key for k in keys] + linked,
        "verificationMethod": [
            {
                "id": k.verification_method_id,
                "type": "Ed25519VerificationKey2020",
                "controller": did.did,
                "publicKeyMultibase": k.public_key_multibase,
            }
            for k in keys
        ],
        "authentication": vm_ids,
        "assertionMethod": vm_ids,
    }
    if did.services:
        document["service"] = did.services
    return document


def _publish_version(did: Did, *, at: datetime, reason: str) -> DidDocumentVersion:
    last = did.versions.order_by("-version_id").values_list("version_id", flat=True).first() or 0
    did.updated_at = at
    did.save(update_fields=["updated_at", "services", "deactivated_at"])
    version = DidDocumentVersion.objects.create(
        did=did,
        version_id=last + 1,
        document=did_document_build(did),
        created_at=at,
        deactivated=did.is_deactivated,
        reason=reason,
    )
    for listener in version_listeners:
        transaction.on_commit(lambda listener=listener: listener(version))
    return version


def _lock(did: Did | str) -> Did:
    did_value = did.did if isinstance(did, Did) else did
    try:
        locked = Did.objects.select_for_update().get(did=did_value)
    except Did.DoesNotExist:
        raise DidNotFound(f"{did_value} is not a registry DID") from None
    if locked.is_deactivated:
        raise DidDeactivated(f"{did_value} is deactivated")
    return locked


def _now_locked() -> datetime:
    # The time of a change is read once the DID's row lock is held, never before: a writer that
    # waited for the lock must not publish a version (or retire a key) earlier than the change
    # it waited for, nor earlier than a signature made with the key meanwhile.
    return timezone.now()


@transaction.atomic
def did_create(*, path: str, at: datetime | None = None) -> Did:
    """Create the registry DID at `path` ("" for the registry) with its first key (`key-1`)."""
    at = at or timezone.now()
    did_value = did_for_path(path)
    if Did.objects.filter(did=did_value).exists():
        raise DidOperationRefused(f"{did_value} already exists")
    try:
        # Created concurrently: the exists() above cannot see it, the unique index can.
        with transaction.atomic():
            did = Did.objects.create(did=did_value, path=path, created_at=at, updated_at=at)
    except IntegrityError:
        raise DidOperationRefused(f"{did_value} already exists") from None
    _new_key(did=did, number=1, at=at, ring=MasterKeyRing.from_settings())
    _publish_version(did, at=at, reason="created")
    return did


def registry_did_ensure() -> Did:
    """The registry's own DID (did:web:{host}), created on first use."""
    did = Did.objects.filter(did=registry_did()).first()
    if did is not None:
        return did
    try:
        return did_create(path="")
    except DidOperationRefused:  # created concurrently
        return Did.objects.get(did=registry_did())


@transaction.atomic
def did_key_rotate(*, did: Did | str, at: datetime | None = None) -> DidKey:
    """Add `key-N+1` and retire every older key: it leaves the document, stays in history, and
    the reverse lookup still answers for the time it was active."""
    locked = _lock(did)
    at = at or _now_locked()
    last = locked.keys.order_by("-number").first()
    locked.keys.filter(retired_at__isnull=True).update(retired_at=at)
    key = _new_key(
        did=locked,
        number=(last.number if last else 0) + 1,
        at=at,
        ring=MasterKeyRing.from_settings(),
    )
    _publish_version(locked, at=at, reason="key-rotated")
    return key


@transaction.atomic
def did_key_mark_compromised(*, did_key: str, since: datetime) -> DidKey:
    """Mark a key compromised from `since`; proofs it made after that time stop verifying. A
    key already marked from an earlier time keeps the earlier time."""
    did_id = DidKey.objects.filter(did_key=did_key).values_list("did_id", flat=True).first()
    if did_id is None:
        raise DidNotFound(f"{did_key} is not a registry key")
    # The DID's row first, then the key, as a rotation locks them: the other order deadlocks
    # with a rotation of the same DID (and the caller may rotate next).
    list(Did.objects.select_for_update().filter(pk=did_id))
    key = DidKey.objects.select_for_update().get(did_key=did_key)
    if key.compromised_at is not None and key.compromised_at <= since:
        return key  # a concurrent or earlier mark already covers `since`
    key.compromised_at = since
    key.save(update_fields=["compromised_at"])
    return key


@transaction.atomic
def did_service_add(
    *, did: Did | str, service_id: str, service_type: str, endpoint: str, at: datetime | None = None
) -> DidDocumentVersion:
    """Add a service endpoint (`#service_id`) to the DID document."""
    locked = _lock(did)
    full_id = f"{locked.did}#{service_id.lstrip('#')}"
    if any(s["id"] == full_id for s in locked.services):
        raise DidOperationRefused(f"service {full_id} already exists")
    locked.services = [
        *locked.services,
        {"id": full_id, "type": service_type, "serviceEndpoint": endpoint},
    ]
    return _publish_version(locked, at=at or _now_locked(), reason="service-added")


@transaction.atomic
def did_service_remove(
    *, did: Did | str, service_id: str, at: datetime | None = None
) -> DidDocumentVersion:
    locked = _lock(did)
    full_id = f"{locked.did}#{service_id.lstrip('#')}"
    remaining = [s for s in locked.services if s["id"] != full_id]
    if len(remaining) == len(locked.services):
        raise DidNotFound(f"service {full_id} not found")
    locked.services = remaining
    return _publish_version(locked, at=at or _now_locked(), reason="service-removed")


@transaction.atomic
def did_link_wallet(*, did: Did | str, wallet_did: str, at: datetime | None = None) -> LinkedDid:
    """Link a holder's own did:key/did:jwk to their registry DID. The caller has already
    checked a proof of control (a presentation over a challenge we issued)."""
    if not wallet_did.startswith(("did:key:", "did:jwk:")):
        raise DidOperationRefused("only did:key and did:jwk wallets can be linked")
    locked = _lock(did)
    at = at or _now_locked()
    if LinkedDid.objects.filter(linked_did=wallet_did, unlinked_at__isnull=True).exists():
        raise DidOperationRefused("this wallet DID is already linked")
    if DidKey.objects.filter(did_key=wallet_did).exists():
        raise DidOperationRefused("this DID is a registry key")
    try:
        # The check above cannot see a link another transaction is committing; the partial
        # unique index does (the insert waits for it, then fails).
        with transaction.atomic():
            link = LinkedDid.objects.create(did=locked, linked_did=wallet_did, linked_at=at)
    except IntegrityError:
        raise DidOperationRefused("this wallet DID is already linked") from None
    _publish_version(locked, at=at, reason="wallet-linked")
    return link


@transaction.atomic
def did_deactivate(*, did: Did | str, at: datetime | None = None) -> DidDocumentVersion:
    """Deactivate a DID for good: its keys are retired and it resolves with HTTP 410."""
    locked = _lock(did)
    at = at or _now_locked()
    locked.keys.filter(retired_at__isnull=True).update(retired_at=at)
    locked.deactivated_at = at
    return _publish_version(locked, at=at, reason="deactivated")


# The signing and verification hot paths (identity.precompiled): compiled once, read every time,
# so a rotation, a deactivation or a compromise takes effect at once.
_CURRENT_KEY = PrecompiledQuery(
    lambda did: (
        DidKey.objects.select_related("did")
        .filter(did__did=did, retired_at__isnull=True, did__deactivated_at__isnull=True)
        .order_by("-number")[:1]
    ),
    did=str,
)
_KEY_BY_DID_KEY = PrecompiledQuery(
    lambda did_key: DidKey.objects.select_related("did").filter(did_key=did_key).order_by()[:1],
    did_key=str,
)


def did_signing_key(did: Did | str) -> tuple[DidKey, Ed25519KeyPair]:
    """The current key of a registry DID, decrypted for one signature. Never log or return the
    key pair beyond the crypto adapter."""
    did_value = did.did if isinstance(did, Did) else did
    key = _CURRENT_KEY.first(did=did_value)
    if key is None:
        raise DidNotFound(f"{did_value} has no active key")
    return key, key_pair_of(key)


def key_pair_of(key: DidKey) -> Ed25519KeyPair:
    private = MasterKeyRing.from_settings().decrypt(
        key.master_key_id,
        bytes(key.private_key_ciphertext),
        associated_data=_associated_data(key.did_key),
    )
    return Ed25519KeyPair.from_private_bytes(private)


def master_key_reencrypt_all(*, batch_size: int = 500, progress=None) -> int:
    """Re-encrypt every private key under the ring's current master key. Idempotent; returns
    how many keys changed."""
    ring = MasterKeyRing.from_settings()
    changed = 0
    ids = list(DidKey.objects.exclude(master_key_id=ring.current_kid).values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for key in DidKey.objects.select_for_update().filter(
                pk__in=ids[start : start + batch_size]
            ):
                if key.master_key_id == ring.current_kid:
                    continue
                plain = ring.decrypt(
                    key.master_key_id,
                    bytes(key.private_key_ciphertext),
                    associated_data=_associated_data(key.did_key),
                )
                key.master_key_id, key.private_key_ciphertext = ring.encrypt(
                    plain, associated_data=_associated_data(key.did_key)
                )
                key.save(update_fields=["master_key_id", "private_key_ciphertext"])
                changed += 1
                if progress:
                    progress(1)
    return changed


@dataclass(frozen=True)
class KeyOwnership:
    """Who a did:key (or linked wallet DID) belongs to, for the reverse lookup."""

    did_key: str
    controller: str  # the registry DID
    verification_method: str | None  # did:web...#key-N when it is a registry key
    active_from: datetime
    active_until: datetime | None
    compromised_since: datetime | None
    kind: str  # "registry-key" or "linked-wallet"

    def active_at(self, at: datetime) -> bool:
        return self.active_from <= at and (self.active_until is None or at < self.active_until)

    def active_at_issuance(self, issuance_date: datetime) -> bool:
        """`active_at` for a credential's issuanceDate, which has whole seconds: the key's start
        is compared at that precision too (a key activated at 12:00:00.4 signs 12:00:00)."""
        start = self.active_from.replace(microsecond=0)
        return start <= issuance_date and (
            self.active_until is None or issuance_date < self.active_until
        )


def did_key_owner(did_key: str) -> KeyOwnership | None:
    """The registry DID a did:key belongs (or belonged) to, with its period of validity."""
    key = _KEY_BY_DID_KEY.first(did_key=did_key)
    if key is not None:
        return KeyOwnership(
            did_key=key.did_key,
            controller=key.did.did,
            verification_method=key.verification_method_id,
            active_from=key.activated_at,
            active_until=key.retired_at,
            compromised_since=key.compromised_at,
            kind="registry-key",
        )
    link = (
        LinkedDid.objects.select_related("did")
        .filter(linked_did=did_key)
        .order_by("-linked_at")
        .first()
    )
    if link is not None:
        # Deactivation retires the registry keys; it ends a linked wallet's authority too.
        ends = [t for t in (link.unlinked_at, link.did.deactivated_at) if t is not None]
        return KeyOwnership(
            did_key=link.linked_did,
            controller=link.did.did,
            verification_method=None,
            active_from=link.linked_at,
            active_until=min(ends, default=None),
            compromised_since=None,
            kind="linked-wallet",
        )
    return None


__all__ = [
    "KeyOwnership",
    "did_create",
    "did_deactivate",
    "did_document_build",
    "did_key_mark_compromised",
    "did_key_owner",
    "did_key_rotate",
    "did_key_verification_method",
    "did_link_wallet",
    "did_service_add",
    "did_service_remove",
    "did_signing_key",
    "master_key_reencrypt_all",
    "registry_did_ensure",
]
