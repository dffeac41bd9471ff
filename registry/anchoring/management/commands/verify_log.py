"""`python manage.py verify_log --server URL ...`: verify the anchoring log over HTTP.

It never touches the database (no system checks, no ORM), so it runs anywhere the project is
installed; `python -m registry.anchoring.verify` is the same without Django settings (the
installed packages still load).
"""

from django.core.management.base import BaseCommand, CommandError

from registry.anchoring import verify


class Command(BaseCommand):
    help = "Verify the anchoring log of a running registry: checkpoint signature, inclusion, consistency, audit."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version N` is the status list version here, not Django's version flag.
        kwargs["conflict_handler"] = "resolve"
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        verify.add_arguments(parser)

    def handle(self, *args, **options):
        ok = verify.run(
            server=options["server"],
            keys=options["keys"],
            leaf_hash=options["leaf_hash"],
            kind=options["kind"],
            key=options["key_name"],
            status_list=options["status_list"],
            version=options["version"],
            document=options["document"],
            old_checkpoint=options["old_checkpoint"],
            save_checkpoint=options["save_checkpoint"],
            monitor=options["monitor"],
            audit=options["audit"],
            out=self.stdout.write,
        )
        if not ok:
            raise CommandError("the log did not verify")
