"""Publish every status list with pending changes now (what the beat sweep does)."""

from django.core.management.base import BaseCommand

from registry.status.services import status_outbox_sweep


class Command(BaseCommand):
    help = "Publish (sign and anchor) every status list that has unpublished changes."

    def handle(self, *args, **options):
        published = status_outbox_sweep()
        self.stdout.write(f"{published} status list version(s) published")
