"""`Cache-Control: no-store` on what a key or a login was needed to see.

Credentials, their records and the portal's pages carry personal data (names, addresses, party
identifiers). Without a Cache-Control header, a browser may keep them on disk and show them from
its history after logout, and a shared proxy may keep them too. A response to a request
authenticated by an office API key or a session gets `no-store` unless its view chose its own
caching. Public responses (DID documents, status lists, the log) keep theirs: they are meant to
be cached.
"""

from __future__ import annotations


def _authenticated(request) -> bool:
    if getattr(request, "auth", None) is not None:  # DRF copies request.auth here (API keys)
        return True
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False))


class NoStoreForAuthenticatedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and _authenticated(request):
            response["Cache-Control"] = "no-store"
        return response
