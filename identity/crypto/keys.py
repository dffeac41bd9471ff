"""Ed25519 key pairs: generation, JWK form, did:key form."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .multibase import ed25519_public_key_to_multibase, multibase_to_ed25519_public_key


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Ed25519KeyPair:
    """A key pair held in memory only for as long as a signature needs it."""

    private_bytes: bytes
    public_bytes: bytes

    def __repr__(self) -> str:  # never print key material, even in tracebacks
        return f"Ed25519KeyPair(did_key={self.did_key!r})"

    @classmethod
    def generate(cls) -> Ed25519KeyPair:
        return cls.from_private_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                Encoding.Raw, PrivateFormat.Raw, NoEncryption()
            )
        )

    @classmethod
    def from_private_bytes(cls, private_bytes: bytes) -> Ed25519KeyPair:
        private = Ed25519PrivateKey.from_private_bytes(private_bytes)
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(private_bytes=private_bytes, public_bytes=public)

    @property
    def public_jwk(self) -> dict:
        return public_jwk(self.public_bytes)

    @property
    def private_jwk_json(self) -> str:
        """The JWK didkit signs with. Only the crypto adapter should ever need this."""
        return json.dumps({**self.public_jwk, "d": b64url_encode(self.private_bytes)})

    @property
    def did_key(self) -> str:
        return did_key_from_public_bytes(self.public_bytes)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.private_bytes).sign(message)


def public_jwk(public_bytes: bytes) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_bytes)}


def did_key_from_public_bytes(public_bytes: bytes) -> str:
    return "did:key:" + ed25519_public_key_to_multibase(public_bytes)


def did_key_verification_method(did_key: str) -> str:
    """The verification method id inside an Ed25519 did:key document: `did:key:z..#z...`."""
    return f"{did_key}#{did_key.removeprefix('did:key:')}"


def public_bytes_from_did_key(did_key: str) -> bytes:
    if not did_key.startswith("did:key:"):
        raise ValueError("not a did:key")
    return multibase_to_ed25519_public_key(did_key.removeprefix("did:key:"))


def verify_ed25519(public_bytes: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
