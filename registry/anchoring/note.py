"""C2SP signed notes (https://c2sp.org/signed-note) and checkpoints
(https://c2sp.org/tlog-checkpoint), Ed25519 only. Pure Python, no Django: the offline verifier
uses it too.

A checkpoint is the note text

    <origin>\\n<tree size>\\n<base64 root hash>\\n

followed by a blank line and one line per signature, `— <key name> <base64(key id || sig)>`,
where key id = SHA-256(key name || 0x0A || 0x01 || public key)[:4] and the signature is Ed25519
over the text bytes. A verifier key is written `<name>+<hex key id>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
_NAME = re.compile(r"^[^\s+]+$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")
MAX_NOTE_BYTES = 1 << 20


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or does not verify."""


def _check_name(name: str) -> None:
    if not name or not _NAME.match(name):
        raise NoteError("a key name must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 key (signed-note spec)."""
    _check_name(name)
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """`<name>+<hex key id>+<base64(0x01 || public key)>`."""
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<hex key id>+<base64 key>")
        name, hex_id, b64 = parts
        _check_name(name)
        try:
            kid = bytes.fromhex(hex_id)
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("verifier key is not hex / base64") from None
        if len(kid) != 4 or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
        public_key = raw[1:]
        if key_id(name, public_key) != kid:
            raise NoteError("verifier key id does not match its name and key")
        return cls(name=name, key_id=kid, public_key=public_key)

    def __str__(self) -> str:
        return verifier_key(self.name, self.public_key)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


def sign_note(text: str, *, name: str, public_key: bytes, sign: Callable[[bytes], bytes]) -> str:
    """The signed note: `text` (which must end with a newline), a blank line, one signature.
    `sign` makes the Ed25519 signature (the caller keeps the private key)."""
    _check_text(text)
    signature = sign(text.encode())
    if len(signature) != 64:
        raise NoteError("an Ed25519 signature is 64 bytes")
    blob = base64.b64encode(key_id(name, public_key) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if "\r" in text or any(c in text for c in "\x00\t") or "\n\n" in text:
        raise NoteError("note text must not contain blank lines or control characters")


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signatures (unverified)."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("malformed note: no blank line before the signatures")
    text = note[: split + 1]
    _check_text(text)
    signatures = []
    for line in note[split + 2 : -1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        try:
            name, blob = line[len(SIGNATURE_PREFIX) :].split(" ")
            raw = base64.b64decode(blob, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("malformed signature line") from None
        _check_name(name)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    if not signatures:
        raise NoteError("note has no signatures")
    return text, signatures


def open_note(note: str, keys: Sequence[VerifierKey]) -> tuple[str, VerifierKey]:
    """The note's text and the key that verified it; raises NoteError unless a signature by
    one of `keys` verifies."""
    text, signatures = parse_note(note)
    for sig in signatures:
        for key in keys:
            if key.name != sig.name or key.key_id != sig.key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(key.public_key).verify(
                    sig.signature, text.encode()
                )
            except (InvalidSignature, ValueError):
                raise NoteError(f"the signature by {key.name} does not verify") from None
            return text, key
    raise NoteError("no signature by a known key")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [
            self.origin,
            str(self.tree_size),
            base64.b64encode(self.root_hash).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("empty checkpoint origin")
        if not _DECIMAL.match(size):
            raise NoteError("checkpoint tree size is not a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("checkpoint root hash is not base64") from None
        if len(root_hash) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes")
        return cls(
            origin=origin,
            tree_size=int(size),
            root_hash=root_hash,
            extensions=tuple(lines[3:-1]),
        )


def open_checkpoint(
    note: str, keys: Sequence[VerifierKey], *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint and parse it; `origin`, when given, must match."""
    text, _key = open_note(note, keys)
    checkpoint = Checkpoint.parse_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
