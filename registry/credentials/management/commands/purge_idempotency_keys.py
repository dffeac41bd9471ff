"""`python manage.py purge_idempotency_keys`: what the hourly beat task does, now (after
lowering IDEMPOTENCY_KEY_RETENTION_HOURS, say, or where no beat runs)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from registry.credentials.services import idempotency_keys_purge


class Command(BaseCommand):
    help = (
        "Forget the Idempotency-Keys of credentials issued more than "
        "IDEMPOTENCY_KEY_RETENTION_HOURS ago (the credentials stay)."
    )

    def handle(self, *args, **options):
        cleared = idempotency_keys_purge()
        self.stdout.write(
            f"{cleared} idempotency key(s) older than "
            f"{settings.IDEMPOTENCY_KEY_RETENTION_HOURS} hours forgotten"
        )
