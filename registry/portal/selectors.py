"""Scoped reads: every lookup takes the acting user and raises Http404 for what is not theirs
(never a bare `.get(pk=...)` in a view)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from registry.participants.models import Participant
from registry.participants.text import nfc

from .models import REQUESTABLE_TYPE_BY_KIND, CredentialRequest, MandateGrant


def participant_of(user) -> Participant | None:
    """The applicant or agent participant of a portal user (None for officers/admins)."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_portal_participant", False)
    if cached is not False:
        return cached
    participant = (
        Participant.objects.select_related("did")
        .filter(user=user, kind__in=list(REQUESTABLE_TYPE_BY_KIND))
        .order_by("pk")
        .first()
    )
    user._portal_participant = participant
    return participant


def officer_offices(user) -> QuerySet[Participant]:
    """The offices a user may act for as an officer (office officer or office administrator,
    from the trust app's memberships)."""
    from registry.trust.roles import offices_of

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Participant.objects.none()
    return offices_of(user).filter(kind=Participant.Kind.OFFICE).order_by("st3_code")


def officer_can_act_for(user, office: Participant) -> bool:
    return officer_offices(user).filter(pk=office.pk).exists()


def office_for_officer(user, st3_code: str) -> Participant:
    office = officer_offices(user).filter(st3_code=(st3_code or "").upper()).first()
    if office is None:
        raise Http404("No such office among yours.")
    return office


def is_registry_admin(user) -> bool:
    from registry.trust.roles import is_registry_admin as trust_is_registry_admin

    return trust_is_registry_admin(user)


def is_office_admin(user) -> bool:
    from registry.trust.roles import offices_of

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return offices_of(user, role="admin").exists()


def requests_of(participant: Participant) -> QuerySet[CredentialRequest]:
    return CredentialRequest.objects.filter(requester=participant).select_related("office")


def request_for_requester(user, pk: int) -> CredentialRequest:
    participant = participant_of(user)
    request = requests_of(participant).filter(pk=pk).first() if participant is not None else None
    if request is None:
        raise Http404("No such request.")
    return request


def request_queue(user, office: Participant) -> QuerySet[CredentialRequest]:
    if not officer_can_act_for(user, office):
        raise Http404("No such office among yours.")
    return CredentialRequest.objects.filter(office=office).select_related(
        "requester", "requester__did", "office"
    )


def request_for_officer(user, pk: int) -> CredentialRequest:
    request = (
        CredentialRequest.objects.select_related("requester", "requester__did", "office")
        .filter(pk=pk, office__in=officer_offices(user))
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


def _issued_model():
    try:
        from registry.credentials.models import IssuedCredential
    except ImportError:
        return None
    return IssuedCredential


def credentials_of(participant: Participant):
    """Credentials about a participant (subject) or issued by it (its mandates)."""
    model = _issued_model()
    if model is None or participant is None:
        return []
    return (
        model.objects.filter(Q(subject_did=participant.did.did) | Q(issuer=participant))
        .select_related("issuer")
        .order_by("-issued_at")
    )


def credentials_issued_by(office: Participant, *, q: str = "", state: str = ""):
    """The office's credentials, newest first (the credentials service's list, which also
    filters by `state`: active, suspended or revoked), searched by `q`: a credential id (with or
    without `urn:uuid:`), a subject DID, or part of the subject's name."""
    if _issued_model() is None:
        return []
    from registry.credentials.services import credentials_issued_by as issued_by

    issued = issued_by(office=office, state=state or None).select_related("issuer")
    q = q.strip()
    if q:
        credential_id = q.lower() if q.lower().startswith("urn:uuid:") else f"urn:uuid:{q.lower()}"
        named = Participant.objects.filter(display_name__icontains=nfc(q)).values("did__did")
        issued = issued.filter(
            Q(credential_id=credential_id) | Q(subject_did=q) | Q(subject_did__in=named)
        )
    return issued


def subject_names(subject_dids) -> dict[str, str]:
    """Display names of the participants behind these DIDs (one query), for lists."""
    return dict(
        Participant.objects.filter(did__did__in=set(subject_dids)).values_list(
            "did__did", "display_name"
        )
    )


def credential_for_user(user, credential_id: str):
    """A credential the user may see: about them, issued by them, or issued by their office,
    or a mandate naming them as the agent."""
    model = _issued_model()
    if model is None:
        raise Http404("No such credential.")
    credential = model.objects.select_related("issuer").filter(credential_id=credential_id).first()
    if credential is None:
        raise Http404("No such credential.")
    participant = participant_of(user)
    if participant is not None:
        if credential.subject_did == participant.did.did or credential.issuer_id == participant.pk:
            return credential
        if MandateGrant.objects.filter(agent=participant, credential_id=credential_id).exists():
            return credential
    if officer_offices(user).filter(pk=credential.issuer_id).exists():
        return credential
    raise Http404("No such credential.")


def mandates_granted(participant: Participant) -> QuerySet[MandateGrant]:
    return MandateGrant.objects.filter(applicant=participant).select_related(
        "agent", "office", "agent__did"
    )


def mandates_held(participant: Participant) -> QuerySet[MandateGrant]:
    return MandateGrant.objects.filter(agent=participant).select_related(
        "applicant", "office", "applicant__did"
    )


def offices() -> QuerySet[Participant]:
    return Participant.objects.filter(kind=Participant.Kind.OFFICE).order_by("display_name")


def office_search(query: str) -> QuerySet[Participant]:
    """Offices by ST.3 code (exact) or name (contains; names are stored in NFC)."""
    query = nfc((query or "").strip())
    if not query:
        return offices()
    return offices().filter(Q(st3_code__iexact=query) | Q(display_name__icontains=query))


def agent_search(query: str) -> QuerySet[Participant]:
    """Agents by DID (exact) or name (contains; names are stored in NFC)."""
    query = nfc((query or "").strip())
    agents = Participant.objects.filter(kind=Participant.Kind.AGENT).select_related("did")
    if not query:
        return agents.none()
    if query.startswith("did:"):
        return agents.filter(did__did=query)
    return agents.filter(display_name__icontains=query).order_by("display_name")[:20]


def credential_states(credential_ids) -> dict[str, str]:
    """Current status (active, suspended, revoked) of each credential id, from the status app;
    credentials without a status entry are reported "active"."""
    from registry.status.models import StatusEntry

    ids = [c for c in credential_ids if c]
    states = dict(
        StatusEntry.objects.filter(credential_id__in=ids).values_list("credential_id", "state")
    )
    return {c: states.get(c, "active") for c in ids}


def suspendable_ids(credential_ids) -> set[str]:
    """Credentials whose status entry has purpose "suspension" (the status service refuses to
    suspend a credential issued with a revocation-only entry)."""
    from registry.status.models import StatusEntry

    return set(
        StatusEntry.objects.filter(
            credential_id__in=[c for c in credential_ids if c], purpose="suspension"
        ).values_list("credential_id", flat=True)
    )


def credential_pair(credential) -> tuple:
    """(JSON-LD, JWT) issued credentials for the same portal request, either may be None."""
    model = _issued_model()
    request = CredentialRequest.objects.filter(
        Q(ldp_credential_id=credential.credential_id)
        | Q(jwt_credential_id=credential.credential_id)
    ).first()
    if request is None:
        if credential.proof_format == "jwt":
            return None, credential
        return credential, None
    by_id = {
        c.credential_id: c for c in model.objects.filter(credential_id__in=request.credential_ids)
    }
    return by_id.get(request.ldp_credential_id), by_id.get(request.jwt_credential_id)


def agent_search_all() -> QuerySet[Participant]:
    """Agents offered in the mandate form's suggestions (they are public in the directory)."""
    return (
        Participant.objects.filter(kind=Participant.Kind.AGENT)
        .select_related("did")
        .order_by("display_name")[:500]
    )


def _field(item, *names, default=None):
    for name in names:
        if isinstance(item, dict) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return default


def report_view(report) -> dict:
    """A verification report (H3's VerificationReport) as plain data for templates: verdict,
    each check with its outcome and detail, and the problem details."""
    checks = []
    for check in _field(report, "checks", default=[]) or []:
        if isinstance(check, str):
            checks.append({"name": check, "ok": True, "detail": ""})
            continue
        ok = _field(check, "ok", "passed", "valid", default=None)
        status = _field(check, "status", default=None)
        if ok is None and isinstance(status, str):
            ok = status in ("ok", "passed", "valid", "success")
        checks.append(
            {
                "name": _field(check, "name", "check", "id", default="?"),
                "ok": bool(ok),
                "detail": _field(check, "detail", "message", "reason", default="") or "",
            }
        )
    problems = []
    raw_problems = _field(report, "problem_details", "problemDetails", "problems", default=[])
    if callable(raw_problems):
        raw_problems = raw_problems()
    for problem in raw_problems or []:
        if isinstance(problem, str):
            problems.append({"title": problem, "detail": ""})
        else:
            problems.append(
                {
                    "title": _field(problem, "title", "type", "code", default="?"),
                    "detail": _field(problem, "detail", "message", default="") or "",
                }
            )
    nested = [report_view(r) for r in (_field(report, "credentials", default=[]) or [])]
    return {
        "verified": bool(_field(report, "verified", default=False)),
        "checks": checks,
        "problems": problems,
        "credentials": nested,
    }
