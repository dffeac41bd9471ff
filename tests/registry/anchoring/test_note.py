"""C2SP signed notes and checkpoints, against the Go sumdb/note reference vector."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registry.anchoring import note
from registry.anchoring.note import Checkpoint, NoteError, VerifierKey

from .vectors import GO_NOTE, GO_SIGNER_KEY, GO_TEXT, GO_VERIFIER_KEY


@pytest.fixture
def go_key():
    raw = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert raw[0] == 1
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def test_verifier_key_and_key_id_match_go(go_key):
    _private, public = go_key
    assert note.verifier_key("PeterNeumann", public) == GO_VERIFIER_KEY
    assert note.key_id("PeterNeumann", public).hex() == "c74f20a3"
    parsed = VerifierKey.parse(GO_VERIFIER_KEY)
    assert parsed.public_key == public
    assert str(parsed) == GO_VERIFIER_KEY


def test_signing_reproduces_the_go_note_byte_for_byte(go_key):
    private, public = go_key
    signed = note.sign_note(GO_TEXT, name="PeterNeumann", public_key=public, sign=private.sign)
    assert signed == GO_NOTE


def test_open_go_note():
    text, key = note.open_note(GO_NOTE, [VerifierKey.parse(GO_VERIFIER_KEY)])
    assert text == GO_TEXT
    assert key.name == "PeterNeumann"


@pytest.mark.parametrize(
    "mangled",
    [
        GO_NOTE.replace("cryptography", "cryptographY"),
        GO_NOTE.replace("x08go", "x08gp"),
        GO_NOTE.replace("\n\n", "\n"),
        GO_NOTE.replace("\u2014 ", "- "),
        GO_NOTE[:-1],
        "",
    ],
)
def test_tampered_notes_fail(mangled):
    with pytest.raises(NoteError):
        note.open_note(mangled, [VerifierKey.parse(GO_VERIFIER_KEY)])


def test_unknown_key_fails(go_key):
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(NoteError, match="no signature by a known key"):
        note.open_note(GO_NOTE, [VerifierKey.parse(note.verifier_key("PeterNeumann", other))])


@pytest.mark.parametrize(
    "bad",
    [
        GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"),  # key id does not match
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not type 0x01
    ],
)
def test_bad_verifier_keys(bad):
    with pytest.raises(NoteError):
        VerifierKey.parse(bad)


def test_checkpoint_roundtrip(go_key):
    private, public = go_key
    root = bytes(range(32))
    cp = Checkpoint(origin="example.org/log", tree_size=12345, root_hash=root)
    text = cp.text()
    assert text == "example.org/log\n12345\n" + base64.b64encode(root).decode() + "\n"
    signed = note.sign_note(text, name="example.org/log", public_key=public, sign=private.sign)
    key = VerifierKey.parse(note.verifier_key("example.org/log", public))
    assert note.open_checkpoint(signed, [key]) == cp
    assert note.open_checkpoint(signed, [key], origin="example.org/log") == cp
    with pytest.raises(NoteError, match="origin"):
        note.open_checkpoint(signed, [key], origin="other.org/log")


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\nAAAA\n",
        "origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n1\nnot base64!\n",
        "origin\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoints(text):
    with pytest.raises(NoteError):
        Checkpoint.parse_text(text)
