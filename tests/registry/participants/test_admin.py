import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.urls import reverse

from identity.models import DidKey
from registry.audit.models import AuditEvent
from registry.participants.models import Participant

from .factories import ApplicantFactory, OfficeFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:participants_participant_changelist")
ADD = reverse("admin:participants_participant_add")


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_changelist_search_and_filter(admin_client):
    # A code with a letter past F: searched for, it cannot match inside another participant's
    # DID, whose random part is hexadecimal (a code such as AD once matched "...0ada...").
    office = OfficeFactory(display_name="Office of Testing", st3_code="JP", country="JP")
    agent = ParticipantFactory(display_name="Agent Smith IP")
    applicant = ApplicantFactory(display_name="Applicant Widgets")
    page = admin_client.get(CHANGELIST).content.decode()
    for participant in (office, agent, applicant):
        assert participant.display_name in page
        assert participant.did.did in page
    page = admin_client.get(CHANGELIST, {"q": "smith"}).content.decode()
    assert "Agent Smith IP" in page
    assert "Office of Testing" not in page
    page = admin_client.get(CHANGELIST, {"q": office.st3_code}).content.decode()
    assert "Office of Testing" in page
    assert "Agent Smith IP" not in page
    page = admin_client.get(CHANGELIST, {"kind__exact": "applicant"}).content.decode()
    assert "Applicant Widgets" in page
    assert "Agent Smith IP" not in page


def test_add_goes_through_participant_create(admin_client, admin_user):
    response = admin_client.post(
        ADD,
        {
            "kind": "office",
            "display_name": "  Deutsches Patent- und Markenamt ",
            "country": "de",
            "st3_code": "de",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    office = Participant.objects.get(st3_code="DE")
    # Normalised by the service, with its DID and first key.
    assert office.display_name == "Deutsches Patent- und Markenamt"
    assert office.country == "DE"
    assert office.did.did == "did:web:localhost%3A8000:offices:de"
    assert office.did.keys.count() == 1
    assert office.did.versions.count() == 1
    event = AuditEvent.objects.get(action="participant.create", target=office.did.did)
    assert event.actor_label == admin_user.username


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"kind": "office", "display_name": "No code", "country": "FR", "st3_code": ""},
            "st3_code must be a two-letter",
        ),
        (
            {"kind": "agent", "display_name": "Bad country", "country": "F1"},
            "country must be a two-letter",
        ),
        (
            {"kind": "office", "display_name": "Fake", "country": "FR", "st3_code": "zz"},
            "st3_code: ZZ is not a WIPO ST.3 code",
        ),
        (
            {"kind": "agent", "display_name": "Fake country", "country": "QQ"},
            "country: QQ is not a WIPO ST.3 code",
        ),
    ],
)
def test_add_shows_service_errors_on_the_form(admin_client, data, message):
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Participant.objects.exists()


def test_add_refuses_duplicate_office(admin_client):
    OfficeFactory(st3_code="FR")
    response = admin_client.post(
        ADD, {"kind": "office", "display_name": "INPI", "country": "FR", "st3_code": "FR"}
    )
    assert response.status_code == 200
    assert Participant.objects.filter(st3_code="FR").count() == 1


def test_change_page_is_read_only_and_delete_refused(admin_client):
    agent = ParticipantFactory(display_name="Unchanged Name")
    url = reverse("admin:participants_participant_change", args=[agent.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="display_name"' not in page.content.decode()
    admin_client.post(url, {"display_name": "Changed", "kind": "office", "country": "DE"})
    agent.refresh_from_db()
    assert (agent.display_name, agent.kind, agent.country) == ("Unchanged Name", "agent", "FR")
    delete = reverse("admin:participants_participant_delete", args=[agent.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Participant.objects.filter(pk=agent.pk).exists()


def test_rotate_key_action(admin_client):
    agents = [ParticipantFactory(), ParticipantFactory()]
    untouched = ParticipantFactory()
    old_keys = {a.pk: a.did.keys.get().did_key for a in agents}
    response = admin_client.post(
        CHANGELIST,
        {"action": "rotate_key", ACTION_CHECKBOX_NAME: [a.pk for a in agents]},
        follow=True,
    )
    assert "Rotated 2 key(s)." in response.content.decode()
    for agent in agents:
        keys = list(agent.did.keys.order_by("number"))
        assert [k.number for k in keys] == [1, 2]
        assert keys[0].did_key == old_keys[agent.pk]
        assert keys[0].retired_at is not None
        assert keys[1].retired_at is None
        document = agent.did.versions.order_by("-version_id").first().document
        assert document["verificationMethod"][0]["id"].endswith("#key-2")
        assert AuditEvent.objects.filter(action="key.rotate", target=agent.did.did).exists()
    assert untouched.did.keys.count() == 1


def test_deactivate_action_asks_for_confirmation_first(admin_client):
    office = OfficeFactory()
    data = {"action": "deactivate_did", ACTION_CHECKBOX_NAME: [office.pk]}
    response = admin_client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert office.did.deactivated_at is None
    office.did.refresh_from_db()
    assert office.did.deactivated_at is None  # nothing happened yet

    response = admin_client.post(CHANGELIST, {**data, "confirm": "yes"}, follow=True)
    assert "Deactivated 1 DID(s)." in response.content.decode()
    office.did.refresh_from_db()
    assert office.did.deactivated_at is not None
    assert not DidKey.objects.filter(did=office.did, retired_at__isnull=True).exists()
    assert office.did.versions.order_by("-version_id").first().deactivated
    assert AuditEvent.objects.filter(action="did.deactivate", target=office.did.did).count() == 1

    # Again: refused by the DID engine, reported, not a 500.
    response = admin_client.post(CHANGELIST, {**data, "confirm": "yes"}, follow=True)
    assert response.status_code == 200
    assert "is deactivated" in response.content.decode()


def test_staff_without_permissions_cannot_act(client):
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    agent = ParticipantFactory()
    assert client.get(CHANGELIST).status_code == 403
    client.post(CHANGELIST, {"action": "rotate_key", ACTION_CHECKBOX_NAME: [agent.pk]})
    assert agent.did.keys.count() == 1


def test_view_only_staff_cannot_run_the_actions(client):
    # Django runs an action for anyone who may see the list unless the action names the
    # permission it needs: a user given "view participant" must not rotate keys or deactivate.
    from django.contrib.auth.models import Permission

    office = OfficeFactory()
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.org", "pw")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_participant"))
    client.force_login(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "deactivate_did" not in page.content.decode()
    assert "rotate_key" not in page.content.decode()
    for action in ("deactivate_did", "rotate_key"):
        client.post(
            CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [office.pk], "confirm": "yes"}
        )
    office.did.refresh_from_db()
    assert office.did.deactivated_at is None
    assert office.did.keys.count() == 1
    assert not AuditEvent.objects.filter(action__in=["key.rotate", "did.deactivate"]).exists()
