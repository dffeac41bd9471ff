"""The readiness report of `GET /api/ready`, for cron, monitoring agents and container probes:

    manage.py health [--json]

One line per check (database, cache, statusPublishing). Exit status as monitoring plugins read
it: 0 ok, 1 degraded, 2 down.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from registry.health import DEGRADED, DOWN, health_report

EXIT_STATUS = {DEGRADED: 1, DOWN: 2}


class Command(BaseCommand):
    help = "Check the database, the cache and the status publishing lag (exit 0 ok, 1 degraded, 2 down)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        report = health_report(explain_errors=True)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for check in report.checks:
                extra = " ".join(f"{k}={v}" for k, v in check.data.items())
                self.stdout.write(
                    f"{check.name:<17} {check.status:<8} {check.detail}"
                    + (f" ({extra})" if extra else "")
                )
            self.stdout.write(f"{'overall':<17} {report.status}")
        if report.status in EXIT_STATUS:
            raise SystemExit(EXIT_STATUS[report.status])
