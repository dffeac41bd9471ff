"""Issuing credentials: the one path used by the API, the admin and the management command.

Every issuance checks who may issue what, validates the credential against its type's schema,
embeds a status entry (status app), signs with the issuer's current did:key through the crypto
adapter, records an `IssuedCredential` and an audit row, all in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.crypto import didkit_adapter
from identity.crypto.errors import CryptoError
from identity.models import Did
from identity.precompiled import PrecompiledInsert, PrecompiledQuery
from identity.services import did_signing_key, registry_did_ensure
from registry.audit.services import audit_record
from registry.participants.models import Participant
from registry.participants.st3 import st3_code_known
from registry.participants.text import nfc, text_problem

from .context import CREDENTIAL_TYPES, credential_contexts
from .errors import CredentialRequestInvalid, IdempotencyKeyReused, IssuanceRefused
from .models import Challenge, IssuedCredential
from .schemas import schema_errors

logger = logging.getLogger(__name__)

ACCREDITATION_TYPE = "IPOfficeAccreditationCredential"
MANDATE_TYPE = "IPMandateCredential"
OFFICE_TYPES = ("IPApplicantCredential", "IPRepresentativeCredential")
PROOF_FORMATS = ("ldp", "jwt")


def format_datetime(value: datetime) -> str:
    """XML Schema dateTime in UTC with seconds precision, as VC 1.1 credentials carry it."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value) -> datetime | None:
    """Parse an RFC 3339 date-time (timezone required); None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        # A moment past 9999-12-31 in UTC (9999-12-31T23:00:00-01:00) cannot be written in UTC
        # as credentials carry dates, nor compared: it is not a usable date-time.
        parsed.astimezone(UTC)
    except OverflowError:
        return None
    return parsed


def lei_check_digits_valid(lei: str) -> bool:
    """ISO 17442: the last two digits of a LEI are ISO 7064 MOD 97-10 check digits (letters count
    as 10 to 35, as in an IBAN): the whole code, read as a number, is 1 modulo 97. A typo in
    one character always breaks it."""
    if not isinstance(lei, str) or len(lei) != 20 or not lei.isascii() or not lei.isalnum():
        return False
    return int("".join(str(int(char, 36)) for char in lei)) % 97 == 1


def _repeated_party_identifiers(identifiers) -> list[str]:
    """The same (office, partyIdentifier) twice says nothing more; signed, it is there for good."""
    seen = set()
    problems = []
    for index, entry in enumerate(identifiers or []):
        pair = (entry.get("office"), entry.get("partyIdentifier"))  # the schema made them dicts
        if pair in seen:
            problems.append(f"credentialSubject/partyIdentifiers/{index}: repeats an earlier entry")
        seen.add(pair)
    return problems


def st3_claim_problems(credential_type: str, subject: dict) -> list[str]:
    """ST.3 codes in the claims that are no real code (the schemas, which the verifier also
    applies to credentials already issued, only ask for two capital letters). An accreditation's
    office is not the caller's input: it is the accredited office's own registered code."""
    if credential_type == ACCREDITATION_TYPE:
        return []
    where_codes = [(f"credentialSubject/{key}", subject.get(key)) for key in ("country", "office")]
    for index, entry in enumerate(subject.get("partyIdentifiers") or []):
        where_codes.append(
            (f"credentialSubject/partyIdentifiers/{index}/office", entry.get("office"))
        )
    return [
        f"{where}: {code} is not a WIPO ST.3 code"
        for where, code in where_codes
        if code is not None and not st3_code_known(code)
    ]


def claim_text_problems(claims, where: str = "credentialSubject") -> list[str]:
    """Strings in the claims that no credential should sign, though the schemas (which the
    verifier also applies to credentials already issued) let them through: control characters
    (NUL cannot even be stored in PostgreSQL's jsonb), lone surrogates, bidirectional overrides,
    values of whitespace only. Line feeds are allowed in an address."""
    problems = []
    if isinstance(claims, dict):
        for key, value in claims.items():
            problems += claim_text_problems(value, f"{where}/{key}")
    elif isinstance(claims, list):
        for index, value in enumerate(claims):
            problems += claim_text_problems(value, f"{where}/{index}")
    elif isinstance(claims, str):
        problem = text_problem(claims, multiline=where.endswith("/address"))
        if problem:
            problems.append(f"{where}: {problem}")
    return problems[:20]


def _status_entry(
    *, issuer_did: Did, credential_id: str, purpose: str = "revocation"
) -> dict | None:
    try:
        from registry.status.services import status_entry_allocate
    except ImportError:  # the status app is not deployed yet: credentials carry no status
        return None
    return status_entry_allocate(
        issuer_did=issuer_did, credential_id=credential_id, purpose=purpose
    )


# The issuance's own INSERT, compiled once (identity.precompiled).
_ISSUED_INSERT = PrecompiledInsert(IssuedCredential)

# Signatures made on a proposed status index before the write transaction; past these tries
# (a nearly full list, heavy contention) the index is allocated and signed inside it.
_PROPOSED_SLOT_TRIES = 3


def _status_slots(*, issuer_did: Did, purpose: str):
    """Proposed status slots (status app) to sign over before the transaction claims them; none
    when the status app is absent or the issuer has no open list yet."""
    try:
        from registry.status.services import status_slot_claim, status_slot_propose
    except ImportError:
        return
    for _ in range(_PROPOSED_SLOT_TRIES):
        slot = status_slot_propose(issuer_did=issuer_did, purpose=purpose)
        if slot is None:
            return
        yield slot, status_slot_claim


def _accreditation_refusal(*, issuer: Participant, credential_type: str, at: datetime) -> str:
    """Empty if `issuer` may issue `credential_type` at `at`, else the reason."""
    from registry.trust.services import accreditation_check

    verdict = accreditation_check(
        issuer=issuer, credential_type=credential_type, at=at, explain=False
    )
    return "" if verdict.authorized else (verdict.reason or "not accredited")


# Whom each office credential is about: an IPApplicantCredential about an office, or an
# IPRepresentativeCredential about an applicant, would be signed nonsense.
SUBJECT_KINDS = {
    "IPApplicantCredential": Participant.Kind.APPLICANT,
    "IPRepresentativeCredential": Participant.Kind.AGENT,
}


# Every issuance reads its subject, every verification its issuer (identity.precompiled):
# compiled once, read every time.
PARTICIPANT_BY_DID = PrecompiledQuery(
    lambda did: Participant.objects.select_related("did").filter(did__did=did).order_by()[:1],
    did=str,
)

# What the registry recorded of a credential it signed (verification's record check).
ISSUED_RECORD = PrecompiledQuery(
    lambda credential_id: (
        IssuedCredential.objects.filter(credential_id=credential_id)
        .order_by()
        .values_list("issuer_did", "issuer_did_key", "document")
    ),
    credential_id=str,
)


def _participant_refusal(did: str, *, kind: str, field: str) -> None:
    """CredentialRequestInvalid unless `did` is the registry DID of an active participant of
    `kind` (a deactivated DID is gone for good: nothing new is said about it)."""
    if not isinstance(did, str) or "\x00" in did:  # PostgreSQL refuses a NUL in a query
        raise CredentialRequestInvalid(f"{field} is not the DID of a registry participant")
    found = PARTICIPANT_BY_DID.first(did=did)
    if found is None:
        raise CredentialRequestInvalid(f"{field} is not the DID of a registry participant")
    found_kind, deactivated_at = found.kind, found.did.deactivated_at
    if found_kind != kind:
        raise CredentialRequestInvalid(f"{field} must be an {kind}'s DID, not an {found_kind}'s")
    if deactivated_at is not None:
        raise CredentialRequestInvalid(f"{field} is a deactivated DID")


def _actor_label(actor) -> str:
    if actor is None:
        return ""
    return str(actor)[:200]


def _sign(credential: dict, pair, proof_format: str) -> dict | str:
    try:
        return didkit_adapter.issue_credential(credential, key=pair, proof_format=proof_format)
    except CryptoError as exc:
        # An undefined term or a value JSON-LD cannot expand: the caller's input.
        raise CredentialRequestInvalid(f"the credential cannot be signed: {exc}") from None


def _build_and_sign(
    *,
    issuer_did: Did,
    issuer_participant: Participant | None,
    credential_type: str,
    subject_did: str,
    claims: dict,
    proof_format: str,
    expiration_date: datetime | None,
    actor,
    now: datetime,
    request=None,
    status_purpose: str = "revocation",
    idempotency: tuple[str, str] = ("", ""),
) -> IssuedCredential:
    if proof_format not in PROOF_FORMATS:
        raise CredentialRequestInvalid(f"proofFormat must be one of {', '.join(PROOF_FORMATS)}")
    if not isinstance(claims, dict):
        raise CredentialRequestInvalid("credentialSubject must be a JSON object")
    claims = nfc(claims)  # what is signed is in NFC, whatever the caller's keyboard sent
    if "id" in claims and claims["id"] != subject_did:
        raise CredentialRequestInvalid("credentialSubject.id does not match the subject DID")
    if expiration_date is not None:
        if timezone.is_naive(expiration_date):
            raise CredentialRequestInvalid("expirationDate needs a timezone")
        if expiration_date <= now:
            raise CredentialRequestInvalid("expirationDate must be in the future")
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    issued_at = now.replace(microsecond=0)
    subject = {"id": subject_did, **{k: v for k, v in claims.items() if k != "id"}}

    # Reads, validation and the signature first: on SQLite the write transaction holds the
    # database's write lock, so it should only hold what must be atomic.
    signing_key, pair = did_signing_key(issuer_did)
    # A rotation may have committed after `now` was read, in a later second: the credential
    # never predates the key that signs it (its issuerKey check would fail).
    issued_at = max(issued_at, signing_key.activated_at.replace(microsecond=0))
    credential: dict = {
        "@context": credential_contexts(with_status=False),
        "id": credential_id,
        "type": ["VerifiableCredential", credential_type],
        "issuer": {"id": signing_key.did_key, "registryDid": issuer_did.did},
        "issuanceDate": format_datetime(issued_at),
        "credentialSubject": subject,
    }
    if expiration_date is not None:
        credential["expirationDate"] = format_datetime(expiration_date)
    problems = schema_errors(credential_type, credential)
    if problems:
        raise CredentialRequestInvalid(
            "the credential does not match the schema of " + credential_type, problems=problems
        )
    problems = claim_text_problems(subject)
    lei = subject.get("lei")  # its form is the schema's; its check digits are checked here
    if lei is not None and not lei_check_digits_valid(lei):
        problems.append("credentialSubject/lei: the check digits do not match (a typo?)")
    problems += _repeated_party_identifiers(subject.get("partyIdentifiers"))
    problems += st3_claim_problems(credential_type, subject)
    if problems:
        raise CredentialRequestInvalid(
            "the credential's claims cannot be signed as given", problems=problems
        )

    def record(document) -> IssuedCredential:
        issued = IssuedCredential(
            credential_id=credential_id,
            credential_type=credential_type,
            issuer=issuer_participant,
            issuer_did=issuer_did.did,
            issuer_did_key=signing_key.did_key,
            subject_did=subject_did,
            issued_at=issued_at,
            expires_at=expiration_date,
            proof_format=proof_format,
            document=document,
            issued_by=_actor_label(actor),
            idempotency_key=idempotency[0],
            request_sha256=idempotency[1],
        )
        _ISSUED_INSERT.insert(issued)
        audit_record(
            actor=actor,
            request=request,
            action="credential.issue",
            target=credential_id,
            data={
                "type": credential_type,
                "issuer": issuer_did.did,
                "subject": subject_did,
                "format": proof_format,
                **({"idempotencyKey": idempotency[0]} if idempotency[0] else {}),
            },
        )
        return issued

    # The common case: sign over a proposed random status index, then claim it, record the
    # credential and audit it in one transaction. The index may have been taken in between
    # (another issuance drew it): sign again over another.
    for slot, claim in _status_slots(issuer_did=issuer_did, purpose=status_purpose):
        credential["@context"] = credential_contexts(with_status=True)
        credential["credentialStatus"] = slot.credential_status()
        document = _sign(credential, pair, proof_format)
        with transaction.atomic():
            if claim(slot, credential_id=credential_id):
                return record(document)

    # The issuer's first list (created and published here), a nearly full list, or no status
    # app: allocate and sign inside the transaction. Any failure rolls all of it back.
    with transaction.atomic():
        status = _status_entry(
            issuer_did=issuer_did, credential_id=credential_id, purpose=status_purpose
        )
        if status is not None:
            credential["@context"] = credential_contexts(with_status=True)
            credential["credentialStatus"] = status
        else:
            credential["@context"] = credential_contexts(with_status=False)
            credential.pop("credentialStatus", None)
        return record(_sign(credential, pair, proof_format))


def credential_issue(
    *,
    issuer: Participant,
    credential_type: str,
    subject_did: str,
    claims: dict,
    proof_format: str = "ldp",
    expiration_date: datetime | None = None,
    actor=None,
    request=None,
    status_purpose: str = "revocation",
    idempotency: tuple[str, str] = ("", ""),
) -> IssuedCredential:
    """Issue an office credential (IPApplicantCredential, IPRepresentativeCredential) signed
    with the office's current did:key. Refused (IssuanceRefused, 403) unless the office is
    accredited for the type now; CredentialRequestInvalid (400) if the subject does not match
    the type's schema. Mandates and accreditations have their own services."""
    if credential_type not in CREDENTIAL_TYPES:
        raise CredentialRequestInvalid(
            f"unknown credential type {str(credential_type)[:80]!r}; "
            f"expected one of {', '.join(CREDENTIAL_TYPES)}"
        )
    if credential_type == MANDATE_TYPE:
        if issuer.kind != Participant.Kind.APPLICANT:
            raise IssuanceRefused(
                "an IPMandateCredential is issued by the applicant itself", code="wrongIssuer"
            )
        return credential_issue_mandate(
            applicant=issuer,
            agent_did=(claims or {}).get("agent", ""),
            claims=claims,
            subject_did=subject_did,
            proof_format=proof_format,
            expiration_date=expiration_date,
            actor=actor,
            request=request,
            idempotency=idempotency,
        )
    if credential_type == ACCREDITATION_TYPE:
        raise IssuanceRefused(
            "IPOfficeAccreditationCredential is issued by the registry only", code="wrongIssuer"
        )
    if issuer.kind == Participant.Kind.APPLICANT:
        # Offices, and sub-issuers they accredited (trust chains), issue these; the
        # accreditation check below decides which.
        raise IssuanceRefused(f"applicants do not issue {credential_type}", code="wrongIssuer")
    now = timezone.now()
    reason = _accreditation_refusal(issuer=issuer, credential_type=credential_type, at=now)
    if reason:
        raise IssuanceRefused(
            f"{issuer.st3_code or issuer.display_name} is not accredited to issue "
            f"{credential_type}: {reason}"
        )
    _participant_refusal(
        subject_did, kind=SUBJECT_KINDS[credential_type], field="credentialSubject.id"
    )
    return _build_and_sign(
        issuer_did=issuer.did,
        issuer_participant=issuer,
        credential_type=credential_type,
        subject_did=subject_did,
        claims=claims,
        proof_format=proof_format,
        expiration_date=expiration_date,
        actor=actor,
        now=now,
        request=request,
        status_purpose=status_purpose,
        idempotency=idempotency,
    )


IDEMPOTENCY_KEY_MAX_LENGTH = 255


def issue_request_sha256(body: dict) -> str:
    """What makes two issuance requests "the same" for an Idempotency-Key: the SHA-256 of the
    parsed body in one fixed serialization (keys sorted, no whitespace), so that key order and
    whitespace do not matter."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Issuance:
    credential: IssuedCredential
    replayed: bool  # True: an earlier request with the same Idempotency-Key issued it


def idempotency_keys_cutoff(now: datetime | None = None) -> datetime:
    """Keys of credentials issued before this are forgotten: IDEMPOTENCY_KEY_RETENTION_HOURS."""
    hours = settings.IDEMPOTENCY_KEY_RETENTION_HOURS
    return (now or timezone.now()) - timedelta(hours=hours)


def _idempotent_replay(*, issuer: Participant, key: str, request_sha256: str):
    earlier = IssuedCredential.objects.filter(
        issuer_did=issuer.did.did, idempotency_key=key
    ).first()
    if earlier is not None and earlier.issued_at < idempotency_keys_cutoff():
        # Past the window and not purged yet: forget it now, so that the unique constraint
        # (one credential holds a key at a time) lets this request issue under the same key.
        IssuedCredential.objects.filter(
            pk=earlier.pk, idempotency_key=key, issued_at=earlier.issued_at
        ).update(idempotency_key="", request_sha256="")
        return None
    if earlier is not None and earlier.request_sha256 != request_sha256:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {key[:80]!r} was used for a different request "
            f"(credential {earlier.credential_id}); use a new key for a new credential."
        )
    return earlier


def credential_issue_idempotent(
    *, issuer: Participant, idempotency_key: str, request_sha256: str, **kwargs
) -> Issuance:
    """`credential_issue` that a client can retry safely (a timeout, a lost response): the
    first request with a given `idempotency_key` issues; a later one with the same key and the
    same request (`request_sha256`: the digest of its JSON, keys sorted) gets that credential back,
    even while they run concurrently; with another request, IdempotencyKeyReused (422). Keys
    are the issuer's own: two offices may use the same one. A key is remembered for
    IDEMPOTENCY_KEY_RETENTION_HOURS from its issuance; later the same key issues anew."""
    if not isinstance(idempotency_key, str) or not (
        0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX_LENGTH
    ):
        raise CredentialRequestInvalid(
            f"the idempotency key must have 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters"
        )
    earlier = _idempotent_replay(issuer=issuer, key=idempotency_key, request_sha256=request_sha256)
    if earlier is not None:
        return Issuance(earlier, replayed=True)
    try:
        issued = credential_issue(
            issuer=issuer, idempotency=(idempotency_key, request_sha256), **kwargs
        )
    except IntegrityError:
        # The same key, committed by a concurrent request between the lookup and this insert
        # (the unique constraint on issuer and key): that one issued; this one rolled back.
        earlier = _idempotent_replay(
            issuer=issuer, key=idempotency_key, request_sha256=request_sha256
        )
        if earlier is None:
            raise
        logger.info(
            "idempotency key %r of %s: a concurrent request issued %s first",
            idempotency_key[:80],
            issuer.did.did,
            earlier.credential_id,
        )
        return Issuance(earlier, replayed=True)
    return Issuance(issued, replayed=False)


def credential_issue_mandate(
    *,
    applicant: Participant,
    agent_did: str,
    claims: dict,
    subject_did: str | None = None,
    proof_format: str = "ldp",
    expiration_date: datetime | None = None,
    actor=None,
    request=None,
    idempotency: tuple[str, str] = ("", ""),
) -> IssuedCredential:
    """An IPMandateCredential: the applicant (subject and issuer, signing with its own registry
    key) authorises `agent_did` before `claims["office"]` for `claims["rightType"]`. Its
    `validUntil`, when given, is also the credential's expirationDate. `idempotency`: as for
    `credential_issue` (through `credential_issue_idempotent`)."""
    if applicant.kind != Participant.Kind.APPLICANT:
        raise IssuanceRefused("a mandate is issued by an applicant", code="wrongIssuer")
    applicant_did = applicant.did.did
    if subject_did not in (None, applicant_did):
        raise CredentialRequestInvalid("the subject of a mandate is the applicant issuing it")
    _participant_refusal(agent_did, kind=Participant.Kind.AGENT, field="credentialSubject.agent")
    claims = {**(claims or {}), "agent": agent_did}
    if "validUntil" in claims:
        # The schema's pattern admits impossible dates (2099-02-30): signed, the mandate would
        # never verify (the verifier parses validUntil).
        valid_until = parse_datetime(claims["validUntil"])
        if valid_until is None:
            raise CredentialRequestInvalid(
                "credentialSubject.validUntil must be an RFC 3339 date-time with a timezone"
            )
        if expiration_date is None:
            expiration_date = valid_until
    return _build_and_sign(
        issuer_did=applicant.did,
        issuer_participant=applicant,
        credential_type=MANDATE_TYPE,
        subject_did=applicant_did,
        claims=claims,
        proof_format=proof_format,
        expiration_date=expiration_date,
        actor=actor,
        now=timezone.now(),
        request=request,
        idempotency=idempotency,
    )


def credential_issue_accreditation(
    *,
    office: Participant,
    credential_types: list[str],
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    proof_format: str = "ldp",
    actor=None,
    request=None,
) -> IssuedCredential:
    """An IPOfficeAccreditationCredential signed by the registry's own key: `office` is an
    accredited issuer of `credential_types` from `valid_from` (until `valid_until`, which is
    also the credential's expirationDate)."""
    if office.kind != Participant.Kind.OFFICE:
        raise CredentialRequestInvalid("only IP offices are accredited")
    registry = registry_did_ensure()  # first: on a fresh database it creates the key that signs
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until is not None and valid_until <= now:
        raise CredentialRequestInvalid("validUntil must be in the future")
    return _build_and_sign(
        issuer_did=registry,
        issuer_participant=None,
        credential_type=ACCREDITATION_TYPE,
        subject_did=office.did.did,
        claims={
            "office": office.st3_code,
            "credentialTypes": list(credential_types),
            "validFrom": format_datetime(valid_from),
        },
        proof_format=proof_format,
        expiration_date=valid_until,
        actor=actor,
        now=now,
        request=request,
        # Suspendable: the accreditation's suspension and reinstatement show on it (and a
        # withdrawal revokes it for good), so its verifiers see what issuance sees.
        status_purpose="suspension",
    )


def credential_get_for_office(*, office: Participant, credential_id: str) -> IssuedCredential:
    """An issued credential, readable by its issuing office only (404 otherwise, so that ids
    of other offices' credentials are not confirmed)."""
    from registry.api.errors import ApiError

    if not credential_id.startswith("urn:uuid:"):
        credential_id = f"urn:uuid:{credential_id}"
    issued = (
        IssuedCredential.objects.filter(credential_id=credential_id.lower(), issuer=office)
        .select_related("issuer")
        .first()
    )
    if issued is None:
        raise ApiError(
            "No such credential issued by this office.", code="notFound", status_code=404
        )
    return issued


CREDENTIAL_STATES = ("active", "suspended", "revoked")


def credentials_issued_by(
    *,
    office: Participant,
    subject_did: str | None = None,
    credential_type: str | None = None,
    state: str | None = None,
    issued_after: datetime | None = None,
    issued_before: datetime | None = None,
    idempotency_key: str | None = None,
):
    """The office's issued credentials, newest first (in the order they were recorded: issuance
    dates have whole seconds, so they tie), narrowed by the filters given: for an
    office system reconciling what it issued (to whom, what is revoked, what a retried request
    with `idempotency_key` produced)."""
    issued = IssuedCredential.objects.filter(issuer=office)
    if subject_did:
        issued = issued.filter(subject_did=subject_did)
    if credential_type:
        issued = issued.filter(credential_type=credential_type)
    if issued_after is not None:
        issued = issued.filter(issued_at__gte=issued_after)
    if issued_before is not None:
        issued = issued.filter(issued_at__lt=issued_before)
    if idempotency_key:
        # Only a key still remembered: a retry with an expired one would issue anew.
        issued = issued.filter(
            idempotency_key=idempotency_key, issued_at__gte=idempotency_keys_cutoff()
        )
    if state:
        if state not in CREDENTIAL_STATES:
            raise CredentialRequestInvalid(f"status must be one of {', '.join(CREDENTIAL_STATES)}")
        from registry.status.models import StatusEntry

        issued = issued.filter(
            credential_id__in=StatusEntry.objects.filter(
                status_list__issuer_id=office.did_id, state=state
            ).values("credential_id")
        )
    return issued.order_by("-id")


def credential_status_entries_attach(issued: list[IssuedCredential]) -> None:
    """Read the status entries of many credentials in one query (for `credential_status_entry`),
    instead of one query each."""
    try:
        from registry.status.models import StatusEntry
    except ImportError:
        entries = {}
    else:
        entries = {
            entry.credential_id: entry
            for entry in StatusEntry.objects.filter(
                credential_id__in=[i.credential_id for i in issued]
            ).select_related("status_list")
        }
    for credential in issued:
        credential._status_entry = entries.get(credential.credential_id)


def credential_status_entry(issued: IssuedCredential):
    """The status entry (status app) of an issued credential, or None; memoised on `issued`."""
    if not hasattr(issued, "_status_entry"):
        try:
            from registry.status.services import credential_status_of
        except ImportError:
            issued._status_entry = None
        else:
            issued._status_entry = credential_status_of(issued.credential_id)
    return issued._status_entry


def credential_get_for_subject(*, subject_did: str, credential_id: str) -> IssuedCredential:
    """An issued credential, readable by its subject (the portal uses this)."""
    from registry.api.errors import ApiError

    issued = IssuedCredential.objects.filter(
        credential_id=credential_id, subject_did=subject_did
    ).first()
    if issued is None:
        raise ApiError("No such credential about this subject.", code="notFound", status_code=404)
    return issued


def challenge_create(*, domain: str | None = None) -> Challenge:
    """A fresh presentation challenge, valid for CREDENTIALS_CHALLENGE_TTL_SECONDS, usable once."""
    now = timezone.now()
    ttl = getattr(settings, "CREDENTIALS_CHALLENGE_TTL_SECONDS", 300)
    return Challenge.objects.create(
        value=secrets.token_urlsafe(24),
        domain=(domain or "")[:255],
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )


def _challenge_refusal(value, domain: str | None, now: datetime) -> tuple[Challenge | None, str]:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None, "no challenge was given"
    challenge = Challenge.objects.filter(value=value).first()
    if challenge is None:
        return None, "this challenge was not issued by the registry"
    if challenge.domain and challenge.domain != (domain or ""):
        return challenge, "the domain does not match the challenge's domain"
    if challenge.used_at is not None:
        return challenge, "this challenge was already used (replay)"
    if challenge.expires_at <= now:
        return challenge, "this challenge has expired"
    return challenge, ""


def challenge_check(*, value: str, domain: str | None) -> str:
    """Whether a challenge could be claimed now: empty string if so, else why not. Reads only:
    a presentation is checked against its challenge before its proof, and claims it after."""
    return _challenge_refusal(value, domain, timezone.now())[1]


def challenge_claim(*, value: str, domain: str | None) -> str:
    """Use a challenge up: empty string on success, else why not. A conditional UPDATE claims it,
    so of two concurrent presentations with the same challenge exactly one succeeds."""
    now = timezone.now()
    challenge, reason = _challenge_refusal(value, domain, now)
    if challenge is None or reason:
        return reason
    claimed = Challenge.objects.filter(
        pk=challenge.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed == 1:
        return ""
    if (
        challenge.used_at is not None
        or Challenge.objects.filter(pk=challenge.pk, used_at__isnull=False).exists()
    ):
        return "this challenge was already used (replay)"
    return "this challenge has expired"


def challenges_purge(*, expired_before: datetime | None = None) -> int:
    """Delete challenges that expired before `expired_before` (default: a day ago); used or
    not, they can no longer be claimed. Returns how many were deleted. Idempotent."""
    cutoff = expired_before or timezone.now() - timedelta(days=1)
    deleted, _ = Challenge.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys of credentials issued more than
    IDEMPOTENCY_KEY_RETENTION_HOURS ago: clear the key and the request digest, keep the
    credential. Returns how many were cleared. Idempotent (beat, hourly; `manage.py
    purge_idempotency_keys`)."""
    return (
        IssuedCredential.objects.exclude(idempotency_key="")
        .filter(issued_at__lt=idempotency_keys_cutoff(now))
        .update(idempotency_key="", request_sha256="")
    )


def credential_verify(document, **kwargs):
    from .verification import credential_verify as verify

    return verify(document, **kwargs)


def presentation_verify(document, *, challenge, domain=None):
    from .verification import presentation_verify as verify

    return verify(document, challenge=challenge, domain=domain)
