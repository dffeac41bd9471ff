"""Administration screens in the portal's look: the trust registry (accreditations), office
members, office API keys and the audit trail (issue 5). Thin: every write goes through the
trust, API-key and audit services, which check the actor's role themselves; reads are scoped
here (registry administrators see everything, office administrators their own office)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from registry.participants.models import Participant

from . import selectors
from .admin_forms import (
    AccreditationGrantForm,
    ApiKeyCreateForm,
    AuditFilterForm,
    MemberAddForm,
    ReasonForm,
)


def _health_rows(report) -> list[dict]:
    """The readiness report (registry.health) in the portal's language: one row per check."""
    from registry.health import DEGRADED, DOWN

    labels = {
        "database": _("Database"),
        "cache": _("Shared cache (Redis)"),
        "statusPublishing": _("Status list publishing"),
        "signingKeys": _("Signing keys"),
    }
    rows = []
    for check in report.checks:
        data = check.data
        if check.status == DOWN:
            text = _("unreachable")
        elif check.name == "database":
            text = _("answers (%(ms)s ms)") % {"ms": data.get("ms")}
        elif check.name == "cache":
            if check.status == DEGRADED:
                text = _("Redis unreachable: each process caches and counts rate limits on its own")
            elif data.get("shared"):
                text = _("shared by every process")
            else:
                text = _("this process's memory only (no Redis configured)")
        elif check.name == "signingKeys":
            text = (
                _("cannot be decrypted: set REGISTRY_MASTER_KEYS to include their master key")
                if check.status == DEGRADED
                else _("readable")
            )
        elif not data.get("pending"):
            text = _("no change waiting")
        else:
            text = ngettext(
                "%(pending)s change waiting, for %(seconds)s s",
                "%(pending)s changes waiting, the oldest for %(seconds)s s",
                data["pending"],
            ) % {"pending": data["pending"], "seconds": round(data["oldestSeconds"])}
            if check.status == DEGRADED:
                text += " " + _("(verifiers still see the old status: is a Celery worker running?)")
        rows.append(
            {"label": labels.get(check.name, check.name), "status": check.status, "text": text}
        )
    return rows


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or _("Refused.")


def registry_admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not selectors.is_registry_admin(request.user):
            raise Http404("This page is for registry administrators.")
        return view(request, *args, **kwargs)

    return wrapper


def _administered_office(user, st3: str) -> Participant:
    """The office with this code if the user administers it (registry admin or office admin)."""
    from registry.trust.roles import can_administer_office

    office = selectors.offices().filter(st3_code=(st3 or "").upper()).first()
    if office is None or not can_administer_office(user, office):
        raise Http404("No such office among those you administer.")
    return office


def _administered_offices(user):
    from registry.trust.roles import offices_of

    if selectors.is_registry_admin(user):
        return selectors.offices()
    return offices_of(user, role="admin").order_by("display_name")


@login_required
def admin_home(request):
    """Registry administrators: the trust registry. Office administrators: their offices."""
    from registry.trust.models import IssuerAccreditation

    offices = list(_administered_offices(request.user))
    is_root = selectors.is_registry_admin(request.user)
    if not is_root and not offices:
        raise Http404("This page is for administrators.")
    context = {"offices": offices, "is_root": is_root}
    if is_root:
        from registry.health import health_report

        context["health"] = _health_rows(health_report())
        context["accreditations"] = IssuerAccreditation.objects.select_related(
            "office", "parent"
        ).order_by("office__st3_code", "-granted_at")[:300]
        context["grant_form"] = AccreditationGrantForm()
        context["reason_form"] = ReasonForm()
    return render(request, "portal/admin_home.html", context)


@require_POST
@registry_admin_required
def accreditation_grant_view(request):
    from registry.trust.services import (
        AccreditationAlreadyGranted,
        GrantFormKeyReused,
        accreditation_grant,
    )

    form = AccreditationGrantForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            accreditation_grant(
                office=d["office"],
                credential_types=d["credential_types"],
                valid_from=d.get("valid_from"),
                valid_until=d.get("valid_until"),
                actor=request.user,
                request=request,
                idempotency_key=d["form_key"],
            )
        except AccreditationAlreadyGranted as exc:
            messages.info(
                request,
                _("This form was already sent: the accreditation of %(office)s was granted once.")
                % {"office": exc.accreditation.office.display_name},
            )
        except GrantFormKeyReused:
            messages.error(
                request,
                _(
                    "This form was already sent and granted an accreditation; nothing more was "
                    "granted. Fill it in again to grant another."
                ),
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Accreditation granted."))
    else:
        for name, errors in form.errors.items():
            if name == "form_key":  # the form's own error says it (OneTimeKeyForm.clean)
                continue
            for error in errors:
                messages.error(request, error)
    return redirect("portal:admin-home")


@require_POST
@registry_admin_required
def accreditation_change_view(request, pk, action):
    from registry.trust import services as trust
    from registry.trust.models import IssuerAccreditation

    accreditation = IssuerAccreditation.objects.filter(pk=pk).first()
    if accreditation is None or action not in ("suspend", "reinstate", "withdraw"):
        raise Http404("No such accreditation.")
    reason = ReasonForm(request.POST).data.get("reason", "")[:200]
    try:
        if action == "suspend":
            trust.accreditation_suspend(
                accreditation=accreditation, reason=reason, actor=request.user, request=request
            )
        elif action == "reinstate":
            trust.accreditation_reinstate(
                accreditation=accreditation, actor=request.user, request=request
            )
        else:
            trust.accreditation_withdraw(
                accreditation=accreditation, reason=reason, actor=request.user, request=request
            )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            {
                "suspend": _("Accreditation suspended."),
                "reinstate": _("Accreditation reinstated."),
                "withdraw": _("Accreditation withdrawn (with the chain below it)."),
            }[action],
        )
    return redirect("portal:admin-home")


@login_required
def office_admin(request, st3):
    """An office's members and API keys (its administrators and registry administrators)."""
    from registry.api.models import ApiKey
    from registry.api.services import ApiKeyAlreadyCreated, ApiKeyFormKeyReused, api_key_create
    from registry.trust.models import OfficeMembership

    office = _administered_office(request.user, st3)
    member_form = MemberAddForm(prefix="member")
    key_form = ApiKeyCreateForm(prefix="key")
    new_key = None
    if request.method == "POST" and request.POST.get("form") == "key":
        key_form = ApiKeyCreateForm(request.POST, prefix="key")
        if key_form.is_valid():
            d = key_form.cleaned_data
            try:
                api_key, new_key = api_key_create(
                    office=office,
                    scopes=d["scopes"],
                    name=d["name"],
                    expires_at=d.get("expires_at"),
                    actor=request.user,
                    request=request,
                    idempotency_key=d["form_key"],
                )
            except ApiKeyAlreadyCreated as exc:
                # Its secret is stored hashed: it cannot be shown again.
                messages.info(
                    request,
                    _(
                        "This form already created API key %(prefix)s; its secret was shown in "
                        "the response to that first submission only. If it was not copied, "
                        "revoke that key and create a new one."
                    )
                    % {"prefix": exc.api_key.prefix},
                )
                key_form = ApiKeyCreateForm(prefix="key")
            except ApiKeyFormKeyReused:
                key_form.renew_key()
                key_form.add_error(
                    None,
                    _(
                        "This form was already sent and created an API key; nothing more was "
                        "created. Send it again to create another key with these values."
                    ),
                )
            except (ValidationError, PermissionDenied) as exc:
                key_form.add_error(None, _error_text(exc))
            else:
                # Shown once, in this response only; never stored in clear or in the session.
                messages.success(request, _("API key created. Copy it now: it is shown only once."))
                key_form = ApiKeyCreateForm(prefix="key")
    elif request.method == "POST" and request.POST.get("form") == "member":
        from registry.trust.services import office_member_add

        member_form = MemberAddForm(request.POST, prefix="member")
        if member_form.is_valid():
            try:
                office_member_add(
                    actor=request.user,
                    office=office,
                    user=member_form.cleaned_data["email"],
                    role=member_form.cleaned_data["role"],
                    request=request,
                )
            except (ValidationError, PermissionDenied) as exc:
                member_form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("Member added."))
                return redirect("portal:admin-office", st3=office.st3_code)
    response = render(
        request,
        "portal/admin_office.html",
        {
            "office": office,
            "members": OfficeMembership.objects.filter(office=office).select_related("user"),
            "keys": ApiKey.objects.filter(office=office).order_by("-created_at")[:200],
            "member_form": member_form,
            "key_form": key_form,
            "new_key": new_key,
            "now": timezone.now(),
        },
    )
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def office_member_remove_view(request, st3, user_id):
    from django.contrib.auth import get_user_model

    from registry.trust.services import office_member_remove

    office = _administered_office(request.user, st3)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404("No such user.")
    try:
        office_member_remove(actor=request.user, office=office, user=user, request=request)
    except (ValidationError, PermissionDenied, Http404) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Member removed."))
    return redirect("portal:admin-office", st3=office.st3_code)


@require_POST
@login_required
def api_key_change_view(request, st3, key_id, action):
    from registry.api.models import ApiKey
    from registry.api.services import api_key_revoke, api_key_rotate

    office = _administered_office(request.user, st3)
    api_key = ApiKey.objects.filter(pk=key_id, office=office).first()
    if api_key is None or action not in ("revoke", "rotate"):
        raise Http404("No such API key.")
    try:
        if action == "revoke":
            api_key_revoke(api_key=api_key, actor=request.user, request=request)
            messages.success(request, _("API key revoked."))
        else:
            _rotated, new_key = api_key_rotate(api_key=api_key, actor=request.user, request=request)
            response = render(
                request,
                "portal/admin_key_shown.html",
                {"office": office, "new_key": new_key},
            )
            response["Cache-Control"] = "no-store"
            return response
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    return redirect("portal:admin-office", st3=office.st3_code)


@login_required
def audit_log(request):
    """The audit trail, newest first: everything for registry administrators, their own
    office's events for office administrators."""
    from registry.audit.selectors import audit_events_filter

    is_root = selectors.is_registry_admin(request.user)
    own = [o.st3_code for o in _administered_offices(request.user)]
    if not is_root and not own:
        raise Http404("This page is for administrators.")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {k: v for k, v in filters.items() if v}
    events = audit_events_filter(**filters)
    if not is_root:
        events = events.filter(office__in=own)
    events = events.order_by("-created_at", "-id")[:200]
    return render(
        request,
        "portal/admin_audit.html",
        {"form": form, "events": events, "is_root": is_root},
    )
