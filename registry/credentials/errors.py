"""Errors of the credentials services; each carries its API code and status (rendered by
`registry.api.errors.exception_handler` as `{"error": code, "message": ...}`)."""

from __future__ import annotations

from registry.api.errors import ApiError


class CredentialRequestInvalid(ApiError):
    def __init__(self, message: str, **extra):
        super().__init__(message, code="invalidCredential", status_code=400, **extra)


class IssuanceRefused(ApiError):
    """The issuer may not issue this credential (not accredited, wrong kind of participant)."""

    def __init__(self, message: str, *, code: str = "notAccredited", **extra):
        super().__init__(message, code=code, status_code=403, **extra)


class IdempotencyKeyReused(ApiError):
    """An Idempotency-Key already used by this issuer for a different request."""

    def __init__(self, message: str):
        super().__init__(message, code="idempotencyKeyReused", status_code=422)
