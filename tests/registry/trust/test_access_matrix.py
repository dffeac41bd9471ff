"""Who reaches what: every write endpoint (and admin action) against every role.

Two matrices:
- users (session login): anonymous, two applicants, an officer and an administrator of each of
  two offices (EP, JP), the registry administrator (a superuser), a registry administrator by
  the group (appointed as `manage.py registry_admin add` does: no model permissions), and a
  staff account with no role;
- office API keys: none, EP with every scope, EP without the needed scope, JP, EP revoked,
  EP expired.

Each row names the roles allowed; everyone else must be refused (401/403/404, or the admin's
login redirect) with a clear error, and nothing may change. To cover a new endpoint, add a
`Row` (or `KeyRow`) to the lists below: the world fixture has offices, participants, an EP
credential, accreditations, API keys and members to act on.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from registry.api.models import ApiKey
from registry.api.services import api_key_create, api_key_revoke
from registry.participants.models import Participant
from registry.participants.services import participant_create
from registry.trust.models import IssuerAccreditation, OfficeMembership
from registry.trust.services import (
    accreditation_grant,
    office_member_add,
    registry_admin_appoint,
)

from .factories import UserFactory, office

pytestmark = pytest.mark.django_db

APPLICANT = "IPApplicantCredential"
REPRESENTATIVE = "IPRepresentativeCredential"
USER_ROLES = [
    "anonymous",
    "applicant_a",
    "applicant_b",
    "ep_officer",
    "ep_admin",
    "jp_officer",
    "jp_admin",
    "registry_admin",
    "group_admin",
    "staff",
]
KEY_ROLES = [
    "no_key",
    "ep_key",
    "ep_key_without_scope",
    "jp_key",
    "ep_key_revoked",
    "ep_key_expired",
]


class World:
    """Everything the rows act on, built through the real services."""

    def __init__(self):
        self.ep = office("EP", "European Patent Office")
        self.jp = office("JP", "Japan Patent Office")
        self.ep_root = accreditation_grant(
            office=self.ep, credential_types=[APPLICANT, REPRESENTATIVE]
        )
        self.jp_root = accreditation_grant(
            office=self.jp, credential_types=[APPLICANT, REPRESENTATIVE]
        )
        self.bar = participant_create(kind="agent", display_name="Chamber", country="FR")
        self.firm = participant_create(kind="agent", display_name="Firm", country="FR")
        self.ep_sub = accreditation_grant(
            office=self.bar, credential_types=[REPRESENTATIVE], parent=self.ep_root
        )
        self.users = {}
        for name in USER_ROLES[1:]:
            user = UserFactory(username=name)
            user.save()
            self.users[name] = user
        registry_admin = self.users["registry_admin"]
        registry_admin.is_superuser = registry_admin.is_staff = True
        registry_admin.save()
        registry_admin_appoint(actor=None, user=self.users["group_admin"])
        self.users["staff"].is_staff = True
        self.users["staff"].save(update_fields=["is_staff"])
        self.applicants = {
            name: participant_create(
                kind="applicant", display_name=name, country="FR", user=self.users[name]
            )
            for name in ("applicant_a", "applicant_b")
        }
        for st3, office_ in (("ep", self.ep), ("jp", self.jp)):
            office_member_add(
                actor=None, office=office_, user=self.users[f"{st3}_officer"], role="officer"
            )
            office_member_add(
                actor=None, office=office_, user=self.users[f"{st3}_admin"], role="admin"
            )
        self.newcomer = UserFactory(username="newcomer")
        self.newcomer.save()
        self.ep_api_key, _ = api_key_create(office=self.ep, scopes=["issue"], name="target")
        self.keys = {
            "ep_key": api_key_create(office=self.ep, scopes=["issue", "revoke", "verify"])[1],
            "ep_key_without_scope": api_key_create(office=self.ep, scopes=["resolve"])[1],
            "jp_key": api_key_create(office=self.jp, scopes=["issue", "revoke", "verify"])[1],
        }
        revoked, self.keys["ep_key_revoked"] = api_key_create(
            office=self.ep, scopes=["issue", "revoke"]
        )
        api_key_revoke(api_key=revoked)
        expired, self.keys["ep_key_expired"] = api_key_create(
            office=self.ep,
            scopes=["issue", "revoke"],
            expires_at=timezone.now() + timedelta(hours=1),
        )
        ApiKey.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

    @functools.cached_property
    def ep_credential(self):
        # Issued on first use only: signing (and publishing a status list) is the slow part.
        from registry.credentials.services import credential_issue

        return credential_issue(
            issuer=self.ep,
            credential_type=APPLICANT,
            subject_did=self.applicants["applicant_a"].did.did,
            claims=applicant_claims(),
        )

    def signing_key(self):
        return self.ep.did.keys.filter(retired_at__isnull=True).get()


def applicant_claims() -> dict:
    return {
        "name": "Example Ltd",
        "personType": "legal",
        "country": "FR",
        "address": "1 rue de l'Exemple, 75001 Paris",
        "partyIdentifiers": [{"office": "EP", "partyIdentifier": "48213"}],
    }


@pytest.fixture
def world():
    return World()


# ---------------------------------------------------------------------------------------------
# Users (session) x endpoints


@dataclass
class Row:
    name: str
    method: str
    path: Callable[[World], str]
    allowed: set[str]
    ok: int
    body: Callable[[World], dict] | None = None
    # What the row changes, read before and after: refused requests must leave it unchanged.
    state: Callable[[World], object] = field(default=lambda w: None)


def _acc(pk):
    acc = IssuerAccreditation.objects.get(pk=pk)
    return (acc.suspended_at, acc.withdrawn_at)


def _members(w):
    return sorted(
        OfficeMembership.objects.values_list("user__username", "office__st3_code", "role")
    )


def _keys(w):
    return sorted(ApiKey.objects.values_list("prefix", "revoked_at"))


REGISTRY = {"registry_admin", "group_admin"}
ADMINS_OF_EP = {"ep_admin"} | REGISTRY

ROWS = [
    Row(
        "grant a root accreditation", "post", lambda w: "/trust/accreditations/grant", REGISTRY, 201,
        body=lambda w: {"entity_id": w.jp.did.did, "credential_types": ["IPMandateCredential"]},
        state=lambda w: IssuerAccreditation.objects.count(),
    ),
    Row(
        "delegate under EP", "post", lambda w: "/trust/accreditations/grant", ADMINS_OF_EP, 201,
        body=lambda w: {"entity_id": w.firm.did.did, "credential_types": [REPRESENTATIVE],
                        "parent": w.ep_root.pk},
        state=lambda w: IssuerAccreditation.objects.count(),
    ),
    Row(
        "delegate under JP", "post", lambda w: "/trust/accreditations/grant",
        {"jp_admin"} | REGISTRY, 201,
        body=lambda w: {"entity_id": w.firm.did.did, "credential_types": [APPLICANT],
                        "parent": w.jp_root.pk},
        state=lambda w: IssuerAccreditation.objects.count(),
    ),
    Row(
        "suspend EP's root accreditation", "post",
        lambda w: f"/trust/accreditations/{w.ep_root.pk}/suspend", REGISTRY, 200,
        body=lambda w: {"reason": "matrix"}, state=lambda w: _acc(w.ep_root.pk),
    ),
    Row(
        "suspend a delegation under EP", "post",
        lambda w: f"/trust/accreditations/{w.ep_sub.pk}/suspend", ADMINS_OF_EP, 200,
        body=lambda w: {}, state=lambda w: _acc(w.ep_sub.pk),
    ),
    Row(
        "withdraw a delegation under EP", "post",
        lambda w: f"/trust/accreditations/{w.ep_sub.pk}/withdraw", ADMINS_OF_EP, 200,
        body=lambda w: {}, state=lambda w: _acc(w.ep_sub.pk),
    ),
    Row(
        "withdraw JP's root accreditation", "post",
        lambda w: f"/trust/accreditations/{w.jp_root.pk}/withdraw", REGISTRY, 200,
        body=lambda w: {}, state=lambda w: _acc(w.jp_root.pk),
    ),
    Row("list EP's members", "get", lambda w: "/trust/offices/EP/members", ADMINS_OF_EP, 200),
    Row(
        "add an EP officer", "post", lambda w: "/trust/offices/EP/members", ADMINS_OF_EP, 201,
        body=lambda w: {"username": "newcomer", "role": "officer"}, state=_members,
    ),
    Row(
        "appoint an EP administrator", "post", lambda w: "/trust/offices/EP/members", REGISTRY, 201,
        body=lambda w: {"username": "newcomer", "role": "admin"}, state=_members,
    ),
    Row(
        "remove an EP officer", "delete", lambda w: "/trust/offices/EP/members/ep_officer",
        ADMINS_OF_EP, 204, state=_members,
    ),
    Row(
        "remove an EP administrator", "delete", lambda w: "/trust/offices/EP/members/ep_admin",
        REGISTRY, 204, state=_members,
    ),
    Row("list EP's API keys", "get", lambda w: "/trust/offices/EP/api-keys", ADMINS_OF_EP, 200),
    Row(
        "create an EP API key", "post", lambda w: "/trust/offices/EP/api-keys", ADMINS_OF_EP, 201,
        body=lambda w: {"scopes": ["verify"], "name": "matrix"}, state=_keys,
    ),
    Row(
        "revoke an EP API key", "post", lambda w: f"/trust/api-keys/{w.ep_api_key.prefix}/revoke",
        ADMINS_OF_EP, 200, state=_keys,
    ),
    Row(
        "rotate an EP API key", "post", lambda w: f"/trust/api-keys/{w.ep_api_key.prefix}/rotate",
        ADMINS_OF_EP, 201, state=_keys,
    ),
    Row(
        "rotate EP's signing key", "post", lambda w: "/trust/offices/EP/signing-key/rotate",
        ADMINS_OF_EP, 201, state=lambda w: w.ep.did.keys.count(),
    ),
    Row(
        "mark EP's key compromised", "post", lambda w: "/trust/keys/compromised", ADMINS_OF_EP, 200,
        body=lambda w: {"did_key": w.signing_key().did_key, "since": timezone.now().isoformat()},
        state=lambda w: list(w.ep.did.keys.values_list("compromised_at", flat=True)),
    ),
    Row("export the audit trail", "get", lambda w: "/audit/events", REGISTRY, 200),
]  # fmt: skip


def client_as(world: World, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def assert_refused(response, context: str):
    assert response.status_code in (401, 403, 404), f"{context}: {response.status_code}"
    body = response.json()
    assert body["error"], context
    assert len(body["message"]) > 5, context


@contextlib.contextmanager
def rolled_back():
    """Each role acts on the same world: its changes are undone before the next one acts."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_user_matrix(world, row: Row):
    path, body = row.path(world), row.body(world) if row.body else None
    before = row.state(world)
    for role in USER_ROLES:
        context = f"{role} -> {row.name}"
        with rolled_back():
            client = client_as(world, role)
            response = getattr(client, row.method)(path, body, format="json")
            if role in row.allowed:
                assert response.status_code == row.ok, (
                    f"{context}: {response.status_code} {response.content[:300]}"
                )
                if row.method != "get":
                    assert row.state(world) != before, f"{context}: nothing changed"
            else:
                assert_refused(response, context)
                assert row.state(world) == before, f"{context}: refused but changed something"


# ---------------------------------------------------------------------------------------------
# Django admin: screens and actions


@dataclass
class AdminRow:
    name: str
    path: Callable[[World], str]
    allowed: set[str]
    data: Callable[[World], dict] | None = None  # POST (an action) when given
    state: Callable[[World], object] = field(default=lambda w: None)


ADMIN_ROWS = [
    AdminRow("audit trail", lambda w: "/admin/audit/auditevent/", REGISTRY),
    AdminRow("accreditations", lambda w: "/admin/trust/issueraccreditation/", ADMINS_OF_EP | {"jp_admin"}),
    AdminRow("API keys", lambda w: "/admin/api/apikey/", ADMINS_OF_EP | {"jp_admin"}),
    AdminRow(
        "withdraw EP's delegation (admin action)",
        lambda w: "/admin/trust/issueraccreditation/", ADMINS_OF_EP,
        data=lambda w: {"action": "withdraw", "_selected_action": [w.ep_sub.pk]},
        state=lambda w: _acc(w.ep_sub.pk),
    ),
    AdminRow(
        "suspend EP's root (admin action)",
        lambda w: "/admin/trust/issueraccreditation/", REGISTRY,
        data=lambda w: {"action": "suspend", "_selected_action": [w.ep_root.pk]},
        state=lambda w: _acc(w.ep_root.pk),
    ),
    AdminRow(
        "revoke an EP API key (admin action)",
        lambda w: "/admin/api/apikey/", ADMINS_OF_EP,
        data=lambda w: {"action": "revoke", "_selected_action": [w.ep_api_key.pk]},
        state=_keys,
    ),
    AdminRow(
        # Office administrators may open the form (delegations); the service refuses a root.
        "grant a root accreditation (admin form)",
        lambda w: "/admin/trust/issueraccreditation/add/", REGISTRY,
        data=lambda w: {"office": w.jp.pk, "credential_types": "IPMandateCredential"},
        state=lambda w: IssuerAccreditation.objects.count(),
    ),
    AdminRow(
        "rotate EP's signing key (admin action)",
        lambda w: "/admin/trust/issuersigningkeys/", ADMINS_OF_EP,
        data=lambda w: {"action": "rotate_signing_key", "_selected_action": [w.ep.pk]},
        state=lambda w: w.ep.did.keys.count(),
    ),
]  # fmt: skip


@pytest.mark.parametrize("row", ADMIN_ROWS, ids=lambda r: r.name)
def test_admin_matrix(world, row: AdminRow):
    path, data = row.path(world), row.data(world) if row.data else None
    before = row.state(world)
    for role in USER_ROLES:
        context = f"{role} -> {row.name}"
        with rolled_back():
            client = Client()
            if role != "anonymous":
                client.force_login(world.users[role])
            response = client.post(path, data) if data else client.get(path)
            if role in row.allowed:
                assert response.status_code in (200, 302), context
                if data:
                    assert row.state(world) != before, f"{context}: the action did nothing"
                continue
            # Not staff: the admin's login page; staff without rights: 403; either way no change.
            if response.status_code == 302:
                # To the login page; or, for an action over objects outside the user's
                # queryset, back to the list with Django's "no items selected" message.
                assert "/admin/login/" in response["Location"] or (
                    data is not None and response["Location"] == path
                ), context
            else:
                assert response.status_code in (200, 403), context
                if response.status_code == 200:  # a changelist the action could not touch
                    assert data is not None, f"{context}: should not see this screen"
            assert row.state(world) == before, f"{context}: refused but changed something"


# ---------------------------------------------------------------------------------------------
# Office API keys x endpoints


@dataclass
class KeyRow:
    name: str
    method: str
    path: Callable[[World], str]
    allowed: set[str]
    ok: int
    body: Callable[[World], dict] | None = None
    state: Callable[[World], object] = field(default=lambda w: None)


def _issued_count(w):
    from registry.credentials.models import IssuedCredential

    return IssuedCredential.objects.count()


def _status_of(w):
    from registry.status.models import StatusEntry

    return list(StatusEntry.objects.values_list("credential_id", "state").order_by("pk"))


KEY_ROWS = [
    KeyRow(
        # Each office issues for itself (JP is accredited too); the rows below are EP's.
        "issue a credential", "post", lambda w: "/credentials/issue", {"ep_key", "jp_key"}, 201,
        body=lambda w: {
            "credential": {
                "type": ["VerifiableCredential", APPLICANT],
                "credentialSubject": {"id": w.applicants["applicant_b"].did.did, **applicant_claims()},
            }
        },
        state=_issued_count,
    ),
    KeyRow(
        "read EP's credential", "get",
        lambda w: f"/credentials/{w.ep_credential.credential_id}", {"ep_key"}, 200,
    ),
    KeyRow(
        "revoke EP's credential", "post", lambda w: "/credentials/status", {"ep_key"}, 200,
        body=lambda w: {
            "credentialId": w.ep_credential.credential_id,
            "credentialStatus": [{"type": "StatusList2021Credential", "status": "revoked"}],
        },
        state=_status_of,
    ),
]  # fmt: skip


@pytest.mark.parametrize("row", KEY_ROWS, ids=lambda r: r.name)
def test_api_key_matrix(world, row: KeyRow):
    path, body = row.path(world), row.body(world) if row.body else None
    before = row.state(world)
    for role in KEY_ROLES:
        context = f"{role} -> {row.name}"
        with rolled_back():
            client = APIClient()
            if role != "no_key":
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.keys[role]}")
            response = getattr(client, row.method)(path, body, format="json")
            if role in row.allowed:
                assert response.status_code == row.ok, (
                    f"{context}: {response.status_code} {response.content[:300]}"
                )
                continue
            assert_refused(response, context)
            assert row.state(world) == before, f"{context}: refused but changed something"
            expected = {
                "no_key": 401,
                "ep_key_revoked": 401,
                "ep_key_expired": 401,
                "ep_key_without_scope": 403,
            }.get(role)
            if expected:
                assert response.status_code == expected, context
            if expected == 401:
                assert response["WWW-Authenticate"].startswith("Bearer"), context


def test_user_model_is_the_default():
    # The matrix logs users in by username; a custom user model would need its own factory.
    assert get_user_model().USERNAME_FIELD == "username"


# ---------------------------------------------------------------------------------------------
# Every other admin screen: registry administrators only (office administrators are staff, so
# this also checks that no ModelAdmin lets them in by accident). Registry administrators by the
# group have no Django model permissions: the screens let them in by their role. User accounts
# and groups stay the superuser's.

OWN_ADMIN_SCREENS = {
    "audit.auditevent",
    "trust.issueraccreditation",
    "trust.officemembership",
    "trust.issuersigningkeys",
    "api.apikey",
}


def _other_admin_screens():
    from django.contrib import admin

    return sorted(
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model in admin.site._registry
        if f"{model._meta.app_label}.{model._meta.model_name}" not in OWN_ADMIN_SCREENS
    )


SUPERUSER_ONLY_SCREENS = {"auth.user", "auth.group"}


@pytest.mark.parametrize("screen", _other_admin_screens())
def test_other_admin_screens_are_for_registry_admins_only(world, screen):
    from django.apps import apps

    path = "/admin/{}/{}/".format(*screen.split("."))
    first = apps.get_model(screen).objects.order_by("pk").first()
    for role in USER_ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.get(path)
        context = f"{role} -> {path}"
        if role == "registry_admin" or (
            role == "group_admin" and screen not in SUPERUSER_ONLY_SCREENS
        ):
            assert response.status_code == 200, context
            if first is not None:  # and a row's own page
                page = client.get(f"{path}{first.pk}/change/")
                assert page.status_code == 200, f"{context}{first.pk}/change/"
        elif role in {"ep_admin", "jp_admin", "staff", "group_admin"}:  # staff without rights
            assert response.status_code == 403, context
        else:
            assert response.status_code == 302, context
            assert "/admin/login/" in response["Location"], context


OTHER_ADMIN_ACTIONS = [
    AdminRow(
        "rotate a participant's key (participants admin)",
        lambda w: "/admin/participants/participant/", REGISTRY,
        data=lambda w: {"action": "rotate_key", "_selected_action": [w.ep.pk]},
        state=lambda w: w.ep.did.keys.count(),
    ),
    AdminRow(
        "revoke a credential (status admin)",
        lambda w: "/admin/status/statusentry/", REGISTRY,
        data=lambda w: {
            "action": "revoke_selected",
            "_selected_action": [_entry_of(w.ep_credential.credential_id)],
        },
        state=_status_of,
    ),
    AdminRow(
        "issue a credential (credentials admin's form)",
        lambda w: "/admin/credentials/issuedcredential/add/", REGISTRY,
        data=lambda w: {
            "issuing_participant": w.ep.pk,
            "type": APPLICANT,
            "subject": w.applicants["applicant_b"].did.did,
            "claims": json.dumps(applicant_claims()),
            "format": "ldp",
            "idempotency_key": "matrix",
        },
        state=_issued_count,
    ),
    AdminRow(
        "add a participant (participants admin's form)",
        lambda w: "/admin/participants/participant/add/", REGISTRY,
        data=lambda w: {"kind": "agent", "display_name": "Newcomer LLP", "country": "FR"},
        state=lambda w: Participant.objects.count(),
    ),
]  # fmt: skip


def _entry_of(credential_id):
    from registry.status.models import StatusEntry

    return StatusEntry.objects.get(credential_id=credential_id).pk


@pytest.mark.parametrize("row", OTHER_ADMIN_ACTIONS, ids=lambda r: r.name)
def test_other_admin_actions(world, row: AdminRow):
    path, data = row.path(world), row.data(world)
    before = row.state(world)
    for role in USER_ROLES:
        context = f"{role} -> {row.name}"
        with rolled_back():
            client = Client()
            if role != "anonymous":
                client.force_login(world.users[role])
            response = client.post(path, data)
            if role in row.allowed:
                assert response.status_code in (200, 302), context
                assert row.state(world) != before, f"{context}: the action did nothing"
            else:
                assert response.status_code in (302, 403), context
                if response.status_code == 302:
                    assert "/admin/login/" in response["Location"], context
                assert row.state(world) == before, f"{context}: refused but changed something"
