import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.audit.models import AuditEvent
from registry.participants.models import Participant
from registry.participants.services import office_upsert

pytestmark = pytest.mark.django_db


def _offices():
    return dict(Participant.objects.filter(kind="office").values_list("st3_code", "display_name"))


def test_import_csv(tmp_path, capsys):
    path = tmp_path / "offices.csv"
    path.write_text(
        "st3_code,name,country\n"
        "EP,European Patent Office,EP\n"
        "fr,Institut national de la propriété industrielle,FR\n"
        "GB,Intellectual Property Office,\n",
        encoding="utf-8",
    )
    call_command("import_offices", str(path))
    assert _offices() == {
        "EP": "European Patent Office",
        "FR": "Institut national de la propriété industrielle",
        "GB": "Intellectual Property Office",
    }
    assert Participant.objects.get(st3_code="GB").country == "GB"
    assert Participant.objects.get(st3_code="FR").did.did.endswith(":offices:fr")
    assert "3 rows: 3 created, 0 updated, 0 unchanged, 0 failed" in capsys.readouterr().out


def test_import_csv_reports_bad_rows_by_line_and_imports_the_rest(tmp_path, capsys):
    path = tmp_path / "offices.csv"
    path.write_text(
        "st3_code,name,country,notes\n"  # line 1 (extra columns are ignored)
        "EP,European Patent Office,EP,\n"  # 2
        "XYZ,Too long a code,XY,\n"  # 3
        '"JP","Japan Patent Office",JP,"two\nlines"\n'  # 4-5: a quoted newline
        ",Nameless,,\n"  # 6
        "KR,,KR,\n"  # 7
        "CN,China National Intellectual Property Administration,C1,\n",  # 8
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="6 rows: 2 created, 0 updated, 0 unchanged, 4 failed"):
        call_command("import_offices", str(path))
    # The JP row is fine (it spans two lines).
    assert set(_offices()) == {"EP", "JP"}
    err = capsys.readouterr().err
    assert f"{path}:3: st3_code must be a two-letter" in err
    assert f"{path}:6: missing st3_code" in err
    assert f"{path}:7: missing name" in err
    assert f"{path}:8: country must be a two-letter" in err
    assert f"{path}:4" not in err


def test_import_json_updates_and_counts(tmp_path, capsys):
    office_upsert(st3_code="EP", name="EPO", country="EP")
    office_upsert(st3_code="US", name="United States Patent and Trademark Office", country="US")
    path = tmp_path / "offices.json"
    path.write_text(
        json.dumps(
            [
                {"st3_code": "EP", "name": "European Patent Office", "country": "EP"},
                {"st3_code": "US", "name": "United States Patent and Trademark Office"},
                {"st3_code": "WO", "name": "World Intellectual Property Organization"},
                {"st3_code": 12, "name": "Not a code"},
                ["not", "an", "object"],
            ],
            indent=2,
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="1 created, 1 updated, 1 unchanged, 2 failed"):
        call_command("import_offices", str(path))
    assert _offices()["EP"] == "European Patent Office"
    update = AuditEvent.objects.get(action="office.update")
    assert update.target == Participant.objects.get(st3_code="EP").did.did
    assert update.actor_label == "import_offices"
    assert update.data == {"display_name": "European Patent Office"}
    err = capsys.readouterr().err
    # json.dumps(indent=2): "[" on line 1; EP spans lines 2-6, US 7-10, WO 11-14, then 15, 19.
    assert f"{path}:15: st3_code must be a string" in err
    assert f"{path}:19: a row must be an object" in err


def test_import_json_object_form(tmp_path):
    path = tmp_path / "offices.json"
    path.write_text('{"offices": [{"st3_code": "KR", "name": "KIPO"}]}', encoding="utf-8")
    call_command("import_offices", str(path))
    assert _offices() == {"KR": "KIPO"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("offices.txt", "EP", "must end in .csv or .json"),
        ("offices.csv", "code,title\nEP,x\n", "lacks column"),
        ("offices.json", "{not json", "not valid JSON"),
        ("offices.json", '{"st3_code": "EP"}', "must be a list"),
    ],
)
def test_import_refuses_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("import_offices", str(path))
    assert not Participant.objects.exists()


def test_import_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_offices", str(tmp_path / "nope.csv"))


def test_import_reports_control_characters_and_keeps_going(tmp_path, capsys):
    path = tmp_path / "offices.json"
    path.write_text(
        json.dumps(
            [
                {"st3_code": "EP", "name": "European\u0000Patent Office"},
                {"st3_code": "JP", "name": "Japan\nPatent Office"},
                {"st3_code": "KR", "name": "Korean Intellectual Property Office"},
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="1 created, 0 updated, 0 unchanged, 2 failed"):
        call_command("import_offices", str(path))
    assert set(_offices()) == {"KR"}
    assert capsys.readouterr().err.count("contains the control character") == 2
