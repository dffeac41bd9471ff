"""`HasApiKeyScope`: the view's `required_scope` must be among the API key's scopes.

    class IssueCredentialApi(APIView):
        authentication_classes = [ApiKeyAuthentication]
        permission_classes = [HasApiKeyScope]
        required_scope = "issue"

No key -> 401 (with WWW-Authenticate); a key without the scope -> 403 naming the scope. The
office the key belongs to is `request.auth.office`: views act for that office only.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .authentication import request_api_key


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficientScope"


class HasApiKeyScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        scope = getattr(view, "required_scope", None)
        if not scope:
            raise exceptions.PermissionDenied(
                "This endpoint has no required_scope configured.", code="forbidden"
            )
        api_key = request_api_key(request)
        if api_key is None:
            raise exceptions.NotAuthenticated(
                "An office API key is required: send 'Authorization: Bearer <key>'.",
                code="notAuthenticated",
            )
        if not api_key.has_scope(scope):
            raise InsufficientScope(
                f"This API key lacks the '{scope}' scope (it has: {', '.join(api_key.scopes)}).",
                code="insufficientScope",
            )
        return True
