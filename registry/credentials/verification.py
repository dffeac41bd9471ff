"""Verifying credentials and presentations: every rule is its own named check.

A credential is verified only if every check passes: `context`, `proof` (didkit's errors are
empty; never its `checks`), `proofPurpose`, `issuerKey` (the signing did:key belonged to the
issuer's registry DID at issuance and was not compromised by then), `accreditation`, `dates`,
`schema` and `status`. A check that cannot run (its input is missing or malformed) fails; a
check that raises fails too, so bad input never yields `verified: true` nor a 500.

didkit resolves by itself, over the network, every DID it meets in a proof's verification
method, a credential's `issuer` or a presentation's `holder`; so it is only ever handed documents
whose such DIDs are did:key / did:jwk. Registry DIDs are bound to those keys by the reverse
lookup (`identity.services.did_key_owner`); other did:web DIDs only through the guarded
resolver (`identity.resolution.resolve`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from identity.crypto import didkit_adapter
from identity.dids import registry_did, registry_path_of
from identity.services import KeyOwnership, did_key_owner
from registry.participants.models import Participant

from .context import CREDENTIAL_TYPES, CREDENTIALS_V1, STATUS_LIST_2021, ip_context
from .schemas import schema_errors
from .services import (
    ACCREDITATION_TYPE,
    ISSUED_RECORD,
    MANDATE_TYPE,
    PARTICIPANT_BY_DID,
    parse_datetime,
)

logger = logging.getLogger(__name__)

OFFLINE_METHODS = didkit_adapter.OFFLINE_METHODS
JWT_ALGORITHMS = ("EdDSA",)
MAX_EMBEDDED_CREDENTIALS = 50

CREDENTIAL_CHECKS = (
    "context",
    "proof",
    "proofPurpose",
    "issuerKey",
    "accreditation",
    "dates",
    "schema",
    "status",
)
PRESENTATION_CHECKS = ("challenge", "domain", "proof", "proofPurpose", "holder", "credentials")


class CheckFailed(Exception):
    """Raised inside a check with the detail to report."""


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerificationReport:
    checks: list[CheckResult] = field(default_factory=list)
    credentials: list[VerificationReport] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def problem_details(self, prefix: str = "") -> list[dict]:
        problems = []
        for c in self.checks:
            if c.ok or c.name == "credentials":
                continue
            problems.append(
                {
                    "type": f"{settings.REGISTRY_BASE_URL}/problems/{c.name}",
                    "check": prefix + c.name,
                    "title": f"The {c.name} check failed",
                    "detail": c.detail,
                }
            )
        for i, nested in enumerate(self.credentials):
            problems.extend(nested.problem_details(prefix=f"{prefix}credentials[{i}]."))
        return problems

    def results(self) -> dict:
        out: dict = {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks}
        if self.credentials or self.check("credentials"):
            out["credentials"] = [r.as_dict() for r in self.credentials]
        return out

    def as_dict(self) -> dict:
        return {
            "verified": self.verified,
            "problemDetails": self.problem_details(),
            "results": self.results(),
        }


def _encodable(detail: str) -> str:
    # Details quote the document, and JSON may carry lone surrogates ("\ud800"), which UTF-8
    # cannot encode: escape them so that the response renders.
    return detail[:1000].encode("utf-8", "backslashreplace").decode("utf-8")


def _run_check(report: VerificationReport, name: str, fn: Callable[[], str]) -> bool:
    """Run one check: it returns a detail on success, raises CheckFailed on failure."""
    try:
        detail = fn()
    except CheckFailed as exc:
        report.checks.append(CheckResult(name, False, _encodable(str(exc))))
        return False
    except Exception:  # a bug or an odd input must fail the check, never verify nor 500
        logger.exception("verification check %s raised", name)
        report.checks.append(CheckResult(name, False, "the check could not be completed"))
        return False
    report.checks.append(CheckResult(name, True, _encodable(detail or "")))
    return True


# ---------------------------------------------------------------------------------------------
# Parsing


def _b64json(segment: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"not a JWT: a segment is not base64url JSON ({exc})") from None
    except RecursionError:  # the request parser bounds nesting; a JWT segment is parsed here
        raise CheckFailed("not a JWT: a segment is JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise CheckFailed("not a JWT: header and payload must be JSON objects")
    return value


@dataclass
class Jwt:
    header: dict
    payload: dict

    @property
    def signer_vm(self) -> str:
        """Who signed: the `kid` header (a verification method), else the `iss` claim."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else str(self.payload.get("iss") or "")


def _proof_signer_vm(proof: dict) -> str:
    vm = proof.get("verificationMethod")
    return vm if isinstance(vm, str) else ""


def parse_jwt(token: str) -> Jwt:
    """Decode (without verifying) a compact JWS and refuse every algorithm but EdDSA:
    `alg: none` and HMAC tokens are rejected here, before any key is looked at."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise CheckFailed("not a JWT: a compact JWS has three dot-separated parts")
    header, payload = _b64json(parts[0]), _b64json(parts[1])
    alg = header.get("alg")
    if alg not in JWT_ALGORITHMS:
        raise CheckFailed(
            f"JWT algorithm {str(alg)[:20]!r} is refused; only {', '.join(JWT_ALGORITHMS)} "
            "signatures by a did:key/did:jwk are accepted"
        )
    if not parts[2]:
        raise CheckFailed("the JWT has no signature")
    return Jwt(header=header, payload=payload)


@dataclass
class ParsedCredential:
    document: dict | str
    proof_format: str
    body: dict  # the credential (for a JWT: its `vc` claim completed from the registered claims)
    signer_vm: str
    proof_purpose: str | None = None
    jwt: Jwt | None = None
    parse_error: str = ""

    @property
    def signer_did(self) -> str:
        return self.signer_vm.split("#", 1)[0]

    @property
    def credential_type(self) -> str | None:
        types = self.body.get("type")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list):
            return None
        ours = [t for t in types if t in CREDENTIAL_TYPES]
        return ours[0] if len(ours) == 1 else None

    @property
    def issuer(self) -> dict:
        issuer = self.body.get("issuer")
        if isinstance(issuer, str):
            return {"id": issuer}
        return issuer if isinstance(issuer, dict) else {}


def parse_credential(document) -> ParsedCredential:
    if isinstance(document, str):
        try:
            jwt = parse_jwt(document)
        except CheckFailed as exc:
            return ParsedCredential(document, "jwt", {}, "", parse_error=str(exc))
        vc = jwt.payload.get("vc")
        if not isinstance(vc, dict):
            return ParsedCredential(
                document, "jwt", {}, "", jwt=jwt, parse_error="the JWT has no `vc` claim"
            )
        body = dict(vc)
        # VC-JWT may move these into registered claims; put them back for the other checks.
        if "iss" in jwt.payload and "issuer" not in body:
            body["issuer"] = jwt.payload["iss"]
        if "jti" in jwt.payload and "id" not in body:
            body["id"] = jwt.payload["jti"]
        if "nbf" in jwt.payload and "issuanceDate" not in body:
            body["issuanceDate"] = _epoch_to_iso(jwt.payload["nbf"])
        if "exp" in jwt.payload and "expirationDate" not in body:
            body["expirationDate"] = _epoch_to_iso(jwt.payload["exp"])
        return ParsedCredential(document, "jwt", body, jwt.signer_vm, jwt=jwt)
    if not isinstance(document, dict):
        return ParsedCredential(
            document, "ldp", {}, "", parse_error="a credential is a JSON object or a JWT"
        )
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return ParsedCredential(
            document, "ldp", document, "", parse_error="the credential has no (single) proof"
        )
    return ParsedCredential(
        document, "ldp", document, _proof_signer_vm(proof), proof_purpose=proof.get("proofPurpose")
    )


def _epoch_to_iso(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def _skew() -> timedelta:
    return timedelta(seconds=getattr(settings, "CREDENTIALS_CLOCK_SKEW_SECONDS", 60))


# ---------------------------------------------------------------------------------------------
# Key ownership


def _foreign_did_has_key(did: str, signer_did: str, relationship: str) -> str:
    """Does the (non-registry) DID `did` list `signer_did` as its key for `relationship`
    (`assertionMethod` for credentials)? Resolved only through the guarded resolver. A key the
    document lists for another purpose (keyAgreement, authentication) does not count. Returns
    "" if so, else why not."""
    try:
        from identity.resolution import resolve
    except ImportError:
        return "DIDs of other hosts cannot be resolved here yet"
    try:
        result = resolve(did)
    except Exception as exc:  # resolution errors (not found, refused host, timeout)
        return f"{did[:100]} could not be resolved: {str(exc)[:200]}"
    document = getattr(result, "did_document", None) or {}
    if signer_did in (document.get("alsoKnownAs") or []):
        return ""  # the registry's own convention for a linked wallet
    multibase = signer_did.removeprefix("did:key:")

    def absolute(ref: str) -> str:
        return did + ref if ref.startswith("#") else ref

    methods = {
        absolute(vm["id"]): vm
        for vm in document.get("verificationMethod") or []
        if isinstance(vm, dict) and isinstance(vm.get("id"), str)
    }
    for item in document.get(relationship) or []:
        vm = methods.get(absolute(item)) if isinstance(item, str) else item
        if isinstance(vm, dict) and vm.get("publicKeyMultibase") == multibase:
            return ""
    return f"{did[:100]} does not list the signing key for {relationship}"


def key_bound_to(*, signer_did: str, controller: str, at: datetime) -> str:
    """Check that `signer_did` (a did:key/did:jwk) was a key of `controller` at `at` and not
    compromised by then. Returns "" if so, else the reason."""
    return _key_binding(signer_did=signer_did, controller=controller, at=at)[0]


def _key_binding(
    *, signer_did: str, controller: str, at: datetime
) -> tuple[str, KeyOwnership | None]:
    """`key_bound_to`'s reason, with the registry's record of the key when it has one."""
    if controller == signer_did:
        return "", None
    if registry_path_of(controller) is None:
        if controller.startswith("did:web:"):
            return _foreign_did_has_key(controller, signer_did, "assertionMethod"), None
        return f"{signer_did[:80]} is not a key of {controller[:100]}", None
    owner = did_key_owner(signer_did)
    if owner is None:
        return f"{signer_did[:80]} is not a key known to the registry", None
    if owner.controller != controller:
        return f"the signing key belongs to {owner.controller}, not to {controller[:100]}", owner
    if not owner.active_at_issuance(at):
        return "the signing key was not an active key of the issuer at that time", owner
    if owner.compromised_since is not None and owner.compromised_since <= at:
        return "the signing key was marked compromised before that time", owner
    return "", owner


# ---------------------------------------------------------------------------------------------
# Credentials


def _check_context(parsed: ParsedCredential) -> str:
    if parsed.parse_error:
        raise CheckFailed(parsed.parse_error)
    contexts = parsed.body.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != CREDENTIALS_V1:
        raise CheckFailed(f"@context must be a list starting with {CREDENTIALS_V1}")
    ours = ip_context()
    for item in contexts[1:]:
        if isinstance(item, str):
            if item not in (STATUS_LIST_2021,):
                raise CheckFailed(
                    f"remote context {item[:100]!r} is not supported: the registry's context "
                    "is embedded inline"
                )
        elif item != ours:
            raise CheckFailed("an inline context other than the registry's IP context")
    return "VC 1.1 with the registry's inline IP context"


def _check_signer_offline(parsed: ParsedCredential) -> None:
    if not parsed.signer_vm:
        raise CheckFailed("the proof names no verification method")
    if not parsed.signer_vm.startswith(OFFLINE_METHODS):
        raise CheckFailed(
            "the proof must be made by a did:key or did:jwk (registry DIDs sign with the "
            f"did:key of their current key), not {parsed.signer_vm[:100]!r}"
        )
    issuer_id = parsed.issuer.get("id")
    if not isinstance(issuer_id, str) or not issuer_id.startswith(OFFLINE_METHODS):
        raise CheckFailed(
            "issuer.id must be the signing did:key (the registry DID goes in issuer.registryDid)"
        )


def _check_proof(parsed: ParsedCredential) -> str:
    if parsed.parse_error:
        raise CheckFailed(parsed.parse_error)
    _check_signer_offline(parsed)
    if parsed.jwt is not None:
        kid = parsed.jwt.header.get("kid")
        iss = parsed.jwt.payload.get("iss")
        if not isinstance(iss, str) or kid is not None and kid.split("#")[0] != iss:
            raise CheckFailed("the JWT's kid and iss name different DIDs")
        vc = parsed.jwt.payload["vc"]
        subject = vc.get("credentialSubject")
        if "sub" in parsed.jwt.payload and (
            not isinstance(subject, dict)
            or subject.get("id", parsed.jwt.payload["sub"]) != parsed.jwt.payload["sub"]
        ):
            raise CheckFailed("the JWT's sub is not the credential's subject")
        if (
            "jti" in parsed.jwt.payload
            and vc.get("id", parsed.jwt.payload["jti"]) != (parsed.jwt.payload["jti"])
        ):
            raise CheckFailed("the JWT's jti is not the credential's id")
        # VC-JWT 1.1 s.6.3.1: nbf is the issuanceDate and exp the expirationDate; the key and
        # accreditation are judged at issuanceDate, so the two must name the same second.
        for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
            if claim in parsed.jwt.payload and name in vc:
                stated = parse_datetime(vc[name])
                if stated is None or _epoch_to_iso(parsed.jwt.payload[claim]) != (
                    stated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                ):
                    raise CheckFailed(f"the JWT's {claim} is not the credential's {name}")
    verdict = didkit_adapter.verify_credential(parsed.document, proof_purpose="assertionMethod")
    if not verdict.ok:
        raise CheckFailed("; ".join(verdict.errors)[:500])
    return "didkit: no errors"


def _check_purpose(parsed: ParsedCredential) -> str:
    if parsed.proof_format == "jwt":
        if parsed.parse_error:
            raise CheckFailed(parsed.parse_error)
        return "VC-JWT (assertion)"
    if parsed.proof_purpose != "assertionMethod":
        raise CheckFailed(
            f"proofPurpose is {str(parsed.proof_purpose)[:40]!r}, not assertionMethod"
        )
    return "assertionMethod"


def _issuance_date(parsed: ParsedCredential) -> datetime:
    issued = parse_datetime(parsed.body.get("issuanceDate"))
    if issued is None:
        raise CheckFailed("issuanceDate is missing or not a date-time")
    return issued


def _check_issuer_key(parsed: ParsedCredential) -> str:
    if parsed.parse_error:
        raise CheckFailed(parsed.parse_error)
    _check_signer_offline(parsed)
    issuer = parsed.issuer
    if issuer.get("id") != parsed.signer_did:
        raise CheckFailed("the proof was made by another key than the issuer's (issuer.id)")
    registry_did_value = issuer.get("registryDid")
    if not isinstance(registry_did_value, str) or not registry_did_value.startswith("did:"):
        raise CheckFailed("issuer.registryDid is missing")
    reason, owner = _key_binding(
        signer_did=parsed.signer_did, controller=registry_did_value, at=_issuance_date(parsed)
    )
    if reason:
        raise CheckFailed(reason)
    if owner is not None and owner.kind == "registry-key":
        _check_issued_record(parsed, registry_did_value)
        return (
            f"{parsed.signer_did[:60]}... was a key of {registry_did_value} at issuance, "
            "and the registry issued this credential with it"
        )
    return f"{parsed.signer_did[:60]}... was a key of {registry_did_value} at issuance"


def _check_issued_record(parsed: ParsedCredential, registry_did_value: str) -> None:
    """A key the registry holds signs only through issuance, which records every credential as
    signed: a document signed by such a key that the registry did not issue is a forgery with
    a stolen key (a rotated-out key's backup, say, which could backdate credentials to its own
    period and leave them without status). Wallet keys sign outside the registry: not checked."""
    credential_id = parsed.body.get("id")
    record = (
        ISSUED_RECORD.first(credential_id=credential_id)
        if isinstance(credential_id, str) and "\x00" not in credential_id
        else None
    )
    if record is None:
        raise CheckFailed(
            "signed with a key the registry holds, but the registry has no record of issuing "
            "this credential"
        )
    issuer_did, issuer_did_key, document = record
    if (
        issuer_did != registry_did_value
        or issuer_did_key != parsed.signer_did
        or document != parsed.document
    ):
        raise CheckFailed(
            "signed with a key the registry holds, but it is not the credential the registry "
            f"issued as {credential_id[:100]}"
        )


def _check_accreditation(parsed: ParsedCredential) -> str:
    credential_type = parsed.credential_type
    if credential_type is None:
        raise CheckFailed("the credential is not of exactly one registry credential type")
    issuer_did = parsed.issuer.get("registryDid")
    if not isinstance(issuer_did, str) or registry_path_of(issuer_did) is None:
        raise CheckFailed("the issuer is not a participant of this registry")
    at = _issuance_date(parsed)
    if credential_type == ACCREDITATION_TYPE:
        if issuer_did != registry_did():
            raise CheckFailed("only the registry issues IPOfficeAccreditationCredential")
        return "issued by the registry"
    participant = PARTICIPANT_BY_DID.first(did=issuer_did)
    if participant is None:
        raise CheckFailed(f"{issuer_did} is not a registry participant")
    if credential_type == MANDATE_TYPE:
        subject = parsed.body.get("credentialSubject")
        if participant.kind != Participant.Kind.APPLICANT:
            raise CheckFailed("a mandate must be issued by an applicant")
        if not isinstance(subject, dict) or subject.get("id") != issuer_did:
            raise CheckFailed("a mandate's subject must be the applicant issuing it")
        return "issued by the applicant it concerns"
    if participant.kind == Participant.Kind.APPLICANT:
        raise CheckFailed(f"applicants do not issue {credential_type}")
    from registry.trust.services import accreditation_check_at_issuance

    # issuanceDate has second precision while accreditations start and end at any instant:
    # accredited at some instant of the issuance second, as the trust query API judges it (an
    # issuance itself is checked at its exact instant), so a credential issued just before a
    # suspension in the same second keeps verifying.
    verdict = accreditation_check_at_issuance(
        issuer=participant, credential_type=credential_type, issuance_date=at
    )
    who = participant.st3_code or participant.display_name
    if not verdict.authorized:
        raise CheckFailed(
            f"{who} was not accredited for {credential_type} at issuance: {verdict.reason}"
        )
    return f"{who} accredited for {credential_type} at issuance"


def _check_dates(parsed: ParsedCredential, now: datetime) -> str:
    skew = _skew()
    issued = _issuance_date(parsed)
    if issued > now + skew:
        raise CheckFailed("issuanceDate is in the future")
    if "expirationDate" in parsed.body:
        expires = parse_datetime(parsed.body["expirationDate"])
        if expires is None:
            raise CheckFailed("expirationDate is not a date-time")
        if expires < now - skew:
            raise CheckFailed("the credential has expired (expirationDate is past)")
    subject = parsed.body.get("credentialSubject")
    # An accreditation may be granted from a later date; its credential is not in force before.
    if isinstance(subject, dict) and "validFrom" in subject:
        starts = parse_datetime(subject["validFrom"])
        if starts is None:
            raise CheckFailed("the subject's validFrom is not a date-time")
        if starts > now + skew:
            raise CheckFailed("not valid yet (the subject's validFrom is in the future)")
    if (
        parsed.credential_type == MANDATE_TYPE
        and isinstance(subject, dict)
        and "validUntil" in subject
    ):
        until = parse_datetime(subject["validUntil"])
        if until is None:
            raise CheckFailed("the mandate's validUntil is not a date-time")
        if until < now - skew:
            raise CheckFailed("the mandate has ended (validUntil is past)")
    if parsed.jwt is not None:
        claims = parsed.jwt.payload
        for claim in ("nbf", "exp", "iat"):
            if claim in claims and _epoch_to_iso(claims[claim]) is None:
                raise CheckFailed(f"the JWT's {claim} is not a NumericDate")
        if "nbf" in claims and claims["nbf"] > (now + skew).timestamp():
            raise CheckFailed("the JWT is not valid yet (nbf is in the future)")
        if "exp" in claims and claims["exp"] < (now - skew).timestamp():
            raise CheckFailed("the JWT has expired (exp is past)")
    return "within validity"


def _check_schema(parsed: ParsedCredential) -> str:
    credential_type = parsed.credential_type
    if credential_type is None:
        raise CheckFailed("the credential is not of exactly one registry credential type")
    body = parsed.body
    if parsed.jwt is not None:
        body = parsed.jwt.payload["vc"]
    problems = schema_errors(credential_type, body)
    if problems:
        raise CheckFailed("; ".join(problems)[:1000])
    return f"matches the {credential_type} schema"


def _check_status(parsed: ParsedCredential) -> str:
    status = parsed.body.get("credentialStatus")
    if status is None:
        return "the credential has no status entry"
    try:
        from registry.status.verification import status_check
    except ImportError:
        raise CheckFailed("status lists are not available to check this credential") from None
    result = status_check(parsed.body, issuer_did_key=parsed.signer_did)
    if not result.ok:
        raise CheckFailed(f"{result.code}: {result.detail}")
    return result.detail or result.code or "active"


def credential_verify(document, *, now: datetime | None = None) -> VerificationReport:
    """Verify a credential (JSON-LD dict or VC-JWT string); every check is reported."""
    now = now or timezone.now()
    parsed = parse_credential(document)
    report = VerificationReport()
    context_ok = _run_check(report, "context", lambda: _check_context(parsed))
    if context_ok or parsed.parse_error:
        _run_check(report, "proof", lambda: _check_proof(parsed))
    else:
        report.checks.append(
            CheckResult("proof", False, "not checked: the credential's context is refused")
        )
    _run_check(report, "proofPurpose", lambda: _check_purpose(parsed))
    _run_check(report, "issuerKey", lambda: _check_issuer_key(parsed))
    _run_check(report, "accreditation", lambda: _check_accreditation(parsed))
    _run_check(report, "dates", lambda: _check_dates(parsed, now))
    _run_check(report, "schema", lambda: _check_schema(parsed))
    _run_check(report, "status", lambda: _check_status(parsed))
    return report


# ---------------------------------------------------------------------------------------------
# Presentations


@dataclass
class ParsedPresentation:
    document: dict | str
    body: dict
    signer_vm: str
    proof: dict
    jwt: Jwt | None = None
    parse_error: str = ""

    @property
    def signer_did(self) -> str:
        return self.signer_vm.split("#", 1)[0]

    @property
    def holder(self) -> str:
        holder = self.body.get("holder")
        return holder if isinstance(holder, str) else self.signer_did

    @property
    def credentials(self) -> list:
        embedded = self.body.get("verifiableCredential", [])
        return embedded if isinstance(embedded, list) else [embedded]


def parse_presentation(document) -> ParsedPresentation:
    if isinstance(document, str):
        try:
            jwt = parse_jwt(document)
        except CheckFailed as exc:
            return ParsedPresentation(document, {}, "", {}, parse_error=str(exc))
        vp = jwt.payload.get("vp")
        if not isinstance(vp, dict):
            return ParsedPresentation(
                document, {}, "", {}, jwt=jwt, parse_error="the JWT has no `vp` claim"
            )
        body = dict(vp)
        if "iss" in jwt.payload and "holder" not in body:
            body["holder"] = jwt.payload["iss"]
        proof = {"challenge": jwt.payload.get("nonce"), "domain": jwt.payload.get("aud")}
        return ParsedPresentation(document, body, jwt.signer_vm, proof, jwt=jwt)
    if not isinstance(document, dict):
        return ParsedPresentation(
            document, {}, "", {}, parse_error="a presentation is a JSON object or a JWT"
        )
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return ParsedPresentation(
            document, document, "", {}, parse_error="the presentation has no (single) proof"
        )
    return ParsedPresentation(document, document, _proof_signer_vm(proof), proof)


def _check_challenge(parsed: ParsedPresentation, challenge, domain) -> str:
    """Read only: the challenge is used up by `_claim_challenge`, once the proof verified."""
    from .services import challenge_check

    if not isinstance(challenge, str) or not challenge:
        raise CheckFailed("no challenge was given (options.challenge)")
    if parsed.proof.get("challenge") != challenge:
        raise CheckFailed("the presentation's proof is not bound to this challenge")
    reason = challenge_check(value=challenge, domain=domain)
    if reason:
        raise CheckFailed(reason)
    return "issued by the registry, unexpired, unused"


def _claim_challenge(report: VerificationReport, challenge, domain) -> None:
    """Use the challenge up, and say so in its check. Only a presentation whose proof verified
    claims it: whoever saw a challenge (it is shown to the holder, in a QR code say) could
    otherwise burn it with a junk presentation, and the holder's genuine one would then fail as
    a replay. Of two genuine presentations racing on one challenge, the conditional UPDATE lets
    exactly one claim it."""
    from .services import challenge_claim

    index = next(i for i, c in enumerate(report.checks) if c.name == "challenge")
    if not report.checks[index].ok:
        return
    if not (proof := report.check("proof")) or not proof.ok:
        report.checks[index] = CheckResult(
            "challenge", True, "issued by the registry, unexpired; left unused (the proof failed)"
        )
        return
    reason = challenge_claim(value=challenge, domain=domain)
    report.checks[index] = (
        CheckResult("challenge", False, reason)
        if reason
        else CheckResult("challenge", True, "issued by the registry, unexpired, now used")
    )


def _check_domain(parsed: ParsedPresentation, domain) -> str:
    if domain is None:
        return "no domain requested"
    proof_domain = parsed.proof.get("domain")
    ok = domain in proof_domain if isinstance(proof_domain, list) else proof_domain == domain
    if not ok:
        raise CheckFailed("the presentation's domain does not match")
    return "matches"


def _check_vp_proof(parsed: ParsedPresentation, challenge, domain) -> str:
    if parsed.parse_error:
        raise CheckFailed(parsed.parse_error)
    if not parsed.signer_vm.startswith(OFFLINE_METHODS):
        raise CheckFailed("the presentation must be signed by a did:key or did:jwk")
    if not parsed.holder.startswith(OFFLINE_METHODS):
        raise CheckFailed(
            "holder must be the did:key (or did:jwk) that signs the presentation; registry "
            "DIDs are bound to it by the registry's reverse lookup"
        )
    if not isinstance(challenge, str) or not challenge:
        raise CheckFailed("not checked: no challenge")
    verdict = didkit_adapter.verify_presentation(
        parsed.document, challenge=challenge, domain=domain
    )
    if not verdict.ok:
        raise CheckFailed("; ".join(verdict.errors)[:500])
    return "didkit: no errors"


def _check_vp_purpose(parsed: ParsedPresentation) -> str:
    if parsed.jwt is not None:
        if parsed.parse_error:
            raise CheckFailed(parsed.parse_error)
        return "VP-JWT (authentication)"
    purpose = parsed.proof.get("proofPurpose")
    if purpose != "authentication":
        raise CheckFailed(f"proofPurpose is {str(purpose)[:40]!r}, not authentication")
    return "authentication"


def _holder_identities(parsed: ParsedPresentation, now: datetime) -> set[str]:
    signer = parsed.signer_did
    if parsed.holder != signer:
        raise CheckFailed("the presentation was not signed by its holder")
    identities = {signer}
    owner = did_key_owner(signer)
    if owner is not None and not key_bound_to(
        signer_did=signer, controller=owner.controller, at=now
    ):
        identities.add(owner.controller)
    return identities


def _check_holder(parsed: ParsedPresentation, now: datetime) -> str:
    if parsed.parse_error:
        raise CheckFailed(parsed.parse_error)
    identities = _holder_identities(parsed, now)
    for i, credential in enumerate(parsed.credentials):
        body = parse_credential(credential).body
        subject = body.get("credentialSubject")
        subjects = subject if isinstance(subject, list) else [subject]
        subject_ids = {s.get("id") for s in subjects if isinstance(s, dict)}
        types = body.get("type") or []
        if MANDATE_TYPE in types:
            agents = {s.get("agent") for s in subjects if isinstance(s, dict)}
            if not agents & identities:
                raise CheckFailed(f"credentials[{i}]: the holder is not the mandated agent")
        elif not subject_ids & identities:
            raise CheckFailed(f"credentials[{i}]: the holder is not the credential's subject")
    return "the holder is the subject (or mandated agent) of every credential"


def presentation_verify(
    document, *, challenge, domain=None, now: datetime | None = None
) -> VerificationReport:
    """Verify a presentation (JSON-LD dict or VP-JWT) and every credential in it."""
    now = now or timezone.now()
    parsed = parse_presentation(document)
    report = VerificationReport()
    _run_check(report, "challenge", lambda: _check_challenge(parsed, challenge, domain))
    _run_check(report, "domain", lambda: _check_domain(parsed, domain))
    _run_check(report, "proof", lambda: _check_vp_proof(parsed, challenge, domain))
    _run_check(report, "proofPurpose", lambda: _check_vp_purpose(parsed))
    _run_check(report, "holder", lambda: _check_holder(parsed, now))
    _claim_challenge(report, challenge, domain)
    embedded = parsed.credentials if not parsed.parse_error else []
    if len(embedded) > MAX_EMBEDDED_CREDENTIALS:
        report.checks.append(
            CheckResult("credentials", False, f"more than {MAX_EMBEDDED_CREDENTIALS} credentials")
        )
        return report
    report.credentials = [credential_verify(c, now=now) for c in embedded]
    bad = [i for i, r in enumerate(report.credentials) if not r.verified]
    report.checks.append(
        CheckResult(
            "credentials",
            not bad,
            f"credentials {bad} failed verification" if bad else f"{len(embedded)} verified",
        )
    )
    return report
