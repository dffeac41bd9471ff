"""did:web DIDs of other hosts: fetched over HTTPS, guarded.

The guard, in order: the DID maps to a URL (did:web spec s.3.2); we resolve the host name
ourselves and refuse loopback, private, link-local, reserved, multicast and unspecified
addresses (unless DID_WEB_ALLOW_PRIVATE_ADDRESSES); we then connect to the address we vetted,
not to the name again, so a second DNS answer cannot point us elsewhere (DNS rebinding); TLS
still checks the certificate against the host name. One deadline (DID_WEB_TIMEOUT_SECONDS)
covers DNS, connect, the TLS handshake, the headers and the whole body (a timer shuts the socket
down when it passes); redirects are never followed; the body is capped at
DID_WEB_MAX_BYTES; only a JSON object whose `id` is the DID is accepted. Good answers are
cached for DID_WEB_CACHE_SECONDS (Django cache).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings

from identity.dids import did_web_url
from identity.errors import DidNotFound

from .base import BaseResolver, DidResolutionResult, ParsedDid, resolution_metadata
from .errors import (
    HostNotAllowed,
    InvalidDidDocument,
    InvalidOptions,
    ResolutionFailed,
    ResolutionTimeout,
)

USER_AGENT = "ip-identity-registry-resolver/0.1"
JSON_CONTENT_TYPES = {
    "application/json",
    "application/did+json",
    "application/did+ld+json",
    "application/ld+json",
}
_READ_CHUNK = 16 * 1024
# getaddrinfo has no timeout of its own; it runs here so that the deadline bounds it too.
_dns_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="did-web-dns")


def address_allowed(address: str) -> bool:
    """Whether an IP address is a public unicast one we may contact."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10: deprecated, still routed inside some networks
            return False
        # Forms carrying an IPv4 address are judged by it: 2002:a00:1:: is 6to4 to 10.0.0.1.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str  # the name, for the Host header and TLS
    port: int
    address: str  # the IP we connect to
    family: int
    path: str


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def timeout_error(self) -> ResolutionTimeout:
        return ResolutionTimeout(f"the did:web host did not answer within {self.seconds:g} s")

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise self.timeout_error()
        return remaining

    def guard(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes. A socket timeout bounds each read, not
        their sum: a host sending a byte at a time would otherwise hold the TLS handshake or
        the headers open for as long as it liked."""

        def expire() -> None:
            self.expired = True
            with contextlib.suppress(OSError):  # already closed: nothing to cut
                # socket.socket's own shutdown: SSLSocket.shutdown would also drop its TLS
                # state under the reading thread's feet.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

        self._timer = threading.Timer(max(self.end - time.monotonic(), 0.0), expire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def vet_url(url: str, deadline: _Deadline) -> VettedTarget:
    """Resolve the URL's host once and check every address it has; the first one is used."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not settings.DID_WEB_ALLOW_HTTP:
        raise HostNotAllowed("plain http is not allowed for did:web")
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DidNotFound("the did:web host has an invalid port") from None
    future = _dns_pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=deadline.left())
    except concurrent.futures.TimeoutError:
        # Still queued behind lookups that hang (a hostile name server): drop it, so that
        # requests given up on do not pile up lookups that would run, uselessly, later.
        future.cancel()
        raise ResolutionTimeout(f"resolving the host name {host!r} timed out") from None
    except (socket.gaierror, UnicodeError, OSError):
        raise DidNotFound(f"the did:web host {host!r} does not resolve") from None
    if not infos:
        raise DidNotFound(f"the did:web host {host!r} does not resolve")
    if not settings.DID_WEB_ALLOW_PRIVATE_ADDRESSES:
        refused = [info[4][0] for info in infos if not address_allowed(info[4][0])]
        if refused:
            raise HostNotAllowed(
                f"the did:web host {host!r} resolves to a non-public address; refused"
            )
    family, _, _, _, sockaddr = infos[0]
    path = parts.path or "/"
    return VettedTarget(
        scheme=parts.scheme,
        host=host,
        port=port,
        address=sockaddr[0],
        family=family,
        path=path,
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address instead of looking the host name up again."""

    def __init__(self, target: VettedTarget, deadline: _Deadline) -> None:
        super().__init__(target.host, target.port, timeout=deadline.left())
        self._target = target
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = socket.create_connection(
            (self._target.address, self._target.port), timeout=self.timeout
        )
        self._deadline.guard(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: VettedTarget, deadline: _Deadline) -> None:
        super().__init__(
            target.host,
            target.port,
            timeout=deadline.left(),
            context=ssl.create_default_context(),
        )
        self._target = target
        self._deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._target.address, self._target.port), timeout=self.timeout
        )
        # server_hostname: SNI and certificate checked against the name, not the address.
        # The handshake runs once the deadline guards the socket it ends up on.
        self.sock = self._context.wrap_socket(
            sock, server_hostname=self._target.host, do_handshake_on_connect=False
        )
        self._deadline.guard(self.sock)
        self.sock.do_handshake()


def fetch_did_document(url: str, *, did: str) -> tuple[dict, str]:
    """GET a did:web document with every guard on; returns (document, content type)."""
    deadline = _Deadline(settings.DID_WEB_TIMEOUT_SECONDS)
    target = vet_url(url, deadline)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, deadline)
    response = None
    try:
        try:
            connection.request(
                "GET",
                target.path,
                headers={
                    "Accept": "application/did+json, application/json;q=0.9",
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                },
            )
            # Kept: http.client drops connection.sock once a "Connection: close" answer
            # starts, but the body is still read through this socket.
            sock = connection.sock
            response = connection.getresponse()
            status = response.status
            if 300 <= status < 400:
                raise ResolutionFailed(
                    f"the did:web host answered with a redirect ({status}); redirects are "
                    "not followed"
                )
            if status in (404, 410):
                raise DidNotFound(f"the did:web host has no document for {did}")
            if status != 200:
                raise ResolutionFailed(f"the did:web host answered with HTTP {status}")
            declared = response.getheader("Content-Length")
            max_bytes = settings.DID_WEB_MAX_BYTES
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ResolutionFailed(f"the DID document is larger than {max_bytes} bytes")
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() not in JSON_CONTENT_TYPES:
                raise InvalidDidDocument(
                    f"the did:web host answered with {content_type[:60] or 'no content type'}, "
                    "not JSON"
                )
            body = bytearray()
            while True:
                sock.settimeout(deadline.left())
                chunk = response.read1(_READ_CHUNK)
                if not chunk:
                    break
                body += chunk
                if len(body) > max_bytes:
                    raise ResolutionFailed(f"the DID document is larger than {max_bytes} bytes")
            if deadline.expired:  # the guard cut the body short
                raise deadline.timeout_error()
        except Exception as exc:
            # Once the guard has cut the connection, whatever the cut read looked like (an
            # early end of the headers, a reset, a missing content type) is a timeout.
            if deadline.expired or isinstance(exc, TimeoutError):
                raise deadline.timeout_error() from None
            if isinstance(exc, ssl.SSLError):
                raise ResolutionFailed(f"TLS with the did:web host failed: {exc.reason}") from None
            if isinstance(exc, (OSError, http.client.HTTPException)):
                raise ResolutionFailed(
                    f"could not fetch the DID document ({exc.__class__.__name__})"
                ) from None
            raise
    finally:
        deadline.cancel()
        if response is not None:
            response.close()
        connection.close()
    try:
        document = json.loads(bytes(body))
    except RecursionError:  # [[[[... nested past the parser's limit: a 500 otherwise
        raise InvalidDidDocument("the DID document is nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidDidDocument("the did:web host did not return valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidDidDocument("the DID document is not a JSON object")
    if document.get("id") != did:
        raise InvalidDidDocument(
            f"the DID document's id is {str(document.get('id'))[:120]!r}, not the DID resolved"
        )
    check_document_sets(document)
    return document, content_type


# DID Core members that are sets (JSON arrays), and what each item must be: a string (a DID
# URL reference), an object (an embedded method or a service), or either.
_SET_MEMBERS: dict[str, tuple[type, ...]] = {
    "alsoKnownAs": (str,),
    "verificationMethod": (dict,),
    "authentication": (str, dict),
    "assertionMethod": (str, dict),
    "keyAgreement": (str, dict),
    "capabilityInvocation": (str, dict),
    "capabilityDelegation": (str, dict),
    "service": (dict,),
}


def check_document_sets(document: dict) -> None:
    """Refuse a remote document whose DID Core sets are not arrays of the right items, so that
    nothing reading it (dereferencing, the verifier's key check) meets a number where it
    expects a list."""
    for name, item_types in _SET_MEMBERS.items():
        if name not in document:
            continue
        value = document[name]
        if not isinstance(value, list) or not all(isinstance(i, item_types) for i in value):
            raise InvalidDidDocument(
                f"the DID document's {name} is not an array of the right items"
            )


class RemoteWebResolver(BaseResolver):
    method = "web"
    # did:web:<host>[%3A<port>][:<path>...]; segment syntax is checked by identity.dids.
    pattern = re.compile(r"^did:web:[A-Za-z0-9.-]+(?:%3[Aa][0-9]{1,5})?(?::[^:]+)*$")

    @property
    def timeout_seconds(self) -> float:  # type: ignore[override]
        return settings.DID_WEB_TIMEOUT_SECONDS

    def cache_timeout(self) -> int:
        return settings.DID_WEB_CACHE_SECONDS

    def describe(self) -> dict:
        return {
            **super().describe(),
            "maxBytes": settings.DID_WEB_MAX_BYTES,
            "httpAllowed": settings.DID_WEB_ALLOW_HTTP,
            "privateAddressesAllowed": settings.DID_WEB_ALLOW_PRIVATE_ADDRESSES,
        }

    def resolve(
        self,
        parsed: ParsedDid,
        *,
        version_id: str | None = None,
        version_time: datetime | None = None,
    ) -> DidResolutionResult:
        if version_id is not None or version_time is not None:
            raise InvalidOptions("versionId and versionTime are not supported for other hosts")
        scheme = "http" if settings.DID_WEB_ALLOW_HTTP else "https"
        url = did_web_url(parsed.did, scheme=scheme)
        document, content_type = fetch_did_document(url, did=parsed.did)
        return DidResolutionResult(
            did_document=document,
            resolution_metadata=resolution_metadata(parsed, content_type=content_type),
            document_metadata={},
        )
