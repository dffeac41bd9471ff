"""The resolution HTTP API: Universal Resolver driver interface, content negotiation, every
error status, versions, fragments, did.json documents, reverse lookup and health. Each
response is checked against the OpenAPI schema."""

import hashlib
import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from identity.crypto.keys import Ed25519KeyPair
from identity.resolution import MAX_DID_LENGTH
from identity.services import (
    did_deactivate,
    did_key_mark_compromised,
    did_key_rotate,
    did_link_wallet,
    registry_did_ensure,
)
from registry.participants.services import participant_create
from tests.identity.test_resolution_remote import _document, did_host  # noqa: F401
from tests.openapi_check import assert_response_matches_schema

pytestmark = pytest.mark.django_db

IDENTIFIERS = "/1.0/identifiers/"
EP_DID = "did:web:localhost%3A8000:offices:ep"
VECTOR_DID_KEY = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


@pytest.fixture
def client():
    cache.clear()  # throttle counters and remote did:web answers
    return APIClient()


@pytest.fixture
def ep():
    return participant_create(
        kind="office", display_name="European Patent Office", country="EP", st3_code="EP"
    )


def _body(response):
    return json.loads(response.content)


def _check(response, media_type, path=None):
    assert_response_matches_schema(
        response, path=path or "/1.0/identifiers/{did}", media_type=media_type
    )


# --- resolution and content negotiation --------------------------------------------------------


def test_resolution_result_by_default(client, ep):
    response = client.get(IDENTIFIERS + EP_DID)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did-resolution"
    body = _body(response)
    assert body["didDocument"]["id"] == EP_DID
    assert body["didDocument"] == ep.did.versions.get().document
    assert body["didResolutionMetadata"]["did"]["method"] == "web"
    assert body["didDocumentMetadata"]["versionId"] == "1"
    _check(response, "application/did-resolution")


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/did-resolution", "application/did-resolution"),
        (
            'application/ld+json;profile="https://w3id.org/did-resolution"',
            'application/ld+json;profile="https://w3id.org/did-resolution"',
        ),
        ("*/*", "application/did-resolution"),
        ("application/json", "application/json"),
        ("text/html;q=0.9, application/did-resolution;q=0.5", "application/did-resolution"),
    ],
)
def test_resolution_result_media_types(client, ep, accept, content_type):
    response = client.get(IDENTIFIERS + EP_DID, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert set(_body(response)) == {"didDocument", "didResolutionMetadata", "didDocumentMetadata"}
    _check(response, content_type)


@pytest.mark.parametrize(
    "accept", ["application/did+ld+json", "application/did+json", "application/did"]
)
def test_document_alone_media_types(client, ep, accept):
    response = client.get(IDENTIFIERS + EP_DID, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == accept
    assert _body(response) == ep.did.versions.get().document
    _check(response, accept)


def test_accept_quality_picks_the_document(client, ep):
    response = client.get(
        IDENTIFIERS + EP_DID,
        HTTP_ACCEPT="application/did-resolution;q=0.2, application/did+json;q=0.8",
    )
    assert response["Content-Type"] == "application/did+json"
    assert _body(response)["id"] == EP_DID


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "application/did+json;q=0", "image/*"]
)
def test_unsupported_representation_is_406(client, ep, accept):
    response = client.get(IDENTIFIERS + EP_DID, HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert _body(response)["error"] == "representationNotSupported"
    _check(response, "application/json")


def test_did_key_and_did_jwk_resolve_offline(client):
    response = client.get(IDENTIFIERS + VECTOR_DID_KEY)
    assert response.status_code == 200
    assert _body(response)["didDocument"]["verificationMethod"][0]["publicKeyBase58"] == (
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"
    )
    _check(response, "application/did-resolution")
    pair = Ed25519KeyPair.generate()
    import base64

    jwk_did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(pair.public_jwk).encode()).rstrip(
        b"="
    ).decode("ascii")
    response = client.get(IDENTIFIERS + jwk_did, HTTP_ACCEPT="application/did+ld+json")
    assert response.status_code == 200
    assert _body(response)["verificationMethod"][0]["publicKeyJwk"] == pair.public_jwk


# --- the identifier in the path ------------------------------------------------------------------


def test_percent_encoded_port_routes_through_the_test_client(client, ep):
    """Django decodes %3A to ':' before the view runs; the view restores the port."""
    response = client.get(f"{IDENTIFIERS}did:web:localhost%3A8000:offices:ep")
    assert response.status_code == 200
    assert _body(response)["didDocument"]["id"] == EP_DID


def test_raw_request_uri_is_used_when_the_server_gives_it(client, ep):
    """Under gunicorn the undecoded request line (RAW_URI) is read as the client wrote it."""
    path = f"{IDENTIFIERS}did:web:localhost%3A8000:offices:ep"
    response = client.get(path, RAW_URI=path + "?x=1")
    assert response.status_code == 200
    assert _body(response)["didDocument"]["id"] == EP_DID
    # fully encoded form: decoded exactly once
    encoded = IDENTIFIERS + quote(EP_DID, safe="")
    assert "%253A" in encoded
    response = client.get(encoded, RAW_URI=encoded)
    assert response.status_code == 200
    assert _body(response)["didDocument"]["id"] == EP_DID
    # a literal DID URL with an escaped fragment
    fragment = f"{path}%23key-1"
    response = client.get(fragment, RAW_URI=fragment, HTTP_ACCEPT="application/did+json")
    assert response.status_code == 200
    assert _body(response)["id"] == f"{EP_DID}#key-1"


def test_fully_encoded_identifier_through_the_test_client(client, ep):
    response = client.get(IDENTIFIERS + quote(EP_DID, safe=""))
    assert response.status_code == 200
    assert _body(response)["didDocument"]["id"] == EP_DID


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "status", "code"),
    [
        ("did:web:localhost%3A8000:offices:zz", 404, "notFound"),
        ("not-a-did", 400, "invalidDid"),
        ("did:web:", 400, "invalidDid"),
        ("did:key:z0OIl", 400, "invalidDid"),
        ("did:example:123456789abcdefghi", 501, "methodNotSupported"),
        ("did:sov:WRfXPg8dantKVubE3HX8pw", 501, "methodNotSupported"),
        ("did:key:" + "z" + "a" * (MAX_DID_LENGTH + 10), 400, "invalidDid"),
        ("did:jwk:eyJrdHkiOiJvY3QiLCJhbGciOiJIUzI1NiJ9", 501, "unsupportedPublicKeyType"),
    ],
)
def test_error_statuses_and_bodies(client, identifier, status, code):
    response = client.get(IDENTIFIERS + identifier)
    assert response.status_code == status
    body = _body(response)
    assert body["error"] == code
    assert body["didResolutionMetadata"]["error"] == code
    assert body["didResolutionMetadata"]["errorMessage"] == body["message"]
    assert body["didDocument"] is None
    _check(response, "application/did-resolution")


def test_error_with_a_document_media_type_is_a_plain_error(client):
    response = client.get(
        IDENTIFIERS + "did:web:localhost%3A8000:offices:zz", HTTP_ACCEPT="application/did+json"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert _body(response)["error"] == "notFound"
    assert _body(response)["didResolutionMetadata"]["error"] == "notFound"
    _check(response, "application/json")


def test_error_shapes_follow_the_universal_resolver_test_suite(client, vectors_dir):
    """did-test-suite: error outcomes carry didResolutionMetadata.error and an empty
    didDocumentMetadata."""
    suite = json.loads(
        (vectors_dir / "did-test-suite" / "universal-resolver-resolver-tests.json").read_text()
    )
    expected_errors = {
        e["input"]["did"]: e["output"]["didResolutionMetadata"]["error"]
        for e in suite["executions"]
        if "error" in e["output"].get("didResolutionMetadata", {})
    }
    assert "invalidDid" in expected_errors.values()
    # The invalid DID of the suite is invalid here too (did:sov itself is not supported).
    for did, error in expected_errors.items():
        if error != "invalidDid":
            continue
        response = client.get(IDENTIFIERS + quote(did, safe=":"))
        body = _body(response)
        assert body["didResolutionMetadata"]["error"] == error
        assert body["didDocumentMetadata"] == {}


# --- versions, fragments, deactivation ---------------------------------------------------------


def test_version_id_and_version_time(client, ep):
    did = ep.did
    t1 = timezone.now()
    did_key_rotate(did=did)
    response = client.get(IDENTIFIERS + EP_DID, {"versionId": "1"})
    assert response.status_code == 200
    meta = _body(response)["didDocumentMetadata"]
    assert meta["versionId"] == "1"
    assert meta["nextVersionId"] == "2"
    _check(response, "application/did-resolution")
    assert _body(response)["didDocument"]["verificationMethod"][0]["id"] == f"{EP_DID}#key-1"

    response = client.get(IDENTIFIERS + EP_DID)
    assert _body(response)["didDocumentMetadata"]["versionId"] == "2"
    assert _body(response)["didDocument"]["verificationMethod"][0]["id"] == f"{EP_DID}#key-2"

    at = did.versions.get(version_id=1).created_at
    response = client.get(
        IDENTIFIERS + EP_DID,
        {"versionTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
    )
    assert response.status_code == 200
    assert _body(response)["didDocumentMetadata"]["versionId"] == "1"
    assert t1 >= at

    assert client.get(IDENTIFIERS + EP_DID, {"versionId": "7"}).status_code == 404
    # "\u00b2" passes str.isdigit() but not int(): a clean 404, not a 500
    assert client.get(IDENTIFIERS + EP_DID, {"versionId": "\u00b2"}).status_code == 404
    response = client.get(IDENTIFIERS + EP_DID, {"versionTime": "9999-12-31T23:59:59-23:59"})
    assert response.status_code == 400
    assert _body(response)["error"] == "invalidOptions"
    response = client.get(IDENTIFIERS + EP_DID, {"versionTime": "last tuesday"})
    assert response.status_code == 400
    assert _body(response)["error"] == "invalidOptions"
    _check(response, "application/did-resolution")
    response = client.get(
        IDENTIFIERS + EP_DID, {"versionTime": (at - timedelta(days=3)).isoformat()}
    )
    assert response.status_code == 404


def test_fragment_dereferences_to_the_verification_method(client, ep):
    key = ep.did.keys.get()
    response = client.get(f"{IDENTIFIERS}{EP_DID}%23key-1", HTTP_ACCEPT="application/did+json")
    assert response.status_code == 200
    assert _body(response) == {
        "id": f"{EP_DID}#key-1",
        "type": "Ed25519VerificationKey2020",
        "controller": EP_DID,
        "publicKeyMultibase": key.public_key_multibase,
    }
    response = client.get(f"{IDENTIFIERS}{EP_DID}%23key-1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did-url-dereferencing"
    body = _body(response)
    assert body["contentStream"]["id"] == f"{EP_DID}#key-1"
    assert body["contentMetadata"]["versionId"] == "1"
    _check(response, "application/did-url-dereferencing")

    response = client.get(f"{IDENTIFIERS}{EP_DID}%23key-9")
    assert response.status_code == 404
    assert _body(response)["error"] == "notFound"


def test_fragment_of_a_rotated_key_with_version_id(client, ep):
    did_key_rotate(did=ep.did)
    assert client.get(f"{IDENTIFIERS}{EP_DID}%23key-1").status_code == 404
    response = client.get(
        f"{IDENTIFIERS}{EP_DID}%23key-1", {"versionId": "1"}, HTTP_ACCEPT="application/did+json"
    )
    assert response.status_code == 200
    assert _body(response)["id"] == f"{EP_DID}#key-1"


def test_did_key_fragment(client):
    fingerprint = VECTOR_DID_KEY.removeprefix("did:key:")
    response = client.get(
        f"{IDENTIFIERS}{VECTOR_DID_KEY}%23{fingerprint}", HTTP_ACCEPT="application/did+ld+json"
    )
    assert response.status_code == 200
    assert _body(response)["type"] == "Ed25519VerificationKey2018"


def test_deactivated_did_answers_410_with_its_result(client, ep):
    did_deactivate(did=ep.did)
    response = client.get(IDENTIFIERS + EP_DID)
    assert response.status_code == 410
    body = _body(response)
    assert body["didDocumentMetadata"]["deactivated"] is True
    assert body["didDocument"]["id"] == EP_DID
    _check(response, "application/did-resolution")
    response = client.get(IDENTIFIERS + EP_DID, HTTP_ACCEPT="application/did+json")
    assert response.status_code == 410
    assert _body(response)["id"] == EP_DID
    # the version before deactivation is still served, as it was
    response = client.get(IDENTIFIERS + EP_DID, {"versionId": "1"})
    assert response.status_code == 200
    assert "deactivated" not in _body(response)["didDocumentMetadata"]


def test_a_key_of_a_deactivated_did_is_gone_not_unknown(client, ep):
    key_url = IDENTIFIERS + EP_DID + "%23key-1"
    assert client.get(key_url, {"versionId": "1"}).status_code == 200
    did_deactivate(did=ep.did)
    response = client.get(key_url)
    assert response.status_code == 410
    assert _body(response)["error"] == "deactivated"
    # as it stood before deactivation, the key is still served
    response = client.get(key_url, {"versionId": "1"})
    assert response.status_code == 200
    assert _body(response)["contentStream"]["id"] == EP_DID + "#key-1"
    # a fragment the DID never had is gone with it as well: nothing more is said about it
    assert client.get(IDENTIFIERS + EP_DID + "%23nothing").status_code == 410


def test_resolving_a_registry_did_is_one_query(client, ep, django_assert_num_queries):
    client.get(IDENTIFIERS + EP_DID)  # warm up (throttle cache entries, connection)
    with django_assert_num_queries(1):
        response = client.get(IDENTIFIERS + EP_DID)
    assert response.status_code == 200


# --- remote did:web through the API ----------------------------------------------------------


def test_remote_did_web_through_the_api(client, did_host):  # noqa: F811
    did = f"{did_host.did_prefix}:people:bob"
    did_host.routes["/people/bob/did.json"] = {"body": _document(did)}
    response = client.get(IDENTIFIERS + did)
    assert response.status_code == 200
    assert _body(response)["didDocument"] == _document(did)
    _check(response, "application/did-resolution")


@pytest.mark.parametrize(
    ("route", "status", "code"),
    [
        ({"status": 302, "headers": {"Location": "http://127.0.0.1:1/x"}}, 502, "resolutionFailed"),
        ({"body": b"<html/>", "headers": {"Content-Type": "text/html"}}, 502, "invalidDidDocument"),
        ({"body": {"id": "did:web:someone.else"}}, 502, "invalidDidDocument"),
        ({"status": 404}, 404, "notFound"),
        ({"status": 503, "body": b"down"}, 502, "resolutionFailed"),
    ],
)
def test_remote_failures_through_the_api(client, did_host, route, status, code):  # noqa: F811
    did = f"{did_host.did_prefix}:bad"
    did_host.routes["/bad/did.json"] = route
    response = client.get(IDENTIFIERS + did)
    assert response.status_code == status
    assert _body(response)["error"] == code
    _check(response, "application/did-resolution")


@override_settings(DID_WEB_TIMEOUT_SECONDS=0.3)
def test_remote_timeout_is_504(client, did_host):  # noqa: F811
    did = f"{did_host.did_prefix}:slow"
    did_host.routes["/slow/did.json"] = {"body": _document(did), "delay": 1}
    response = client.get(IDENTIFIERS + did)
    assert response.status_code == 504
    assert _body(response)["error"] == "resolutionTimeout"
    _check(response, "application/did-resolution")


@override_settings(DID_WEB_TIMEOUT_SECONDS=1, DID_WEB_MAX_BYTES=200)
def test_remote_oversize_is_502(client, did_host):  # noqa: F811
    did = f"{did_host.did_prefix}:big"
    did_host.routes["/big/did.json"] = {"body": {**_document(did), "pad": "x" * 500}}
    response = client.get(IDENTIFIERS + did)
    assert response.status_code == 502
    assert _body(response)["error"] == "resolutionFailed"


@override_settings(DID_WEB_ALLOW_PRIVATE_ADDRESSES=False, DID_WEB_ALLOW_HTTP=False)
def test_ssrf_refusal_is_403(client, did_host):  # noqa: F811
    did = f"{did_host.did_prefix}:internal"
    did_host.routes["/internal/did.json"] = {"body": _document(did)}
    response = client.get(IDENTIFIERS + did)
    assert response.status_code == 403
    assert _body(response)["error"] == "hostNotAllowed"
    _check(response, "application/did-resolution")
    assert did_host.hits == []
    response = client.get(IDENTIFIERS + "did:web:169.254.169.254")
    assert response.status_code == 403


# --- methods and health ------------------------------------------------------------------------


def test_methods(client):
    response = client.get("/1.0/methods")
    assert response.status_code == 200
    assert response.json() == ["jwk", "key", "web"]
    assert_response_matches_schema(response)


def test_health(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_response_matches_schema(response)


# --- did.json documents -----------------------------------------------------------------------


def test_registry_did_document_at_well_known(client):
    root = registry_did_ensure()
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    assert _body(response) == root.versions.get().document
    assert _body(response)["id"] == "did:web:localhost%3A8000"
    assert_response_matches_schema(response, media_type="application/did+json")


def test_participant_did_document_etag_and_cache_control(client, ep):
    response = client.get("/offices/ep/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    assert _body(response) == ep.did.versions.get().document
    assert "max-age=" in response["Cache-Control"]
    etag = response["ETag"]
    assert etag == '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    assert_response_matches_schema(response, media_type="application/did+json")

    again = client.get("/offices/ep/did.json", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    did_key_rotate(did=ep.did)
    rotated = client.get("/offices/ep/did.json", HTTP_IF_NONE_MATCH=etag)
    assert rotated.status_code == 200
    assert rotated["ETag"] != etag
    assert _body(rotated)["verificationMethod"][0]["id"] == f"{EP_DID}#key-2"


def test_did_document_unknown_and_deactivated(client, ep):
    response = client.get("/offices/zz/did.json")
    assert response.status_code == 404
    assert response.json()["error"] == "notFound"
    assert client.get("/.well-known/did.json").status_code == 404  # registry DID not created
    did_deactivate(did=ep.did)
    response = client.get("/offices/ep/did.json")
    assert response.status_code == 410
    assert response.json()["error"] == "deactivated"
    assert_response_matches_schema(response)


# --- reverse lookup ----------------------------------------------------------------------------


def test_reverse_lookup_of_an_office_key_now_and_in_the_past(client, ep):
    old = ep.did.keys.get()
    response = client.get(f"/1.0/keys/{old.did_key}")
    assert response.status_code == 200
    body = response.json()
    assert body["controller"] == EP_DID
    assert body["verificationMethod"] == f"{EP_DID}#key-1"
    assert body["keyId"] == "key-1"
    assert body["activeAt"] is True
    assert body["trustedAt"] is True
    assert body["activeUntil"] is None
    assert body["owner"] == {
        "type": "participant",
        "did": EP_DID,
        "kind": "office",
        "displayName": "European Patent Office",
        "st3Code": "EP",
        "country": "EP",
    }
    assert_response_matches_schema(response, path="/1.0/keys/{did}")

    rotated_at = timezone.now()
    did_key_rotate(did=ep.did, at=rotated_at)
    response = client.get(f"/1.0/keys/{old.did_key}")
    body = response.json()
    assert body["activeAt"] is False
    assert body["activeUntil"] == rotated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.get(f"/1.0/keys/{old.did_key}", {"at": old.activated_at.isoformat()})
    assert response.json()["activeAt"] is True
    assert response.json()["at"] == old.activated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.get(
        f"/1.0/keys/{old.did_key}", {"at": (old.activated_at - timedelta(days=1)).isoformat()}
    )
    assert response.json()["activeAt"] is False


def test_reverse_lookup_reports_compromise(client, ep):
    key = ep.did.keys.get()
    since = timezone.now()
    did_key_mark_compromised(did_key=key.did_key, since=since)
    body = client.get(f"/1.0/keys/{key.did_key}").json()
    assert body["activeAt"] is True
    assert body["trustedAt"] is False
    assert body["compromisedSince"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = client.get(f"/1.0/keys/{key.did_key}", {"at": key.activated_at.isoformat()}).json()
    assert earlier["activeAt"] is True
    assert earlier["trustedAt"] is True


def test_reverse_lookup_never_shows_applicant_details(client):
    applicant = participant_create(
        kind="applicant", display_name="Jeanne Secret-Inventor", country="FR"
    )
    key = applicant.did.keys.get()
    response = client.get(f"/1.0/keys/{key.did_key}")
    assert response.status_code == 200
    assert response.json()["owner"] == {
        "type": "participant",
        "did": applicant.did.did,
        "kind": "applicant",
    }
    assert b"Jeanne" not in response.content
    # The country as a JSON value: bare "FR" can occur inside the random base58 did:key.
    assert b'"FR"' not in response.content
    assert b"country" not in response.content


def test_reverse_lookup_of_the_registry_key_and_a_linked_wallet(client, ep):
    root = registry_did_ensure()
    body = client.get(f"/1.0/keys/{root.keys.get().did_key}").json()
    assert body["owner"] == {"type": "registry", "did": root.did}

    import base64

    wallet = Ed25519KeyPair.generate()
    jwk_did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(wallet.public_jwk).encode()).rstrip(
        b"="
    ).decode("ascii")
    did_link_wallet(did=ep.did, wallet_did=jwk_did)
    response = client.get(f"/1.0/keys/{jwk_did}")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "linked-wallet"
    assert body["controller"] == EP_DID
    assert body["verificationMethod"] is None
    assert body["keyId"] is None
    assert_response_matches_schema(response, path="/1.0/keys/{did}")


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_reverse_lookup_at_out_of_range_in_utc_is_invalid_options(client, ep, at):
    """Valid ISO 8601 whose UTC form leaves the datetime range: 400, not a 500."""
    response = client.get(f"/1.0/keys/{ep.did.keys.get().did_key}", {"at": at})
    assert response.status_code == 400
    assert response.json()["error"] == "invalidOptions"
    assert_response_matches_schema(response, path="/1.0/keys/{did}")


@pytest.mark.parametrize(
    ("identifier", "params", "status", "code"),
    [
        (VECTOR_DID_KEY, {}, 404, "notFound"),
        (EP_DID, {}, 400, "invalidDid"),
        ("nonsense", {}, 400, "invalidDid"),
        (VECTOR_DID_KEY, {"at": "not-a-time"}, 400, "invalidOptions"),
    ],
)
def test_reverse_lookup_errors(client, identifier, params, status, code):
    response = client.get(f"/1.0/keys/{identifier}", params)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert_response_matches_schema(response, path="/1.0/keys/{did}")
