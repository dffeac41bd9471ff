from django.core.management.base import BaseCommand

from registry.participants.demo import demo_data_load


class Command(BaseCommand):
    help = (
        "Load the demo offices, agents and applicants (idempotent: a second run changes nothing)."
    )

    def handle(self, *args, **options):
        ctx = demo_data_load(say=lambda line: self.stdout.write(f"  {line}"))
        if ctx.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data: added {len(ctx.created)} items."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data: already loaded, nothing changed."))
