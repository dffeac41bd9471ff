import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from identity.dids import registry_did
from identity.models import Did, DidDocumentVersion, DidKey
from registry.participants.demo import DEMO_SUPERUSER, DEMO_SUPERUSER_PASSWORD, demo_data_load
from registry.participants.models import Participant

pytestmark = pytest.mark.django_db

OFFICES = {
    "EP": "European Patent Office",
    "US": "United States Patent and Trademark Office",
    "JP": "Japan Patent Office",
    "CN": "China National Intellectual Property Administration",
    "KR": "Korean Intellectual Property Office",
    "EM": "European Union Intellectual Property Office",
    "WO": "World Intellectual Property Organization (International Bureau)",
}


def _snapshot():
    return {
        "participants": sorted(
            Participant.objects.values_list(
                "kind", "display_name", "country", "st3_code", "did__did"
            )
        ),
        "dids": Did.objects.count(),
        "keys": sorted(DidKey.objects.values_list("did_key", "master_key_id")),
        "versions": DidDocumentVersion.objects.count(),
        "users": sorted(get_user_model().objects.values_list("username", "password")),
    }


def test_demo_data_has_the_offices_agents_and_applicants():
    ctx = demo_data_load()
    offices = dict(
        Participant.objects.filter(kind="office").values_list("st3_code", "display_name")
    )
    assert offices == OFFICES
    assert Participant.objects.get(st3_code="EP").did.did == ("did:web:localhost%3A8000:offices:ep")
    assert Participant.objects.filter(kind="agent").count() >= 2
    assert Participant.objects.filter(kind="applicant").count() >= 2
    assert Did.objects.filter(did=registry_did()).exists()
    assert ctx.offices["WO"].display_name == OFFICES["WO"]
    # Not DEBUG (tests): no superuser.
    assert ctx.superuser is None
    assert not get_user_model().objects.exists()


def test_load_demo_data_twice_changes_nothing(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo_data")
    first = _snapshot()
    assert "added" in capsys.readouterr().out
    call_command("load_demo_data")
    assert _snapshot() == first
    assert "nothing changed" in capsys.readouterr().out


def test_demo_superuser_only_in_debug(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo_data")
    out = capsys.readouterr().out
    user = get_user_model().objects.get(username=DEMO_SUPERUSER)
    assert user.is_superuser
    assert user.check_password(DEMO_SUPERUSER_PASSWORD)
    assert f"{DEMO_SUPERUSER} / {DEMO_SUPERUSER_PASSWORD}" in out
    # Once its password is changed, it is no longer printed.
    user.set_password("something-else-entirely")
    user.save()
    call_command("load_demo_data")
    assert DEMO_SUPERUSER_PASSWORD not in capsys.readouterr().out


def test_demo_keeps_existing_offices():
    # An office imported before with the same code is reused, not duplicated.
    from registry.participants.services import office_upsert

    office, _ = office_upsert(st3_code="EP", name="European Patent Office")
    demo_data_load()
    assert Participant.objects.filter(st3_code="EP").get().pk == office.pk
