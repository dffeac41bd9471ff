"""Importing offices from a CSV or JSON file: every valid row is upserted, every invalid one is
reported with its line number, and one bad row never stops the others."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from identity.errors import IdentityError

from .models import Participant
from .services import ParticipantError, office_upsert

REQUIRED = ("st3_code", "name")
OPTIONAL = ("country",)


class OfficeFileError(ValueError):
    """The file as a whole cannot be read (not CSV/JSON, missing columns ...)."""


@dataclass(frozen=True)
class OfficeRow:
    line: int  # 1-based line of the row in the file
    data: dict


@dataclass
class OfficeImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        return (
            f"{self.total} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} failed"
        )


def office_rows_read(path: str | Path) -> list[OfficeRow]:
    """The rows of a `.csv` (header st3_code,name[,country]) or `.json` file (a list of objects,
    or {"offices": [...]}), each with its line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OfficeFileError(f"cannot read {path}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(text)
    if suffix == ".json":
        return _json_rows(text)
    raise OfficeFileError("the file must end in .csv or .json")


def _csv_rows(text: str) -> list[OfficeRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OfficeFileError(f"CSV header lacks column(s): {', '.join(missing)}")
    reader.fieldnames = header
    rows = []
    line = reader.line_num
    for record in reader:
        # line_num counts physical lines read so far; a row starts right after the previous one.
        rows.append(OfficeRow(line=line + 1, data=record))
        line = reader.line_num
    return rows


def _json_rows(text: str) -> list[OfficeRow]:
    """Parse the top-level array element by element so each row keeps its line number."""
    decoder = json.JSONDecoder()

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip_ws(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    try:
        document, _end = decoder.raw_decode(text, skip_ws(0))
    except json.JSONDecodeError as exc:
        raise OfficeFileError(f"not valid JSON: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get("offices"), list):
        start = text.index("[", text.index('"offices"'))
    elif isinstance(document, list):
        start = skip_ws(0)
    else:
        raise OfficeFileError('JSON must be a list of offices or {"offices": [...]}')
    rows = []
    pos = skip_ws(start + 1)
    while pos < len(text) and text[pos] != "]":
        item, end = decoder.raw_decode(text, pos)
        rows.append(OfficeRow(line=line_of(pos), data=item))
        pos = skip_ws(end)
        if pos < len(text) and text[pos] == ",":
            pos = skip_ws(pos + 1)
    return rows


def _text(value, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParticipantError(f"{name} must be a string")
    return value.strip() or None


@transaction.atomic
def _import_row(row: OfficeRow) -> str:
    if not isinstance(row.data, dict):
        raise ParticipantError("a row must be an object with st3_code and name")
    missing = [k for k in REQUIRED if not _text(row.data.get(k), k)]
    if missing:
        raise ParticipantError(f"missing {', '.join(missing)}")
    code = _text(row.data["st3_code"], "st3_code")
    name = _text(row.data["name"], "name")
    country = _text(row.data.get("country"), "country")
    before = (
        Participant.objects.filter(st3_code=code.upper())
        .values_list("display_name", "country")
        .first()
    )
    office, created = office_upsert(
        st3_code=code, name=name, country=country, actor="import_offices"
    )
    if created:
        return "created"
    return "unchanged" if before == (office.display_name, office.country) else "updated"


def offices_import(
    *, rows: Iterable[OfficeRow], progress: Callable[[int], object] | None = None
) -> OfficeImportReport:
    """Upsert each row through `office_upsert`, each in its own transaction."""
    report = OfficeImportReport()
    for row in rows:
        try:
            outcome = _import_row(row)
        except (ParticipantError, IdentityError) as exc:
            report.errors.append((row.line, str(exc)))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if progress:
            progress(1)
    return report
