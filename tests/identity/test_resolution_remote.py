"""Remote did:web resolution against documents served by a loopback HTTP server in a thread:
success, cache, and every failure (status, redirect, non-JSON, id mismatch, size, timeouts,
SSRF refusal)."""

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.test import override_settings

from identity.errors import DidNotFound, InvalidDid
from identity.resolution import (
    HostNotAllowed,
    InvalidDidDocument,
    InvalidOptions,
    ResolutionFailed,
    ResolutionTimeout,
    dereference,
    resolve,
)
from identity.resolution.remote_web import address_allowed


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.hits.append(self.path)
        route = server.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.get("delay"):
            time.sleep(route["delay"])
        body = route.get("body", b"")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(route.get("status", 200))
        for name, value in route.get("headers", {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        if route.get("drip"):
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(route["drip"])
            return
        if not route.get("no_length"):
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hung up (size cap): expected
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def did_host():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.routes = {}
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.did_prefix = f"did:web:127.0.0.1%3A{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _document(did):
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#k1",
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
            }
        ],
    }


def test_remote_did_web_resolves_and_maps_paths(did_host):
    did = f"{did_host.did_prefix}:users:alice"
    did_host.routes["/users/alice/did.json"] = {
        "body": _document(did),
        "headers": {"Content-Type": "application/did+json"},
    }
    result = resolve(did)
    assert result.did_document == _document(did)
    assert result.resolution_metadata["contentType"] == "application/did+json"
    assert result.resolution_metadata["did"]["method"] == "web"
    assert result.document_metadata == {}
    assert did_host.hits == ["/users/alice/did.json"]


def test_root_did_web_uses_well_known(did_host):
    did = did_host.did_prefix
    did_host.routes["/.well-known/did.json"] = {"body": _document(did)}
    assert resolve(did).did_document["id"] == did


def test_remote_answers_are_cached(did_host):
    did = f"{did_host.did_prefix}:cached"
    did_host.routes["/cached/did.json"] = {"body": _document(did)}
    first = resolve(did)
    del did_host.routes["/cached/did.json"]
    second = resolve(did)
    assert second.did_document == first.did_document
    assert did_host.hits == ["/cached/did.json"]
    second.did_document["id"] = "tampered"  # callers cannot poison the cache
    assert resolve(did).did_document["id"] == did


@override_settings(DID_WEB_CACHE_SECONDS=0)
def test_cache_can_be_disabled(did_host):
    did = f"{did_host.did_prefix}:nocache"
    did_host.routes["/nocache/did.json"] = {"body": _document(did)}
    resolve(did)
    resolve(did)
    assert len(did_host.hits) == 2


def test_failures_are_not_cached(did_host):
    did = f"{did_host.did_prefix}:later"
    with pytest.raises(DidNotFound):
        resolve(did)
    did_host.routes["/later/did.json"] = {"body": _document(did)}
    assert resolve(did).did_document["id"] == did


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, DidNotFound), (410, DidNotFound), (500, ResolutionFailed), (403, ResolutionFailed)],
)
def test_http_status_errors(did_host, status, error):
    did = f"{did_host.did_prefix}:s{status}"
    did_host.routes[f"/s{status}/did.json"] = {"status": status, "body": b"{}"}
    with pytest.raises(error):
        resolve(did)


def test_redirect_is_not_followed(did_host):
    did = f"{did_host.did_prefix}:moved"
    target = f"http://127.0.0.1:{did_host.server_address[1]}/elsewhere/did.json"
    did_host.routes["/moved/did.json"] = {
        "status": 302,
        "headers": {"Location": target, "Content-Type": "text/html"},
    }
    did_host.routes["/elsewhere/did.json"] = {"body": _document(did)}
    with pytest.raises(ResolutionFailed, match="redirect"):
        resolve(did)
    assert did_host.hits == ["/moved/did.json"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html>hello</html>"),
        ("application/json", b"<html>not json</html>"),
        ("application/json", b"[1, 2, 3]"),
        ("application/json", b"\xff\xfe\x00garbage"),
        ("application/json", b"[" * 5000 + b"]" * 5000),  # past json's recursion limit
        (None, b"{}"),
    ],
)
def test_non_json_answers_are_invalid_documents(did_host, content_type, body):
    did = f"{did_host.did_prefix}:html"
    headers = {"Content-Type": content_type} if content_type else {}
    did_host.routes["/html/did.json"] = {"body": body, "headers": headers}
    with pytest.raises(InvalidDidDocument):
        resolve(did)


def test_document_of_another_did_is_refused(did_host):
    did = f"{did_host.did_prefix}:mallory"
    did_host.routes["/mallory/did.json"] = {"body": _document(f"{did_host.did_prefix}:alice")}
    with pytest.raises(InvalidDidDocument, match="id"):
        resolve(did)
    did_host.routes["/mallory/did.json"] = {"body": {"@context": "x"}}
    cache.clear()
    with pytest.raises(InvalidDidDocument):
        resolve(did)


@pytest.mark.parametrize(
    "members",
    [
        {"verificationMethod": 5},
        {"verificationMethod": ["did:web:x#k1"]},
        {"authentication": 5},
        {"assertionMethod": [7]},
        {"service": True},
        {"service": {"id": "#x", "type": "T", "serviceEndpoint": "https://x.example"}},
        {"alsoKnownAs": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
        {"keyAgreement": None},
    ],
)
def test_document_whose_sets_are_not_arrays_is_refused(did_host, members):
    """DID Core sets must be arrays; a host serving a number or an object there gets
    invalidDidDocument, and dereferencing a fragment of it is not a TypeError (500)."""
    did = f"{did_host.did_prefix}:odd"
    did_host.routes["/odd/did.json"] = {"body": {**_document(did), **members}}
    with pytest.raises(InvalidDidDocument):
        resolve(did)
    with pytest.raises(InvalidDidDocument):
        dereference(f"{did}#x")


def test_document_with_string_references_and_embedded_methods_is_accepted(did_host):
    did = f"{did_host.did_prefix}:mixed"
    document = {
        **_document(did),
        "authentication": [f"{did}#k1", {**_document(did)["verificationMethod"][0], "id": "#k2"}],
        "alsoKnownAs": ["https://bob.example"],
        "service": [{"id": "#s", "type": "LinkedDomains", "serviceEndpoint": "https://x.example"}],
    }
    did_host.routes["/mixed/did.json"] = {"body": document}
    assert resolve(did).did_document == document
    assert dereference(f"{did}#k2").content_stream["id"] == "#k2"


@override_settings(DID_WEB_MAX_BYTES=1000)
def test_oversize_documents_are_refused_with_and_without_content_length(did_host):
    did = f"{did_host.did_prefix}:big"
    big = _document(did)
    big["padding"] = "x" * 5000
    did_host.routes["/big/did.json"] = {"body": big}
    with pytest.raises(ResolutionFailed, match="larger"):
        resolve(did)
    did_host.routes["/big/did.json"] = {"body": big, "no_length": True}
    with pytest.raises(ResolutionFailed, match="larger"):
        resolve(did)
    small = _document(did)
    did_host.routes["/big/did.json"] = {"body": small, "no_length": True}
    assert resolve(did).did_document == small


@override_settings(DID_WEB_TIMEOUT_SECONDS=0.5)
def test_slow_host_times_out(did_host):
    did = f"{did_host.did_prefix}:slow"
    did_host.routes["/slow/did.json"] = {"body": _document(did), "delay": 1.5}
    started = time.monotonic()
    with pytest.raises(ResolutionTimeout):
        resolve(did)
    assert time.monotonic() - started < 1.2


@override_settings(DID_WEB_TIMEOUT_SECONDS=0.5)
def test_dripping_body_is_bounded_by_one_deadline(did_host):
    """Each byte arrives well within the socket timeout; the overall deadline still holds."""
    did = f"{did_host.did_prefix}:drip"
    did_host.routes["/drip/did.json"] = {"body": _document(did), "drip": 0.05}
    started = time.monotonic()
    with pytest.raises(ResolutionTimeout):
        resolve(did)
    assert time.monotonic() - started < 1.2


@pytest.fixture
def trickling_host():
    """A host that answers the status line, then one header line every 0.2 s for 5 s: each
    read is quick, the whole never ends in time."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            with client:
                client.recv(4096)
                client.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(25):
                    if stop.is_set():
                        break
                    client.sendall(b"X-Filler: x\r\n")
                    time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"did:web:127.0.0.1%3A{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(timeout=2)


@override_settings(DID_WEB_TIMEOUT_SECONDS=0.5)
def test_trickling_headers_are_bounded_by_one_deadline(trickling_host):
    """Socket timeouts bound each read, not the sum: headers arriving a line at a time held a
    worker for as long as the host liked (8 s for a 1 s deadline)."""
    started = time.monotonic()
    with pytest.raises(ResolutionTimeout):
        resolve(f"{trickling_host}:slowloris")
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_resolution_failure():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(ResolutionFailed):
        resolve(f"did:web:127.0.0.1%3A{port}:nobody")


def test_unknown_host_is_not_found(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(DidNotFound):
        resolve("did:web:does-not-exist.invalid")


@override_settings(DID_WEB_ALLOW_PRIVATE_ADDRESSES=False, DID_WEB_ALLOW_HTTP=False)
def test_loopback_is_refused_when_the_flags_are_off(did_host):
    did = f"{did_host.did_prefix}:secret"
    did_host.routes["/secret/did.json"] = {"body": _document(did)}
    with pytest.raises(HostNotAllowed):
        resolve(did)
    with pytest.raises(HostNotAllowed):
        resolve("did:web:localhost%3A6379")
    assert did_host.hits == []


@override_settings(DID_WEB_ALLOW_PRIVATE_ADDRESSES=False)
def test_loopback_is_refused_even_over_allowed_http(did_host):
    did = f"{did_host.did_prefix}:secret"
    did_host.routes["/secret/did.json"] = {"body": _document(did)}
    with pytest.raises(HostNotAllowed):
        resolve(did)
    assert did_host.hits == []


@override_settings(DID_WEB_ALLOW_HTTP=False)
def test_plain_http_is_not_used_unless_allowed(did_host):
    """With http off the resolver speaks TLS; a plain-http host fails the handshake."""
    did = f"{did_host.did_prefix}:plain"
    did_host.routes["/plain/did.json"] = {"body": _document(did)}
    with pytest.raises(ResolutionFailed):
        resolve(did)
    assert "/plain/did.json" not in did_host.hits


def test_host_name_is_looked_up_once_and_the_vetted_address_is_used(did_host, monkeypatch):
    """No DNS-rebinding gap: the connection goes to the address that was checked, without a
    second lookup that could answer differently."""
    real = socket.getaddrinfo
    calls = []

    def counting(host, *args, **kwargs):
        calls.append(host)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    port = did_host.server_address[1]
    did = f"did:web:registry-peer.test%3A{port}:pinned"
    did_host.routes["/pinned/did.json"] = {"body": _document(did)}
    assert resolve(did).did_document["id"] == did
    # create_connection() runs getaddrinfo on the IP literal it is given (no DNS query)
    assert calls[0] == "registry-peer.test"
    assert all(host == "127.0.0.1" for host in calls[1:])


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fec0::1", False),  # site-local (deprecated, still routed inside some networks)
        ("64:ff9b::a00:1", False),  # NAT64 to 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 to 169.254.169.254
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 prefix
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:808:808::", True),  # 6to4 of 8.8.8.8
        ("8.8.8.8", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_address_guard(address, allowed):
    assert address_allowed(address) is allowed


def test_remote_did_web_syntax_and_options(did_host):
    with pytest.raises(InvalidDid):
        resolve("did:web:user@evil.example")
    with pytest.raises(InvalidDid):
        resolve("did:web:evil.example%2Fpath")
    with pytest.raises(InvalidOptions):
        resolve(f"{did_host.did_prefix}:x", version_id="1")


# --- HTTPS: the pinned connection still verifies the certificate against the host name ---------


def _self_signed(tmp_path, host_name):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def https_host(tmp_path, monkeypatch):
    """An HTTPS did:web host named did-host.test (DNS answered with 127.0.0.1 for that name
    only), with a self-signed certificate for that name."""
    import ssl

    host_name = "did-host.test"
    cert_file, key_file = _self_signed(tmp_path, host_name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.routes, server.hits = {}, []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    real_getaddrinfo = socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):
        return real_getaddrinfo(
            "127.0.0.1" if host in (host_name, "wrong-name.test") else host, *args, **kwargs
        )

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    server.cert_file = cert_file
    server.did_prefix = f"did:web:{host_name}%3A{server.server_address[1]}"
    server.port = server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


@override_settings(DID_WEB_ALLOW_HTTP=False)
def test_https_with_an_untrusted_certificate_fails(https_host):
    did = f"{https_host.did_prefix}:alice"
    https_host.routes["/alice/did.json"] = {"body": _document(did)}
    with pytest.raises(ResolutionFailed, match="TLS"):
        resolve(did)
    assert https_host.hits == []


@override_settings(DID_WEB_ALLOW_HTTP=False)
def test_https_pinned_to_the_vetted_address_verifies_the_host_name(https_host, monkeypatch):
    import ssl

    from identity.resolution import remote_web

    real_context = ssl.create_default_context

    def trusting_test_ca(*args, **kwargs):  # the system store plus our test certificate
        return real_context(cafile=str(https_host.cert_file))

    monkeypatch.setattr(remote_web.ssl, "create_default_context", trusting_test_ca)
    did = f"{https_host.did_prefix}:alice"
    https_host.routes["/alice/did.json"] = {"body": _document(did)}
    assert resolve(did).did_document == _document(did)
    assert https_host.hits == ["/alice/did.json"]

    # Same address, but a name the certificate does not cover: refused by TLS.
    other = f"did:web:wrong-name.test%3A{https_host.port}:alice"
    with pytest.raises(ResolutionFailed, match="TLS"):
        resolve(other)


@override_settings(DID_WEB_TIMEOUT_SECONDS=0.3)
def test_a_lookup_given_up_on_is_never_made(monkeypatch):
    # Names whose DNS never answers hold the lookup threads past their requests' deadline; the
    # requests queued behind them time out, and their lookups must not run later on.
    release = threading.Event()
    looked_up = []

    def hanging_dns(host, *args, **kwargs):
        looked_up.append(host)
        if host.startswith("stuck"):
            release.wait(10)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_dns)

    def stuck(i):
        with contextlib.suppress(ResolutionTimeout):
            resolve(f"did:web:stuck{i}.example")

    blockers = [threading.Thread(target=stuck, args=(i,)) for i in range(4)]
    for thread in blockers:
        thread.start()
    for thread in blockers:
        thread.join()
    with pytest.raises(ResolutionTimeout):
        resolve("did:web:queued.example")
    release.set()
    time.sleep(0.3)  # the pool's threads are free again
    assert sorted(looked_up) == [f"stuck{i}.example" for i in range(4)]
    with pytest.raises(DidNotFound):  # and it answers as before
        resolve("did:web:later.example")
