"""Publish every status list with pending changes now (what the beat sweep does, for all of
them): exit status 1 if any list could not be published."""

from django.core.management.base import BaseCommand, CommandError

from registry.status.services import status_outbox_publish_all


class Command(BaseCommand):
    help = (
        "Publish (sign and anchor) every status list that has unpublished changes; exit "
        "status 1 if any could not be published (its changes keep waiting)."
    )

    def handle(self, *args, **options):
        report = status_outbox_publish_all()
        self.stdout.write(f"{report.published} status list version(s) published")
        for failure in report.failed:
            self.stdout.write(f"status list {failure.list_id}: {failure.error}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} status list(s) could not be published; "
                f"{report.pending} change(s) still wait"
            )
