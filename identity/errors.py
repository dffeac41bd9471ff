"""Errors of the DID engine; the API maps each `code` to a DID Resolution error and status."""


class IdentityError(Exception):
    code = "internalError"
    http_status = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)


class InvalidDid(IdentityError):
    """The DID or DID URL is not syntactically valid."""

    code = "invalidDid"
    http_status = 400


class DidNotFound(IdentityError):
    """No DID document was found for this DID."""

    code = "notFound"
    http_status = 404


class MethodNotSupported(IdentityError):
    """This DID method is not supported by the registry's resolver."""

    code = "methodNotSupported"
    http_status = 501


class RepresentationNotSupported(IdentityError):
    """The requested representation is not supported."""

    code = "representationNotSupported"
    http_status = 406


class DidDeactivated(IdentityError):
    """The DID has been deactivated."""

    code = "deactivated"
    http_status = 410


class DidOperationRefused(IdentityError):
    """The operation is not allowed on this DID in its current state."""

    code = "operationRefused"
    http_status = 409
