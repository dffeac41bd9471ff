from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from identity.crypto.encryption import MasterKeyRing
from identity.crypto.errors import MasterKeyError
from identity.models import DidKey
from identity.services import master_key_reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every private key under the first master key of REGISTRY_MASTER_KEYS. "
        "Put the new key first ('new:...,old:...'), run this, then the old key can be removed. "
        "Idempotent: keys already under the current master key are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="keys re-encrypted per transaction"
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            ring = MasterKeyRing.from_settings()
        except MasterKeyError as exc:
            raise CommandError(f"REGISTRY_MASTER_KEYS: {exc}") from exc
        pending = DidKey.objects.exclude(master_key_id=ring.current_kid).count()
        self.stdout.write(
            f"Current master key: {ring.current_kid}; {pending} private key(s) to re-encrypt."
        )
        try:
            with tqdm(total=pending, unit="key", file=self.stderr._out, leave=False) as bar:
                changed = master_key_reencrypt_all(batch_size=batch_size, progress=bar.update)
        except MasterKeyError as exc:
            # e.g. a key encrypted under a master key no longer in the ring: nothing is lost,
            # the batches done so far are committed and a re-run continues.
            raise CommandError(f"stopped: {exc}") from exc
        left = DidKey.objects.exclude(master_key_id=ring.current_kid).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {changed} key(s) under {ring.current_kid}; {left} left under "
                "other master keys."
            )
        )
        if left:
            raise CommandError(f"{left} key(s) are still under another master key")
