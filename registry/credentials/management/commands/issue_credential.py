"""`python manage.py issue_credential --issuer EP --type IPApplicantCredential --subject <DID>
--claims '{"name": ...}'`: issue through the same service as the API; prints the credential."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.api.errors import ApiError
from registry.credentials.context import CREDENTIAL_TYPES
from registry.credentials.services import credential_issue, parse_datetime
from registry.participants.models import Participant


class Command(BaseCommand):
    help = "Issue a credential as an office (or, for IPMandateCredential, as an applicant)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--issuer", required=True, help="An office's ST.3 code, or a registry DID."
        )
        parser.add_argument("--type", required=True, choices=CREDENTIAL_TYPES)
        parser.add_argument("--subject", help="The subject's DID (mandates: the applicant).")
        claims = parser.add_mutually_exclusive_group(required=True)
        claims.add_argument("--claims", help="The subject's claims as a JSON object.")
        claims.add_argument("--claims-file", type=Path, help="A file with the claims (JSON).")
        parser.add_argument("--format", choices=["ldp", "jwt"], default="ldp")
        parser.add_argument("--expires", help="expirationDate (RFC 3339, with a timezone).")

    def handle(self, *args, **options):
        issuer = self._issuer(options["issuer"])
        try:
            text = (
                options["claims_file"].read_text(encoding="utf-8")
                if options["claims_file"]
                else options["claims"]
            )
            claims = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the claims: {exc}") from None
        if not isinstance(claims, dict):
            raise CommandError("the claims must be a JSON object")
        subject = options["subject"] or claims.get("id") or issuer.did.did
        expires = None
        if options["expires"]:
            expires = parse_datetime(options["expires"])
            if expires is None:
                raise CommandError("--expires must be an RFC 3339 date-time with a timezone")
        try:
            issued = credential_issue(
                issuer=issuer,
                credential_type=options["type"],
                subject_did=subject,
                claims=claims,
                proof_format=options["format"],
                expiration_date=expires,
                actor="command:issue_credential",
            )
        except ApiError as exc:
            problems = exc.extra.get("problems")
            detail = f" ({'; '.join(problems)})" if problems else ""
            raise CommandError(f"{exc.detail}{detail}") from None
        document = issued.document
        self.stdout.write(document if isinstance(document, str) else json.dumps(document, indent=2))
        self.stderr.write(f"issued {issued.credential_id}")

    def _issuer(self, value: str) -> Participant:
        query = Participant.objects.select_related("did")
        issuer = (
            query.filter(did__did=value).first()
            if value.startswith("did:")
            else query.filter(st3_code=value.upper()).first()
        )
        if issuer is None:
            raise CommandError(f"no office or participant {value!r}")
        return issuer
