"""Check every stored status list version behind the services' back: its bytes against its
SHA-256, its proof, and its SHA-256 against the anchoring log. Exit status 1 on any problem."""

from django.core.management.base import BaseCommand, CommandError

from registry.status.services import status_lists_audit


class Command(BaseCommand):
    help = "Verify stored status list versions (hash, proof, anchored hash)."

    def handle(self, *args, **options):
        problems = status_lists_audit()
        for problem in problems:
            self.stderr.write(f"{problem.list_id} v{problem.version}: {problem.problem}")
        if problems:
            raise CommandError(f"{len(problems)} status list version(s) failed verification")
        self.stdout.write("every status list version verifies")
