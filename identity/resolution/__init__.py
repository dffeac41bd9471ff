"""DID resolution: one resolver class per DID method, dispatched by pattern.

    resolve(did, *, version_id=None, version_time=None) -> DidResolutionResult
    dereference(did_url) -> DidDereferencingResult

Registry DIDs come from the database; other did:web hosts over HTTPS behind an SSRF guard;
did:key and did:jwk offline. Errors are `identity.errors.IdentityError` subclasses carrying
the DID Resolution error code and HTTP status.
"""

from .base import (
    MAX_DID_LENGTH,
    BaseResolver,
    DidDereferencingResult,
    DidResolutionResult,
    parse_did,
    parse_did_url,
)
from .errors import (
    HostNotAllowed,
    InvalidDidDocument,
    InvalidDidUrl,
    InvalidOptions,
    ResolutionFailed,
    ResolutionTimeout,
    UnsupportedPublicKeyType,
)
from .resolver import RESOLVERS, dereference, parse_version_time, resolve, supported_methods

__all__ = [
    "MAX_DID_LENGTH",
    "RESOLVERS",
    "BaseResolver",
    "DidDereferencingResult",
    "DidResolutionResult",
    "HostNotAllowed",
    "InvalidDidDocument",
    "InvalidDidUrl",
    "InvalidOptions",
    "ResolutionFailed",
    "ResolutionTimeout",
    "UnsupportedPublicKeyType",
    "dereference",
    "parse_did",
    "parse_did_url",
    "parse_version_time",
    "resolve",
    "supported_methods",
]
