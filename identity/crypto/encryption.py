"""Private keys at rest: AES-256-GCM under a master key ring from the settings.

The ring is `kid:base64url(32 bytes)` entries; the first encrypts, all decrypt. The key id is
stored beside each ciphertext so the ring can be rotated (`manage.py rotate_master_key`).
The owning row's identifier is bound in as associated data, so a ciphertext copied onto another
row does not decrypt.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import MasterKeyError
from .keys import b64url_decode

NONCE_BYTES = 12


@dataclass(frozen=True)
class MasterKeyRing:
    keys: dict[str, bytes]
    current_kid: str

    def __repr__(self) -> str:
        return f"MasterKeyRing(kids={list(self.keys)!r}, current={self.current_kid!r})"

    @classmethod
    def parse(cls, spec: str) -> MasterKeyRing:
        keys: dict[str, bytes] = {}
        current = None
        for entry in (e.strip() for e in spec.split(",")):
            if not entry:
                continue
            kid, sep, encoded = entry.partition(":")
            if not sep or not kid:
                raise MasterKeyError("master key entries must look like 'kid:base64url-key'")
            try:
                key = b64url_decode(encoded)
            except ValueError as exc:
                raise MasterKeyError(f"master key {kid!r} is not base64url") from exc
            if len(key) != 32:
                raise MasterKeyError(f"master key {kid!r} must be 32 bytes, not {len(key)}")
            if kid in keys:
                raise MasterKeyError(f"master key id {kid!r} appears twice")
            keys[kid] = key
            current = current or kid
        if current is None:
            raise MasterKeyError("no master key configured (REGISTRY_MASTER_KEYS)")
        return cls(keys=keys, current_kid=current)

    @classmethod
    def from_settings(cls) -> MasterKeyRing:
        from django.conf import settings

        return _parsed_ring(settings.REGISTRY_MASTER_KEYS)

    def encrypt(self, plaintext: bytes, *, associated_data: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_kid]).encrypt(nonce, plaintext, associated_data)
        return self.current_kid, nonce + sealed

    def decrypt(self, kid: str, ciphertext: bytes, *, associated_data: bytes) -> bytes:
        key = self.keys.get(kid)
        if key is None:
            raise MasterKeyError(f"master key {kid!r} is not in the configured ring")
        try:
            return AESGCM(key).decrypt(
                ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], associated_data
            )
        except InvalidTag as exc:
            raise MasterKeyError("private key ciphertext failed authentication") from exc


@functools.lru_cache(maxsize=8)
def _parsed_ring(spec: str) -> MasterKeyRing:
    # The ring is immutable and keyed by its whole spec: a changed setting parses anew. Only the
    # master keys are kept, never a decrypted private key.
    return MasterKeyRing.parse(spec)
