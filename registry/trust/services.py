"""Accreditations: who may issue which credential types, when, and on whose authority.

The registry is the root: it accredits offices (depth 0). An accredited issuer may accredit a
sub-issuer (a bar association, a chamber of representatives ...) for a subset of its own types
and within its own period, up to settings.TRUST_MAX_DEPTH levels below the root. Every change is
audited and anchored into the log; rows are never deleted, so `accreditation_check` answers for
any moment (a credential is judged at its issuance time).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from identity.dids import registry_did
from identity.precompiled import PrecompiledQuery
from registry.audit.services import audit_record
from registry.participants.models import Participant

from .models import IssuerAccreditation
from .roles import (
    is_registry_admin,
    is_system_actor,
    require_office_admin,
    require_registry_admin,
)

# How far in the past an office administrator's delegated accreditation may start (clock skew
# between the form and the server), see `accreditation_grant`.
DELEGATION_BACKDATING_ALLOWANCE = timedelta(minutes=5)

logger = logging.getLogger(__name__)

CREDENTIAL_TYPE_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{2,80}$")


def trust_max_depth() -> int:
    """How many delegation levels below the registry's own accreditations are allowed
    (1: an office may accredit sub-issuers, which may not accredit further)."""
    return int(getattr(settings, "TRUST_MAX_DEPTH", 1))


# ---------------------------------------------------------------------------------------------
# State of one accreditation at a moment


def _suspended_during(acc: IssuerAccreditation, at: datetime) -> bool:
    if acc.suspended_at is not None and at >= acc.suspended_at:
        return True
    for start, end in acc.past_suspensions:
        if parse_datetime(start) <= at < parse_datetime(end):
            return True
    return False


def accreditation_state(acc: IssuerAccreditation, at: datetime) -> str:
    """ "active", "pending" (not yet valid), "expired", "suspended" or "withdrawn" at `at`, for
    this accreditation alone (not its parents)."""
    if acc.withdrawn_at is not None and at >= acc.withdrawn_at:
        return "withdrawn"
    if at < acc.valid_from:
        return "pending"
    if acc.valid_until is not None and at >= acc.valid_until:
        return "expired"
    if _suspended_during(acc, at):
        return "suspended"
    return "active"


def _chain_of(acc: IssuerAccreditation) -> list[IssuerAccreditation]:
    chain = [acc]
    while chain[-1].parent_id is not None:
        chain.append(
            IssuerAccreditation.objects.select_related("office__did").get(pk=chain[-1].parent_id)
        )
    return chain


def accreditation_as_dict(acc: IssuerAccreditation, *, at: datetime | None = None) -> dict:
    parent_issuer = acc.parent.office.did.did if acc.parent_id else registry_did()
    return {
        "id": acc.pk,
        "issuer": acc.office.did.did,
        "issuer_name": acc.office.display_name,
        "issuer_kind": acc.office.kind,
        "st3_code": acc.office.st3_code,
        "credential_types": list(acc.credential_types),
        "valid_from": acc.valid_from,
        "valid_until": acc.valid_until,
        "accredited_by": parent_issuer,
        "parent": acc.parent_id,
        "depth": acc.depth,
        "status": accreditation_state(acc, at or timezone.now()),
        "suspended_at": acc.suspended_at,
        "withdrawn_at": acc.withdrawn_at,
        "credential_id": acc.credential_id or None,
    }


@dataclass
class AccreditationVerdict:
    """Whether `issuer` was authorised to issue `credential_type` at a moment.

    `code` is machine-readable ("accredited", "notAccredited", "pending", "expired", "suspended",
    "withdrawn", "parentNotAuthorized"); `reason` says it in words; `ended_at` is when the
    accreditation that authorised it has ended since (withdrawn, suspended or expired), if it has;
    `chain` lists the accreditations from the issuer's up to the root (as dicts)."""

    authorized: bool
    code: str
    reason: str
    ended_at: datetime | None = None
    chain: list[dict] = field(default_factory=list)
    accreditation: IssuerAccreditation | None = None

    def __bool__(self) -> bool:
        return self.authorized


def _chain_problem(chain: list[IssuerAccreditation], credential_type: str, at: datetime):
    for position, link in enumerate(chain):
        if credential_type not in link.credential_types:
            return position, "notAccredited"
        state = accreditation_state(link, at)
        if state != "active":
            return position, state
    return None


def _ended_at(chain: list[IssuerAccreditation], now: datetime) -> datetime | None:
    ends = []
    for link in chain:
        ends += [t for t in (link.withdrawn_at, link.suspended_at) if t is not None]
        if link.valid_until is not None and link.valid_until <= now:
            ends.append(link.valid_until)
    return min(ends) if ends else None


# Every issuance and every verification runs this (identity.precompiled): compiled once, read
# every time, so a suspension or a withdrawal takes effect at once.
_ACCREDITATIONS_OF = PrecompiledQuery(
    lambda office_id: IssuerAccreditation.objects.select_related("office__did", "parent").filter(
        office_id=office_id
    ),
    office_id=int,
)


def accreditation_check(
    *,
    issuer: Participant,
    credential_type: str,
    at: datetime | None = None,
    explain: bool = True,
) -> AccreditationVerdict:
    """Was `issuer` accredited (with its whole chain up to the root) for `credential_type` at
    `at` (default: now)? Verify a credential with `at` = its issuance time: it keeps verifying
    after the accreditation ends, and the verdict's `ended_at` says when it did. With
    `explain=False` (issuance, which only needs the yes) a yes comes without its reason,
    `ended_at` and chain; a no is always explained."""
    now = timezone.now()
    at = at or now
    candidates = [
        acc
        for acc in _ACCREDITATIONS_OF.all(office_id=issuer.pk)
        if credential_type in acc.credential_types
    ]
    name = issuer.display_name
    if not candidates:
        return AccreditationVerdict(
            authorized=False,
            code="notAccredited",
            reason=f"{name} has never been accredited to issue {credential_type}.",
        )
    # Prefer the accreditation that authorised it; otherwise explain the most relevant refusal
    # (the latest one that had started by `at`, else the earliest upcoming).
    candidates.sort(key=lambda a: (a.valid_from <= at, a.valid_from), reverse=True)
    first_refusal = None
    for acc in candidates:
        chain = _chain_of(acc)
        problem = _chain_problem(chain, credential_type, at)
        if problem is None and not explain:
            return AccreditationVerdict(
                authorized=True, code="accredited", reason="", accreditation=acc
            )
        if problem is None:
            return AccreditationVerdict(
                authorized=True,
                code="accredited",
                reason=f"{name} was accredited to issue {credential_type} at {at.isoformat()}.",
                ended_at=_ended_at(chain, now),
                chain=[accreditation_as_dict(link, at=now) for link in chain],
                accreditation=acc,
            )
        if first_refusal is None:
            first_refusal = (acc, chain, problem)
    acc, chain, (position, state) = first_refusal
    code = state if position == 0 else "parentNotAuthorized"
    words = {
        "pending": "was not yet valid",
        "expired": "had expired",
        "suspended": "was suspended",
        "withdrawn": "had been withdrawn",
        "notAccredited": f"did not cover {credential_type}",
    }[state]
    whose = (
        "its accreditation"
        if position == 0
        else f"the accreditation of {chain[position].office.display_name} above it"
    )
    return AccreditationVerdict(
        authorized=False,
        code=code,
        reason=f"{name} was not authorised to issue {credential_type} at {at.isoformat()}: "
        f"{whose} {words}.",
        ended_at=_ended_at(chain, now),
        chain=[accreditation_as_dict(link, at=now) for link in chain],
        accreditation=acc,
    )


def accreditation_check_at_issuance(
    *, issuer: Participant, credential_type: str, issuance_date: datetime
) -> AccreditationVerdict:
    """`accreditation_check` for a credential's issuanceDate, which has whole seconds while
    accreditations start and end at any instant: authorised if the chain was active at some
    instant of that second (issuance itself was checked at its exact instant). So a credential
    issued just after a grant, or just before a suspension, in the same second, is judged
    authorised, as the docs promise."""
    start = issuance_date.replace(microsecond=0)
    verdict = accreditation_check(issuer=issuer, credential_type=credential_type, at=start)
    if verdict.authorized:
        return verdict
    # The chain's state only changes at its links' times; it can become active within the
    # second only where a link starts or a suspension ends: judge at each of those instants.
    end = start + timedelta(seconds=1)
    starts = set()
    for acc in _ACCREDITATIONS_OF.all(office_id=issuer.pk):
        for link in _chain_of(acc):
            starts.add(link.valid_from)
            starts.update(parse_datetime(until) for _, until in link.past_suspensions)
    for moment in sorted(t for t in starts if start < t < end):
        later = accreditation_check(issuer=issuer, credential_type=credential_type, at=moment)
        if later.authorized:
            return later
    return verdict


# ---------------------------------------------------------------------------------------------
# Writes


def _anchor(acc: IssuerAccreditation, event: str, at: datetime) -> None:
    """Anchor the change into the Merkle log (idempotent on kind+key), when the log exists."""
    try:
        from registry.anchoring.services import anchor_record
    except ImportError:  # the anchoring app has not landed yet
        return
    anchor_record(
        kind="accreditation",
        key=f"{acc.pk}:{event}:{at.isoformat()}",
        data={"event": event, "at": at.isoformat(), **_anchor_payload(acc)},
    )


def _anchor_payload(acc: IssuerAccreditation) -> dict:
    return {
        "accreditation": acc.pk,
        "issuer": acc.office.did.did,
        "credential_types": list(acc.credential_types),
        "valid_from": acc.valid_from.isoformat(),
        "valid_until": acc.valid_until.isoformat() if acc.valid_until else None,
        "parent": acc.parent_id,
        "accredited_by": acc.parent.office.did.did if acc.parent_id else registry_did(),
    }


def _credential_status(acc: IssuerAccreditation, action: str, *, reason, actor, request) -> None:
    """Mirror a root accreditation's state on its IPOfficeAccreditationCredential's status
    (revoke on withdrawal, suspend/reinstate: its entry is suspendable), so verifiers of that
    credential see it too. A status the entry cannot take (credentials issued revocation-only
    before) is logged, not fatal."""
    if not acc.credential_id:
        return
    try:
        from registry.status.errors import StatusError
        from registry.status.services import credential_status_change
    except ImportError:  # the status app is not deployed
        return
    try:
        credential_status_change(
            issuer=registry_did(),
            credential_id=acc.credential_id,
            action=action,
            reason=reason or f"accreditation {acc.pk} {action}",
            actor=actor,
            request=request,
        )
    except StatusError as exc:
        logger.info("accreditation %s credential status not changed (%s): %s", acc.pk, action, exc)


def _issue_credential(acc: IssuerAccreditation, actor) -> str:
    """The IPOfficeAccreditationCredential (signed by the registry) attesting a root
    accreditation. Delegated accreditations are recorded and anchored, not credentialed: the
    credential type attests offices accredited by the registry itself."""
    if acc.parent_id is not None or not getattr(settings, "TRUST_ACCREDITATION_CREDENTIALS", True):
        return ""
    try:
        from registry.credentials.services import credential_issue_accreditation
    except ImportError:  # the credentials app is not deployed
        return ""
    issued = credential_issue_accreditation(
        office=acc.office,
        credential_types=list(acc.credential_types),
        valid_from=acc.valid_from,
        valid_until=acc.valid_until
        if acc.valid_until and acc.valid_until > acc.granted_at
        else None,
        actor=actor,
    )
    return getattr(issued, "credential_id", "") or ""


def _clean_types(credential_types) -> list[str]:
    if isinstance(credential_types, str):
        credential_types = [t.strip() for t in credential_types.split(",") if t.strip()]
    types = sorted(set(credential_types or []))
    if not types:
        raise ValidationError("credential_types must name at least one credential type")
    bad = [t for t in types if not isinstance(t, str) or not CREDENTIAL_TYPE_PATTERN.match(t)]
    if bad:
        raise ValidationError(f"not a credential type name: {', '.join(map(str, bad))}")
    return types


def _audit_actor(actor):
    return actor


class AccreditationAlreadyGranted(Exception):
    """Nothing was done: the form with this one-time key already granted `accreditation`
    (the same form sent twice)."""

    def __init__(self, accreditation: IssuerAccreditation):
        self.accreditation = accreditation
        super().__init__(f"this form already granted accreditation {accreditation.pk}")


class GrantFormKeyReused(ValidationError):
    """Nothing was done: the form with this one-time key already granted an accreditation,
    and now comes back with other values. Granting more takes a new rendering of the form."""

    def __init__(self):
        super().__init__("this form was already sent and granted an accreditation")


def _grants_the_same(
    earlier: IssuerAccreditation,
    *,
    office: Participant,
    types: list[str],
    parent: IssuerAccreditation | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> bool:
    """Whether `earlier` is what `accreditation_grant` makes of these arguments (an empty
    start was "now", the time of that grant; a delegation is clipped to its parent's period)."""
    if (earlier.office_id, sorted(earlier.credential_types), earlier.parent_id) != (
        office.pk,
        types,
        parent.pk if parent else None,
    ):
        return False
    start = valid_from or earlier.granted_at
    end = valid_until
    if parent is not None:
        start = max(start, parent.valid_from)
        end = valid_until or parent.valid_until
    return (earlier.valid_from, earlier.valid_until) == (start, end)


@transaction.atomic
def accreditation_grant(
    *,
    office: Participant,
    credential_types,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    parent: IssuerAccreditation | None = None,
    actor=None,
    request=None,
    idempotency_key: str = "",
) -> IssuerAccreditation:
    """Accredit `office` (an IP office, or with `parent` any sub-issuer but an applicant) for
    `credential_types` from `valid_from` (default now) until `valid_until` (default open, or
    the parent's end). With `parent`, the types must be a subset of the parent's, the period
    within the parent's, and the parent's chain active now. `actor` None is the system;
    otherwise a registry administrator (root) or an administrator of the parent's office.

    `idempotency_key` (the portal grant form's one-time key): if an accreditation was already
    granted with it, nothing is done and AccreditationAlreadyGranted is raised, or
    GrantFormKeyReused if these arguments would grant something else."""
    now = timezone.now()
    types = _clean_types(credential_types)
    depth = 0
    if parent is None:
        if not is_system_actor(actor):
            require_registry_admin(actor)
    else:
        parent = IssuerAccreditation.objects.select_for_update().get(pk=parent.pk)
        if not is_system_actor(actor):
            require_office_admin(actor, parent.office)
    if idempotency_key:
        # Grants to one office in turn: the same form sent twice at once (a double click)
        # would otherwise find no earlier grant below, both times, and grant twice.
        Participant.objects.select_for_update().filter(pk=office.pk).exists()
        earlier = IssuerAccreditation.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            if _grants_the_same(
                earlier,
                office=office,
                types=types,
                parent=parent,
                valid_from=valid_from,
                valid_until=valid_until,
            ):
                raise AccreditationAlreadyGranted(earlier)
            raise GrantFormKeyReused
    if parent is None:
        if office.kind != Participant.Kind.OFFICE:
            raise ValidationError(
                "the registry accredits IP offices only; sub-issuers need a parent"
            )
        valid_from = valid_from or now
    else:
        depth = parent.depth + 1
        if depth > trust_max_depth():
            raise ValidationError(
                f"accreditation chains are limited to {trust_max_depth()} level(s) below the "
                "registry; this issuer may not accredit others"
            )
        if office.kind == Participant.Kind.APPLICANT:
            raise ValidationError("an applicant cannot be accredited as an issuer")
        chain = _chain_of(parent)
        if office.pk in {link.office_id for link in chain}:
            raise ValidationError("an issuer cannot accredit itself or an issuer above it")
        missing = [t for t in types if t not in parent.credential_types]
        if missing:
            raise ValidationError(
                f"an accreditation never grants more than its parent holds: "
                f"{parent.office.display_name} is not accredited for {', '.join(missing)}"
            )
        for t in types:
            problem = _chain_problem(chain, t, now)
            if problem is not None:
                raise ValidationError(
                    f"the parent accreditation is not active ({problem[1]}); it cannot accredit"
                )
        if (
            valid_from is not None
            and valid_from < now - DELEGATION_BACKDATING_ALLOWANCE
            and not (is_system_actor(actor) or is_registry_admin(actor))
        ):
            # Credentials the sub-issuer signed (or backdated) before the grant would verify as
            # accredited: an office rewriting its own past. A registry administrator may (say,
            # bringing an existing delegation into the registry).
            raise ValidationError(
                "a delegated accreditation cannot start in the past; leave valid_from empty for now"
            )
        valid_from = max(valid_from or now, parent.valid_from)
        if parent.valid_until is not None:
            if valid_until is not None and valid_until > parent.valid_until:
                raise ValidationError("valid_until cannot be later than the parent's valid_until")
            valid_until = valid_until or parent.valid_until
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationError("valid_until must be after valid_from")
    try:
        with transaction.atomic():
            acc = IssuerAccreditation.objects.create(
                office=office,
                credential_types=types,
                valid_from=valid_from,
                valid_until=valid_until,
                parent=parent,
                depth=depth,
                granted_by=actor if getattr(actor, "is_authenticated", False) else None,
                granted_at=now,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same key sent at once for another office (the lock above is per office): the
        # other submission granted.
        raise GrantFormKeyReused from None
    credential_id = _issue_credential(acc, actor)
    if credential_id:
        acc.credential_id = credential_id
        acc.save(update_fields=["credential_id"])
    audit_record(
        actor=_audit_actor(actor),
        action="accreditation.grant",
        target=f"accreditation:{acc.pk}",
        data=_anchor_payload(acc) | {"credential_id": credential_id or None},
        request=request,
        office=office.st3_code or "",
    )
    _anchor(acc, "granted", now)
    return acc


def _lock(acc: IssuerAccreditation) -> IssuerAccreditation:
    return (
        IssuerAccreditation.objects.select_for_update().select_related("office__did").get(pk=acc.pk)
    )


def _require_manager(actor, acc: IssuerAccreditation) -> None:
    """Root accreditations are managed by registry administrators; delegated ones also by the
    administrators of the parent's office."""
    if is_system_actor(actor):
        return
    if acc.parent_id is None:
        require_registry_admin(actor)
    else:
        require_office_admin(actor, acc.parent.office)


@transaction.atomic
def accreditation_suspend(
    *, accreditation: IssuerAccreditation, reason: str = "", actor=None, request=None
) -> IssuerAccreditation:
    """Suspend now: new issuance under it (and under the chain below it) is refused at once;
    credentials issued before keep verifying."""
    acc = _lock(accreditation)
    _require_manager(actor, acc)
    if acc.withdrawn_at is not None:
        raise ValidationError("this accreditation has been withdrawn")
    if acc.suspended_at is None:
        now = timezone.now()
        acc.suspended_at = now
        acc.end_reason = reason[:200]
        acc.save(update_fields=["suspended_at", "end_reason"])
        audit_record(
            actor=_audit_actor(actor),
            action="accreditation.suspend",
            target=f"accreditation:{acc.pk}",
            data={"reason": reason, "issuer": acc.office.did.did},
            request=request,
        )
        _anchor(acc, "suspended", now)
        _credential_status(acc, "suspend", reason=reason, actor=actor, request=request)
    return acc


@transaction.atomic
def accreditation_reinstate(
    *, accreditation: IssuerAccreditation, actor=None, request=None
) -> IssuerAccreditation:
    """End a suspension; the suspended period stays on record (nothing issued in it verifies)."""
    acc = _lock(accreditation)
    _require_manager(actor, acc)
    if acc.withdrawn_at is not None:
        raise ValidationError("a withdrawn accreditation cannot be reinstated")
    if acc.suspended_at is not None:
        now = timezone.now()
        acc.past_suspensions = [
            *acc.past_suspensions,
            [acc.suspended_at.isoformat(), now.isoformat()],
        ]
        acc.suspended_at = None
        acc.end_reason = ""
        acc.save(update_fields=["past_suspensions", "suspended_at", "end_reason"])
        audit_record(
            actor=_audit_actor(actor),
            action="accreditation.reinstate",
            target=f"accreditation:{acc.pk}",
            data={"issuer": acc.office.did.did},
            request=request,
        )
        _anchor(acc, "reinstated", now)
        _credential_status(acc, "reinstate", reason="", actor=actor, request=request)
    return acc


@transaction.atomic
def accreditation_withdraw(
    *, accreditation: IssuerAccreditation, reason: str = "", actor=None, request=None
) -> list[IssuerAccreditation]:
    """Withdraw for good, with every accreditation granted below it. Returns those withdrawn
    now (the accreditation first). Credentials issued before keep verifying."""
    acc = _lock(accreditation)
    _require_manager(actor, acc)
    now = timezone.now()
    withdrawn: list[IssuerAccreditation] = []
    level = [acc]
    while level:
        for link in level:
            if link.withdrawn_at is None:
                link.withdrawn_at = now
                link.end_reason = (reason if link.pk == acc.pk else f"parent {acc.pk} withdrawn")[
                    :200
                ]
                link.save(update_fields=["withdrawn_at", "end_reason"])
                withdrawn.append(link)
        level = list(
            IssuerAccreditation.objects.select_for_update()
            .select_related("office__did", "parent__office__did")
            .filter(parent__in=level)
        )
    for link in withdrawn:
        audit_record(
            actor=_audit_actor(actor),
            action="accreditation.withdraw",
            target=f"accreditation:{link.pk}",
            data={"reason": link.end_reason, "issuer": link.office.did.did, "cascade_from": acc.pk},
            request=request,
        )
        _anchor(link, "withdrawn", now)
        _credential_status(link, "revoke", reason=link.end_reason, actor=actor, request=request)
    return withdrawn


# ---------------------------------------------------------------------------------------------
# Reads for the query API


def trusted_issuers(*, at: datetime | None = None) -> list[dict]:
    """Issuers whose whole chain is active at `at`, with their types (one entry per issuer).
    One query: chains are walked in memory."""
    at = at or timezone.now()
    rows = list(
        IssuerAccreditation.objects.select_related("office__did").order_by(
            "depth", "office_id", "valid_from"
        )
    )
    by_pk = {acc.pk: acc for acc in rows}

    def chain_of(acc):
        chain = [acc]
        while chain[-1].parent_id is not None:
            chain.append(by_pk[chain[-1].parent_id])
        return chain

    issuers: dict[int, dict] = {}
    for acc in rows:
        if accreditation_state(acc, at) != "active":
            continue
        chain = chain_of(acc)
        types = [t for t in acc.credential_types if _chain_problem(chain, t, at) is None]
        if not types:
            continue
        entry = issuers.setdefault(
            acc.office_id,
            {
                "issuer": acc.office.did.did,
                "name": acc.office.display_name,
                "kind": acc.office.kind,
                "st3_code": acc.office.st3_code,
                "credential_types": [],
                "accreditations": [],
            },
        )
        entry["credential_types"] = sorted(set(entry["credential_types"]) | set(types))
        entry["accreditations"].append(acc.pk)
    return list(issuers.values())


# ---------------------------------------------------------------------------------------------
# Offices: members and signing keys (acting users are checked; None/labels are the system)


def office_get(*, st3_code: str) -> Participant:
    """An office by ST.3 code (offices are public), or 404."""
    from django.http import Http404

    code = (st3_code or "").upper()
    office = (
        Participant.objects.select_related("did")
        .filter(kind=Participant.Kind.OFFICE, st3_code=code)
        .first()
        if re.fullmatch(r"[A-Z]{2}", code)
        else None
    )
    if office is None:
        raise Http404(f"No office with ST.3 code {str(st3_code)[:8]!r}.")
    return office


@transaction.atomic
def office_member_add(*, actor, office: Participant, user, role: str, request=None):
    """Make `user` an officer (or administrator) of `office`. Office administrators add
    officers; only registry administrators add office administrators or change their role."""
    from django.core.exceptions import PermissionDenied

    from .models import OfficeMembership
    from .roles import is_registry_admin

    if role not in OfficeMembership.Role.values:
        raise ValidationError(f"role must be one of {', '.join(OfficeMembership.Role.values)}")
    if office.kind != Participant.Kind.OFFICE:
        raise ValidationError("members belong to IP offices")
    if not is_system_actor(actor):
        require_office_admin(actor, office)
        if role == OfficeMembership.Role.ADMIN and not is_registry_admin(actor):
            raise PermissionDenied(
                "Only a registry administrator may appoint office administrators."
            )
        # Re-adding an administrator as an officer would demote them (and then let an office
        # administrator remove them): that is a registry administrator's call too.
        if not is_registry_admin(actor) and (
            OfficeMembership.objects.filter(
                user=user, office=office, role=OfficeMembership.Role.ADMIN
            ).exists()
        ):
            raise PermissionDenied(
                "Only a registry administrator may change an office administrator's role."
            )
    if not user.is_active:
        raise ValidationError("this user account is inactive")
    existing = OfficeMembership.objects.filter(user=user).exclude(office=office).first()
    if existing is not None:
        raise ValidationError(
            f"{user.get_username()} already works for {existing.office.display_name}"
        )
    membership, created = OfficeMembership.objects.update_or_create(
        user=user, office=office, defaults={"role": role}
    )
    if role == OfficeMembership.Role.ADMIN and not user.is_staff:
        # Office administrators work in the admin (their office's keys and officers only).
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    elif role != OfficeMembership.Role.ADMIN:
        _staff_drop_if_only_office_admin(user)
    audit_record(
        actor=actor,
        action="office.member_add" if created else "office.member_role",
        target=f"user:{user.get_username()}",
        data={"office": office.st3_code, "role": role},
        request=request,
        office=office.st3_code,
    )
    return membership


def _staff_drop_if_only_office_admin(user) -> None:
    """An office administrator was made staff for the admin; once no longer one, the account
    leaves the admin too, unless something else put it there (superuser, a group, a
    permission)."""
    from .models import OfficeMembership

    if (
        user.is_staff
        and not user.is_superuser
        and not user.groups.exists()
        and not user.user_permissions.exists()
        and not OfficeMembership.objects.filter(
            user=user, role=OfficeMembership.Role.ADMIN
        ).exists()
    ):
        user.is_staff = False
        user.save(update_fields=["is_staff"])


@transaction.atomic
def office_member_remove(*, actor, office: Participant, user, request=None) -> None:
    """Remove `user` from `office` (404 if not a member). Office administrators remove
    officers; only registry administrators remove administrators."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from .models import OfficeMembership
    from .roles import is_registry_admin

    if not is_system_actor(actor):
        require_office_admin(actor, office)
    membership = (
        OfficeMembership.objects.select_for_update().filter(user=user, office=office).first()
    )
    if membership is None:
        raise Http404("This user is not a member of this office.")
    if (
        not is_system_actor(actor)
        and membership.role == OfficeMembership.Role.ADMIN
        and not is_registry_admin(actor)
    ):
        raise PermissionDenied("Only a registry administrator may remove office administrators.")
    membership.delete()
    _staff_drop_if_only_office_admin(user)
    audit_record(
        actor=actor,
        action="office.member_remove",
        target=f"user:{user.get_username()}",
        data={"office": office.st3_code, "role": membership.role},
        request=request,
        office=office.st3_code,
    )


# ---------------------------------------------------------------------------------------------
# Registry administrators: the REGISTRY_ADMIN_GROUP group (superusers are ones already)


@transaction.atomic
def registry_admin_appoint(*, actor, user, request=None) -> None:
    """Make `user` a registry administrator: a member of REGISTRY_ADMIN_GROUP (created if
    missing), and staff, since only staff may log into the admin where administrators work.
    Accounts and groups are a superuser's business: only a superuser (or the system, e.g.
    `manage.py registry_admin`) appoints."""
    from django.contrib.auth.models import Group

    _require_superuser(actor)
    if not user.is_active:
        raise ValidationError("this user account is inactive")
    group, _ = Group.objects.get_or_create(name=settings.REGISTRY_ADMIN_GROUP)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor,
        action="registry.admin_appoint",
        target=f"user:{user.get_username()}",
        request=request,
    )


@transaction.atomic
def registry_admin_dismiss(*, actor, user, request=None) -> None:
    """Take `user` out of REGISTRY_ADMIN_GROUP; the account leaves the admin too unless
    something else keeps it there (office administrator, superuser, another group, a
    permission). A superuser stays a registry administrator: that is its superuser status."""
    _require_superuser(actor)
    user.groups.remove(*user.groups.filter(name=settings.REGISTRY_ADMIN_GROUP))
    _staff_drop_if_only_office_admin(user)
    audit_record(
        actor=actor,
        action="registry.admin_dismiss",
        target=f"user:{user.get_username()}",
        request=request,
    )


def _require_superuser(actor) -> None:
    from django.core.exceptions import PermissionDenied

    if not is_system_actor(actor) and not (actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only a superuser may appoint or dismiss registry administrators.")


@transaction.atomic
def office_signing_key_rotate(*, actor, office: Participant, request=None):
    """Rotate the issuer's signing key (the DID engine's rotation): new credentials are signed
    with key-N+1; those signed before keep verifying (the old key stays in the reverse lookup)."""
    from identity.services import did_key_rotate

    if not is_system_actor(actor):
        require_office_admin(actor, office)
    key = did_key_rotate(did=office.did)
    # The key it replaced, read after the rotation's lock: another rotation may have run first.
    old = office.did.keys.filter(number=key.number - 1).first()
    audit_record(
        actor=actor,
        action="key.rotate",
        target=office.did.did,
        data={"old_key": old.did_key if old else None, "new_key": key.did_key},
        request=request,
        office=office.st3_code or "",
    )
    return key


@transaction.atomic
def issuer_key_mark_compromised(*, actor, did_key: str, since: datetime, request=None):
    """Mark a registry key compromised from `since`: proofs it made after that time stop
    verifying. If the key is still in use it is rotated at once, so issuance goes on with a
    fresh key. Registry administrators for any key; office administrators for their office's."""
    from django.http import Http404

    from identity.models import DidKey
    from identity.services import did_key_mark_compromised, did_key_rotate

    if since.tzinfo is None:
        raise ValidationError("since must carry a time zone")
    now = timezone.now()
    if since > now:
        raise ValidationError("since cannot be in the future")
    key = DidKey.objects.select_related("did").filter(did_key=did_key).first()
    if key is None:
        raise Http404("No such registry key.")
    owner = Participant.objects.filter(did=key.did).first()
    if not is_system_actor(actor):
        if owner is None or owner.kind != Participant.Kind.OFFICE:
            require_registry_admin(actor)
        else:
            require_office_admin(actor, owner)
    if key.compromised_at is not None and key.compromised_at <= since:
        return key  # already compromised from an earlier time: keep the earlier one
    key = did_key_mark_compromised(did_key=did_key, since=since)
    if key.compromised_at != since:
        return key  # marked from an earlier time meanwhile: that mark stands
    rotated = None
    if key.retired_at is None and key.did.deactivated_at is None:
        rotated = did_key_rotate(did=key.did)
    audit_record(
        actor=actor,
        action="key.compromised",
        target=key.did.did,
        data={
            "did_key": did_key,
            "since": since,
            "rotated_to": rotated.did_key if rotated else None,
        },
        request=request,
        office=(owner.st3_code or "") if owner else "",
    )
    return key
