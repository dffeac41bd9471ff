"""StatusList2021 bitstrings: GZIP + base64url, index 0 = the left-most bit (0x80) of byte 0.

didkit's own status check reads bits in the opposite order, so the registry never relies on it:
lists are encoded and decoded here only.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib

# The spec's minimum length (16 KiB): shorter lists make every credential easy to correlate.
MIN_LIST_BITS = 131_072
# Gzip level 6: Python's default (9) is 13-17x slower for the same ~size on these lists.
GZIP_LEVEL = 6
# Decoded lists larger than this are refused (fail closed on a gzip bomb): 1 MiB = 8 Mi entries.
MAX_DECODED_BYTES = 1024 * 1024


class BitstringError(ValueError):
    """An encoded list that cannot be decoded safely."""


def bitstring_new(size_bits: int = MIN_LIST_BITS) -> bytearray:
    if size_bits <= 0 or size_bits % 8:
        raise ValueError("a status list holds a positive multiple of 8 entries")
    return bytearray(size_bits // 8)


def bit_get(bits: bytes | bytearray, index: int) -> bool:
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def bit_set(bits: bytearray, index: int, value: bool = True) -> None:
    mask = 0x80 >> (index & 7)
    if value:
        bits[index >> 3] |= mask
    else:
        bits[index >> 3] &= ~mask & 0xFF


def bits_from_indexes(indexes, size_bits: int) -> bytearray:
    bits = bitstring_new(size_bits)
    for index in indexes:
        bit_set(bits, index)
    return bits


def set_indexes(bits: bytes | bytearray) -> list[int]:
    """Every index whose bit is set, in increasing order."""
    found = []
    for byte_index, byte in enumerate(bits):
        if byte:
            for offset in range(8):
                if byte & (0x80 >> offset):
                    found.append(byte_index * 8 + offset)
    return found


def bitstring_encode(bits: bytes | bytearray) -> str:
    """GZIP (level 6, no timestamp: the same bits always encode the same) then base64url without
    padding and without a multibase prefix, as StatusList2021 writes `encodedList`."""
    compressed = gzip.compress(bytes(bits), compresslevel=GZIP_LEVEL, mtime=0)
    return base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def bitstring_decode(encoded: str, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """Decode an `encodedList`: plain base64url (StatusList2021) or multibase `u` + base64url
    (Bitstring Status List), padded or not. Refuses anything that inflates past `max_bytes`."""
    if not isinstance(encoded, str) or not encoded:
        raise BitstringError("encodedList must be a non-empty string")
    text = encoded.strip()
    # A gzip stream always starts with 1f 8b 08, "H4sI" in base64: a leading "u" is multibase.
    if text.startswith("u") and text[1:5] == "H4sI":
        text = text[1:]
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BitstringError("encodedList is not base64url") from None
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container only
    try:
        bits = inflater.decompress(compressed, max_bytes)
        if inflater.unconsumed_tail or (not inflater.eof and inflater.decompress(b"", 1)):
            raise BitstringError(f"encodedList inflates past {max_bytes} bytes")
        if not inflater.eof:
            raise BitstringError("encodedList is a truncated gzip stream")
    except zlib.error as exc:
        raise BitstringError(f"encodedList is not valid gzip: {exc}") from None
    return bits
