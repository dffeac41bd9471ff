from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from registry.participants.imports import OfficeFileError, office_rows_read, offices_import


class Command(BaseCommand):
    help = (
        "Create or update IP offices from a .csv (columns st3_code,name[,country]) or .json "
        "file (a list of {st3_code, name, country}). Invalid rows are reported with their line "
        "numbers; valid rows are still imported; the exit status is 1 if any row failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a .csv or .json file")

    def handle(self, *args, file, **options):
        try:
            rows = office_rows_read(file)
        except OfficeFileError as exc:
            raise CommandError(str(exc)) from exc
        with tqdm(total=len(rows), unit="office", file=self.stderr._out, leave=False) as bar:
            report = offices_import(rows=rows, progress=bar.update)
        for line, message in report.errors:
            self.stderr.write(f"{file}:{line}: {message}")
        if report.failed:
            raise CommandError(f"Imported offices with errors: {report.summary()}")
        self.stdout.write(self.style.SUCCESS(f"Imported offices: {report.summary()}"))
