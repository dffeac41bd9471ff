"""The bitstring codec against the spec's own examples (StatusList2021 and Bitstring Status
List) and the bit order the spec fixes: index 0 is the left-most bit (0x80) of the first byte."""

from __future__ import annotations

import base64
import gzip
import json
import re

import pytest

from registry.status.bitstring import (
    MIN_LIST_BITS,
    BitstringError,
    bit_get,
    bit_set,
    bits_from_indexes,
    bitstring_decode,
    bitstring_encode,
    bitstring_new,
    set_indexes,
)


def _encoded_list_of(path) -> str:
    # The StatusList2021 examples are not valid JSON (the spec elides the proof): read the field.
    match = re.search(r'"encodedList":\s*"([^"]+)"', path.read_text())
    assert match, path
    return match.group(1)


def test_statuslist2021_spec_example_decodes_to_16kib_all_clear(vectors_dir):
    encoded = _encoded_list_of(vectors_dir / "status-list-2021/spec-examples/example-02.txt")
    assert not encoded.startswith("u")  # StatusList2021: plain base64url, no multibase prefix
    bits = bitstring_decode(encoded)
    assert len(bits) * 8 == MIN_LIST_BITS
    assert set_indexes(bits) == []


@pytest.mark.parametrize("name", ["example-03.json", "example-05.json"])
def test_bitstring_status_list_examples_with_multibase_prefix_decode(vectors_dir, name):
    document = json.loads((vectors_dir / "bitstring-status-list/spec-examples" / name).read_text())
    encoded = document["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = bitstring_decode(encoded)
    assert len(bits) == 16384
    assert not any(bits)


def test_spec_example_list_with_a_bit_flipped_reads_that_index_in_spec_order(vectors_dir):
    encoded = _encoded_list_of(vectors_dir / "status-list-2021/spec-examples/example-02.txt")
    bits = bytearray(bitstring_decode(encoded))
    bit_set(bits, 94567)  # the index of the spec's example credential
    reencoded = bitstring_encode(bits)
    decoded = bitstring_decode(reencoded)
    assert set_indexes(decoded) == [94567]
    # Spec order, computed independently: byte 94567 // 8, bit 7 - 94567 % 8 counting from LSB.
    assert decoded[94567 // 8] == 1 << (7 - 94567 % 8)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    bits = bitstring_new(MIN_LIST_BITS)
    bit_set(bits, 0)
    assert bits[0] == 0x80
    bit_set(bits, 7)
    assert bits[0] == 0x81
    bit_set(bits, 8)
    assert bits[1] == 0x80
    assert bit_get(bits, 0)
    assert bit_get(bits, 7)
    assert bit_get(bits, 8)
    assert not bit_get(bits, 1)
    bit_set(bits, 0, False)
    assert bits[0] == 0x01


def test_encoding_is_plain_base64url_of_gzip_without_padding_and_deterministic():
    bits = bits_from_indexes([3, 131071], MIN_LIST_BITS)
    encoded = bitstring_encode(bits)
    assert encoded.startswith("H4sI")
    assert "=" not in encoded
    assert "+" not in encoded
    assert "/" not in encoded
    assert encoded == bitstring_encode(bits)  # no timestamp in the gzip header
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert raw == bytes(bits)


def test_padded_base64_is_accepted():
    bits = bits_from_indexes([42], MIN_LIST_BITS)
    encoded = bitstring_encode(bits)
    padded = encoded + "=" * (-len(encoded) % 4)
    assert set_indexes(bitstring_decode(padded)) == [42]


def test_gzip_bomb_is_refused():
    bomb = base64.urlsafe_b64encode(gzip.compress(bytes(8 * 1024 * 1024), 6)).decode()
    with pytest.raises(BitstringError, match="inflates past"):
        bitstring_decode(bomb)
    # ... and a list exactly at the cap is fine.
    at_cap = base64.urlsafe_b64encode(gzip.compress(bytes(4096), 6)).decode()
    assert len(bitstring_decode(at_cap, max_bytes=4096)) == 4096
    with pytest.raises(BitstringError):
        bitstring_decode(at_cap, max_bytes=4095)


@pytest.mark.parametrize(
    "bad",
    ["", "not base64 !!", base64.urlsafe_b64encode(b"plain bytes, not gzip").decode(), "H4sIAAAA"],
)
def test_undecodable_lists_are_refused(bad):
    with pytest.raises(BitstringError):
        bitstring_decode(bad)
