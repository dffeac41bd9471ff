"""One shape for every API error: `{"error": code, "message": text}` (plus details), and never a
500 for bad input: domain errors are mapped to their status here, at the edge."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from identity.crypto.errors import MasterKeyError
from identity.errors import IdentityError

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5


class ApiError(exceptions.APIException):
    """An API error with a machine-readable code."""

    def __init__(self, message: str, *, code: str = "badRequest", status_code: int = 400, **extra):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.extra = extra


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": code, "message": message, **extra}


def exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return Response(
            error_body(exc.error_code, str(exc.detail), **exc.extra), status=exc.status_code
        )
    if isinstance(exc, RequestDataTooBig):
        # DRF reads request.body, where Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE; without this
        # the client would get Django's bare HTML 400.
        return Response(error_body("payloadTooLarge", "The request body is too large."), status=413)
    if isinstance(exc, IdentityError):
        return Response(error_body(exc.code, str(exc)), status=exc.http_status)
    if isinstance(exc, MasterKeyError):
        # The deployment's key ring cannot read a signing key: the operator's to fix (GET
        # /api/ready says so too), not the request's fault, and not a bug.
        logger.error("signing key unreadable: %s", str(exc)[:300])
        return Response(
            error_body(
                "signingUnavailable",
                "The registry cannot use its signing keys (a configuration problem on the "
                "server); retry later.",
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, Http404):
        return Response(error_body("notFound", str(exc) or "Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("forbidden", str(exc) or "Forbidden."), status=403)
    if isinstance(exc, DjangoValidationError):
        return Response(error_body("invalidInput", "; ".join(exc.messages)), status=400)
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body("invalidInput", "The request body is not valid.", fields=exc.detail),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable, restarting or refusing connections (a statement timeout
        # and a lock wait are OperationalErrors too): temporary, not a bug. A client retries on
        # 503 + Retry-After; a 500 would tell it the request itself was wrong.
        logger.error("database unavailable: %s: %s", exc.__class__.__name__, str(exc)[:300])
        response = Response(
            error_body("serviceUnavailable", "The registry's database is unavailable; retry."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response = Response(error_body(_camel(code), str(exc.detail)), status=exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    return None


def _camel(code: str) -> str:
    head, *rest = code.split("_")
    return head + "".join(p.title() for p in rest)
