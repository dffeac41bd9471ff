"""The /log/... API: shapes (checked against the OpenAPI schema), RFC 9162 proofs that an
independent verifier accepts, and clear 4xx for bad parameters."""

import pytest
from rest_framework.test import APIClient

from registry.anchoring import merkle, note, services
from tests.openapi_check import assert_response_matches_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def leaves():
    return [
        services.anchor_record(kind="status-list", key=f"list-1:{v}", data={"version": v})
        for v in range(1, 12)
    ]


def test_checkpoint_is_text_plain_and_verifies_with_the_published_key(client, leaves):
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    key_response = client.get("/log/key")
    assert key_response.status_code == 200
    assert_response_matches_schema(key_response)
    key = key_response.json()
    assert key["verifier_key"] == key["keys"][0]["verifier_key"]
    assert key["origin"] == services.log_origin()
    checkpoint = note.open_checkpoint(
        response.content.decode(),
        [note.VerifierKey.parse(key["verifier_key"])],
        origin=key["origin"],
    )
    assert checkpoint.tree_size == 11


def test_checkpoint_of_an_empty_log_is_404(client):
    response = client.get("/log/checkpoint")
    assert response.status_code == 404
    assert response.json()["error"] == "logEmpty"
    assert_response_matches_schema(response)
    for path in ("/log/proof/consistency?first=1&second=1", "/log/entries?start=0&end=0"):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert response.json()["error"] in ("logEmpty", "invalidInput")


def test_inclusion_proof(client, leaves):
    root = services.log_root(11)
    for leaf in (leaves[0], leaves[6], leaves[10]):
        response = client.get(
            "/log/proof/inclusion", {"leaf_hash": leaf.leaf_hash, "tree_size": 11}
        )
        assert response.status_code == 200
        assert_response_matches_schema(response)
        body = response.json()
        assert body["leaf_index"] == leaf.index
        assert body["tree_size"] == 11
        merkle.verify_inclusion(
            leaf.index, 11, leaf.leaf_hash_bytes, [bytes.fromhex(x) for x in body["hashes"]], root
        )
    # upper-case hex is accepted
    assert (
        client.get(
            "/log/proof/inclusion", {"leaf_hash": leaves[0].leaf_hash.upper(), "tree_size": 3}
        ).json()["leaf_index"]
        == 0
    )


def test_consistency_proof(client, leaves):
    response = client.get("/log/proof/consistency", {"first": 5, "second": 11})
    assert response.status_code == 200
    assert_response_matches_schema(response)
    body = response.json()
    assert (body["first"], body["second"]) == (5, 11)
    merkle.verify_consistency(
        5,
        11,
        services.log_root(5),
        services.log_root(11),
        [bytes.fromhex(x) for x in body["hashes"]],
    )
    same = client.get("/log/proof/consistency", {"first": 11, "second": 11}).json()
    assert same["hashes"] == []


def test_entries(client, leaves, settings):
    settings.ANCHORING_MAX_ENTRIES = 5
    response = client.get("/log/entries", {"start": 3, "end": 100})
    assert response.status_code == 200
    assert_response_matches_schema(response)
    entries = response.json()["entries"]
    assert [e["leaf_index"] for e in entries] == [3, 4, 5, 6, 7]
    first = entries[0]
    assert first["kind"] == "status-list"
    assert first["key"] == "list-1:4"
    assert first["data"] == {"version": 4}
    assert merkle.leaf_hash(first["entry"].encode()).hex() == first["leaf_hash"]


def test_leaf_lookup(client, leaves):
    response = client.get("/log/leaf", {"kind": "status-list", "key": "list-1:7"})
    assert response.status_code == 200
    assert_response_matches_schema(response)
    assert response.json()["leaf_index"] == 6
    missing = client.get("/log/leaf", {"kind": "status-list", "key": "list-1:99"})
    assert missing.status_code == 404
    assert_response_matches_schema(missing)
    assert missing.json()["error"] == "leafNotFound"


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/log/proof/inclusion", {}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "zz", "tree_size": 3}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "ab" * 32, "tree_size": "x"}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "ab" * 32, "tree_size": 0}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "ab" * 32, "tree_size": 12}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "ab" * 32, "tree_size": 2**70}, 400, "invalidInput"),
        ("/log/proof/inclusion", {"leaf_hash": "ab" * 32, "tree_size": 11}, 404, "leafNotFound"),
        ("/log/proof/consistency", {"first": 0, "second": 3}, 400, "invalidInput"),
        ("/log/proof/consistency", {"first": 4, "second": 3}, 400, "invalidInput"),
        ("/log/proof/consistency", {"first": 1, "second": 12}, 400, "invalidInput"),
        ("/log/proof/consistency", {"first": "1.5", "second": 3}, 400, "invalidInput"),
        ("/log/entries", {"start": -1, "end": 3}, 400, "invalidInput"),
        ("/log/entries", {"start": 5, "end": 2}, 400, "invalidInput"),
        ("/log/entries", {"start": 11, "end": 20}, 400, "invalidInput"),
        ("/log/entries", {"start": "a", "end": 2}, 400, "invalidInput"),
        ("/log/leaf", {"kind": "status-list"}, 400, "invalidInput"),
    ],
)
def test_bad_parameters_are_clear_4xx(client, leaves, path, params, status, code):
    response = client.get(path, params)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert body["message"]
    assert_response_matches_schema(response)
