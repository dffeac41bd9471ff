"""The offline verifier against a hostile server: it answers each question with whatever it
likes. The verifier must never say OK to what it did not check, and must end with a FAIL line,
never a traceback, whatever comes back."""

import base64
import hashlib
import http.server
import json
import socketserver
import threading
import time
import urllib.parse
import urllib.request

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registry.anchoring import merkle, note, services, verify

ORIGIN = "hostile.example/log"


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(answer):
    """A loopback server whose `answer(path, query)` returns (status, body bytes), raw bytes
    written to the socket as they are (not even HTTP), or a function that writes them."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            result = answer(parsed.path, query)
            if callable(result):  # writes its answer itself, at its own pace
                result(self.wfile)
                self.close_connection = True
                return
            if isinstance(result, bytes):
                self.wfile.write(result)
                self.close_connection = True
                return
            status, body = result
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def hostile():
    servers = []

    def start(answer):
        server = serve(answer)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def signed_checkpoint(tree_size=5, root=b"\x07" * 32):
    """A checkpoint the hostile server signs properly, and the key that verifies it: the
    signature is fine, everything after it is the test."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    text = note.Checkpoint(origin=ORIGIN, tree_size=tree_size, root_hash=root).text()
    signed = note.sign_note(text, name=ORIGIN, public_key=public, sign=private.sign)
    return signed, note.verifier_key(ORIGIN, public)


def run(server, **kwargs):
    lines: list[str] = []
    ok = verify.run(server=server, out=lines.append, **kwargs)
    return ok, "\n".join(lines)


A_LEAF = {"leaf_hash": "ab" * 32}


@pytest.mark.parametrize(
    ("what", "proof_answer"),
    [
        ("a JSON array", (200, b"[]")),
        ("an error that is a JSON array", (500, b'["boom"]')),
        ("JSON nested past the parser's recursion limit", (200, b"[" * 200_000)),
        ("a leaf index of infinity", (200, b'{"leaf_index": 1e999, "tree_size": 5, "hashes": []}')),
        (
            "a leaf index that is a string",
            (200, b'{"leaf_index": "0", "tree_size": 5, "hashes": []}'),
        ),
        ("not HTTP at all", b"SSH-2.0-OpenSSH_9.6\r\n"),
        (
            "a header line longer than http.client reads",
            b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
        ),
    ],
)
def test_a_malformed_proof_answer_is_a_fail_line_not_a_traceback(hostile, what, proof_answer):
    checkpoint, key = signed_checkpoint()

    def answer(path, query):
        if path == "/log/checkpoint":
            return 200, checkpoint.encode()
        return proof_answer

    ok, output = run(hostile(answer), keys=[key], **A_LEAF)
    assert not ok, what
    assert output.splitlines()[-1].startswith("FAIL "), (what, output)


@pytest.mark.parametrize(
    "keys_answer",
    [
        b'{"keys": [{"verifier_key": 5}]}',
        b'{"keys": [5]}',
        b'{"keys": 5}',
    ],
)
def test_malformed_published_keys_are_a_fail_line(hostile, keys_answer):
    checkpoint, _key = signed_checkpoint()

    def answer(path, query):
        if path == "/log/key":
            return 200, keys_answer
        return 200, checkpoint.encode()

    ok, output = run(hostile(answer))
    assert not ok
    assert output.splitlines()[-1].startswith("FAIL "), output


@pytest.mark.parametrize(
    "leaf",
    [
        {"kind": "status-list", "key": "l:1", "entry": 5, "data": {}, "leaf_hash": "00"},
        {"kind": "status-list", "key": "l:1", "entry": "{}", "data": [1], "leaf_hash": "00"},
    ],
)
def test_a_malformed_leaf_is_a_fail_line(hostile, leaf, tmp_path):
    checkpoint, key = signed_checkpoint()
    document = tmp_path / "doc.json"
    document.write_text("{}")

    def answer(path, query):
        if path == "/log/leaf":
            return 200, json.dumps(leaf).encode()
        return 200, checkpoint.encode()

    ok, output = run(
        hostile(answer), keys=[key], kind="status-list", key="l:1", document=str(document)
    )
    assert not ok
    assert output.splitlines()[-1].startswith("FAIL "), output


def trickle(head: bytes):
    """Send `head`, then one byte every 0.2 s, each within any per-read timeout, for ever."""

    def write(wfile):
        try:
            wfile.write(head)
            for _ in range(600):
                wfile.write(b"a")
                wfile.flush()
                time.sleep(0.2)
        except OSError:  # the verifier hung up: what we want
            pass

    return write


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Slow: ",
    ],
    ids=["body", "headers"],
)
def test_a_server_that_trickles_its_answer_is_cut_off(hostile, monkeypatch, head):
    """A monitor run from cron must end with a FAIL, not hang for ever on a slow server."""
    monkeypatch.setattr(verify, "REQUEST_DEADLINE_SECONDS", 2.0)
    checkpoint, key = signed_checkpoint()

    def answer(path, query):
        if path == "/log/checkpoint":
            return 200, checkpoint.encode()
        return trickle(head)

    started = time.monotonic()
    ok, output = run(hostile(answer), keys=[key], **A_LEAF)
    assert time.monotonic() - started < 10
    assert not ok
    assert output.splitlines()[-1].endswith("no complete answer within 2 s"), output


@pytest.mark.django_db(transaction=True)
def test_a_leaf_for_another_key_is_not_taken_for_the_one_asked(hostile, live_server, tmp_path):
    """The server answers "the leaf of list-7:2" with the (genuine, included) leaf of list-7:1:
    a relying party holding version 1 of the list would be told it is version 2 (say, the list
    before a revocation passed off as the list after it)."""
    documents = {}
    for version in (1, 2):
        doc = {"id": "https://example/status/list-7", "version": version}
        documents[version] = rfc8785.dumps(doc)
        services.anchor_record(
            kind="status-list",
            key=f"list-7:{version}",
            data={"version": version, "sha256": hashlib.sha256(documents[version]).hexdigest()},
        )
    held = tmp_path / "list.json"
    held.write_bytes(documents[1])

    def answer(path, query):
        if path == "/log/leaf" and query.get("key") == "list-7:2":
            query = {**query, "key": "list-7:1"}  # the swap
        url = f"{live_server.url}{path}?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    server = hostile(answer)
    # The honest question about version 1 passes through the proxy: it is faithful otherwise.
    ok, output = run(server, kind="status-list", key="list-7:1", document=str(held))
    assert ok, output
    ok, output = run(server, kind="status-list", key="list-7:2", document=str(held))
    assert not ok, output
    assert "is the document anchored as" not in output
    assert output.splitlines()[-1] == (
        "FAIL the server answered status-list list-7:2 with the leaf of status-list list-7:1"
    )


def test_the_hostile_checkpoint_itself_verifies():
    """Guard for the tests above: their checkpoint is valid, so a FAIL comes from what follows."""
    checkpoint, key = signed_checkpoint(tree_size=1, root=merkle.leaf_hash(b"x"))
    opened = note.open_checkpoint(checkpoint, [note.VerifierKey.parse(key)])
    assert opened.tree_size == 1
    assert base64.b64encode(opened.root_hash).decode() in checkpoint
