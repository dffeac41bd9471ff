"""The portal's write path. Views call these; every rule lives here, and credential issuance,
status changes and wallet links go through the same services as the API (H3, H5, identity)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from identity.errors import IdentityError
from identity.services import did_link_wallet
from registry.api.throttles import MailRefusal, mail_allowance_take
from registry.credentials.services import claim_text_problems, lei_check_digits_valid
from registry.participants.models import Participant
from registry.participants.services import ParticipantError, participant_create
from registry.participants.st3 import st3_code_known

from .models import (
    APPLICANT_CREDENTIAL,
    REPRESENTATIVE_CREDENTIAL,
    REQUESTABLE_TYPE_BY_KIND,
    CredentialRequest,
    MandateGrant,
)
from .selectors import officer_can_act_for

CONFIRM_SALT = "registry.portal.confirm-email"
CONFIRM_MAX_AGE = 3 * 24 * 3600
ST13_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,4}[0-9][0-9A-Z./-]{2,30}$")
LEI_PATTERN = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
ST3_PATTERN = re.compile(r"^[A-Z]{2}$")


class PortalError(Exception):
    """A refused portal action; the message is shown to the user as is (translated)."""


class FormAlreadySubmitted(PortalError):
    """This rendering of a form was submitted before and did its work, and now comes back with
    other values: doing more is a new decision, which takes a new rendering (a new key)."""


class RequestAlreadyDecided(PortalError):
    """The request was decided (or withdrawn) already: a repeated decision does nothing."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(
            {
                CredentialRequest.State.APPROVED: _("This request was already approved."),
                CredentialRequest.State.REJECTED: _("This request was already rejected."),
                CredentialRequest.State.WITHDRAWN: _("This request was already withdrawn."),
            }.get(state, _("This request has already been decided."))
        )


@dataclass(frozen=True)
class Submitted:
    """What a form's submission gave: the request or mandate, and whether an earlier submission
    of the same rendered form (the same key) had made it, in which case nothing new was done."""

    record: CredentialRequest | MandateGrant
    replayed: bool


def st3_country_problem(code: str) -> str:
    """Why `code` (upper case) cannot be a country, translated; "" if it is a WIPO ST.3 code."""
    if not ST3_PATTERN.match(code):
        return _("Enter a two-letter WIPO ST.3 country code.")
    if not st3_code_known(code):
        return _("%(code)s is not a WIPO ST.3 code.") % {"code": code}
    return ""


def _audit(*, actor, action: str, target: str, data: dict | None = None, request=None) -> None:
    # The audit app (H6) owns the trail; the portal records its writes there when it exists.
    try:
        from registry.audit.services import audit_record
    except ImportError:  # pragma: no cover - audit app not installed
        return
    audit_record(actor=actor, action=action, target=target, data=data, request=request)


# --- accounts -------------------------------------------------------------------------------


def account_password_changed(*, user, request=None) -> None:
    """Record a password change made by the account's owner (Django's form sets it and ends the
    account's other sessions)."""
    _audit(actor=user, action="portal.password_change", target=f"user:{user.pk}", request=request)


def _username_for(email: str) -> str:
    return email.strip().lower()[:150]


def _unconfirmed_accounts(email: str):
    """Accounts for this address that were never confirmed: inactive, never logged in, no
    participant. Signing up again reuses them (new password, new link). An account holding any
    right (staff, superuser, a group, a permission, an office membership) was made by an
    administrator, not by a sign-up: if it is inactive, it was deactivated, and a sign-up must
    not activate it again."""
    return get_user_model().objects.filter(
        email__iexact=email.strip(),
        is_active=False,
        last_login__isnull=True,
        participants__isnull=True,
        is_staff=False,
        is_superuser=False,
        groups__isnull=True,
        user_permissions__isnull=True,
        office_memberships__isnull=True,
    )


def account_email_taken(email: str) -> bool:
    users = get_user_model().objects.filter(email__iexact=email.strip())
    return users.exclude(pk__in=_unconfirmed_accounts(email).values("pk")).exists()


def _confirm_fingerprint(user) -> str:
    # Ties a link to the password set at sign-up: signing up again invalidates older links.
    return salted_hmac(CONFIRM_SALT, user.password).hexdigest()[:16]


@transaction.atomic
def account_signup(
    *,
    email: str,
    password: str,
    kind: str,
    display_name: str,
    country: str,
    confirm_url_base: str | None = None,
    client_ip: str | None = None,
):
    """Create an inactive account and email a signed confirmation link.

    The participant and its registry DID are created on confirmation, not here, so unconfirmed
    sign-ups never mint DIDs; the kind, name and country ride in the signed token. Signing up
    again with an address never confirmed reuses that account (new password, new link; older
    links stop working). Refused past the limits on emails anyone can ask for
    (`registry.api.throttles.mail_allowance_take`, by `client_ip` and by address)."""
    if kind not in REQUESTABLE_TYPE_BY_KIND:
        raise PortalError(_("Choose applicant or agent."))
    country = (country or "").strip().upper()
    if problem := st3_country_problem(country):
        raise PortalError(problem)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 200:
        raise PortalError(_("Enter a name of 1 to 200 characters."))
    if account_email_taken(email):
        raise PortalError(_("An account with this email address already exists."))
    refusal = mail_allowance_take(client_ip, email)
    if refusal == MailRefusal.CLIENT:
        raise PortalError(_("Too many sign-ups from your network; try again later."))
    if refusal == MailRefusal.ADDRESS:
        raise PortalError(
            _("Too many confirmation emails were sent to this address; try again later.")
        )
    user_model = get_user_model()
    # Lock by primary key: PostgreSQL refuses FOR UPDATE across the participants outer join.
    user = (
        user_model.objects.select_for_update()
        .filter(pk__in=list(_unconfirmed_accounts(email).values_list("pk", flat=True)))
        .first()
    )
    if user is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    else:
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    username=_username_for(email),
                    email=email.strip(),
                    password=password,
                    is_active=False,
                )
        except IntegrityError:  # the same address signed up concurrently
            raise PortalError(_("An account with this email address already exists.")) from None
    token = signing.dumps(
        {"u": user.pk, "k": kind, "n": display_name, "c": country, "f": _confirm_fingerprint(user)},
        salt=CONFIRM_SALT,
    )
    link = (confirm_url_base or settings.REGISTRY_BASE_URL) + reverse(
        "portal:confirm-email", args=[token]
    )
    body = render_to_string(
        "registration/confirm_email.txt", {"link": link, "display_name": display_name}
    )
    transaction.on_commit(
        lambda: send_mail(
            _("Confirm your email address"),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    )
    _audit(actor=user, action="portal.signup", target=f"user:{user.pk}", data={"kind": kind})
    return user


@transaction.atomic
def account_confirm(*, token: str):
    """Activate the account named by a confirmation token and give it a participant + DID.
    Idempotent: confirming twice returns the same user and participant."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise PortalError(_("This confirmation link has expired. Sign up again.")) from None
    except signing.BadSignature:
        raise PortalError(_("This confirmation link is not valid.")) from None
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(pk=data.get("u")).first()
    if user is None:
        raise PortalError(_("This confirmation link is not valid."))
    participant = user.participants.filter(kind__in=REQUESTABLE_TYPE_BY_KIND).first()
    if participant is not None:
        if not user.is_active:  # confirmed once, deactivated since: a link does not revive it
            raise PortalError(_("This confirmation link is not valid."))
        return user, participant  # confirming twice changes nothing
    if user.is_active or data.get("f") != _confirm_fingerprint(user):
        raise PortalError(_("This confirmation link is not valid."))
    try:
        participant = participant_create(
            kind=data["k"], display_name=data["n"], country=data["c"], user=user
        )
    except (ParticipantError, KeyError) as exc:
        raise PortalError(str(exc)) from None
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit(actor=user, action="portal.email-confirmed", target=participant.did.did)
    return user, participant


# --- credential requests ------------------------------------------------------------------


def _refuse_unshowable_text(claims: dict) -> None:
    """What issuance would refuse on approval (`claim_text_problems`), said at request time."""
    if claim_text_problems(claims):
        raise PortalError(
            _("Names, addresses and numbers cannot contain control or bidirectional characters.")
        )


def _clean_claims(credential_type: str, office: Participant, claims: dict) -> dict:
    """The credentialSubject claims of a request, normalised and checked against the type."""
    if credential_type == APPLICANT_CREDENTIAL:
        out = {
            "name": str(claims.get("name", "")).strip(),
            "personType": claims.get("personType"),
            "country": str(claims.get("country", "")).strip().upper(),
            # A textarea sends CRLF: sign the address with plain line feeds.
            "address": str(claims.get("address", "")).strip().replace("\r\n", "\n"),
        }
        if not out["name"] or len(out["name"]) > 300:
            raise PortalError(_("Enter a name of 1 to 300 characters."))
        if out["personType"] not in ("natural", "legal"):
            raise PortalError(_("Choose natural or legal person."))
        if problem := st3_country_problem(out["country"]):
            raise PortalError(problem)
        if not out["address"] or len(out["address"]) > 1000:
            raise PortalError(_("Enter an address."))
        lei = str(claims.get("lei") or "").strip().upper()
        if lei:
            if not LEI_PATTERN.match(lei):
                raise PortalError(_("A LEI is 20 characters: 18 letters or digits, 2 digits."))
            if not lei_check_digits_valid(lei):
                raise PortalError(_("The check digits of this LEI do not match: look for a typo."))
            out["lei"] = lei
        party_id = str(claims.get("partyIdentifier") or "").strip()
        if party_id:
            if len(party_id) > 100:
                raise PortalError(_("A party identifier has at most 100 characters."))
            out["partyIdentifiers"] = [{"office": office.st3_code, "partyIdentifier": party_id}]
        _refuse_unshowable_text(out)
        return out
    if credential_type == REPRESENTATIVE_CREDENTIAL:
        out = {
            "registrationNumber": str(claims.get("registrationNumber", "")).strip(),
            "office": office.st3_code,
            "field": claims.get("field"),
        }
        if not out["registrationNumber"] or len(out["registrationNumber"]) > 100:
            raise PortalError(_("Enter your registration number."))
        if out["field"] not in ("patents", "trademarks", "designs"):
            raise PortalError(_("Choose patents, trademarks or designs."))
        _refuse_unshowable_text(out)
        return out
    raise PortalError(_("This credential type cannot be requested."))


@transaction.atomic
def credential_request_create(
    *,
    requester: Participant,
    office: Participant,
    claims: dict,
    actor=None,
    idempotency_key: str = "",
) -> Submitted:
    """An applicant asks for an IPApplicantCredential, an agent for an IPRepresentativeCredential.

    With `idempotency_key` (the request form's one-time key), a request already made with that
    key is given back (`replayed`) instead of filing another; with other values,
    FormAlreadySubmitted."""
    credential_type = REQUESTABLE_TYPE_BY_KIND.get(requester.kind)
    if credential_type is None:
        raise PortalError(_("Only applicants and agents can request credentials."))
    if office.kind != Participant.Kind.OFFICE:
        raise PortalError(_("Choose an IP office."))
    clean = _clean_claims(credential_type, office, claims)
    # One requester's submissions in turn: two at once (a double click) would both find no
    # earlier request below, and both file one.
    Participant.objects.select_for_update().filter(pk=requester.pk).exists()
    if idempotency_key:
        earlier = CredentialRequest.objects.filter(
            requester=requester, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            if (earlier.office_id, earlier.credential_type, earlier.claims) != (
                office.pk,
                credential_type,
                clean,
            ):
                raise FormAlreadySubmitted(
                    _(
                        "This form was already sent and made a request; nothing more was sent. "
                        "Send it again to make another request with these values."
                    )
                )
            return Submitted(earlier, replayed=True)
    if CredentialRequest.objects.filter(
        requester=requester,
        office=office,
        credential_type=credential_type,
        state=CredentialRequest.State.PENDING,
    ).exists():
        raise PortalError(_("You already have a pending request of this type to this office."))
    request = CredentialRequest.objects.create(
        requester=requester,
        office=office,
        credential_type=credential_type,
        claims=clean,
        created_at=timezone.now(),
        idempotency_key=idempotency_key,
    )
    _audit(
        actor=actor,
        action="portal.credential-request.create",
        target=f"credential-request:{request.pk}",
        data={"office": office.st3_code, "type": credential_type},
    )
    return Submitted(request, replayed=False)


def _lock_pending_for_officer(*, request_id: int, officer) -> CredentialRequest:
    request = (
        CredentialRequest.objects.select_for_update()
        .select_related("office", "requester", "requester__did")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not officer_can_act_for(officer, request.office):
        raise PortalError(_("No such request in your office's queue."))
    if request.state != CredentialRequest.State.PENDING:
        raise RequestAlreadyDecided(request.state)
    # Four eyes: an officer who is also the requester (an office admin can make any user an
    # officer) does not decide their own request.
    if request.requester.user_id is not None and request.requester.user_id == officer.pk:
        raise PortalError(
            _("You made this request yourself: another officer of the office must decide it.")
        )
    return request


@transaction.atomic
def credential_request_approve(
    *, request_id: int, officer, suspendable: bool = False
) -> CredentialRequest:
    """Issue the requested credential (JSON-LD and VC-JWT, same claims) through the credential
    service, in this transaction: if issuance is refused nothing changes.

    A credential carries one status entry (didkit signs a single `credentialStatus`):
    `suspendable` gives it a suspension entry (suspend, reinstate, and a permanent revoke),
    otherwise a revocation entry (revoke only)."""
    from registry.credentials.services import credential_issue

    request = _lock_pending_for_officer(request_id=request_id, officer=officer)
    issued = {}
    for proof_format in ("ldp", "jwt"):
        try:
            issued[proof_format] = credential_issue(
                issuer=request.office,
                credential_type=request.credential_type,
                subject_did=request.requester.did.did,
                claims=request.claims,
                proof_format=proof_format,
                actor=officer,
                status_purpose="suspension" if suspendable else "revocation",
            )
        except PortalError:
            raise
        except Exception as exc:  # the credential service's refusals carry a clear message
            raise PortalError(
                _("The office could not issue this credential: %(reason)s")
                % {"reason": _error_text(exc)}
            ) from None
    request.state = CredentialRequest.State.APPROVED
    request.decided_at = timezone.now()
    request.decided_by = officer
    request.ldp_credential_id = issued["ldp"].credential_id
    request.jwt_credential_id = issued["jwt"].credential_id
    request.save(
        update_fields=[
            "state",
            "decided_at",
            "decided_by",
            "ldp_credential_id",
            "jwt_credential_id",
        ]
    )
    _audit(
        actor=officer,
        action="portal.credential-request.approve",
        target=f"credential-request:{request.pk}",
        data={"credentials": request.credential_ids},
    )
    return request


@transaction.atomic
def credential_request_reject(*, request_id: int, officer, reason: str) -> CredentialRequest:
    reason = (reason or "").strip()
    if not reason:
        raise PortalError(_("Give the requester a reason."))
    request = _lock_pending_for_officer(request_id=request_id, officer=officer)
    request.state = CredentialRequest.State.REJECTED
    request.rejection_reason = reason[:2000]
    request.decided_at = timezone.now()
    request.decided_by = officer
    request.save(update_fields=["state", "rejection_reason", "decided_at", "decided_by"])
    _audit(
        actor=officer,
        action="portal.credential-request.reject",
        target=f"credential-request:{request.pk}",
    )
    return request


@transaction.atomic
def credential_request_withdraw(*, request_id: int, requester: Participant) -> CredentialRequest:
    request = (
        CredentialRequest.objects.select_for_update()
        .filter(pk=request_id, requester=requester)
        .first()
    )
    if request is None:
        raise PortalError(_("No such request."))
    if request.state != CredentialRequest.State.PENDING:
        raise RequestAlreadyDecided(request.state)
    request.state = CredentialRequest.State.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_at"])
    return request


def _error_text(exc: Exception) -> str:
    for attr in ("detail", "message", "reason"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(exc) or exc.__class__.__name__


STATUS_ACTIONS = ("revoke", "suspend", "reinstate")


@transaction.atomic
def office_credential_status_change(
    *, officer, office: Participant, credential_id: str, action: str
):
    """Revoke, suspend or reinstate a credential the officer's office issued, through the
    status service (the same one `POST /credentials/status` uses). A credential requested
    through the portal was issued in two formats: both change together."""
    from registry.credentials.models import IssuedCredential
    from registry.status.services import credential_status_change

    if action not in STATUS_ACTIONS:
        raise PortalError(_("Unknown action."))
    if not officer_can_act_for(officer, office):
        raise PortalError(_("You are not an officer of this office."))
    credential = IssuedCredential.objects.filter(credential_id=credential_id, issuer=office).first()
    if credential is None:
        raise PortalError(_("No such credential issued by your office."))
    ids = [credential_id]
    request = CredentialRequest.objects.filter(ldp_credential_id=credential_id).first() or (
        CredentialRequest.objects.filter(jwt_credential_id=credential_id).first()
    )
    if request is not None:
        ids = request.credential_ids
    for cid in ids:
        try:
            credential_status_change(credential_id=cid, action=action, issuer=office, actor=officer)
        except Exception as exc:
            raise PortalError(_error_text(exc)) from None
    return ids


# --- mandates -----------------------------------------------------------------------------


def parse_application_numbers(text: str) -> list[str]:
    numbers = []
    for raw in re.split(r"[\s,;]+", text or ""):
        value = raw.strip().upper()
        if not value:
            continue
        if not ST13_PATTERN.match(value):
            raise PortalError(
                _("%(number)s is not a WIPO ST.13 application number (e.g. EP2023000123).")
                % {"number": raw[:40]}
            )
        if value not in numbers:
            numbers.append(value)
    return numbers


@transaction.atomic
def mandate_grant(
    *,
    applicant: Participant,
    agent: Participant,
    office: Participant,
    right_type: str,
    application_numbers: list[str],
    valid_until: dt.date,
    idempotency_key: str,
    actor=None,
) -> Submitted:
    """Issue an IPMandateCredential signed with the applicant's own key (H3's service).

    `idempotency_key` is the mandate form's one-time key, used as the credential's
    Idempotency-Key (`credential_issue_idempotent`): the same form submitted again gives back
    the mandate it granted (`replayed`) and signs nothing; with other values,
    FormAlreadySubmitted."""
    from registry.credentials.errors import IdempotencyKeyReused
    from registry.credentials.services import (
        MANDATE_TYPE,
        credential_issue_idempotent,
        issue_request_sha256,
    )

    if applicant.kind != Participant.Kind.APPLICANT:
        raise PortalError(_("Only applicants grant mandates."))
    if agent.kind != Participant.Kind.AGENT:
        raise PortalError(_("Choose an agent."))
    if office.kind != Participant.Kind.OFFICE:
        raise PortalError(_("Choose an IP office."))
    if right_type not in MandateGrant.RightType.values:
        raise PortalError(_("Choose a right type."))
    if valid_until <= timezone.now().date():
        raise PortalError(_("The end date must be in the future."))
    until = dt.datetime.combine(valid_until, dt.time(23, 59, 59), tzinfo=dt.UTC)
    claims = {"office": office.st3_code, "rightType": right_type}
    if application_numbers:
        claims["applicationNumbers"] = application_numbers
    claims["validUntil"] = until.isoformat().replace("+00:00", "Z")
    claims["agent"] = agent.did.did
    try:
        issuance = credential_issue_idempotent(
            issuer=applicant,
            idempotency_key=idempotency_key,
            # What makes two submits of the form "the same mandate" for its key.
            request_sha256=issue_request_sha256(
                {"type": MANDATE_TYPE, "issuer": applicant.did.did, "claims": claims}
            ),
            credential_type=MANDATE_TYPE,
            subject_did=applicant.did.did,
            claims=claims,
            proof_format="ldp",
            expiration_date=until,
            actor=actor,
        )
    except IdempotencyKeyReused:
        raise FormAlreadySubmitted(
            _(
                "This form was already sent and granted a mandate; nothing more was signed. "
                "Send it again to grant another mandate with these values."
            )
        ) from None
    except Exception as exc:
        raise PortalError(
            _("The mandate could not be issued: %(reason)s") % {"reason": _error_text(exc)}
        ) from None
    issued = issuance.credential
    if issuance.replayed:
        # Recorded with the credential, in the same transaction, by the first submission.
        earlier = MandateGrant.objects.filter(
            applicant=applicant, credential_id=issued.credential_id
        ).first()
        if earlier is None:  # the key issued a credential outside the portal: not a mandate here
            raise FormAlreadySubmitted(_("This form was already sent: load it again."))
        return Submitted(earlier, replayed=True)
    grant = MandateGrant.objects.create(
        applicant=applicant,
        agent=agent,
        office=office,
        right_type=right_type,
        application_numbers=application_numbers,
        valid_until=valid_until,
        credential_id=issued.credential_id,
        created_at=timezone.now(),
    )
    _audit(
        actor=actor,
        action="portal.mandate.grant",
        target=f"mandate:{grant.pk}",
        data={"agent": agent.did.did, "credential": issued.credential_id},
    )
    return Submitted(grant, replayed=False)


@transaction.atomic
def mandate_revoke(*, applicant: Participant, mandate_id: int, actor=None) -> MandateGrant:
    """Revoke a mandate: its credential's status becomes revoked (the applicant is its issuer)."""
    from registry.status.services import credential_status_change

    grant = (
        MandateGrant.objects.select_for_update().filter(pk=mandate_id, applicant=applicant).first()
    )
    if grant is None:
        raise PortalError(_("No such mandate."))
    if grant.is_revoked:
        raise PortalError(_("This mandate is already revoked."))
    try:
        credential_status_change(
            credential_id=grant.credential_id, action="revoke", issuer=applicant, actor=actor
        )
    except Exception as exc:
        raise PortalError(_error_text(exc)) from None
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    _audit(actor=actor, action="portal.mandate.revoke", target=f"mandate:{grant.pk}")
    return grant


# --- wallet linking -----------------------------------------------------------------------


def parse_presentation(text: str) -> dict | str:
    """A pasted/uploaded presentation: JSON-LD (an object) or a VC-JWT (a compact string)."""
    text = (text or "").strip()
    if not text:
        raise PortalError(_("Paste or upload a presentation."))
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's limit
            raise PortalError(_("This is not valid JSON.")) from None
        if not isinstance(document, dict):
            raise PortalError(_("This is not valid JSON."))
        return document
    if re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", text):
        return text
    raise PortalError(_("Paste a JSON-LD document or a JWT."))


def _jwt_payload(token: str) -> dict:
    try:
        part = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, IndexError, RecursionError):
        raise PortalError(_("This JWT cannot be read.")) from None
    if not isinstance(payload, dict):
        raise PortalError(_("This JWT cannot be read."))
    return payload


def presentation_holder(document: dict | str) -> str:
    if isinstance(document, str):
        payload = _jwt_payload(document)
        vp = payload.get("vp") if isinstance(payload.get("vp"), dict) else {}
        holder = vp.get("holder") or payload.get("iss")
    else:
        holder = document.get("holder")
        if isinstance(holder, dict):
            holder = holder.get("id")
    if not isinstance(holder, str) or not holder:
        raise PortalError(_("The presentation names no holder."))
    return holder


@dataclass(frozen=True)
class WalletLinkResult:
    wallet_did: str
    linked: bool
    report: object | None


def wallet_link_domain() -> str:
    """The domain a wallet's linking presentation is bound to: this registry's host. A wallet
    shows it (or puts the requesting site's own there), so a phishing site that relays our
    challenge cannot have a victim's wallet linked to the phisher's DID."""
    return settings.REGISTRY_HOST


@transaction.atomic
def wallet_link(
    *, participant: Participant, presentation: dict | str, challenge: str, actor=None
) -> WalletLinkResult:
    """Link a wallet DID after checking its presentation over our challenge (H3's verifier:
    proof by the holder, purpose authentication, challenge ours, unused and unexpired)."""
    from registry.credentials.services import presentation_verify

    holder = presentation_holder(presentation)
    if not holder.startswith(("did:key:", "did:jwk:")):
        raise PortalError(_("Only did:key and did:jwk wallets can be linked."))
    report = presentation_verify(presentation, challenge=challenge, domain=wallet_link_domain())
    if not getattr(report, "verified", False):
        return WalletLinkResult(wallet_did=holder, linked=False, report=report)
    try:
        did_link_wallet(did=participant.did, wallet_did=holder)
    except IdentityError as exc:
        raise PortalError(str(exc)) from None
    _audit(
        actor=actor,
        action="portal.wallet.link",
        target=participant.did.did,
        data={"wallet": holder},
    )
    return WalletLinkResult(wallet_did=holder, linked=True, report=report)
