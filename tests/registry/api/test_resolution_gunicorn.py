"""The identifier in the path under a real server: gunicorn gives the undecoded request line
(RAW_URI), so %3A stays part of the DID, %23 is a fragment and a fully encoded DID is decoded
once."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, accept: str | None = None) -> tuple[int, str, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Accept": accept} if accept else {})
    response = conn.getresponse()
    body = json.loads(response.read() or b"null")
    conn.close()
    return response.status, response.getheader("Content-Type"), body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn-resolution")
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings.dev",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        REGISTRY_VAR_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        REGISTRY_HOST="localhost:8000",
    )
    setup = (
        "from identity.services import did_create, registry_did_ensure;"
        "registry_did_ensure(); did_create(path='offices:ep')"
    )
    for args in (["migrate", "--noinput"], ["shell", "-c", setup]):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "registry.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _get(port, "/api/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


EP = "did:web:localhost%3A8000:offices:ep"


@pytest.mark.integration
def test_literal_did_with_percent_encoded_port(server):
    status, content_type, body = _get(server, f"/1.0/identifiers/{EP}")
    assert status == 200
    assert content_type == "application/did-resolution"
    assert body["didDocument"]["id"] == EP


@pytest.mark.integration
def test_fully_encoded_did_is_decoded_once(server):
    status, _, body = _get(server, "/1.0/identifiers/" + quote(EP, safe=""))
    assert status == 200
    assert body["didDocument"]["id"] == EP


@pytest.mark.integration
def test_escaped_fragment_dereferences(server):
    status, content_type, body = _get(
        server, f"/1.0/identifiers/{EP}%23key-1", accept="application/did+json"
    )
    assert status == 200
    assert content_type == "application/did+json"
    assert body["id"] == f"{EP}#key-1"


@pytest.mark.integration
def test_registry_did_and_documents(server):
    status, _, body = _get(server, "/1.0/identifiers/did:web:localhost%3A8000")
    assert status == 200
    assert body["didDocument"]["id"] == "did:web:localhost%3A8000"
    status, content_type, body = _get(server, "/offices/ep/did.json")
    assert status == 200
    assert content_type == "application/did+json"
    assert body["id"] == EP
    status, _, body = _get(server, "/1.0/identifiers/did:web:localhost%3A8000:offices:zz")
    assert status == 404
    assert body["error"] == "notFound"
