"""`Authorization: Bearer <key>` for office API keys. Views opt in (no global authentication).

On success `request.user` is an AnonymousUser (an API key is not a person) and `request.auth` is
the ApiKey, with `.office` (Participant) and `.scopes`. A key that is unknown, expired or revoked
is a 401 with `WWW-Authenticate: Bearer` and an error naming the reason.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from identity.precompiled import PrecompiledQuery

from .models import ApiKey
from .services import KEY_PREFIX, PREFIX_PATTERN, api_key_hash

# last_used_at is written at most this often per key: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
REALM = 'Bearer realm="ip-identity-registry"'

# Every authenticated request runs this: compiled once (identity.precompiled), read every time,
# so a revoked or expired key is refused at once.
_KEY_BY_PREFIX = PrecompiledQuery(
    lambda prefix: (
        ApiKey.objects.select_related("office__did").filter(prefix=prefix).order_by()[:1]
    ),
    prefix=str,
)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Authorization: Bearer <key>'.",
                code="invalidApiKey",
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The API key is not valid.", code="invalidApiKey"
            ) from None
        return self.authenticate_key(key)

    def authenticate_key(self, key: str):
        parts = key.split("_", 2)
        api_key = None
        if len(parts) == 3 and parts[0] == KEY_PREFIX and PREFIX_PATTERN.fullmatch(parts[1]):
            api_key = _KEY_BY_PREFIX.first(prefix=parts[1])
        # Hash and compare even when no row matched, so timing says nothing about prefixes.
        expected = api_key.secret_hash if api_key else "0" * 64
        if not hmac.compare_digest(api_key_hash(key), expected) or api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="invalidApiKey")
        now = timezone.now()
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"The API key {api_key.prefix} was revoked.", code="apiKeyRevoked"
            )
        if api_key.is_expired(now):
            raise exceptions.AuthenticationFailed(
                f"The API key {api_key.prefix} has expired.", code="apiKeyExpired"
            )
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return REALM


def request_api_key(request) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None
