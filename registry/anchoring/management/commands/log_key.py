"""`python manage.py log_key`: print the checkpoint verifier key(s), current first, to publish
out of band (website, README of a deployment) so verifiers can pin it with `verify_log --key`."""

from django.core.management.base import BaseCommand

from registry.anchoring.services import log_verifier_keys


class Command(BaseCommand):
    help = "Print the note verifier key of the anchoring log's checkpoints (current first)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="also the keys of earlier checkpoints (retired)"
        )

    def handle(self, *args, **options):
        keys = log_verifier_keys()
        for key in keys if options["all"] else keys[:1]:
            self.stdout.write(key["verifier_key"])
