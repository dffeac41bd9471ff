"""Credentials and JWTs built by the tests themselves: tampered, re-signed, expired, forged.

Signing goes through the crypto adapter's own didkit call (the tests never import didkit), with
options the product never uses (another proof purpose, any issuanceDate)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from identity.crypto import didkit_adapter
from identity.crypto.keys import Ed25519KeyPair, did_key_verification_method
from identity.services import did_signing_key
from registry.credentials.context import credential_contexts


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(
    *,
    issuer_did: str,
    signer: Ed25519KeyPair,
    credential_type: str,
    subject: dict,
    issuance_date: str = "2026-01-01T00:00:00Z",
    expiration_date: str | None = None,
) -> dict:
    credential = {
        "@context": credential_contexts(with_status=False),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", credential_type],
        "issuer": {"id": signer.did_key, "registryDid": issuer_did},
        "issuanceDate": issuance_date,
        "credentialSubject": subject,
    }
    if expiration_date:
        credential["expirationDate"] = expiration_date
    return credential


def sign(
    credential: dict, key: Ed25519KeyPair, *, purpose: str = "assertionMethod", jwt=False
) -> dict | str:
    options = {
        "proofPurpose": purpose,
        "verificationMethod": did_key_verification_method(key.did_key),
    }
    if jwt:
        options["proofFormat"] = "jwt"
    else:
        options["type"] = "Ed25519Signature2020"
    signed = didkit_adapter._didkit(
        didkit_adapter.didkit.issue_credential,
        json.dumps(credential),
        json.dumps(options),
        key.private_jwk_json,
    )
    return signed if jwt else json.loads(signed)


def forge_applicant_credential(
    office,
    key: Ed25519KeyPair,
    subject: dict,
    *,
    issuance_date: str,
    expiration_date: str | None = None,
    jwt: bool = False,
) -> dict | str:
    """An IPApplicantCredential about `subject` naming `office` as its issuer, signed here by
    `key` (the office's own key or another)."""
    return sign(
        unsigned(
            issuer_did=office.did.did,
            signer=key,
            credential_type="IPApplicantCredential",
            subject=subject,
            issuance_date=issuance_date,
            expiration_date=expiration_date,
        ),
        key,
        jwt=jwt,
    )


def record_as_issued(document: dict | str, *, issuer, key: Ed25519KeyPair):
    """Record `document` as a credential the registry issued (what issuance does after signing):
    for credentials signed here with a key the registry holds that stand for real ones (an
    older credential, say), which the verifier otherwise refuses as unrecorded."""
    from django.utils import timezone

    from registry.credentials.models import IssuedCredential
    from registry.credentials.services import parse_datetime
    from registry.credentials.verification import parse_credential

    body = parse_credential(document).body
    return IssuedCredential.objects.create(
        credential_id=body["id"],
        credential_type=[t for t in body["type"] if t != "VerifiableCredential"][0],
        issuer=issuer,
        issuer_did=issuer.did.did,
        issuer_did_key=key.did_key,
        subject_did=body["credentialSubject"]["id"],
        issued_at=parse_datetime(body["issuanceDate"]) or timezone.now(),
        expires_at=parse_datetime(body.get("expirationDate") or ""),
        proof_format="jwt" if isinstance(document, str) else "ldp",
        document=document,
    )


def office_key(participant) -> Ed25519KeyPair:
    return did_signing_key(participant.did)[1]


def jwt_with_alg(payload: dict, alg: str, *, kid: str, secret: bytes = b"secret") -> str:
    header = {"alg": alg, "kid": kid, "typ": "JWT"}
    signing_input = f"{b64(header)}.{b64(payload)}"
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def tamper_jwt(token: str, change) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(body)
    return f"{header}.{b64(body)}.{signature}"


def deeply_nested_jwt(claim: str = "vc", depth: int = 100_000) -> str:
    """An EdDSA-headed JWT whose claim nests arrays deeper than Python's JSON decoder recurses."""
    header = {"alg": "EdDSA", "kid": "did:key:z6MkexampleNested#z6MkexampleNested"}
    payload = f'{{"{claim}": {"[" * depth}{"]" * depth}}}'.encode()
    return f"{b64(header)}.{b64(payload)}.c2lnbmF0dXJl"
