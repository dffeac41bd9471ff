"""Resolution results, DID / DID URL syntax, and the base class every method resolver extends."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from identity.errors import InvalidDid

from .errors import InvalidDidUrl

# Longer input is refused before any parsing (a DID of ours is < 100 characters; did:jwk of
# an RSA key is the longest legitimate kind and stays well under this).
MAX_DID_LENGTH = 2048

# did-core ABNF: did = "did:" method-name ":" method-specific-id
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
DID_RE = re.compile(rf"^did:(?P<method>[a-z0-9]+):(?P<msid>(?:{_IDCHAR}*:)*{_IDCHAR}+)$")
# RFC 3986 pchar (as did-core uses it) for path segments, query and fragment.
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_PATH_RE = re.compile(rf"^(?:/{_PCHAR}*)*$")
_QUERY_RE = re.compile(rf"^(?:{_PCHAR}|[/?])*$")

DID_RESOLUTION_CONTENT_TYPE = "application/did-resolution"
DID_JSON = "application/did+json"
DID_LD_JSON = "application/did+ld+json"


def now_utc() -> datetime:
    return datetime.now(tz=UTC)


def isoformat(value: datetime | None) -> str | None:
    """XML datetime normalised to UTC, second precision, as DID Resolution metadata uses."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ParsedDid:
    did: str
    method: str
    method_specific_id: str


@dataclass(frozen=True)
class ParsedDidUrl:
    did: ParsedDid
    path: str
    query: str
    fragment: str | None

    @property
    def url(self) -> str:
        text = self.did.did + self.path
        if self.query:
            text += "?" + self.query
        if self.fragment is not None:
            text += "#" + self.fragment
        return text


def _check_length(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidDid("a DID must be a non-empty string")
    if len(value) > MAX_DID_LENGTH:
        raise InvalidDid(f"a DID may not be longer than {MAX_DID_LENGTH} characters")
    return value


def parse_did(did: str) -> ParsedDid:
    """Check `did` against the DID syntax (not a DID URL: no path, query or fragment)."""
    _check_length(did)
    match = DID_RE.match(did)
    if match is None:
        if any(c in did for c in "#?/") and did.startswith("did:"):
            raise InvalidDid("this is a DID URL, not a DID (it has a path, query or fragment)")
        raise InvalidDid(f"not a valid DID: {did[:80]!r}")
    return ParsedDid(did=did, method=match["method"], method_specific_id=match["msid"])


def parse_did_url(did_url: str) -> ParsedDidUrl:
    """Split a DID URL into DID, path, query and fragment, checking each part's syntax."""
    _check_length(did_url)
    rest, hash_sign, fragment = did_url.partition("#")
    rest, _, query = rest.partition("?")
    did_part, slash, path = rest.partition("/")
    parsed = parse_did(did_part)
    path = slash + path
    if path and not _PATH_RE.match(path):
        raise InvalidDidUrl("the DID URL path is not valid")
    if query and not _QUERY_RE.match(query):
        raise InvalidDidUrl("the DID URL query is not valid")
    if hash_sign and not _QUERY_RE.match(fragment):
        raise InvalidDidUrl("the DID URL fragment is not valid")
    return ParsedDidUrl(
        did=parsed, path=path, query=query, fragment=fragment if hash_sign else None
    )


@dataclass
class DidResolutionResult:
    """A W3C DID Resolution result: the document and the two metadata structures."""

    did_document: dict | None
    resolution_metadata: dict[str, Any] = field(default_factory=dict)
    document_metadata: dict[str, Any] = field(default_factory=dict)
    # Pre-serialised JSON of `did_document` when the resolver already has it (registry DIDs):
    # the API writes it out as is instead of encoding the document again.
    document_json: str | None = field(default=None, repr=False, compare=False)

    @property
    def deactivated(self) -> bool:
        return bool(self.document_metadata.get("deactivated"))

    def as_dict(self) -> dict:
        return {
            "didDocument": self.did_document,
            "didResolutionMetadata": self.resolution_metadata,
            "didDocumentMetadata": self.document_metadata,
        }


@dataclass
class DidDereferencingResult:
    """A W3C DID URL dereferencing result: the resource (a DID document, a verification method
    or a service) and the two metadata structures."""

    content_stream: dict | None
    dereferencing_metadata: dict[str, Any] = field(default_factory=dict)
    content_metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "contentStream": self.content_stream,
            "dereferencingMetadata": self.dereferencing_metadata,
            "contentMetadata": self.content_metadata,
        }


def did_metadata(parsed: ParsedDid) -> dict:
    return {
        "didString": parsed.did,
        "methodSpecificId": parsed.method_specific_id,
        "method": parsed.method,
    }


def resolution_metadata(parsed: ParsedDid, *, content_type: str = DID_JSON) -> dict:
    """The didResolutionMetadata of a document resolved now."""
    return {
        "contentType": content_type,
        "retrieved": isoformat(now_utc()),
        "did": did_metadata(parsed),
    }


class BaseResolver:
    """One DID method (or one part of it): which DIDs it handles, how long it may take and how
    long its answers may be cached.

    `supports()` is checked by the dispatcher in registration order, so a narrow resolver (our
    own did:web host) is registered before a broad one (any other did:web host).
    """

    method: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]
    timeout_seconds: ClassVar[float] = 1.0
    # 0: never cached across calls (registry DIDs must reflect a rotation at once).
    cache_seconds: ClassVar[int] = 0
    supports_versions: ClassVar[bool] = False

    def supports(self, parsed: ParsedDid) -> bool:
        return parsed.method == self.method and bool(self.pattern.match(parsed.did))

    def resolve(
        self,
        parsed: ParsedDid,
        *,
        version_id: str | None = None,
        version_time: datetime | None = None,
    ) -> DidResolutionResult:
        raise NotImplementedError

    def cache_timeout(self) -> int:
        return self.cache_seconds

    def describe(self) -> dict:
        return {
            "method": self.method,
            "resolver": self.__class__.__name__,
            "pattern": self.pattern.pattern,
            "timeoutSeconds": self.timeout_seconds,
            "cacheSeconds": self.cache_timeout(),
            "versions": self.supports_versions,
        }
