"""Anchor backends: where anchored leaves go.

`settings.ANCHORING_BACKENDS` lists dotted paths of `AnchorBackend` subclasses. The built-in
Merkle log (`MerkleLogBackend`) must be listed: it is the registry's own record, the source of
leaf indexes, idempotency and the `/log/...` API. It appends synchronously, inside the caller's
transaction.

Any other backend (an external ledger, a later issue) is *external*: after the leaf is committed
a Celery task calls its `append(leaf)` once, outside any transaction (it may call the network),
and stores what it returns as an `AnchorReceipt`; the beat sweep retries leaves without a
receipt. `append` must be idempotent on `leaf.leaf_hash` (a retry after a crash may repeat it).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import LogHead, LogLeaf


class AnchorBackend:
    """Interface of an anchor backend."""

    #: unique, stable name (stored in receipts)
    name: str = ""

    def append(self, leaf: LogLeaf) -> str | None:
        """Anchor `leaf` (committed, with `index`, `entry`, `leaf_hash`); return a receipt
        (e.g. a ledger transaction id) or None. Raise to have the sweep retry later."""
        raise NotImplementedError


class MerkleLogBackend(AnchorBackend):
    """The built-in RFC 9162 Merkle log in the database (the default)."""

    name = "merkle-log"

    def append(self, leaf: LogLeaf) -> str | None:  # pragma: no cover - not external
        # The leaf row is the built-in log's own receipt.
        return None

    def append_locked(self, *, head: LogHead, kind: str, key: str, entry: bytes) -> LogLeaf:
        from .services import log_append_locked

        return log_append_locked(head=head, kind=kind, key=key, entry=entry)


@cache
def _load(paths: tuple[str, ...]) -> tuple[AnchorBackend, ...]:
    backends = []
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"ANCHORING_BACKENDS: cannot import {path}: {exc}") from None
        if not (isinstance(cls, type) and issubclass(cls, AnchorBackend)):
            raise ImproperlyConfigured(f"ANCHORING_BACKENDS: {path} is not an AnchorBackend")
        backends.append(cls())
    if not any(isinstance(b, MerkleLogBackend) for b in backends):
        raise ImproperlyConfigured("ANCHORING_BACKENDS must include the built-in MerkleLogBackend")
    names = [b.name for b in backends]
    if len(set(names)) != len(names) or not all(names):
        raise ImproperlyConfigured("ANCHORING_BACKENDS: each backend needs a unique name")
    return tuple(backends)


def anchor_backends() -> tuple[AnchorBackend, ...]:
    return _load(tuple(settings.ANCHORING_BACKENDS))


def log_backend() -> MerkleLogBackend:
    return next(b for b in anchor_backends() if isinstance(b, MerkleLogBackend))


def external_backends() -> list[AnchorBackend]:
    return [b for b in anchor_backends() if not isinstance(b, MerkleLogBackend)]
