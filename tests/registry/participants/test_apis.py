import json
from urllib.parse import quote

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from identity.services import did_deactivate
from registry.participants.services import participant_create
from tests.openapi_check import assert_response_matches_schema

from .factories import ApplicantFactory, OfficeFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

LIST = "/api/participants/"
DETAIL = "/api/participants/{did}/"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def directory():
    ep = participant_create(
        kind="office", display_name="European Patent Office", country="EP", st3_code="EP"
    )
    jp = participant_create(
        kind="office", display_name="Japan Patent Office", country="JP", st3_code="JP"
    )
    agent = ParticipantFactory(display_name="Dupont Patent Attorneys", country="FR")
    applicant = ApplicantFactory(display_name="Secret Applicant Patent SA")
    return {"ep": ep, "jp": jp, "agent": agent, "applicant": applicant}


def test_list_shows_offices_and_agents_never_applicants(client, directory):
    response = client.get(LIST)
    assert response.status_code == 200
    assert_response_matches_schema(response)
    body = response.json()
    dids = [entry["did"] for entry in body["results"]]
    assert body["count"] == 3
    assert directory["applicant"].did.did not in dids
    assert dids == [directory["agent"].did.did, directory["ep"].did.did, directory["jp"].did.did]


def test_list_entry_shape(client, directory):
    body = client.get(LIST, {"kind": "office", "q": "EP"}).json()
    assert body["count"] == 1
    entry = body["results"][0]
    did = "did:web:localhost%3A8000:offices:ep"
    assert entry == {
        "did": did,
        "kind": "office",
        "displayName": "European Patent Office",
        "country": "EP",
        "st3Code": "EP",
        "created": entry["created"],
        "deactivated": None,
        "links": {
            "didDocument": "http://localhost:8000/offices/ep/did.json",
            "resolution": f"http://localhost:8000/1.0/identifiers/{did}",
        },
    }
    assert entry["created"].startswith(directory["ep"].created_at.strftime("%Y-%m-%d"))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "office"}, ["ep", "jp"]),
        ({"kind": "agent"}, ["agent"]),
        ({"q": "patent"}, ["agent", "ep", "jp"]),  # the applicant matches too, but is hidden
        ({"q": "JAPAN"}, ["jp"]),
        ({"q": "jp"}, ["jp"]),  # ST.3 code
        ({"q": "dupont", "kind": "office"}, []),
        ({"q": "nothing like it"}, []),
    ],
)
def test_list_filters(client, directory, params, expected):
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert_response_matches_schema(response)
    assert [e["did"] for e in response.json()["results"]] == [
        directory[name].did.did for name in expected
    ]


@pytest.mark.parametrize("kind", ["applicant", "registry", "OFFICE"])
def test_list_refuses_other_kinds(client, directory, kind):
    response = client.get(LIST, {"kind": kind})
    assert response.status_code == 400
    assert_response_matches_schema(response, LIST)
    assert response.json()["error"] == "invalidInput"


def test_list_refuses_overlong_query(client):
    response = client.get(LIST, {"q": "x" * 201})
    assert response.status_code == 400
    assert response.json()["error"] == "invalidInput"
    assert "q" in response.json()["fields"]


def test_list_is_paginated(client):
    for _ in range(5):
        ParticipantFactory()
    first = client.get(LIST, {"pageSize": 2}).json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None
    seen = [e["did"] for page in (first, second, third) for e in page["results"]]
    assert len(set(seen)) == 5


def test_list_query_count_does_not_grow_with_rows(client, django_assert_num_queries):
    for _ in range(3):
        OfficeFactory()
        ParticipantFactory()
    # One COUNT for the paginator, one SELECT joining the DIDs.
    with django_assert_num_queries(2):
        response = client.get(LIST)
    assert response.json()["count"] == 6
    for _ in range(10):
        ParticipantFactory()
    with django_assert_num_queries(2):
        response = client.get(LIST)
    assert response.json()["count"] == 16


def test_detail_with_encoded_port(client, directory):
    did = directory["ep"].did.did
    assert "%3A" in did
    # As a client types it: the %3A arrives decoded at the view.
    response = client.get(f"/api/participants/{did}/")
    assert response.status_code == 200, response.content
    assert_response_matches_schema(response, DETAIL)
    assert response.json()["did"] == did
    assert response.json()["displayName"] == "European Patent Office"
    # Fully percent-encoded ("%253A"), the DID arrives intact.
    response = client.get(f"/api/participants/{quote(did, safe='')}/")
    assert response.status_code == 200
    assert response.json()["did"] == did
    # Lower-case percent-encoding of the port is the same DID.
    response = client.get(f"/api/participants/{quote(did.replace('%3A', '%3a'), safe='')}/")
    assert response.status_code == 200
    assert response.json()["did"] == did


def test_detail_of_agent(client, directory):
    did = directory["agent"].did.did
    response = client.get(DETAIL.format(did=did))
    assert response.status_code == 200
    assert_response_matches_schema(response, DETAIL)
    assert response.json()["kind"] == "agent"
    assert response.json()["st3Code"] is None


def test_detail_hides_applicants(client, directory):
    applicant = client.get(DETAIL.format(did=directory["applicant"].did.did))
    unknown = client.get(DETAIL.format(did="did:web:localhost%3A8000:agents:0000"))
    assert applicant.status_code == unknown.status_code == 404
    assert applicant.json() == unknown.json()
    assert_response_matches_schema(applicant, DETAIL)


@pytest.mark.parametrize(
    "did", ["not-a-did", "did:key:z6Mk", "did:web:example.org:offices:ep", "did:web:localhost"]
)
def test_detail_unknown(client, directory, did):
    response = client.get(DETAIL.format(did=did))
    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


def test_deactivated_participant_is_marked(client, directory):
    did_deactivate(did=directory["jp"].did)
    response = client.get(DETAIL.format(did=directory["jp"].did.did))
    assert response.status_code == 200
    assert_response_matches_schema(response, DETAIL)
    assert response.json()["deactivated"] is not None


def test_registry_host_without_port(client, settings):
    settings.REGISTRY_HOST = "registry.example.org"
    settings.REGISTRY_SCHEME = "https"
    settings.REGISTRY_BASE_URL = "https://registry.example.org"
    office = OfficeFactory()
    assert office.did.did.startswith("did:web:registry.example.org:offices:")
    response = client.get(DETAIL.format(did=office.did.did))
    assert response.status_code == 200
    links = response.json()["links"]
    assert links["didDocument"] == (
        f"https://registry.example.org/offices/{office.st3_code.lower()}/did.json"
    )
    assert links["resolution"] == f"https://registry.example.org/1.0/identifiers/{office.did.did}"


def test_settings_host_is_the_default_in_tests():
    # The expectations above hard-code localhost:8000; fail loudly if the test settings change.
    assert settings.REGISTRY_HOST == "localhost:8000"


def test_links_are_served_by_the_registry(client, directory):
    """The entry's links lead to this registry's DID document and resolver."""
    entry = client.get(DETAIL.format(did=directory["ep"].did.did)).json()
    prefix = settings.REGISTRY_BASE_URL
    document = client.get(entry["links"]["didDocument"].removeprefix(prefix))
    assert document.status_code == 200
    assert json.loads(document.content)["id"] == entry["did"]
    resolution = client.get(
        entry["links"]["resolution"].removeprefix(prefix),
        HTTP_ACCEPT="application/did-resolution",
    )
    assert resolution.status_code == 200, resolution.content
    assert json.loads(resolution.content)["didDocument"]["id"] == entry["did"]


def test_directory_is_rate_limited(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public": "2/min",
        },
    }
    from django.core.cache import cache

    cache.clear()
    assert client.get(LIST).status_code == 200
    assert client.get(LIST).status_code == 200
    response = client.get(LIST)
    assert response.status_code == 429
    assert_response_matches_schema(response, LIST)
    assert "Retry-After" in response
    cache.clear()


@pytest.mark.parametrize(
    "path",
    [
        "/api/participants/did:web:localhost%3A8000:offices:ep%00/",
        "/api/participants/" + "did:web:" + "a" * 5000 + "/",
        "/api/participants/%F0%9F%92%A5/",
    ],
)
def test_detail_bad_input_is_a_404_not_a_500(client, directory, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


@pytest.mark.parametrize("q", ["\x00", "EP\x00", "%", "_", "\\"])
def test_list_odd_queries(client, directory, q):
    response = client.get(LIST, {"q": q})
    if "\x00" in q:
        assert response.status_code == 400
        assert response.json()["error"] == "invalidInput"
    else:
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_detail_is_one_query(client, directory, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(DETAIL.format(did=directory["ep"].did.did))
    assert response.status_code == 200


def test_a_name_searched_decomposed_finds_it_as_stored(client):
    agent = participant_create(
        kind="agent", display_name="Cabinet M\u00fcller & Associ\u00e9s", country="FR"
    )
    response = client.get(LIST, {"q": "Mu\u0308ller & Associe\u0301s"})  # macOS-typed
    assert response.status_code == 200
    assert [e["did"] for e in response.json()["results"]] == [agent.did.did]
