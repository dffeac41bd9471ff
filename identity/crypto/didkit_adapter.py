"""The one door to didkit.

didkit is async, takes and returns JSON strings, and has sharp edges (see docs/ARCHITECTURE.md).
This adapter gives the rest of the project typed, synchronous calls, turns didkit's exceptions
into `CryptoError`, and refuses to hand didkit any DID it would resolve over the network by
itself: only `did:key` and `did:jwk` signers reach it. Registry participants sign with the
did:key of their current key, so that any verifier checks their proofs offline.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import didkit

from .errors import CryptoError
from .keys import Ed25519KeyPair, did_key_verification_method

ProofFormat = Literal["ldp", "jwt"]
OFFLINE_METHODS = ("did:key:", "did:jwk:")

# How long a caller waits for didkit's answer before giving up (it signs in well under 100 ms).
DIDKIT_TIMEOUT_SECONDS = 30.0


class _BridgeFuture:
    """What didkit completes instead of an asyncio future (see `_BridgeLoop`). The caller blocks
    on a lock released by the completion, which didkit's runtime delivers from its own thread
    with the GIL held."""

    __slots__ = ("_callbacks", "_done", "_exception", "_result", "_waiter")

    def __init__(self) -> None:
        self._waiter = threading.Lock()
        self._waiter.acquire()
        self._callbacks: list = []
        self._done = False
        self._result: Any = None
        self._exception: BaseException | None = None

    def add_done_callback(self, callback, *, context=None) -> None:
        self._callbacks.append(callback)

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return self._done

    def set_result(self, value) -> None:
        self._finish(value, None)

    def set_exception(self, exception) -> None:
        self._finish(None, exception)

    def _finish(self, value, exception) -> None:
        if self._done:
            return
        self._result, self._exception, self._done = value, exception, True
        callbacks, self._callbacks = self._callbacks, []
        self._waiter.release()
        for callback in callbacks:
            callback(self)

    def wait(self, timeout: float):
        if not self._waiter.acquire(timeout=timeout):
            raise CryptoError(f"didkit did not answer within {timeout:.0f} s")
        if self._exception is not None:
            raise self._exception
        return self._result


class _BridgeLoop:
    """The part of an event loop that didkit's Python binding (pyo3-asyncio) uses: it asks the
    running loop for a future, and completes it through `call_soon_threadsafe` from its runtime
    thread. Answering those two calls directly makes a call one thread hop each way, instead
    of a full asyncio loop iteration with a task, a self-pipe and an epoll wake-up on top
    (which cost more CPU than signing a small credential). Any other use fails loudly, and the
    adapter then falls back to a real event loop for good."""

    def create_future(self) -> _BridgeFuture:
        return _BridgeFuture()

    def call_soon_threadsafe(self, callback, *args, context=None) -> None:
        callback(*args)


_BRIDGE = _BridgeLoop()
_NOT_BRIDGED = object()  # `_run_bridged` could not make the call: use an event loop
_bridge_usable = True
_local = threading.local()


def _run_in_event_loop(fn, *args):
    # One event loop per thread, reused: asyncio.run() per call would create and tear down a
    # loop each time, which costs more than a small signature. didkit is thread-safe.
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop

    async def call():
        return await fn(*args)

    return loop.run_until_complete(call())


def _run_bridged(fn, *args):
    global _bridge_usable
    previous = asyncio._get_running_loop()
    if previous is not None:  # called from async code: leave that loop alone
        return _NOT_BRIDGED
    asyncio._set_running_loop(_BRIDGE)
    try:
        future = fn(*args)
    except (AttributeError, RuntimeError):
        _bridge_usable = False  # the binding wants more of a loop than the bridge offers
        return _NOT_BRIDGED
    finally:
        asyncio._set_running_loop(previous)
    if not isinstance(future, _BridgeFuture):
        _bridge_usable = False
        return _NOT_BRIDGED
    return future.wait(DIDKIT_TIMEOUT_SECONDS)


def _didkit(fn, *args) -> str:
    try:
        if _bridge_usable:
            answer = _run_bridged(fn, *args)
            if answer is not _NOT_BRIDGED:
                return answer
        return _run_in_event_loop(fn, *args)
    except didkit.DIDKitException as exc:
        raise CryptoError(_clean_message(exc)) from None
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"didkit rejected its input: {exc}") from None


def _clean_message(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:300]


@dataclass(frozen=True)
class DidkitVerdict:
    """didkit's answer; `ok` is only ever `errors == []` (its `checks` lists "proof" even for
    a forged signature, so it is never used as a verdict)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def ensure_offline_did(did_or_vm: str, *, role: str) -> None:
    """Refuse DIDs didkit would resolve itself over the network (did:web: SSRF)."""
    if not isinstance(did_or_vm, str) or not did_or_vm.startswith(OFFLINE_METHODS):
        raise CryptoError(
            f"{role} must be a did:key or did:jwk (got {str(did_or_vm)[:80]!r}); "
            "other methods are resolved only by the registry's guarded resolver"
        )


def _ldp_options(key: Ed25519KeyPair, purpose: str, **extra: Any) -> str:
    options = {
        "proofPurpose": purpose,
        "verificationMethod": did_key_verification_method(key.did_key),
        "type": "Ed25519Signature2020",
        **{k: v for k, v in extra.items() if v is not None},
    }
    return json.dumps(options)


def issue_credential(
    credential: dict, *, key: Ed25519KeyPair, proof_format: ProofFormat = "ldp"
) -> dict | str:
    """Sign `credential` with `key` (assertionMethod). JSON-LD returns a dict, JWT a string."""
    options = json.loads(_ldp_options(key, "assertionMethod"))
    if proof_format == "jwt":
        options.pop("type")
        options["proofFormat"] = "jwt"
    signed = _didkit(
        didkit.issue_credential, json.dumps(credential), json.dumps(options), key.private_jwk_json
    )
    return signed if proof_format == "jwt" else json.loads(signed)


def issue_presentation(
    presentation: dict,
    *,
    key: Ed25519KeyPair,
    challenge: str | None = None,
    domain: str | None = None,
    proof_format: ProofFormat = "ldp",
) -> dict | str:
    options = json.loads(_ldp_options(key, "authentication", challenge=challenge, domain=domain))
    if proof_format == "jwt":
        options.pop("type")
        options["proofFormat"] = "jwt"
    signed = _didkit(
        didkit.issue_presentation,
        json.dumps(presentation),
        json.dumps(options),
        key.private_jwk_json,
    )
    return signed if proof_format == "jwt" else json.loads(signed)


def _verify(fn, document: dict | str, options: dict) -> DidkitVerdict:
    if isinstance(document, str):
        options = {**options, "proofFormat": "jwt"}
        text = document
    else:
        text = json.dumps(document)
    try:
        raw = _didkit(fn, text, json.dumps(options))
    except CryptoError as exc:
        return DidkitVerdict(errors=[str(exc)])
    result = json.loads(raw)
    return DidkitVerdict(
        errors=list(result.get("errors") or []), warnings=list(result.get("warnings") or [])
    )


def verify_credential(
    credential: dict | str, *, proof_purpose: str = "assertionMethod"
) -> DidkitVerdict:
    """Check the proof only. The caller checks signer DIDs with `ensure_offline_did` first,
    and does every other check (dates, status, issuer binding) itself."""
    return _verify(didkit.verify_credential, credential, {"proofPurpose": proof_purpose})


def verify_presentation(
    presentation: dict | str,
    *,
    challenge: str,
    domain: str | None = None,
    proof_purpose: str = "authentication",
) -> DidkitVerdict:
    """Check the presentation's own proof, bound to `challenge` (didkit accepts any challenge
    when none is given, so one is required here). Embedded credentials are not checked."""
    options = {"proofPurpose": proof_purpose, "challenge": challenge}
    if domain is not None:
        options["domain"] = domain
    return _verify(didkit.verify_presentation, presentation, options)


def resolve_offline(did: str) -> dict:
    """Resolve a did:key or did:jwk without any network access; raises CryptoError."""
    ensure_offline_did(did, role="DID")
    result = json.loads(_didkit(didkit.resolve_did, did, "{}"))
    if not isinstance(result, dict) or result.get("id") != did:
        raise CryptoError("didkit returned no document for this DID")
    return result


def version() -> str:
    return didkit.get_version()
