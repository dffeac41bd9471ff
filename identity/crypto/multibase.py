"""base58btc and the multibase / multicodec framing that did:key uses."""

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

ED25519_PUB_MULTICODEC = b"\xed\x01"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        try:
            n = n * 58 + _INDEX[c]
        except KeyError:
            raise ValueError(f"invalid base58 character {c!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def ed25519_public_key_to_multibase(public_key: bytes) -> str:
    """`z` + base58btc(0xed01 + key): the method-specific id of an Ed25519 did:key."""
    return "z" + b58encode(ED25519_PUB_MULTICODEC + public_key)


def multibase_to_ed25519_public_key(value: str) -> bytes:
    if not value.startswith("z"):
        raise ValueError("only base58btc ('z') multibase is supported")
    raw = b58decode(value[1:])
    if not raw.startswith(ED25519_PUB_MULTICODEC) or len(raw) != 34:
        raise ValueError("not an Ed25519 public key multicodec value")
    return raw[2:]
