"""The public trust query API: /trust/authorization, /trust/accreditations, /trust/issuers."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from identity.services import did_key_rotate
from registry.trust.services import accreditation_grant, accreditation_withdraw
from tests.openapi_check import assert_response_matches_schema

from .factories import office, participant

pytestmark = pytest.mark.django_db

APPLICANT = "IPApplicantCredential"
REPRESENTATIVE = "IPRepresentativeCredential"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def world():
    ep = office("EP", "European Patent Office")
    jp = office("JP", "Japan Patent Office")
    start = timezone.now() - timedelta(days=30)
    root = accreditation_grant(
        office=ep, credential_types=[APPLICANT, REPRESENTATIVE], valid_from=start
    )
    bar = participant(kind="agent", name="Chamber of Patent Attorneys")
    sub = accreditation_grant(office=bar, credential_types=[REPRESENTATIVE], parent=root)
    return {"ep": ep, "jp": jp, "bar": bar, "root": root, "sub": sub, "start": start}


def authorization(client, **params):
    params.setdefault("action", "issue")
    return client.get("/trust/authorization?" + urlencode(params))


def test_authorized_issuer_with_its_chain(client, world):
    response = authorization(client, entity_id=world["bar"].did.did, resource=REPRESENTATIVE)
    assert response.status_code == 200
    assert_response_matches_schema(response)
    body = response.json()
    assert body["authorized"] is True
    assert body["code"] == "accredited"
    assert body["issuer"] == world["bar"].did.did
    assert [link["id"] for link in body["chain"]] == [world["sub"].pk, world["root"].pk]
    assert body["chain"][0]["accredited_by"] == world["ep"].did.did
    assert body["chain"][-1]["accredited_by"] == body["root"]


def test_not_accredited_type_and_unaccredited_office(client, world):
    body = authorization(client, entity_id=world["bar"].did.did, resource=APPLICANT).json()
    assert (body["authorized"], body["code"]) == (False, "notAccredited")
    response = authorization(client, entity_id=world["jp"].did.did, resource=APPLICANT)
    assert_response_matches_schema(response)
    assert response.json()["authorized"] is False


def test_by_did_key_and_time(client, world):
    ep = world["ep"]
    old_key = ep.did.keys.get()
    did_key_rotate(did=ep.did)
    new_key = ep.did.keys.get(retired_at__isnull=True)
    old_key.refresh_from_db()
    # The current key is authorised now; the retired key only for its own period.
    body = authorization(client, entity_id=new_key.did_key, resource=APPLICANT).json()
    assert body["authorized"] is True
    assert body["key"]["controller"] == ep.did.did
    body = authorization(client, entity_id=old_key.did_key, resource=APPLICANT).json()
    assert (body["authorized"], body["code"]) == (False, "keyNotActive")
    during = old_key.activated_at + (old_key.retired_at - old_key.activated_at) / 2
    response = authorization(
        client, entity_id=old_key.did_key, resource=APPLICANT, time=during.isoformat()
    )
    assert_response_matches_schema(response)
    assert response.json()["authorized"] is True
    # Before the accreditation started: not authorised.
    before = (world["start"] - timedelta(days=1)).isoformat()
    body = authorization(client, entity_id=ep.did.did, resource=APPLICANT, time=before).json()
    assert (body["authorized"], body["code"]) == (False, "pending")


def test_withdrawn_chain_reports_when_it_ended(client, world):
    issued = timezone.now()
    accreditation_withdraw(accreditation=world["root"], reason="test")
    body = authorization(client, entity_id=world["bar"].did.did, resource=REPRESENTATIVE).json()
    assert (body["authorized"], body["code"]) == (False, "withdrawn")
    body = authorization(
        client,
        entity_id=world["bar"].did.did,
        resource=REPRESENTATIVE,
        time=issued.isoformat(),
    ).json()
    assert body["authorized"] is True
    assert body["ended_at"] is not None


def test_unknown_entities_and_applicants_are_not_registered(client, world):
    applicant = participant(kind="applicant", name="Secret SA")
    for entity in (
        applicant.did.did,
        "did:web:elsewhere.example:offices:xx",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ):
        response = authorization(client, entity_id=entity, resource=APPLICANT)
        assert response.status_code == 200
        assert_response_matches_schema(response)
        assert (response.json()["authorized"], response.json()["code"]) == (False, "notRegistered")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"resource": APPLICANT}, "invalidInput"),
        ({"entity_id": "not-a-did", "resource": APPLICANT}, "invalidDid"),
        (
            {"entity_id": "did:web:x", "resource": APPLICANT, "action": "revoke"},
            "unsupportedAction",
        ),
        ({"entity_id": "did:web:x"}, "invalidInput"),
        ({"entity_id": "did:web:x", "resource": APPLICANT, "time": "yesterday"}, "invalidTime"),
        (
            {"entity_id": "did:web:x", "resource": APPLICANT, "time": "2026-01-01T00:00:00"},
            "invalidTime",
        ),
    ],
)
def test_bad_queries_are_400(client, world, params, code):
    response = authorization(client, **params)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["message"]


def test_which_authority_accredited(client, world):
    response = client.get("/trust/accreditations?" + urlencode({"entity_id": world["bar"].did.did}))
    assert response.status_code == 200
    assert_response_matches_schema(response)
    body = response.json()
    (acc,) = body["accreditations"]
    assert acc["accredited_by"] == world["ep"].did.did
    assert [link["id"] for link in acc["chain"]] == [world["sub"].pk, world["root"].pk]
    response = client.get("/trust/accreditations?entity_id=did:web:nobody.example")
    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


def test_trusted_issuers(client, world):
    response = client.get("/trust/issuers")
    assert response.status_code == 200
    assert_response_matches_schema(response)
    issuers = {i["issuer"]: i for i in response.json()["issuers"]}
    assert set(issuers) == {world["ep"].did.did, world["bar"].did.did}
    assert issuers[world["ep"].did.did]["credential_types"] == [APPLICANT, REPRESENTATIVE]
    assert issuers[world["bar"].did.did]["credential_types"] == [REPRESENTATIVE]
    only = client.get("/trust/issuers?resource=" + APPLICANT).json()["issuers"]
    assert [i["issuer"] for i in only] == [world["ep"].did.did]
    accreditation_withdraw(accreditation=world["root"])
    assert client.get("/trust/issuers").json()["issuers"] == []
    past = client.get(
        "/trust/issuers?" + urlencode({"time": (timezone.now() - timedelta(days=1)).isoformat()})
    ).json()["issuers"]
    # A day ago EP was accredited; the chamber's accreditation only started today.
    assert [i["issuer"] for i in past] == [world["ep"].did.did]


def test_issuers_list_is_one_query_whatever_the_size(client, world, django_assert_num_queries):
    for _ in range(5):
        accreditation_grant(office=office(), credential_types=[APPLICANT])
    with django_assert_num_queries(1):
        response = client.get("/trust/issuers")
    assert len(response.json()["issuers"]) == 7


def test_a_credentials_issuance_date_is_judged_as_verification_judges_it(client):
    """issuanceDate has whole seconds while accreditations and keys start and end at any
    instant: asked at a credential's issuanceDate, the query says what verification says."""
    import time

    from registry.credentials.services import credential_verify
    from registry.trust.services import accreditation_suspend

    from .test_key_management import issue

    ep = office("EP", "European Patent Office")
    applicant = participant(kind="applicant", name="Example Ltd")
    time.sleep(1.02 - timezone.now().microsecond / 1e6)  # early in a second
    root = accreditation_grant(office=ep, credential_types=[APPLICANT])
    did_key_rotate(did=ep.did)
    issued = issue(ep, applicant)
    issuance_date = issued.document["issuanceDate"]
    assert root.valid_from.replace(microsecond=0) == issued.issued_at  # the same second
    assert credential_verify(issued.document).verified
    signer = issued.document["proof"]["verificationMethod"].split("#")[0]
    for entity_id in (ep.did.did, signer):
        response = authorization(
            client, entity_id=entity_id, resource=APPLICANT, time=issuance_date
        )
        assert_response_matches_schema(response)
        body = response.json()
        assert (body["authorized"], body["code"]) == (True, "accredited"), body["reason"]
    # Suspended later in that second: the credential was issued before, it stays authorised.
    accreditation_suspend(accreditation=root)
    body = authorization(client, entity_id=ep.did.did, resource=APPLICANT, time=issuance_date)
    assert body.json()["authorized"] is True
    # An instant with a fraction is judged at that instant.
    body = authorization(client, entity_id=ep.did.did, resource=APPLICANT).json()
    assert (body["authorized"], body["code"]) == (False, "suspended")
