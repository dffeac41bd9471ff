"""The WIPO ST.3 code list and its use where participants are created: real codes only."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.participants.models import Participant
from registry.participants.services import ParticipantError, office_upsert, participant_create
from registry.participants.st3 import st3_code_known, st3_codes, st3_name

KNOWN = ["FR", "EP", "WO", "EM", "XX"]
UNKNOWN = ["ZZ", "QQ", "XY"]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("FR", "France"),
        ("DE", "Germany"),
        ("JP", "Japan"),
        ("US", "United States"),
        ("CH", "Switzerland"),
        ("EP", "European Patent Office (EPO)"),
        ("WO", "World Intellectual Property Organization (WIPO)"),
        ("XX", "Unknown states, other entities or organizations"),
    ],
)
def test_known_codes_and_their_names(code, name):
    assert st3_code_known(code)
    assert st3_name(code) == name


@pytest.mark.parametrize("code", [*UNKNOWN, "fr", "FRA", "", None, 33, "E P"])
def test_unknown_codes(code):
    assert not st3_code_known(code)
    assert st3_name(code) is None


def test_the_list_holds_iso_3166_and_the_organisations():
    codes = st3_codes()
    assert len(codes) == len(set(codes)) > 249  # ISO 3166-1 has 249 entries
    assert {"AP", "BX", "EA", "EM", "EP", "GC", "IB", "OA", "QZ", "WO", "XN", "XX"} <= set(codes)
    assert {"XU", "XV"} <= set(codes)  # per ST.3, not confirmed against its text here
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in codes)


@pytest.mark.django_db
@pytest.mark.parametrize("code", KNOWN)
def test_participant_create_accepts_a_known_country(code):
    agent = participant_create(kind="agent", display_name="Agent", country=code.lower())
    assert agent.country == code


@pytest.mark.django_db
@pytest.mark.parametrize("code", UNKNOWN)
def test_participant_create_refuses_an_unknown_country(code):
    with pytest.raises(ParticipantError, match=f"^country: {code} is not a WIPO ST.3 code$"):
        participant_create(kind="applicant", display_name="Applicant", country=code)
    assert not Participant.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["EP", "WO", "EM", "XX", "JP"])
def test_office_upsert_accepts_a_known_code(code):
    office, created = office_upsert(st3_code=code, name=f"Office {code}")
    assert created
    assert (office.st3_code, office.country) == (code, code)


@pytest.mark.django_db
@pytest.mark.parametrize("code", UNKNOWN)
def test_office_upsert_refuses_an_unknown_code_or_country(code):
    with pytest.raises(ParticipantError, match=f"^st3_code: {code} is not a WIPO ST.3 code$"):
        office_upsert(st3_code=code, name="Fake Office")
    with pytest.raises(ParticipantError, match=f"^country: {code} is not a WIPO ST.3 code$"):
        office_upsert(st3_code="EP", name="European Patent Office", country=code)
    office_upsert(st3_code="EP", name="European Patent Office")
    with pytest.raises(ParticipantError, match=f"^country: {code} is not a WIPO ST.3 code$"):
        office_upsert(st3_code="EP", name="European Patent Office", country=code)
    assert list(Participant.objects.values_list("st3_code", "country")) == [("EP", "EP")]


@pytest.mark.django_db
def test_import_offices_reports_unknown_codes(tmp_path, capsys):
    path = tmp_path / "offices.csv"
    path.write_text(
        "st3_code,name,country\n"
        "EP,European Patent Office,EP\n"
        "ZZ,Nowhere Office,ZZ\n"
        "QQ,Fake Office,\n"
        "XX,Other entity,XY\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="4 rows: 1 created, 0 updated, 0 unchanged, 3 failed"):
        call_command("import_offices", str(path))
    assert list(Participant.objects.values_list("st3_code", flat=True)) == ["EP"]
    err = capsys.readouterr().err
    assert f"{path}:3: st3_code: ZZ is not a WIPO ST.3 code" in err
    assert f"{path}:4: st3_code: QQ is not a WIPO ST.3 code" in err
    assert f"{path}:5: country: XY is not a WIPO ST.3 code" in err
