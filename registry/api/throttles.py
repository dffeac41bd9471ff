"""Rate limits: DRF throttles keyed by client (API key prefix if any, else the client IP) and
scope, with rates read from settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] at request time
(so `override_settings` works in tests). Over the limit: 429 with `Retry-After`.

    class VerifyCredentialApi(APIView):
        throttle_classes = [ScopedRateThrottle]
        throttle_scope = "verify"          # resolve, verify, trust or public

Login throttling (admin and portal) is `LoginThrottleMiddleware` plus the login signal handlers
in registry.audit.signals: failures are counted per client IP + username.
"""

from __future__ import annotations

import hashlib
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from .authentication import request_api_key


def throttle_rates() -> dict:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})


def client_address(request) -> str | None:
    """The client's IP for rate limits: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in
    front, the address the outermost of them saw (DRF's rule, for API and login limits alike)."""
    return BaseThrottle().get_ident(request)


class ScopedRateThrottle(SimpleRateThrottle):
    """Like DRF's ScopedRateThrottle, but keyed by API key when the request has one, and with
    rates looked up per request."""

    cache_format = "throttle_%(scope)s_%(ident)s"

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None)
        if not self.scope:
            return True
        self.rate = throttle_rates().get(self.scope)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        # Resolved in allow_request (the scope comes from the view).
        return None

    def get_cache_key(self, request, view):
        api_key = request_api_key(request)
        ident = f"key-{api_key.prefix}" if api_key else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


# ---------------------------------------------------------------------------------------------
# Login


def _login_key(ip: str | None, username: str) -> str:
    # NFKC as Django's login form does (it logs "ｒｏｏｔ" in as "root"): the middleware reads
    # the raw POST, the failure signal the normalised name; both must count the same account.
    username = unicodedata.normalize("NFKC", username).strip().lower()
    digest = hashlib.sha256(f"{ip}|{username}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def login_failure_count(ip: str | None, username: str) -> int:
    return cache.get(_login_key(ip, username), 0)


def _ip_key(ip: str | None) -> str:
    return f"login-failures-ip:{hashlib.sha256(str(ip).encode()).hexdigest()[:32]}"


def _incr(key: str, window: int | None = None) -> int:
    """Add one to the count under `key` (started with a lifetime of `window` seconds, the
    login window by default) and return the new count."""
    window = settings.LOGIN_THROTTLE_WINDOW if window is None else window
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=window)
        return 1


def login_failure_add(ip: str | None, username: str) -> None:
    """Count a failure for this IP + username, and for the IP alone (against an address trying
    many usernames)."""
    _incr(_login_key(ip, username))
    _incr(_ip_key(ip))


def login_ip_failure_count(ip: str | None) -> int:
    return cache.get(_ip_key(ip), 0)


def login_failures_clear(ip: str | None, username: str) -> None:
    cache.delete(_login_key(ip, username))


class LoginThrottleMiddleware:
    """Refuse a login POST (to any path in settings.LOGIN_THROTTLE_PATHS) with 429 once its
    client IP + username has failed LOGIN_THROTTLE_ATTEMPTS times, or its IP (whatever the
    usernames) LOGIN_THROTTLE_IP_ATTEMPTS times, in LOGIN_THROTTLE_WINDOW seconds. Failures are
    counted by the `user_login_failed` handler; a success clears its IP + username count."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in getattr(
            settings, "LOGIN_THROTTLE_PATHS", ()
        ):
            username = request.POST.get("username", "")
            ip = client_address(request)
            if (
                login_failure_count(ip, username) >= settings.LOGIN_THROTTLE_ATTEMPTS
                or login_ip_failure_count(ip) >= settings.LOGIN_THROTTLE_IP_ATTEMPTS
            ):
                response = JsonResponse(
                    {
                        "error": "throttled",
                        "message": "Too many failed logins; try again later.",
                    },
                    status=429,
                )
                response["Retry-After"] = str(settings.LOGIN_THROTTLE_WINDOW)
                return response
        return self.get_response(request)


# ---------------------------------------------------------------------------------------------
# Emails sent on request (sign-up confirmation, password reset)


class MailRefusal:
    """Why an email asked for is not sent (see `mail_allowance_take`)."""

    CLIENT = "client"  # this client IP asked for too many, whatever the addresses
    ADDRESS = "address"  # this address was sent too many, whoever asked


def _mail_key(kind: str, value: str) -> str:
    return f"mail-requests-{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def mail_allowance_take(ip: str | None, address: str) -> str:
    """Count a request for an email to `address` from `ip`, and say whether to send it: "" to
    send, else a `MailRefusal`. Anyone may ask the registry to email an address (sign-up,
    password reset), so without a limit one client could flood a mailbox, or the registry's
    mail sending. Past MAIL_THROTTLE_PER_IP requests from one client, or MAIL_THROTTLE_PER_ADDRESS
    emails to one address (case-insensitive), in MAIL_THROTTLE_WINDOW seconds, nothing is sent."""
    window = settings.MAIL_THROTTLE_WINDOW
    if _incr(_mail_key("ip", str(ip)), window) > settings.MAIL_THROTTLE_PER_IP:
        return MailRefusal.CLIENT
    address = unicodedata.normalize("NFKC", address or "").strip().lower()
    if _incr(_mail_key("address", address), window) > settings.MAIL_THROTTLE_PER_ADDRESS:
        return MailRefusal.ADDRESS
    return ""
