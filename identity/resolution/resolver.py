"""The dispatcher: picks the resolver for a DID, applies options and the cache, and
dereferences DID URLs (a fragment names a verification method or a service)."""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from django.core.cache import cache
from django.utils.dateparse import parse_datetime

from identity.errors import DidDeactivated, DidNotFound, InvalidDid, MethodNotSupported

from .base import (
    DID_JSON,
    BaseResolver,
    DidDereferencingResult,
    DidResolutionResult,
    ParsedDid,
    isoformat,
    parse_did,
    parse_did_url,
)
from .errors import InvalidDidUrl, InvalidOptions
from .offline import JwkResolver, KeyResolver
from .registry_web import RegistryWebResolver
from .remote_web import RemoteWebResolver

logger = logging.getLogger(__name__)

# Order matters: the first resolver whose supports() accepts the DID answers; our own
# did:web host comes before any other did:web host.
RESOLVERS: list[BaseResolver] = [
    RegistryWebResolver(),
    RemoteWebResolver(),
    KeyResolver(),
    JwkResolver(),
]

CACHE_PREFIX = "did-resolution:v1:"


def supported_methods() -> list[str]:
    return sorted({r.method for r in RESOLVERS})


def resolver_for(parsed: ParsedDid) -> BaseResolver:
    for resolver in RESOLVERS:
        if resolver.supports(parsed):
            return resolver
    if any(r.method == parsed.method for r in RESOLVERS):
        raise InvalidDid(f"not a valid did:{parsed.method} DID: {parsed.did[:80]!r}")
    raise MethodNotSupported(f"the DID method {parsed.method[:40]!r} is not supported")


def parse_version_time(value: datetime | str | None) -> datetime | None:
    """An ISO 8601 / XML datetime; naive values are taken as UTC."""
    if value is None or isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        # An unescaped "+" in a query string arrives as a space: 12:00:00 01:00 -> +01:00
        text = re.sub(r"(\d) (\d\d:?\d\d)$", r"\1+\2", text)
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = parse_datetime(text) if len(text) <= 40 else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidOptions("versionTime must be an ISO 8601 date-time (2026-01-31T12:00:00Z)")
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed is not None:
        # In UTC now: an offset can carry 9999-12-31 or 0001-01-01 out of range, which would
        # otherwise fail only later, in the database adapter or the metadata (a 500).
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise InvalidOptions("versionTime is out of range once converted to UTC") from None
    return parsed


def _cache_key(did: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(did.encode()).hexdigest()


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # a cache outage must not fail a resolution
        logger.warning("resolution cache unavailable (get)", exc_info=True)
        return None


def _cache_set(key: str, value, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("resolution cache unavailable (set)", exc_info=True)


def resolve(
    did: str,
    *,
    version_id: str | int | None = None,
    version_time: datetime | str | None = None,
) -> DidResolutionResult:
    """Resolve a DID (not a DID URL) to its document and metadata.

    Raises an `identity.errors.IdentityError` (InvalidDid, DidNotFound, MethodNotSupported,
    InvalidOptions, HostNotAllowed, ResolutionFailed, InvalidDidDocument, ResolutionTimeout,
    UnsupportedPublicKeyType). A deactivated DID is NOT an exception: the result comes back
    with `document_metadata["deactivated"] is True` (`result.deactivated`), and the API
    answers it with HTTP 410.
    """
    parsed = parse_did(did)
    if version_id is not None and version_time is not None:
        raise InvalidOptions("give versionId or versionTime, not both")
    when = parse_version_time(version_time)
    version = str(version_id) if version_id is not None else None
    resolver = resolver_for(parsed)

    timeout = resolver.cache_timeout()
    if timeout <= 0 or version is not None or when is not None:
        return resolver.resolve(parsed, version_id=version, version_time=when)
    key = _cache_key(parsed.did)
    cached = _cache_get(key)
    if cached is not None:
        return DidResolutionResult(**copy.deepcopy(cached))
    result = resolver.resolve(parsed)
    _cache_set(
        key,
        {
            "did_document": result.did_document,
            "resolution_metadata": result.resolution_metadata,
            "document_metadata": result.document_metadata,
        },
        timeout,
    )
    return result


def _find_resource(document: dict, did: str, fragment: str) -> dict | None:
    wanted = {f"{did}#{fragment}", f"#{fragment}"}
    candidates: list = list(document.get("verificationMethod") or [])
    for relationship in (
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        candidates += [v for v in document.get(relationship) or [] if isinstance(v, dict)]
    candidates += list(document.get("service") or [])
    for resource in candidates:
        if isinstance(resource, dict) and resource.get("id") in wanted:
            return resource
    return None


def dereference(did_url: str) -> DidDereferencingResult:
    """Dereference a DID URL: no fragment gives the DID document, `#frag` the verification
    method or service with that id. `?versionId=` / `?versionTime=` select a version. A fragment
    the document does not hold raises DidNotFound (notFound), or DidDeactivated (410) when the DID
    is deactivated."""
    parsed = parse_did_url(did_url)
    if parsed.path:
        raise DidNotFound("DID URL paths do not name any resource here")
    options: dict[str, str] = {}
    for name, value in parse_qsl(parsed.query, keep_blank_values=True):
        if name not in ("versionId", "versionTime") or name in options:
            raise InvalidDidUrl(f"unsupported or repeated DID parameter {name[:40]!r}")
        options[name] = value
    result = resolve(
        parsed.did.did,
        version_id=options.get("versionId"),
        version_time=options.get("versionTime"),
    )
    if parsed.fragment is None:
        return DidDereferencingResult(
            content_stream=result.did_document,
            dereferencing_metadata={**result.resolution_metadata, "contentType": DID_JSON},
            content_metadata=result.document_metadata,
        )
    resource = _find_resource(result.did_document or {}, parsed.did.did, parsed.fragment)
    if resource is None and result.document_metadata.get("deactivated"):
        # Its keys were withdrawn with it: "gone" tells a verifier more than "never existed".
        raise DidDeactivated(f"{parsed.did.did} is deactivated")
    if resource is None:
        raise DidNotFound(f"{parsed.did.did} has no resource #{parsed.fragment[:80]}")
    return DidDereferencingResult(
        content_stream=resource,
        dereferencing_metadata={
            "contentType": DID_JSON,
            "retrieved": result.resolution_metadata.get("retrieved") or isoformat(None),
        },
        content_metadata=result.document_metadata,
    )
