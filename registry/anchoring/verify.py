"""Verify the registry's anchoring log from the outside: no database, no Django settings, only HTTP.

    python -m registry.anchoring.verify --server http://127.0.0.1:8000 [--key KEY] \\
        [--status-list ID --version N | --leaf-hash HEX | --kind K --key-name KEY] \\
        [--old-checkpoint FILE] [--save-checkpoint FILE] [--monitor FILE] [--audit]

`--monitor FILE` is the monitor's loop body (cron, a systemd timer): check that the log only
grew since the checkpoint saved in FILE (none yet: start from this one), then save the new one
there. A shrunk or forked log fails and leaves FILE as it was, so every later run fails too
until someone looks.

(`python manage.py verify_log` takes the same options.) Every check trusts only the checkpoint
signature (with `--key`, or the key the server publishes at `/log/key`, which is then merely
trust on first use) and recomputes hashes itself: leaf hashes from the entries' bytes, roots
from proofs (RFC 9162), and, with `--audit`, the whole tree from every entry.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import rfc8785

from . import merkle, note

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
# The whole of one request, headers and body: the socket timeout bounds each read only, and a
# server sending a byte now and then would hold a monitor run by cron for ever.
REQUEST_DEADLINE_SECONDS = 60.0


class VerificationFailed(Exception):
    """The log does not verify: what was checked and why it failed."""


class LogClient:
    """A minimal read-only client of the `/log/...` API."""

    def __init__(self, server: str, *, timeout: float = 10.0) -> None:
        parsed = urllib.parse.urlsplit(server)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise ValueError("--server must be an http(s) URL")
        self.base = server.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict | None = None) -> tuple[int, bytes]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        outcome: list = []

        def fetch() -> None:
            try:
                outcome.append(self._fetch(url))
            except Exception as exc:  # noqa: BLE001 - handed to the caller's thread as it is
                outcome.append(exc)

        # urllib has no overall deadline: the request runs in a daemon thread, abandoned (it
        # dies with the process) if it has not finished in time.
        worker = threading.Thread(target=fetch, name="verify-log-request", daemon=True)
        worker.start()
        worker.join(REQUEST_DEADLINE_SECONDS)
        if not outcome:
            raise VerificationFailed(
                f"{url}: no complete answer within {REQUEST_DEADLINE_SECONDS:g} s"
            )
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    def _fetch(self, url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers={"Accept": "application/json, text/plain"})  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(MAX_RESPONSE_BYTES)
        except (urllib.error.URLError, OSError) as exc:
            raise VerificationFailed(f"cannot reach {url}: {exc}") from None
        except http.client.HTTPException as exc:  # not HTTP, or HTTP we will not read
            raise VerificationFailed(f"{url}: not a valid HTTP answer ({exc!r:.200})") from None

    def _json(self, path: str, params: dict | None = None) -> dict:
        status, body = self._get(path, params)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise VerificationFailed(f"{path}: HTTP {status}, not JSON") from None
        if not isinstance(payload, dict):
            raise VerificationFailed(f"{path}: HTTP {status}, not a JSON object")
        if status != 200:
            raise VerificationFailed(
                f"{path}: HTTP {status} {payload.get('error', '')}: {payload.get('message', '')}"
            )
        return payload

    def checkpoint(self) -> str:
        status, body = self._get("/log/checkpoint")
        if status != 200:
            raise VerificationFailed(f"/log/checkpoint: HTTP {status}")
        return body.decode()

    def key(self) -> dict:
        return self._json("/log/key")

    def inclusion(self, leaf_hash: bytes, tree_size: int) -> dict:
        return self._json(
            "/log/proof/inclusion", {"leaf_hash": leaf_hash.hex(), "tree_size": tree_size}
        )

    def consistency(self, first: int, second: int) -> dict:
        return self._json("/log/proof/consistency", {"first": first, "second": second})

    def entries(self, start: int, end: int) -> list[dict]:
        return self._json("/log/entries", {"start": start, "end": end})["entries"]

    def leaf(self, kind: str, key: str) -> dict:
        return self._json("/log/leaf", {"kind": kind, "key": key})

    def status_list_version(self, list_id: str, version: int) -> bytes:
        """The exact bytes the registry serves for that published list version."""
        path = f"/status-lists/{urllib.parse.quote(list_id, safe='')}/versions/{version}"
        status, body = self._get(path)
        if status != 200:
            raise VerificationFailed(f"{path}: HTTP {status}")
        return body


def _unhex(values: Sequence[str], what: str) -> list[bytes]:
    try:
        out = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise VerificationFailed(f"{what}: hashes are not hex") from None
    return out


def open_checkpoint(text: str, keys: Sequence[note.VerifierKey]) -> note.Checkpoint:
    try:
        return note.open_checkpoint(text, keys)
    except note.NoteError as exc:
        raise VerificationFailed(f"checkpoint: {exc}") from None


def entry_leaf_hash(entry: dict) -> bytes:
    """Recompute a leaf hash from an entry's bytes, checking they are the canonical form of
    its kind, key and data (so nothing but the hashed bytes is trusted)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("entry"), str):
        raise VerificationFailed("an entry without its entry text")
    if not isinstance(entry.get("data"), dict):
        raise VerificationFailed(f"entry {entry.get('leaf_index')}: its data is not an object")
    raw = entry["entry"].encode()
    canonical = rfc8785.dumps({"kind": entry["kind"], "key": entry["key"], "data": entry["data"]})
    if canonical != raw:
        raise VerificationFailed(
            f"entry {entry.get('leaf_index')}: not the canonical JSON of its data"
        )
    return merkle.leaf_hash(raw)


def check_inclusion(client: LogClient, checkpoint: note.Checkpoint, leaf_hash: bytes) -> int:
    """The leaf's index, once its inclusion proof verifies against the checkpoint's root."""
    proof = client.inclusion(leaf_hash, checkpoint.tree_size)
    if proof.get("tree_size") != checkpoint.tree_size:
        raise VerificationFailed("inclusion proof is for another tree size")
    leaf_index = proof.get("leaf_index")
    if isinstance(leaf_index, bool) or not isinstance(leaf_index, int):
        raise VerificationFailed("inclusion proof: leaf_index is not an integer")
    try:
        merkle.verify_inclusion(
            leaf_index,
            checkpoint.tree_size,
            leaf_hash,
            _unhex(proof["hashes"], "inclusion proof"),
            checkpoint.root_hash,
        )
    except merkle.ProofError as exc:
        raise VerificationFailed(f"inclusion proof: {exc}") from None
    return leaf_index


def check_consistency(client: LogClient, old: note.Checkpoint, new: note.Checkpoint) -> None:
    if old.origin != new.origin:
        raise VerificationFailed("the two checkpoints are of different logs")
    if new.tree_size < old.tree_size:
        raise VerificationFailed(
            "the log shrank: the current checkpoint is older than the saved one"
        )
    hashes: list[bytes] = []
    if 0 < old.tree_size < new.tree_size:
        proof = client.consistency(old.tree_size, new.tree_size)
        hashes = _unhex(proof["hashes"], "consistency proof")
    try:
        merkle.verify_consistency(
            old.tree_size, new.tree_size, old.root_hash, new.root_hash, hashes
        )
    except merkle.ProofError as exc:
        raise VerificationFailed(f"consistency {old.tree_size} -> {new.tree_size}: {exc}") from None


def audit_entries(client: LogClient, checkpoint: note.Checkpoint, *, page: int = 1000) -> int:
    """Fetch every entry up to the checkpoint's size, recompute every leaf hash from the
    entry bytes and the root from them; raise at the first difference. Returns the count."""
    tree = merkle.MemoryTree()
    while tree.size < checkpoint.tree_size:
        start = tree.size
        end = min(start + page, checkpoint.tree_size) - 1
        entries = client.entries(start, end)
        if not entries:
            raise VerificationFailed(f"the server returned no entries from {start}")
        for entry in entries:
            if entry["leaf_index"] != tree.size:
                raise VerificationFailed(f"entries out of order at {tree.size}")
            h = entry_leaf_hash(entry)
            if entry["leaf_hash"] != h.hex():
                raise VerificationFailed(
                    f"entry {tree.size}: its data does not hash to its leaf hash (altered)"
                )
            tree.append_hash(h)
            if tree.size == checkpoint.tree_size:
                break
    if tree.root() != checkpoint.root_hash:
        raise VerificationFailed(
            "the root recomputed from the entries differs from the signed checkpoint "
            "(an entry was altered)"
        )
    return tree.size


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def add(self, line: str) -> None:
        self.lines.append(line)


def _keys(client: LogClient, key_option: Sequence[str]) -> tuple[list[note.VerifierKey], str]:
    if key_option:
        try:
            return [note.VerifierKey.parse(k) for k in key_option], "given"
        except note.NoteError as exc:
            raise VerificationFailed(f"--key: {exc}") from None
    published = client.key()
    texts = [k.get("verifier_key") if isinstance(k, dict) else None for k in published["keys"]]
    if not all(isinstance(text, str) for text in texts):
        raise VerificationFailed("/log/key: a key that is not a verifier key string")
    keys = [note.VerifierKey.parse(text) for text in texts]
    return keys, "published by the server (trust on first use)"


def run(
    *,
    server: str,
    keys: Sequence[str] = (),
    leaf_hash: str | None = None,
    kind: str | None = None,
    key: str | None = None,
    status_list: str | None = None,
    version: int | None = None,
    document: str | None = None,
    old_checkpoint: str | None = None,
    save_checkpoint: str | None = None,
    monitor: str | None = None,
    audit: bool = False,
    out: Callable[[str], None] = print,
) -> bool:
    """Run the requested checks against `server`; print what was verified; True if all pass."""
    if monitor is not None:
        if old_checkpoint is not None or save_checkpoint is not None:
            out(
                "FAIL --monitor FILE is --old-checkpoint FILE plus --save-checkpoint FILE: not both"
            )
            return False
        save_checkpoint = monitor
        if os.path.exists(monitor):
            old_checkpoint = monitor
    try:
        client = LogClient(server)
        verifier_keys, source = _keys(client, keys)
        text = client.checkpoint()
        checkpoint = open_checkpoint(text, verifier_keys)
        out(
            f"OK checkpoint {checkpoint.origin} size {checkpoint.tree_size} root "
            f"{checkpoint.root_hash.hex()} (signature verified; key {source})"
        )
        if status_list is not None:
            if version is None:
                raise VerificationFailed("--status-list needs --version")
            kind, key = "status-list", f"{status_list}:{version}"
        if kind and key:
            entry = client.leaf(kind, key)
            # The leaf hash commits to its kind and key, not to the question asked: a server
            # could answer with another genuine leaf (an older list version, say).
            if (entry.get("kind"), entry.get("key")) != (kind, key):
                raise VerificationFailed(
                    f"the server answered {kind} {key} with the leaf of "
                    f"{entry.get('kind')} {entry.get('key')}"
                )
            computed = entry_leaf_hash(entry)
            if entry["leaf_hash"] != computed.hex():
                raise VerificationFailed(f"{kind} {key}: its data does not hash to its leaf hash")
            if document is not None:
                with open(document, "rb") as fh:
                    _check_document(entry, fh.read(), document)
                out(f"OK {document} is the document anchored as {kind} {key}")
            if status_list is not None and version is not None:
                served = client.status_list_version(status_list, version)
                _check_document(entry, served, f"the served status list {key}")
                out(f"OK the served status list {key} is the anchored one (sha256)")
            leaf_hash = computed.hex()
            out(f"   {kind} {key}: {json.dumps(entry['data'], sort_keys=True)}")
        if leaf_hash is not None:
            lh = _unhex([leaf_hash], "--leaf-hash")[0]
            index = check_inclusion(client, checkpoint, lh)
            out(
                f"OK leaf {lh.hex()} is included at index {index} (tree size {checkpoint.tree_size})"
            )
        if monitor is not None and old_checkpoint is None:
            out(f"   no checkpoint saved in {monitor} yet: monitoring starts from this one")
        if old_checkpoint is not None:
            old = open_checkpoint(_read_text(old_checkpoint, "--old-checkpoint"), verifier_keys)
            check_consistency(client, old, checkpoint)
            out(
                f"OK checkpoint {old.tree_size} is consistent with checkpoint {checkpoint.tree_size}"
            )
        if audit:
            count = audit_entries(client, checkpoint)
            out(f"OK recomputed the root from all {count} entries: it matches the checkpoint")
        if save_checkpoint is not None:
            _write_atomically(save_checkpoint, text)
            out(f"   saved the checkpoint to {save_checkpoint}")
    except (VerificationFailed, note.NoteError, KeyError, TypeError, ValueError) as exc:
        out(f"FAIL {exc}")
        return False
    return True


def _read_text(path: str, option: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationFailed(f"cannot read {option} {path}: {exc}") from None


def _write_atomically(path: str, text: str) -> None:
    """Replace `path` whole or not at all: a monitor killed mid-write must not leave a
    truncated checkpoint that fails every later run."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".checkpoint-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise VerificationFailed(f"cannot save the checkpoint to {path}: {exc}") from None


def _check_document(entry: dict, raw: bytes, what: str) -> None:
    """The anchored data's `sha256` must be the SHA-256 of the document's exact bytes or, for
    a JSON file saved differently, of its canonical JSON (RFC 8785)."""
    expected = entry["data"].get("sha256")
    if not isinstance(expected, str):
        raise VerificationFailed("the anchored data has no sha256 to compare with")
    candidates = {hashlib.sha256(raw).hexdigest()}
    with contextlib.suppress(ValueError):
        candidates.add(hashlib.sha256(rfc8785.dumps(json.loads(raw))).hexdigest())
    if expected.lower() not in candidates:
        raise VerificationFailed(f"{what} is not the anchored document (sha256 differs)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        dest="keys",
        help="trusted note verifier key (repeatable); default: the server's /log/key",
    )
    parser.add_argument("--leaf-hash", help="hex leaf hash that must be included")
    parser.add_argument("--kind", help="leaf kind, with --key-name (e.g. did-version)")
    parser.add_argument("--key-name", dest="key_name", help="leaf key, with --kind")
    parser.add_argument("--status-list", help="status list id (with --version)")
    parser.add_argument("--version", type=int, help="status list version")
    parser.add_argument("--document", help="file whose SHA-256 must match the anchored data")
    parser.add_argument("--old-checkpoint", help="a saved checkpoint that must be a prefix")
    parser.add_argument("--save-checkpoint", help="write the verified checkpoint here")
    parser.add_argument(
        "--monitor",
        metavar="FILE",
        help="check consistency with the checkpoint saved in FILE (if any), then save the new "
        "one there (for a monitor run periodically)",
    )
    parser.add_argument(
        "--audit",
        action="store_true",
        help="recompute the whole tree from every entry and compare with the checkpoint",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m registry.anchoring.verify", description=__doc__
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    ok = run(
        server=args.server,
        keys=args.keys,
        leaf_hash=args.leaf_hash,
        kind=args.kind,
        key=args.key_name,
        status_list=args.status_list,
        version=args.version,
        document=args.document,
        old_checkpoint=args.old_checkpoint,
        save_checkpoint=args.save_checkpoint,
        monitor=args.monitor,
        audit=args.audit,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
