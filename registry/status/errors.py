"""Errors of the status service; the API's exception handler renders `code` and `http_status`."""

from identity.errors import IdentityError


class StatusError(IdentityError):
    """The status operation is not valid."""

    code = "invalidStatusRequest"
    http_status = 400


class StatusInvalidInput(StatusError):
    """A field of the status request is not valid."""

    code = "invalidInput"
    http_status = 400


class CredentialStatusNotFound(StatusError):
    """No credential with this id is known among the acting issuer's credentials."""

    code = "credentialNotFound"
    http_status = 404


class StatusTransitionRefused(StatusError):
    """The credential's current status does not allow this change."""

    code = "transitionRefused"
    http_status = 409


class StatusEntryExists(StatusError):
    """This credential id already holds a status list entry."""

    code = "duplicateCredentialId"
    http_status = 409
