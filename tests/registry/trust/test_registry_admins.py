"""Registry administrators by the group (REGISTRY_ADMIN_GROUP), not superusers: appointed with
`manage.py registry_admin`, they log into the admin and work there without model permissions."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client

from registry.audit.models import AuditEvent
from registry.trust.roles import is_registry_admin
from registry.trust.services import office_member_add, registry_admin_appoint

from .factories import UserFactory, office

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("registry_admin", *args, stdout=out)
    return out.getvalue()


def admin_index_for(user) -> int:
    client = Client()
    client.force_login(user)
    return client.get("/admin/").status_code


def test_the_command_lets_a_group_member_into_the_admin(settings):
    alice = UserFactory(username="alice")
    alice.save()
    assert admin_index_for(alice) == 302  # not staff: the admin's login page

    assert "alice: registry administrator, staff" in run("add", "alice")
    alice.refresh_from_db()
    assert alice.is_staff
    assert not alice.is_superuser
    assert alice.groups.filter(name=settings.REGISTRY_ADMIN_GROUP).exists()
    assert is_registry_admin(alice)
    assert admin_index_for(alice) == 200
    assert "alice\n" in run("list")
    assert AuditEvent.objects.filter(action="registry.admin_appoint", target="user:alice")

    run("remove", "alice")
    alice.refresh_from_db()
    assert not is_registry_admin(alice)
    assert not alice.is_staff
    assert admin_index_for(alice) == 302
    assert AuditEvent.objects.filter(action="registry.admin_dismiss", target="user:alice")


def test_a_dismissed_registry_admin_who_administers_an_office_stays_staff():
    bob = UserFactory(username="bob")
    bob.save()
    office_member_add(actor=None, office=office("EP"), user=bob, role="admin")
    run("add", "bob")
    run("remove", "bob")
    bob.refresh_from_db()
    assert bob.is_staff  # the office administrator still works in the admin


def test_the_command_names_an_unknown_account():
    with pytest.raises(CommandError, match="nobody"):
        run("add", "nobody")


def test_only_a_superuser_appoints_registry_admins():
    member = UserFactory(username="member")
    member.save()
    registry_admin_appoint(actor=None, user=member)
    other = UserFactory(username="other")
    other.save()
    with pytest.raises(PermissionDenied):
        registry_admin_appoint(actor=member, user=other)
    assert not other.groups.exists()
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    root.save()
    registry_admin_appoint(actor=root, user=other)
    assert Group.objects.get().user_set.count() == 2


def test_a_group_registry_admin_sees_a_dids_keys():
    ep = office("EP")
    member = UserFactory(username="member")
    member.save()
    registry_admin_appoint(actor=None, user=member)
    client = Client()
    client.force_login(member)
    page = client.get(f"/admin/identity/did/{ep.did.pk}/change/").content.decode()
    # The keys are an inline: shown only if the inline lets the role in too.
    assert ep.did.keys.get().did_key in page
