"""Resolution errors beyond the DID engine's own (identity.errors).

Each carries a DID Resolution error `code` and the HTTP status the API answers with; the API
renders every one of them, so a resolution never ends in a 500.
"""

from identity.errors import IdentityError


class InvalidOptions(IdentityError):
    """A resolution option (versionId, versionTime, at) is malformed or not supported here."""

    code = "invalidOptions"
    http_status = 400


class InvalidDidUrl(IdentityError):
    """The DID URL is not syntactically valid or uses a feature this resolver does not support."""

    code = "invalidDidUrl"
    http_status = 400


class UnsupportedPublicKeyType(IdentityError):
    """The DID encodes a public key type this resolver does not support."""

    code = "unsupportedPublicKeyType"
    http_status = 501


class HostNotAllowed(IdentityError):
    """The did:web host resolves to an address the registry refuses to contact (SSRF guard)."""

    code = "hostNotAllowed"
    http_status = 403


class ResolutionFailed(IdentityError):
    """The remote did:web host did not deliver a DID document (connection, TLS, status,
    redirect or size problem)."""

    code = "resolutionFailed"
    http_status = 502


class InvalidDidDocument(IdentityError):
    """The remote host answered, but not with a valid DID document for this DID."""

    code = "invalidDidDocument"
    http_status = 502


class ResolutionTimeout(IdentityError):
    """The remote did:web host did not answer in time."""

    code = "resolutionTimeout"
    http_status = 504
