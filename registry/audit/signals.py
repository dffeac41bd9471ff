"""Logins on record: every successful and failed login (admin and portal) is an audit event,
and failures feed the login throttle (registry.api.throttles)."""

from __future__ import annotations

import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .services import audit_record


@receiver(user_logged_in, dispatch_uid="audit-user-logged-in")
def on_user_logged_in(sender, request, user, **kwargs):
    from registry.api.throttles import client_address, login_failures_clear

    path = getattr(request, "path", "") if request is not None else ""
    audit_record(
        actor=user,
        action="auth.login",
        target=f"user:{user.get_username()}",
        data={"path": path, "staff": user.is_staff},
        request=request,
    )
    if request is not None:
        login_failures_clear(client_address(request), user.get_username())


@receiver(user_login_failed, dispatch_uid="audit-user-login-failed")
def on_user_login_failed(sender, credentials, request=None, **kwargs):
    from registry.api.throttles import client_address, login_failure_add

    username = str((credentials or {}).get("username", ""))[:150]
    # Named only when it is an account's: what is typed in the username field is sometimes the
    # password, which must not be kept in the audit trail.
    known = (
        get_user_model()
        .objects.filter(username__iexact=unicodedata.normalize("NFKC", username).strip())
        .exists()
    )
    audit_record(
        actor="anonymous",
        action="auth.login_failed",
        target=f"user:{username}" if known else "user:(no such account)",
        data={
            "path": getattr(request, "path", "") if request is not None else "",
            "knownAccount": known,
        },
        request=request,
    )
    if request is not None:
        login_failure_add(client_address(request), username)
