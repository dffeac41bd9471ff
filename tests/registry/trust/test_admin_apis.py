"""The administration endpoints, responses checked against the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.trust.models import OfficeMembership
from registry.trust.services import accreditation_grant, office_member_add
from tests.openapi_check import assert_response_matches_schema

from .factories import UserFactory, office, participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def ep():
    return office("EP")


@pytest.fixture
def root_client():
    user = UserFactory(is_superuser=True, is_staff=True)
    user.save()
    client = APIClient()
    client.default_format = "json"
    client.force_login(user)
    return client


@pytest.fixture
def ep_admin_client(ep):
    user = UserFactory()
    user.save()
    office_member_add(actor=None, office=ep, user=user, role="admin")
    client = APIClient()
    client.default_format = "json"
    client.force_login(user)
    return client


def checked(response, status, method="POST"):
    assert response.status_code == status, response.content[:300]
    if status != 204:
        assert_response_matches_schema(response, method=method)
    return response.json() if status != 204 else None


def test_accreditation_life_cycle_over_http(root_client, ep_admin_client, ep):
    root = checked(
        root_client.post(
            "/trust/accreditations/grant",
            {"entity_id": ep.did.did, "credential_types": ["IPApplicantCredential"]},
            format="json",
        ),
        201,
    )
    assert root["accredited_by"].startswith("did:web:")
    chamber = participant(kind="agent", name="Chamber")
    sub = checked(
        ep_admin_client.post(
            "/trust/accreditations/grant",
            {"entity_id": chamber.did.did, "credential_types": ["IPApplicantCredential"],
             "parent": root["id"]},
            format="json",
        ),
        201,
    )  # fmt: skip
    assert sub["accredited_by"] == ep.did.did
    refused = ep_admin_client.post(
        "/trust/accreditations/grant",
        {"entity_id": chamber.did.did, "credential_types": ["IPMandateCredential"],
         "parent": root["id"]},
        format="json",
    )  # fmt: skip
    assert refused.status_code == 400
    assert "never grants more" in refused.json()["message"]
    body = checked(
        ep_admin_client.post(f"/trust/accreditations/{sub['id']}/suspend", {"reason": "x"}), 200
    )
    assert body["status"] == "suspended"
    body = checked(ep_admin_client.post(f"/trust/accreditations/{sub['id']}/reinstate"), 200)
    assert body["status"] == "active"
    body = checked(root_client.post(f"/trust/accreditations/{root['id']}/withdraw", {}), 200)
    assert [a["id"] for a in body["withdrawn"]] == [root["id"], sub["id"]]
    again = ep_admin_client.post(f"/trust/accreditations/{sub['id']}/reinstate")
    assert again.status_code == 400


def test_members_over_http(ep_admin_client, ep):
    newcomer = UserFactory(username="newcomer")
    newcomer.save()
    body = checked(
        ep_admin_client.post(
            "/trust/offices/ep/members", {"username": "newcomer", "role": "officer"}, format="json"
        ),
        201,
    )
    assert body == {
        "username": "newcomer",
        "role": "officer",
        "office": "EP",
        "created_at": body["created_at"],
    }
    listing = checked(ep_admin_client.get("/trust/offices/EP/members"), 200, method="GET")
    assert {m["username"] for m in listing["members"]} >= {"newcomer"}
    # A user works for one office only.
    jp = office("JP")
    office_member_add(actor=None, office=jp, user=UserFactory(username="jp_user"), role="officer")
    response = ep_admin_client.post(
        "/trust/offices/EP/members", {"username": "jp_user", "role": "officer"}, format="json"
    )
    assert response.status_code == 400
    assert "already works for" in response.json()["message"]
    checked(ep_admin_client.delete("/trust/offices/EP/members/newcomer"), 204)
    assert not OfficeMembership.objects.filter(user=newcomer).exists()
    assert ep_admin_client.delete("/trust/offices/EP/members/newcomer").status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="office.", target="user:newcomer")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["office.member_add", "office.member_remove"]


def test_api_keys_over_http(ep_admin_client, ep):
    created = checked(
        ep_admin_client.post(
            "/trust/offices/EP/api-keys", {"scopes": ["issue"], "name": "ci"}, format="json"
        ),
        201,
    )
    assert created["key"].startswith("ipr_")
    listing = checked(ep_admin_client.get("/trust/offices/EP/api-keys"), 200, method="GET")
    assert [k["prefix"] for k in listing["api_keys"]] == [created["prefix"]]
    assert "key" not in listing["api_keys"][0]
    rotated = checked(ep_admin_client.post(f"/trust/api-keys/{created['prefix']}/rotate"), 201)
    assert rotated["prefix"] != created["prefix"]
    revoked = checked(ep_admin_client.post(f"/trust/api-keys/{rotated['prefix']}/revoke"), 200)
    assert revoked["revoked_at"] is not None


def test_grant_for_an_unknown_entity_is_404(root_client):
    response = root_client.post(
        "/trust/accreditations/grant",
        {"entity_id": "did:web:elsewhere.example", "credential_types": ["IPApplicantCredential"]},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


def test_accreditation_of_a_root_is_visible_in_the_query_api(root_client, ep):
    accreditation_grant(office=ep, credential_types=["IPApplicantCredential"])
    response = APIClient().get("/trust/accreditations", {"entity_id": ep.did.did})
    assert_response_matches_schema(response)


def test_an_office_admin_cannot_demote_another_admin_then_remove_them(ep_admin_client, ep):
    # Only registry administrators appoint or remove office administrators; "adding" a fellow
    # administrator again with the officer role must not take that power back through the side.
    colleague = UserFactory(username="colleague")
    colleague.save()
    office_member_add(actor=None, office=ep, user=colleague, role="admin")
    response = ep_admin_client.post(
        "/trust/offices/EP/members", {"username": "colleague", "role": "officer"}, format="json"
    )
    assert response.status_code == 403
    assert "registry administrator" in response.json()["message"]
    assert OfficeMembership.objects.get(user=colleague, office=ep).role == "admin"
    assert ep_admin_client.delete("/trust/offices/EP/members/colleague").status_code == 403
    assert OfficeMembership.objects.filter(user=colleague, office=ep, role="admin").exists()


def test_a_registry_admin_may_change_an_office_admin_into_an_officer(root_client, ep):
    colleague = UserFactory(username="colleague")
    colleague.save()
    office_member_add(actor=None, office=ep, user=colleague, role="admin")
    body = checked(
        root_client.post(
            "/trust/offices/EP/members", {"username": "colleague", "role": "officer"}, format="json"
        ),
        201,
    )
    assert body["role"] == "officer"


def test_an_office_admin_leaves_the_admin_when_no_longer_one(root_client, ep):
    colleague = UserFactory(username="colleague")
    colleague.save()
    office_member_add(actor=None, office=ep, user=colleague, role="admin")
    colleague.refresh_from_db()
    assert colleague.is_staff  # office administrators work in the admin
    checked(
        root_client.post(
            "/trust/offices/EP/members", {"username": "colleague", "role": "officer"}, format="json"
        ),
        201,
    )
    colleague.refresh_from_db()
    assert not colleague.is_staff  # demoted: no admin login left behind
    office_member_add(actor=None, office=ep, user=colleague, role="admin")
    assert root_client.delete("/trust/offices/EP/members/colleague").status_code == 204
    colleague.refresh_from_db()
    assert not colleague.is_staff  # removed: the same

    # Staff for another reason (a superuser) stays staff.
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    boss.save()
    office_member_add(actor=None, office=ep, user=boss, role="admin")
    assert root_client.delete("/trust/offices/EP/members/boss").status_code == 204
    boss.refresh_from_db()
    assert boss.is_staff
