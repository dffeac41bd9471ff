"""Portal views: thin. They read through `selectors` (scoped to the user, 404 otherwise) and
write through `services`; messages are translated."""

from __future__ import annotations

import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from identity.models import DidDocumentVersion
from registry.api.throttles import MailRefusal, client_address, mail_allowance_take

from . import selectors, services
from .forms import (
    ApplicantCredentialRequestForm,
    CredentialSearchForm,
    DocumentForm,
    EmailAuthenticationForm,
    MandateForm,
    RejectForm,
    RepresentativeCredentialRequestForm,
    ResolveForm,
    SignupForm,
    StatusChangeForm,
    VerifyForm,
)
from .models import APPLICANT_CREDENTIAL, CredentialRequest
from .qr import credential_qr

CREDENTIALS_PER_PAGE = 50
REQUESTS_PER_PAGE = 50

# --- access decorators ----------------------------------------------------------------------


def participant_required(view):
    """Applicants and agents only; their participant is passed to the view."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        participant = selectors.participant_of(request.user)
        if participant is None:
            raise Http404("This page is for applicants and agents.")
        return view(request, participant, *args, **kwargs)

    return wrapper


def officer_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not selectors.officer_offices(request.user).exists():
            raise Http404("This page is for office officers.")
        return view(request, *args, **kwargs)

    return wrapper


def staff_tools_required(view):
    """Officer tools: officers and registry administrators."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not (
            selectors.officer_offices(request.user).exists()
            or selectors.is_registry_admin(request.user)
        ):
            raise Http404("This page is for office officers.")
        return view(request, *args, **kwargs)

    return wrapper


# --- public pages and accounts --------------------------------------------------------------


def home(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    return render(request, "portal/home.html", {"offices": selectors.offices()})


def signup(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.account_signup(
                email=d["email"],
                password=d["password1"],
                kind=d["kind"],
                display_name=d["display_name"],
                country=d["country"],
                confirm_url_base=request.build_absolute_uri("/").rstrip("/"),
                client_ip=client_address(request),
            )
        except services.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("portal:signup-done")
    return render(request, "registration/signup.html", {"form": form})


def signup_done(request):
    return render(request, "registration/signup_done.html")


def confirm_email(request, token):
    try:
        user, participant = services.account_confirm(token=token)
    except services.PortalError as exc:
        return render(request, "registration/confirm_failed.html", {"reason": str(exc)}, status=400)
    messages.success(
        request,
        _("Your email address is confirmed and your registry DID is ready: %(did)s. Log in.")
        % {"did": participant.did.did},
    )
    return redirect("portal:login")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, within the limits on emails anyone can ask for. Past the address's limit the
    page says the email was sent, as it does for an unknown address: it must not tell whether
    an account exists."""

    def form_valid(self, form):
        refusal = mail_allowance_take(client_address(self.request), form.cleaned_data["email"])
        if refusal == MailRefusal.CLIENT:
            form.add_error(None, _("Too many requests from your network; try again later."))
            return self.form_invalid(form)
        if refusal == MailRefusal.ADDRESS:
            return redirect(self.get_success_url())
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("portal:dashboard")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's: the old password, then the new one twice; the account's other sessions end,
    this one stays."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("portal:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.account_password_changed(user=self.request.user, request=self.request)
        messages.success(
            self.request, _("Your password is changed; your other sessions are logged out.")
        )
        return response


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:home")


# --- dashboard ------------------------------------------------------------------------------


@login_required
def dashboard(request):
    participant = selectors.participant_of(request.user)
    context = {
        "participant": participant,
        "officer_offices": list(selectors.officer_offices(request.user)),
        "is_registry_admin": selectors.is_registry_admin(request.user)
        or selectors.is_office_admin(request.user),
    }
    if participant is not None:
        did = participant.did
        now = timezone.now()
        credentials = list(selectors.credentials_of(participant))
        states = selectors.credential_states([c.credential_id for c in credentials])
        for c in credentials:
            c.portal_state = states.get(c.credential_id, "active")
            c.is_expired = bool(c.expires_at and c.expires_at <= now)
        context.update(
            did=did,
            keys=list(did.keys.order_by("number")),
            versions=list(DidDocumentVersion.objects.filter(did=did).order_by("-version_id")[:20]),
            linked=list(did.linked_dids.order_by("linked_at")),
            credentials=credentials,
            requests=list(selectors.requests_of(participant)[:50]),
            mandates_granted=list(selectors.mandates_granted(participant)[:50]),
            mandates_held=list(selectors.mandates_held(participant)[:50]),
        )
    return render(request, "portal/dashboard.html", context)


# --- credential requests --------------------------------------------------------------------


def _request_form_class(participant):
    if participant.kind == "applicant":
        return ApplicantCredentialRequestForm
    return RepresentativeCredentialRequestForm


@participant_required
def request_new(request, participant):
    form_class = _request_form_class(participant)
    initial = {}
    if form_class is ApplicantCredentialRequestForm:
        initial = {"name": participant.display_name, "country": participant.country}
    if request.GET.get("office"):
        initial["office"] = request.GET["office"]
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            submitted = services.credential_request_create(
                requester=participant,
                office=form.cleaned_data["office"],
                claims=form.claims(),
                actor=request.user,
                idempotency_key=form.cleaned_data["form_key"],
            )
        except services.FormAlreadySubmitted as exc:
            form.renew_key()
            form.add_error(None, str(exc))
        except services.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            if submitted.replayed:
                messages.info(
                    request, _("This form was already sent: here is your request, sent once.")
                )
            else:
                messages.success(request, _("Your request was sent to the office."))
            return redirect("portal:request-detail", pk=submitted.record.pk)
    credential_type = (
        APPLICANT_CREDENTIAL
        if form_class is ApplicantCredentialRequestForm
        else "IPRepresentativeCredential"
    )
    return render(
        request,
        "portal/request_new.html",
        {"form": form, "offices": selectors.offices(), "credential_type": credential_type},
    )


@participant_required
def request_detail(request, participant, pk):
    credential_request = selectors.request_for_requester(request.user, pk)
    return render(request, "portal/request_detail.html", {"credential_request": credential_request})


@require_POST
@participant_required
def request_withdraw(request, participant, pk):
    selectors.request_for_requester(request.user, pk)
    try:
        services.credential_request_withdraw(request_id=pk, requester=participant)
    except services.RequestAlreadyDecided as exc:
        messages.info(request, str(exc))
    except services.PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your request was withdrawn."))
    return redirect("portal:request-detail", pk=pk)


# --- credentials ----------------------------------------------------------------------------


@login_required
def credential_detail(request, credential_id):
    credential = selectors.credential_for_user(request.user, credential_id)
    ldp, jwt = selectors.credential_pair(credential)
    states = selectors.credential_states([credential.credential_id])
    qr_svg, qr_kind = credential_qr(request, ldp=ldp, jwt=jwt)
    officer_office = selectors.officer_offices(request.user).filter(pk=credential.issuer_id).first()
    return render(
        request,
        "portal/credential_detail.html",
        {
            "credential": credential,
            "ldp": ldp,
            "jwt": jwt,
            "state": states.get(credential.credential_id, "active"),
            "expired": bool(credential.expires_at and credential.expires_at <= timezone.now()),
            "suspendable": bool(selectors.suspendable_ids([credential.credential_id])),
            "document_json": json.dumps((ldp or credential).document, indent=2, ensure_ascii=False)
            if (ldp or credential).proof_format != "jwt"
            else None,
            "qr_svg": qr_svg,
            "qr_kind": qr_kind,
            "officer_office": officer_office,
            "status_form": StatusChangeForm(),
        },
    )


@login_required
def credential_download(request, credential_id, fmt):
    credential = selectors.credential_for_user(request.user, credential_id)
    ldp, jwt = selectors.credential_pair(credential)
    safe_name = credential.credential_id.rsplit(":", 1)[-1]
    if fmt == "jsonld" and ldp is not None:
        response = HttpResponse(
            json.dumps(ldp.document, indent=2, ensure_ascii=False),
            content_type="application/ld+json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{safe_name}.jsonld"'
        return response
    if fmt == "jwt" and jwt is not None:
        response = HttpResponse(jwt.document, content_type="application/jwt; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{safe_name}.jwt"'
        return response
    raise Http404("This credential is not available in that format.")


# --- office officers ------------------------------------------------------------------------


@officer_required
def office_home(request):
    offices = list(selectors.officer_offices(request.user))
    if len(offices) == 1:
        return redirect("portal:office-queue", st3=offices[0].st3_code)
    return render(request, "portal/office_home.html", {"offices": offices})


@officer_required
def office_queue(request, st3):
    office = selectors.office_for_officer(request.user, st3)
    state = request.GET.get("state", CredentialRequest.State.PENDING)
    if state not in CredentialRequest.State.values:
        state = CredentialRequest.State.PENDING
    # Pending requests oldest first (the work to do, in turn); decided ones newest first.
    order = (
        ("created_at", "pk") if state == CredentialRequest.State.PENDING else ("-created_at", "-pk")
    )
    queue = selectors.request_queue(request.user, office).filter(state=state).order_by(*order)
    page = Paginator(queue, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/office_queue.html",
        {
            "office": office,
            "queue": page.object_list,
            "page": page,
            "state": state,
            "state_query": urlencode({"state": state}),
            "states": CredentialRequest.State.choices,
        },
    )


@officer_required
def office_request_detail(request, pk):
    credential_request = selectors.request_for_officer(request.user, pk)
    reject_form = RejectForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                services.credential_request_approve(
                    request_id=pk,
                    officer=request.user,
                    suspendable=request.POST.get("suspendable") == "on",
                )
                messages.success(request, _("Approved: the credential was issued."))
                return redirect("portal:office-request", pk=pk)
            if action == "reject" and reject_form.is_valid():
                services.credential_request_reject(
                    request_id=pk, officer=request.user, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, _("Rejected: the requester sees your reason."))
                return redirect("portal:office-queue", st3=credential_request.office.st3_code)
        except services.RequestAlreadyDecided as exc:
            # Sent twice (a double click, the browser sending it again), or decided by another
            # officer meanwhile: nothing more was done, and the page shows the decision.
            messages.info(request, str(exc))
            return redirect("portal:office-request", pk=pk)
        except services.PortalError as exc:
            messages.error(request, str(exc))
        credential_request.refresh_from_db()
    return render(
        request,
        "portal/office_request.html",
        {"credential_request": credential_request, "reject_form": reject_form},
    )


@officer_required
def office_credentials(request, st3):
    office = selectors.office_for_officer(request.user, st3)
    search = CredentialSearchForm(request.GET or None)
    filters = search.cleaned_data if search.is_valid() else {}
    page = Paginator(
        selectors.credentials_issued_by(
            office, q=filters.get("q", ""), state=filters.get("status", "")
        ),
        CREDENTIALS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    credentials = list(page.object_list)
    now = timezone.now()
    ids = [c.credential_id for c in credentials]
    states = selectors.credential_states(ids)
    suspendable = selectors.suspendable_ids(ids)
    names = selectors.subject_names(c.subject_did for c in credentials)
    for c in credentials:
        c.portal_state = states.get(c.credential_id, "active")
        c.is_expired = bool(c.expires_at and c.expires_at <= now)
        c.suspendable = c.credential_id in suspendable
        c.subject_name = names.get(c.subject_did, "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/office_credentials.html",
        {
            "office": office,
            "credentials": credentials,
            "page": page,
            "search": search if search.is_bound else CredentialSearchForm(),
            "query": query.urlencode(),
            "status_form": StatusChangeForm(),
        },
    )


@require_POST
@officer_required
def office_credential_status(request, st3, credential_id):
    office = selectors.office_for_officer(request.user, st3)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose revoke, suspend or reinstate."))
    else:
        action = form.cleaned_data["action"]
        try:
            services.office_credential_status_change(
                officer=request.user, office=office, credential_id=credential_id, action=action
            )
        except services.PortalError as exc:
            messages.error(request, str(exc))
        else:
            labels = {
                "revoke": _("Revoked."),
                "suspend": _("Suspended."),
                "reinstate": _("Reinstated."),
            }
            messages.success(request, labels[action])
    next_url = request.POST.get("next") or ""
    if next_url == "detail":
        return redirect("portal:credential-detail", credential_id=credential_id)
    return redirect("portal:office-credentials", st3=office.st3_code)


# --- mandates -------------------------------------------------------------------------------


@participant_required
def mandates(request, participant):
    return render(
        request,
        "portal/mandates.html",
        {
            "participant": participant,
            "granted": selectors.mandates_granted(participant),
            "held": selectors.mandates_held(participant),
        },
    )


@participant_required
def mandate_new(request, participant):
    if participant.kind != "applicant":
        raise Http404("Only applicants grant mandates.")
    form = MandateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            submitted = services.mandate_grant(
                applicant=participant,
                agent=d["agent"],
                office=d["office"],
                right_type=d["right_type"],
                application_numbers=d["application_numbers"],
                valid_until=d["valid_until"],
                idempotency_key=d["form_key"],
                actor=request.user,
            )
        except services.FormAlreadySubmitted as exc:
            form.renew_key()
            form.add_error(None, str(exc))
        except services.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            if submitted.replayed:
                messages.info(
                    request,
                    _("This form was already sent: the mandate to %(agent)s was granted once.")
                    % {"agent": submitted.record.agent.display_name},
                )
            else:
                messages.success(request, _("The mandate was granted."))
            return redirect("portal:mandates")
    agents = selectors.agent_search_all()
    return render(
        request,
        "portal/mandate_new.html",
        {"form": form, "offices": selectors.offices(), "agents": agents},
    )


@require_POST
@participant_required
def mandate_revoke(request, participant, pk):
    try:
        services.mandate_revoke(applicant=participant, mandate_id=pk, actor=request.user)
    except services.PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The mandate was revoked."))
    return redirect("portal:mandates")


# --- wallet linking -------------------------------------------------------------------------

WALLET_CHALLENGE_KEY = "portal.wallet_challenge"


@participant_required
def wallet(request, participant):
    from registry.credentials.services import challenge_create

    form = DocumentForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST":
        challenge = request.session.get(WALLET_CHALLENGE_KEY, "")
        if form.is_valid():
            try:
                document = services.parse_presentation(form.cleaned_data["text"])
                result = services.wallet_link(
                    participant=participant,
                    presentation=document,
                    challenge=challenge,
                    actor=request.user,
                )
            except services.PortalError as exc:
                form.add_error(None, str(exc))
                # The challenge may have been used up by the verification: sign over a new one.
                request.session.pop(WALLET_CHALLENGE_KEY, None)
            else:
                # A challenge is single-use: whatever the outcome, show a new one.
                request.session.pop(WALLET_CHALLENGE_KEY, None)
                if result.linked:
                    messages.success(
                        request, _("Your wallet %(did)s is linked.") % {"did": result.wallet_did}
                    )
                    return redirect("portal:dashboard")
                report = result.report
    challenge = request.session.get(WALLET_CHALLENGE_KEY)
    if not challenge:
        challenge = challenge_create(domain=services.wallet_link_domain()).value
        request.session[WALLET_CHALLENGE_KEY] = challenge
    return render(
        request,
        "portal/wallet.html",
        {
            "form": form,
            "challenge": challenge,
            "domain": services.wallet_link_domain(),
            "report": selectors.report_view(report) if report is not None else None,
            "linked": list(participant.did.linked_dids.filter(unlinked_at__isnull=True)),
        },
    )


# --- officer tools --------------------------------------------------------------------------


@staff_tools_required
def tool_resolve(request):
    from identity.errors import IdentityError
    from identity.resolution import resolve

    form = ResolveForm(request.GET or None)
    result = error = None
    if request.GET and form.is_valid():
        try:
            resolved = resolve(form.cleaned_data["did"].strip())
        except IdentityError as exc:
            error = {"code": exc.code, "message": str(exc)}
        else:
            result = {
                "document": json.dumps(resolved.did_document, indent=2, ensure_ascii=False),
                "document_metadata": json.dumps(
                    resolved.document_metadata, indent=2, ensure_ascii=False, default=str
                ),
                "resolution_metadata": json.dumps(
                    resolved.resolution_metadata, indent=2, ensure_ascii=False, default=str
                ),
            }
    return render(
        request, "portal/tool_resolve.html", {"form": form, "result": result, "error": error}
    )


@staff_tools_required
def tool_verify(request):
    from registry.credentials.services import credential_verify, presentation_verify

    form = VerifyForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            document = services.parse_presentation(form.cleaned_data["text"])
        except services.PortalError as exc:
            form.add_error("document", str(exc))
        else:
            if form.cleaned_data["kind"] == "presentation":
                report = presentation_verify(
                    document, challenge=form.cleaned_data["challenge"].strip()
                )
            else:
                report = credential_verify(document)
    return render(
        request,
        "portal/tool_verify.html",
        {"form": form, "report": selectors.report_view(report) if report is not None else None},
    )
