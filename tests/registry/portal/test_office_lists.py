"""An office's lists when they grow long: an officer finds one credential among many to revoke
it (search by the subject's name or DID or by credential id, filter by status, pages; subjects
named), and works through a review queue of any length (counted, paged, oldest first)."""

import re

import pytest
from django.urls import reverse

from registry.status.services import credential_status_change
from tests.registry.credentials.conftest import issue_applicant_credential

pytestmark = pytest.mark.django_db


def _ids(page: str) -> list[str]:
    return re.findall(r"/portal/credentials/(urn:uuid:[0-9a-f-]+)/", page)


def _get(client, **params) -> str:
    response = client.get(reverse("portal:office-credentials", args=["EP"]), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def issued(ep, alice, bob):
    """Two credentials about Alice, one about Bob (revoked)."""
    alice_ones = [issue_applicant_credential(ep, alice, proof_format=f) for f in ("ldp", "jwt")]
    bob_one = issue_applicant_credential(ep, bob, proof_format="jwt")
    credential_status_change(issuer=ep, credential_id=bob_one.credential_id, action="revoke")
    return alice_ones, bob_one


def test_the_list_names_each_subject(client, ep_officer, issued):
    client.force_login(ep_officer)
    page = _get(client)
    assert "Alice Inventions SARL" in page
    assert "Bob Widgets Ltd" in page
    assert "3 credentials" in page


def test_search_by_name_did_or_credential_id_and_filter_by_status(
    client, ep_officer, issued, alice
):
    alice_ones, bob_one = issued
    client.force_login(ep_officer)
    alice_ids = {c.credential_id for c in alice_ones}
    assert set(_ids(_get(client, q="alice inv"))) == alice_ids
    assert set(_ids(_get(client, q=alice.did.did))) == alice_ids
    assert _ids(_get(client, q=bob_one.credential_id)) == [bob_one.credential_id]
    bare_uuid = bob_one.credential_id.removeprefix("urn:uuid:").upper()
    assert _ids(_get(client, q=bare_uuid)) == [bob_one.credential_id]
    assert _ids(_get(client, status="revoked")) == [bob_one.credential_id]
    assert set(_ids(_get(client, status="active"))) == alice_ids
    assert _ids(_get(client, q="bob", status="active")) == []
    nothing = _get(client, q="nobody at all")
    assert "0 credentials" in nothing
    assert "Nothing here." in nothing


def test_a_bad_status_is_ignored_not_an_error(client, ep_officer, issued):
    client.force_login(ep_officer)
    assert len(_ids(_get(client, status="lost"))) == 3


def test_pages_of_fifty_keep_the_search(client, ep, ep_officer, alice, bob):
    for _ in range(52):
        issue_applicant_credential(ep, alice, proof_format="jwt")
    issue_applicant_credential(ep, bob, proof_format="jwt")
    client.force_login(ep_officer)
    first = _get(client, q="alice")
    assert len(_ids(first)) == 50
    assert "Page 1 of 2" in first
    older = re.search(r'href="\?([^"]*page=2)" rel="next"', first)
    assert older
    assert "q=alice" in older.group(1)
    second = client.get(
        reverse("portal:office-credentials", args=["EP"])
        + "?"
        + older.group(1).replace("&amp;", "&")
    ).content.decode()
    assert len(_ids(second)) == 2
    assert not set(_ids(first)) & set(_ids(second))
    assert "Bob Widgets Ltd" not in first + second


def test_another_office_s_officer_sees_none_of_it(client, us_officer, issued):
    client.force_login(us_officer)
    response = client.get(reverse("portal:office-credentials", args=["EP"]))
    assert response.status_code == 404


def _requests(ep, count: int, *, name: str = "Applicant") -> list:
    from registry.participants.services import participant_create
    from registry.portal.services import credential_request_create

    claims = {"name": "X", "personType": "legal", "country": "FR", "address": "1 rue"}
    return [
        credential_request_create(
            requester=participant_create(
                kind="applicant", display_name=f"{name} {i:02d}", country="FR"
            ),
            office=ep,
            claims=claims,
        ).record
        for i in range(count)
    ]


def test_the_review_queue_counts_pages_and_serves_the_oldest_first(client, ep, ep_officer):
    from registry.portal.services import credential_request_reject

    requests = _requests(ep, 53)
    client.force_login(ep_officer)
    queue = reverse("portal:office-queue", args=["EP"])
    first = client.get(queue).content.decode()
    assert "53 requests" in first
    assert "Page 1 of 2" in first
    names = re.findall(r">(Applicant \d\d)</a>", first)
    assert names[:2] == ["Applicant 00", "Applicant 01"]  # the oldest first: the work, in turn
    assert len(names) == 50
    second = client.get(queue, {"state": "pending", "page": 2}).content.decode()
    assert re.findall(r">(Applicant \d\d)</a>", second) == [
        "Applicant 50",
        "Applicant 51",
        "Applicant 52",
    ]

    for request in requests[:3]:
        credential_request_reject(request_id=request.pk, officer=ep_officer, reason="incomplete")
    decided = client.get(queue, {"state": "rejected"}).content.decode()
    assert "3 requests" in decided
    # decided ones newest first
    assert re.findall(r">(Applicant \d\d)</a>", decided) == [
        "Applicant 02",
        "Applicant 01",
        "Applicant 00",
    ]
