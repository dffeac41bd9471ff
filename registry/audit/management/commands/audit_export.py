"""Export the audit trail as JSON lines (oldest first):

manage.py audit_export [--since 2026-01-01T00:00:00Z] [--until ...] [--action accreditation.grant]
                       [--office EP] [--output audit.jsonl]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from registry.audit.selectors import audit_events_filter
from registry.audit.services import audit_export_lines


class Command(BaseCommand):
    help = "Export audit events as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None, help="ISO 8601, inclusive")
        parser.add_argument("--until", default=None, help="ISO 8601, exclusive")
        parser.add_argument("--action", default=None, help="exact action, or a prefix ending in .")
        parser.add_argument("--office", default=None, help="ST.3 code")
        parser.add_argument("--actor", default=None, help="actor label (username, api-key ...)")
        parser.add_argument("--output", default="-", help="file path, - for stdout")

    def handle(self, *args, **options):
        bounds = {}
        for name in ("since", "until"):
            if options[name]:
                try:
                    value = parse_datetime(options[name])
                except ValueError:
                    value = None
                if value is None or value.tzinfo is None:
                    raise CommandError(f"--{name} must be an ISO 8601 date-time with a time zone")
                bounds[name] = value
        events = audit_events_filter(
            action=options["action"],
            office=options["office"],
            actor=options["actor"],
            **bounds,
        )
        try:
            out = self.stdout if options["output"] == "-" else open(options["output"], "w")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc.strerror}") from None
        try:
            count = 0
            for line in audit_export_lines(events.iterator()):
                out.write(line)
                count += 1
        finally:
            if out is not self.stdout:
                out.close()
        self.stderr.write(f"{count} event(s) exported.")
