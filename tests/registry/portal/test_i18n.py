"""French is complete: every message of the portal has a translation, and the compiled
catalogue (committed, since a fresh machine may lack gettext) matches the .po file."""

import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(text: str):
    """(msgid, [msgstr...]) of each non-obsolete entry, multi-line strings joined."""
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        if not lines:
            continue
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            yield fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")]


def test_every_message_is_translated():
    entries = list(_entries(PO.read_text(encoding="utf-8")))
    assert len(entries) > 300
    untranslated = [msgid for msgid, strs in entries if not all(strs)]
    assert untranslated == []
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")


def test_compiled_catalogue_matches_the_po():
    with MO.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    for msgid, strs in _entries(PO.read_text(encoding="utf-8")):
        if len(strs) == 1:
            expected = strs[0].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            assert (
                catalogue.gettext(
                    msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
                )
                == expected
            ), msgid
