"""Key material, did:key encoding and encryption at rest, against public test vectors."""

import json

import pytest

from identity.crypto.encryption import MasterKeyRing
from identity.crypto.errors import MasterKeyError
from identity.crypto.keys import (
    Ed25519KeyPair,
    b64url_encode,
    did_key_from_public_bytes,
    public_bytes_from_did_key,
    verify_ed25519,
)
from identity.crypto.multibase import b58decode, b58encode


def _ed25519_did_key_vectors(vectors_dir):
    data = json.loads((vectors_dir / "did-method-key/test-vectors/ed25519-x25519.json").read_text())
    return [(did, v) for did, v in data.items() if v.get("seed")]


def test_did_key_from_seed_matches_published_vectors(vectors_dir):
    cases = _ed25519_did_key_vectors(vectors_dir)
    assert cases, "no Ed25519 did:key vectors found"
    for did, vector in cases:
        pair = Ed25519KeyPair.from_private_bytes(bytes.fromhex(vector["seed"]))
        assert pair.did_key == did
        published = vector["verificationKeyPair"]
        if "publicKeyBase58" in published:
            assert b58encode(pair.public_bytes) == published["publicKeyBase58"]
        else:
            assert published["publicKeyJwk"] == pair.public_jwk
        assert public_bytes_from_did_key(did) == pair.public_bytes


def test_rfc8032_signatures_are_reproduced(vectors_dir):
    data = json.loads((vectors_dir / "rfc8032-ed25519/rfc8032-section-7.1.json").read_text())
    for vector in data["vectors"]:
        pair = Ed25519KeyPair.from_private_bytes(bytes.fromhex(vector["secretKey"]))
        assert pair.public_bytes.hex() == vector["publicKey"]
        message = bytes.fromhex(vector["message"])
        assert pair.sign(message).hex() == vector["signature"], vector["name"]


def test_wycheproof_verification_verdicts(vectors_dir):
    data = json.loads(
        (vectors_dir / "wycheproof-ed25519/testvectors_v1/ed25519_test.json").read_text()
    )
    checked = 0
    for group in data["testGroups"]:
        public = bytes.fromhex(group["publicKey"]["pk"])
        for case in group["tests"]:
            ok = verify_ed25519(public, bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
            assert ok == (case["result"] == "valid"), case["tcId"]
            checked += 1
    assert checked == data["numberOfTests"]


def test_base58_round_trip_keeps_leading_zeros():
    for raw in [b"", b"\0", b"\0\0\x01", bytes(range(40))]:
        assert b58decode(b58encode(raw)) == raw
    with pytest.raises(ValueError, match="invalid base58"):
        b58decode("0OIl")


def test_did_key_rejects_non_ed25519_multicodec():
    with pytest.raises(ValueError, match="Ed25519"):
        public_bytes_from_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
    assert did_key_from_public_bytes(bytes(32)).startswith("did:key:z6Mk")


def test_key_pair_repr_never_shows_private_key():
    pair = Ed25519KeyPair.generate()
    assert pair.private_bytes.hex() not in repr(pair)
    assert b64url_encode(pair.private_bytes) not in repr(pair)


def _ring(*kids):
    return ",".join(f"{kid}:{b64url_encode(bytes([i + 1]) * 32)}" for i, kid in enumerate(kids))


def test_master_key_ring_encrypts_with_first_and_decrypts_with_any():
    old = MasterKeyRing.parse(_ring("old"))
    kid, sealed = old.encrypt(b"secret", associated_data=b"row-1")
    assert kid == "old"
    assert b"secret" not in sealed
    ring = MasterKeyRing.parse(f"new:{b64url_encode(b'n' * 32)},{_ring('old')}")
    assert ring.current_kid == "new"
    assert ring.decrypt("old", sealed, associated_data=b"row-1") == b"secret"
    assert ring.encrypt(b"secret", associated_data=b"row-1")[0] == "new"


def test_ciphertext_is_bound_to_its_row():
    ring = MasterKeyRing.parse(_ring("k"))
    kid, sealed = ring.encrypt(b"secret", associated_data=b"row-1")
    with pytest.raises(MasterKeyError, match="authentication"):
        ring.decrypt(kid, sealed, associated_data=b"row-2")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(MasterKeyError):
        ring.decrypt(kid, tampered, associated_data=b"row-1")
    with pytest.raises(MasterKeyError, match="not in the configured ring"):
        ring.decrypt("gone", sealed, associated_data=b"row-1")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no master key"),
        ("nokid", "kid:base64url-key"),
        ("k:" + b64url_encode(b"short"), "32 bytes"),
        (_ring("k") + "," + _ring("k"), "appears twice"),
    ],
)
def test_master_key_ring_rejects_bad_configuration(spec, message):
    with pytest.raises(MasterKeyError, match=message):
        MasterKeyRing.parse(spec)
