"""CORS for the public API: any web origin may read it, so that browser wallets, web verifiers
and JavaScript DID resolvers can fetch DID documents, the JSON-LD context and schemas, status
lists and log proofs, and call the verification endpoints.

Views opt in with `cors_public = True` (PublicApi sets it; see docs/ARCHITECTURE.md for the
list). Their responses, errors included, carry `Access-Control-Allow-Origin: *`, and a preflight
(OPTIONS with `Access-Control-Request-Method`) is answered here, before the view and its rate
limit. Never with credentials: a wildcard origin makes browsers send no cookies and lets them
read no session-backed data. `Authorization` is not an allowed request header, so an office API
key cannot be used from a web page (keys belong on servers). Endpoints that take one are not
opted in.
"""

from __future__ import annotations

from django.http import HttpResponse

ALLOWED_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match"
# Headers a script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = "ETag, Retry-After, Content-Location, Idempotent-Replayed"
PREFLIGHT_MAX_AGE = "86400"


def _view_class(view_func):
    return getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)


class PublicCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_cors_public", False):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = _view_class(view_func)
        if not getattr(view_class, "cors_public", False):
            return None
        request._cors_public = True
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            allowed = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = ", ".join(
                m for m in allowed if m not in ("HEAD", "TRACE")
            )
            response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            return response
        return None
