import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from registry.participants.demo import demo_data_load
from registry.portal import demo
from registry.trust.models import OfficeMembership

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_demo_portal_users_log_in_and_see_their_pages(client):
    lines = []
    demo_data_load(say=lines.append)
    assert any(demo.DEMO_APPLICANT_EMAIL in line for line in lines)
    users = get_user_model().objects
    before = sorted(users.values_list("username", "password"))
    ctx = demo_data_load()  # idempotent
    assert sorted(users.values_list("username", "password")) == before
    assert not [c for c in ctx.created if "portal" in c or "officer" in c]

    assert client.login(username=demo.DEMO_APPLICANT_EMAIL, password=demo.DEMO_PORTAL_PASSWORD)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Acme Robotics GmbH" in page
    assert client.login(username=demo.DEMO_AGENT_EMAIL, password=demo.DEMO_PORTAL_PASSWORD)
    assert client.get(reverse("portal:mandates")).status_code == 200
    assert client.login(username=demo.DEMO_OFFICER_EMAIL, password=demo.DEMO_PORTAL_PASSWORD)
    assert client.get(reverse("portal:office-queue", args=["EP"])).status_code == 200
    assert client.login(username=demo.DEMO_OFFICE_ADMIN_EMAIL, password=demo.DEMO_PORTAL_PASSWORD)
    assert client.get(reverse("portal:admin-office", args=["EP"])).status_code == 200
    assert OfficeMembership.objects.filter(office__st3_code="EP").count() == 2


def test_no_demo_portal_users_without_debug():
    demo_data_load()
    assert not get_user_model().objects.filter(username__endswith="demo.example").exists()
