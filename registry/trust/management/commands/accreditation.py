"""Accreditations from the command line (the system acts; every change is audited):

manage.py accreditation grant --office EP --types IPApplicantCredential,IPRepresentativeCredential
                              [--valid-from ISO] [--valid-until ISO]
manage.py accreditation grant --issuer <DID> --types IPRepresentativeCredential --parent 1
manage.py accreditation list [--office EP]
manage.py accreditation suspend|reinstate|withdraw <id> [--reason ...]
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from registry.participants.models import Participant
from registry.trust.models import IssuerAccreditation
from registry.trust.services import (
    accreditation_grant,
    accreditation_reinstate,
    accreditation_state,
    accreditation_suspend,
    accreditation_withdraw,
)

ACTOR = "manage.py accreditation"


def _when(value: str | None, name: str):
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"--{name} must be an ISO 8601 date-time with a time zone")
    return parsed


class Command(BaseCommand):
    help = "Grant, list, suspend, reinstate and withdraw issuer accreditations."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        grant = sub.add_parser("grant")
        who = grant.add_mutually_exclusive_group(required=True)
        who.add_argument("--office", help="an office's ST.3 code")
        who.add_argument("--issuer", help="a participant's registry DID (sub-issuers)")
        grant.add_argument("--types", required=True, help="comma separated credential types")
        grant.add_argument("--valid-from", default=None)
        grant.add_argument("--valid-until", default=None)
        grant.add_argument("--parent", type=int, default=None, help="parent accreditation id")
        listing = sub.add_parser("list")
        listing.add_argument("--office", default=None)
        for name in ("suspend", "reinstate", "withdraw"):
            change = sub.add_parser(name)
            change.add_argument("id", type=int)
            if name != "reinstate":
                change.add_argument("--reason", default="")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _participant(self, options) -> Participant:
        if options.get("office"):
            found = Participant.objects.filter(
                kind=Participant.Kind.OFFICE, st3_code=options["office"].upper()
            ).first()
        else:
            found = Participant.objects.filter(did__did=options["issuer"]).first()
        if found is None:
            raise CommandError("no such office or participant")
        return found

    def _accreditation(self, pk: int) -> IssuerAccreditation:
        found = IssuerAccreditation.objects.filter(pk=pk).first()
        if found is None:
            raise CommandError(f"no accreditation {pk}")
        return found

    def _grant(self, options):
        parent = self._accreditation(options["parent"]) if options["parent"] else None
        acc = accreditation_grant(
            office=self._participant(options),
            credential_types=options["types"],
            valid_from=_when(options["valid_from"], "valid-from"),
            valid_until=_when(options["valid_until"], "valid-until"),
            parent=parent,
            actor=ACTOR,
        )
        self.stdout.write(f"Accreditation {acc.pk} granted: {self._line(acc)}")

    def _list(self, options):
        rows = IssuerAccreditation.objects.select_related("office").order_by("pk")
        if options["office"]:
            rows = rows.filter(office__st3_code=options["office"].upper())
        for acc in rows:
            self.stdout.write(self._line(acc))

    def _suspend(self, options):
        accreditation_suspend(
            accreditation=self._accreditation(options["id"]), reason=options["reason"], actor=ACTOR
        )
        self.stdout.write(f"Accreditation {options['id']} suspended.")

    def _reinstate(self, options):
        accreditation_reinstate(accreditation=self._accreditation(options["id"]), actor=ACTOR)
        self.stdout.write(f"Accreditation {options['id']} reinstated.")

    def _withdraw(self, options):
        withdrawn = accreditation_withdraw(
            accreditation=self._accreditation(options["id"]), reason=options["reason"], actor=ACTOR
        )
        self.stdout.write(f"Withdrawn: {', '.join(str(a.pk) for a in withdrawn) or 'nothing'}.")

    def _line(self, acc: IssuerAccreditation) -> str:
        return (
            f"{acc.pk:>5}  {acc.office.st3_code or acc.office.did.did:<10}  "
            f"{','.join(acc.credential_types):<50}  from={acc.valid_from:%Y-%m-%d}  "
            f"until={acc.valid_until.strftime('%Y-%m-%d') if acc.valid_until else '-':<10}  "
            f"parent={acc.parent_id or '-'}  {accreditation_state(acc, timezone.now())}"
        )
