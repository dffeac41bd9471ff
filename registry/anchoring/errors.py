"""Errors of the anchoring log; each maps to an API error code and status."""

from identity.errors import IdentityError


class AnchoringError(IdentityError):
    """The anchoring request is not valid."""

    code = "invalidInput"
    http_status = 400


class LeafNotFound(AnchoringError):
    """No such leaf in the log."""

    code = "leafNotFound"
    http_status = 404


class LogEmpty(AnchoringError):
    """The log has no leaves yet."""

    code = "logEmpty"
    http_status = 404
