"""A JSON parser that enforces DATA_UPLOAD_MAX_MEMORY_SIZE with a clean 413 and turns every
malformed body (bad UTF-8, NaN, nesting too deep) into a 400."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from registry.api.errors import ApiError


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(
            f"The request body is larger than {limit} bytes.",
            code="payloadTooLarge",
            status_code=413,
        )


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(BaseParser):
    # Not a JSONParser subclass: DRF reads request.body for those, before the parser runs.
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise ParseError("Invalid Content-Length.") from None
            if limit is not None and length > limit:
                raise PayloadTooLarge(limit)
        if stream is None:
            raise ParseError("The request body is empty.")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(limit)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError("JSON parse error: nested too deeply.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {str(exc)[:200]}") from None
