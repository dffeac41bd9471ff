"""Participants' display names are shown in the public directory and the portal and signed into
credentials: text that displays as something else is refused, right-to-left names are not."""

import re

import pytest

from registry.participants.models import Participant
from registry.participants.services import ParticipantError, office_upsert, participant_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Acme\u202eLtd", "bidirectional control U+202E"),  # displays as "Acmedt L"
        ("Acme\u2067Ltd", "bidirectional control U+2067"),
        ("Acme\u0085Ltd", "control character U+0085"),  # C1, a "next line"
        ("Acme\u009bLtd", "control character U+009B"),  # C1 CSI: terminal escapes in logs
        ("Acme\x00Ltd", "control character U+0000"),
        ("\u3000", "1 to 200 characters"),  # only (ideographic) whitespace: stripped to nothing
    ],
)
def test_names_that_would_display_as_something_else_are_refused(name, problem):
    with pytest.raises(ParticipantError, match=re.escape(problem)):
        participant_create(kind="applicant", display_name=name, country="FR")
    with pytest.raises(ParticipantError, match=re.escape(problem)):
        office_upsert(st3_code="EP", name=name)
    assert not Participant.objects.exists()


def test_right_to_left_and_accented_names_are_accepted():
    for name in ("شركة الابتكار\u200f", "Société Générale d’Inventions", "株式会社発明"):
        assert participant_create(kind="applicant", display_name=name, country="FR")


def test_a_name_typed_decomposed_is_stored_composed_and_found_as_typed_either_way():
    decomposed = "Mu\u0308ller Erfindungen GmbH"  # u + combining diaeresis (macOS input)
    composed = "M\u00fcller Erfindungen GmbH"
    participant = participant_create(kind="applicant", display_name=decomposed, country="DE")
    participant.refresh_from_db()
    assert participant.display_name == composed
    office = office_upsert(st3_code="DE", name="Deutsches Patent- und Markenamt (Mu\u0308nchen)")[0]
    assert office.display_name == "Deutsches Patent- und Markenamt (M\u00fcnchen)"
    assert Participant.objects.filter(display_name=composed).count() == 1
