"""identity.resolution: registry DIDs from the database, offline did:key / did:jwk, syntax and
dispatch errors, versions and DID URL dereferencing."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from identity.errors import DidNotFound, InvalidDid, MethodNotSupported
from identity.resolution import (
    MAX_DID_LENGTH,
    InvalidDidUrl,
    InvalidOptions,
    UnsupportedPublicKeyType,
    dereference,
    resolve,
    supported_methods,
)
from identity.resolution.offline import ed25519_to_x25519
from identity.services import (
    did_create,
    did_deactivate,
    did_key_rotate,
    did_service_add,
    registry_did_ensure,
)

ED25519_VECTOR_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


# --- registry did:web -----------------------------------------------------------------------


@pytest.mark.django_db
def test_registry_did_resolves_from_the_database_with_metadata():
    did = did_create(path="offices:ep")
    key = did.keys.get()
    result = resolve(did.did)
    assert result.did_document == did.versions.get().document
    assert result.did_document["verificationMethod"][0]["publicKeyMultibase"] == (
        key.public_key_multibase
    )
    meta = result.document_metadata
    assert meta["versionId"] == "1"
    assert meta["created"] == did.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "deactivated" not in meta
    assert "nextVersionId" not in meta
    res_meta = result.resolution_metadata
    assert res_meta["contentType"] == "application/did+json"
    assert res_meta["did"] == {
        "didString": "did:web:localhost%3A8000:offices:ep",
        "methodSpecificId": "localhost%3A8000:offices:ep",
        "method": "web",
    }
    assert json.loads(result.document_json) == result.did_document


@pytest.mark.django_db
def test_registry_did_resolution_is_one_query():
    did = did_create(path="agents:cheap")
    did_key_rotate(did=did)
    with CaptureQueriesContext(connection) as queries:
        result = resolve(did.did)
    assert len(queries) == 1
    assert result.document_metadata["versionId"] == "2"


@pytest.mark.django_db
def test_registry_root_did_resolves():
    root = registry_did_ensure()
    assert root.did == "did:web:localhost%3A8000"
    assert resolve(root.did).did_document["id"] == root.did


@pytest.mark.django_db
def test_rotation_is_reflected_and_past_versions_stay_resolvable():
    t0 = timezone.now() - timedelta(days=2)
    did = did_create(path="agents:rot", at=t0)
    first_key = did.keys.get()
    t1 = t0 + timedelta(days=1)
    new_key = did_key_rotate(did=did, at=t1)

    current = resolve(did.did)
    vm_ids = [vm["id"] for vm in current.did_document["verificationMethod"]]
    assert vm_ids == [f"{did.did}#key-2"]
    assert current.did_document["alsoKnownAs"] == [new_key.did_key]
    assert current.document_metadata["versionId"] == "2"
    assert current.document_metadata["updated"] == t1.strftime("%Y-%m-%dT%H:%M:%SZ")

    past = resolve(did.did, version_id="1")
    assert past.did_document["alsoKnownAs"] == [first_key.did_key]
    assert past.document_metadata["versionId"] == "1"
    assert past.document_metadata["nextVersionId"] == "2"
    assert past.document_metadata["nextUpdate"] == t1.strftime("%Y-%m-%dT%H:%M:%SZ")

    # versionTime: the version current at that time
    mid = resolve(did.did, version_time=(t0 + timedelta(hours=1)).isoformat())
    assert mid.document_metadata["versionId"] == "1"
    later = resolve(did.did, version_time=t1 + timedelta(seconds=1))
    assert later.document_metadata["versionId"] == "2"
    assert "nextVersionId" not in later.document_metadata
    spaced = (t1 + timedelta(hours=1)).isoformat().replace("+", " ")  # "+" unescaped in a URL
    assert resolve(did.did, version_time=spaced).document_metadata["versionId"] == "2"
    zulu = resolve(did.did, version_time=(t1 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert zulu.document_metadata["versionId"] == "2"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "version_id", ["3", "0", "abc", "-1", "99999999999999", "\u00b2", "\u0661", "1\n", ""]
)
def test_unknown_version_id_is_not_found(version_id):
    did = did_create(path="agents:v")
    did_key_rotate(did=did)
    with pytest.raises(DidNotFound):
        resolve(did.did, version_id=version_id)


@pytest.mark.django_db
def test_version_time_before_creation_is_not_found_and_bad_format_is_invalid_options():
    did = did_create(path="agents:vt")
    with pytest.raises(DidNotFound):
        resolve(did.did, version_time=did.created_at - timedelta(days=1))
    # the last two are valid ISO 8601 but leave the datetime range once converted to UTC
    for bad in (
        "yesterday",
        "2026-13-45T00:00:00Z",
        "x" * 100,
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+01:00",
    ):
        with pytest.raises(InvalidOptions):
            resolve(did.did, version_time=bad)
    with pytest.raises(InvalidOptions):
        resolve(did.did, version_id="1", version_time=did.created_at)


@pytest.mark.django_db
def test_deactivated_did_resolves_with_deactivated_metadata():
    did = did_create(path="agents:gone")
    did_deactivate(did=did)
    result = resolve(did.did)
    assert result.deactivated
    assert result.document_metadata["deactivated"] is True
    assert result.document_metadata["versionId"] == "2"
    assert "verificationMethod" not in result.did_document
    # the version before deactivation is still there, and was not deactivated itself
    past = resolve(did.did, version_id=1)
    assert not past.deactivated
    assert past.did_document["verificationMethod"]


@pytest.mark.django_db
def test_unknown_registry_did_is_not_found():
    with pytest.raises(DidNotFound):
        resolve("did:web:localhost%3A8000:offices:zz")


@pytest.mark.django_db
def test_registry_resolution_never_calls_didkit(monkeypatch):
    from identity.crypto import didkit_adapter

    def no_didkit(*args, **kwargs):
        raise AssertionError("didkit called on the registry resolution path")

    monkeypatch.setattr(didkit_adapter, "_didkit", no_didkit)
    did = did_create(path="offices:wo")
    assert resolve(did.did).did_document["id"] == did.did
    assert dereference(f"{did.did}#key-1").content_stream["id"] == f"{did.did}#key-1"


@pytest.mark.django_db
def test_registry_host_is_matched_case_insensitively_and_never_fetched(monkeypatch):
    from identity.resolution import remote_web

    def no_http(*args, **kwargs):
        raise AssertionError("a registry DID was fetched over HTTP")

    monkeypatch.setattr(remote_web, "fetch_did_document", no_http)
    did = did_create(path="offices:jp")
    # Same host spelled differently: answered from the database (notFound, not an HTTP call).
    with pytest.raises(DidNotFound):
        resolve(did.did.replace("localhost%3A8000", "LOCALHOST%3a8000"))


@pytest.mark.django_db
@override_settings(REGISTRY_HOST="registry.example.org")
def test_registry_host_without_port():
    did = did_create(path="offices:kr")
    assert did.did == "did:web:registry.example.org:offices:kr"
    assert resolve(did.did).did_document["id"] == did.did


# --- dereferencing -----------------------------------------------------------------------


@pytest.mark.django_db
def test_fragment_dereferences_to_the_verification_method():
    did = did_create(path="offices:us")
    key = did.keys.get()
    result = dereference(f"{did.did}#key-1")
    assert result.content_stream == {
        "id": f"{did.did}#key-1",
        "type": "Ed25519VerificationKey2020",
        "controller": did.did,
        "publicKeyMultibase": key.public_key_multibase,
    }
    assert result.content_metadata["versionId"] == "1"
    with pytest.raises(DidNotFound):
        dereference(f"{did.did}#key-2")


@pytest.mark.django_db
def test_fragment_of_a_rotated_key_needs_the_old_version():
    did = did_create(path="agents:frag")
    did_key_rotate(did=did)
    with pytest.raises(DidNotFound):
        dereference(f"{did.did}#key-1")
    old = dereference(f"{did.did}?versionId=1#key-1")
    assert old.content_stream["id"] == f"{did.did}#key-1"
    assert dereference(f"{did.did}#key-2").content_stream["id"] == f"{did.did}#key-2"


@pytest.mark.django_db
def test_fragment_dereferences_to_a_service_and_no_fragment_to_the_document():
    did = did_create(path="offices:em")
    did_service_add(
        did=did, service_id="portal", service_type="LinkedDomains", endpoint="https://euipo.test"
    )
    service = dereference(f"{did.did}#portal").content_stream
    assert service == {
        "id": f"{did.did}#portal",
        "type": "LinkedDomains",
        "serviceEndpoint": "https://euipo.test",
    }
    whole = dereference(did.did)
    assert whole.content_stream["id"] == did.did
    assert whole.content_metadata["versionId"] == "2"


@pytest.mark.django_db
def test_bad_did_urls():
    did = did_create(path="offices:cn")
    with pytest.raises(InvalidDidUrl):
        dereference(f"{did.did}?service=x#key-1")
    with pytest.raises(InvalidDidUrl):
        dereference(f"{did.did}#key 1")
    with pytest.raises(DidNotFound):
        dereference(f"{did.did}/some/path")


def test_did_key_fragment_dereferences_offline():
    fingerprint = ED25519_VECTOR_DID.removeprefix("did:key:")
    vm = dereference(f"{ED25519_VECTOR_DID}#{fingerprint}").content_stream
    assert vm["publicKeyBase58"] == "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"
    with pytest.raises(DidNotFound):
        dereference(f"{ED25519_VECTOR_DID}#key-1")


# --- did:key / did:jwk against the public vectors -----------------------------------------------


def _load(path):
    return json.loads(path.read_text())


def _jwk_x_as_base58(jwk: dict) -> str:
    from identity.crypto.keys import b64url_decode
    from identity.crypto.multibase import b58encode

    return b58encode(b64url_decode(jwk["x"]))


def test_did_key_ed25519_documents_match_the_w3c_ccg_vectors(vectors_dir):
    vectors = _load(vectors_dir / "did-method-key" / "test-vectors" / "ed25519-x25519.json")
    exact = 0
    for did, vector in vectors.items():
        expected = vector["didDocument"]
        result = resolve(did)
        assert result.resolution_metadata["did"]["method"] == "key"
        assert result.document_metadata == {}
        ours = result.did_document
        if "https://w3id.org/security/suites/ed25519-2018/v1" in expected["@context"]:
            assert ours == expected, did
            exact += 1
            continue
        # One vector shows the same keys in the JsonWebKey2020 form: same ids, same keys.
        assert [vm["id"] for vm in ours["verificationMethod"]] == [
            vm["id"] for vm in expected["verificationMethod"]
        ]
        assert [vm["publicKeyBase58"] for vm in ours["verificationMethod"]] == [
            _jwk_x_as_base58(vm["publicKeyJwk"]) for vm in expected["verificationMethod"]
        ]
        for relationship in ("assertionMethod", "authentication", "keyAgreement"):
            assert ours[relationship] == expected[relationship]
    assert exact == 4


def test_did_key_x25519_documents_match_the_w3c_ccg_vectors(vectors_dir):
    vectors = _load(vectors_dir / "did-method-key" / "test-vectors" / "x25519.json")
    exact = 0
    for did, expected in vectors["didDocument"].items():
        ours = resolve(did).did_document
        if "publicKeyBase58" in expected["verificationMethod"][0]:
            assert ours == expected, did
            exact += 1
        else:  # the JsonWebKey2020 form of the same key
            assert ours["keyAgreement"] == expected["keyAgreement"]
            assert ours["verificationMethod"][0]["publicKeyBase58"] == _jwk_x_as_base58(
                expected["verificationMethod"][0]["publicKeyJwk"]
            )
    assert exact >= 3


def test_ed25519_to_x25519_matches_the_vector_key_agreement_keys(vectors_dir):
    from identity.crypto.multibase import b58decode

    vectors = _load(vectors_dir / "did-method-key" / "test-vectors" / "ed25519-x25519.json")
    for vector in vectors.values():
        ed_pair, x_pair = vector["verificationKeyPair"], vector["keyAgreementKeyPair"]
        ed = b58decode(ed_pair.get("publicKeyBase58") or _jwk_x_as_base58(ed_pair["publicKeyJwk"]))
        x = b58decode(x_pair.get("publicKeyBase58") or _jwk_x_as_base58(x_pair["publicKeyJwk"]))
        assert ed25519_to_x25519(ed) == x


@pytest.mark.parametrize(
    ("vector_file", "expected_type"),
    [
        ("secp256k1.json", "EcdsaSecp256k1VerificationKey2019"),
        ("nist-curves.json", "EcdsaSecp256r1VerificationKey2019"),
    ],
)
def test_other_did_key_types_resolve_through_didkit(vectors_dir, vector_file, expected_type):
    vectors = _load(vectors_dir / "did-method-key" / "test-vectors" / vector_file)
    did = next(d for d in vectors if d.startswith(("did:key:zQ3s", "did:key:zDna")))
    document = resolve(did).did_document
    assert document["id"] == did
    assert document["verificationMethod"][0]["type"] == expected_type
    assert document["verificationMethod"][0]["id"] == f"{did}#{did.removeprefix('did:key:')}"


def test_did_key_matches_the_did_test_suite_key_material(vectors_dir):
    """SpruceID's recorded did:key outputs (publicKeyJwk) and ours (publicKeyBase58) hold the
    same Ed25519 key."""
    import base64

    from identity.crypto.multibase import b58decode

    suite = _load(vectors_dir / "did-test-suite" / "resolver-spruce-key.json")
    checked = 0
    for execution in suite["executions"]:
        did = execution["input"]["did"]
        expected = execution["output"].get("didDocument")
        if not did.startswith("did:key:z6Mk") or not expected:
            continue
        ours = resolve(did).did_document
        jwk_x = expected["verificationMethod"][0]["publicKeyJwk"]["x"]
        assert b58decode(
            ours["verificationMethod"][0]["publicKeyBase58"]
        ) == base64.urlsafe_b64decode(jwk_x + "=" * (-len(jwk_x) % 4))
        assert ours["verificationMethod"][0]["id"] == expected["verificationMethod"][0]["id"]
        checked += 1
    assert checked >= 1


def test_did_key_errors():
    with pytest.raises(InvalidDid):
        resolve("did:key:z0OIl")  # not base58
    with pytest.raises(InvalidDid):
        resolve("did:key:abc")  # not multibase base58btc
    from identity.crypto.multibase import b58encode

    with pytest.raises(InvalidDid):  # an Ed25519 multicodec with a 31-byte key
        resolve("did:key:z" + b58encode(bytes([0xED, 0x01]) + bytes(range(1, 32))))

    # The Ed25519 multicodec 0xed as a padded varint (0xed 0x81 0x00 instead of 0xed 0x01):
    # the same key under a second did:key, which the multiformats varint spec forbids.
    from identity.crypto.keys import Ed25519KeyPair

    key = Ed25519KeyPair.generate().public_bytes
    assert resolve("did:key:z" + b58encode(bytes([0xED, 0x01]) + key)).did_document
    with pytest.raises(InvalidDid, match="minimally"):
        resolve("did:key:z" + b58encode(bytes([0xED, 0x81, 0x00]) + key))

    unknown_codec = "did:key:z" + b58encode(bytes([0xB4, 0x24]) + bytes(32))
    with pytest.raises(UnsupportedPublicKeyType):
        resolve(unknown_codec)
    with pytest.raises(InvalidOptions):
        resolve(ED25519_VECTOR_DID, version_id="1")


def test_did_key_resolution_agrees_with_didkit_on_key_material():
    from identity.crypto import didkit_adapter
    from identity.crypto.keys import Ed25519KeyPair, b64url_decode
    from identity.crypto.multibase import b58decode

    pair = Ed25519KeyPair.generate()
    ours = resolve(pair.did_key).did_document
    theirs = didkit_adapter.resolve_offline(pair.did_key)
    assert b58decode(ours["verificationMethod"][0]["publicKeyBase58"]) == pair.public_bytes
    assert b64url_decode(theirs["verificationMethod"][0]["publicKeyJwk"]["x"]) == pair.public_bytes
    assert ours["assertionMethod"] == theirs["assertionMethod"]


def test_did_jwk_spec_examples(vectors_dir):
    folder = vectors_dir / "did-jwk" / "spec-examples"
    # example-08: an X25519 "use": "enc" key -> keyAgreement only
    did = (folder / "example-06.txt").read_text().strip()
    assert resolve(did).did_document == _load(folder / "example-08.json")
    # example-05: a P-256 key -> every relationship (the spec's authentication entry has a
    # stray "$" typo, corrected here)
    did = (folder / "example-03.txt").read_text().strip()
    expected = _load(folder / "example-05.json")
    expected["authentication"] = [
        a.replace("did:jwk:$", "did:jwk:") for a in expected["authentication"]
    ]
    assert resolve(did).did_document == expected
    # example-04/07: the DID URL #0 dereferences to the key
    url = (folder / "example-07.txt").read_text().strip()
    assert dereference(url).content_stream["publicKeyJwk"]["crv"] == "X25519"


def _jwk_did(jwk: dict) -> str:
    import base64

    raw = json.dumps(jwk, separators=(",", ":")).encode()
    return "did:jwk:" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_did_jwk_signature_only_and_errors():
    from identity.crypto.keys import Ed25519KeyPair

    pair = Ed25519KeyPair.generate()
    doc = resolve(_jwk_did({**pair.public_jwk, "use": "sig"})).did_document
    assert "keyAgreement" not in doc
    assert len(doc["assertionMethod"]) == 1
    with pytest.raises(InvalidDid):  # private key material
        resolve(_jwk_did(json.loads(pair.private_jwk_json)))
    with pytest.raises(InvalidDid):
        resolve("did:jwk:bm90LWpzb24")  # "not-json"
    with pytest.raises(InvalidDid):
        resolve(_jwk_did({"kty": "OKP", "crv": "Ed25519"}))  # no x
    with pytest.raises(UnsupportedPublicKeyType):
        resolve(_jwk_did({"kty": "oct", "alg": "HS256"}))
    with pytest.raises(InvalidDid):
        resolve("did:jwk:abc.def")


def test_did_jwk_nested_past_the_json_parser_limit_is_invalid():
    """1500 "[" fit in a DID (2048 characters once base64url-encoded) and exceed json's
    recursion limit: invalidDid, not a RecursionError (a 500 through the API)."""
    import base64

    deep = "did:jwk:" + base64.urlsafe_b64encode(b"[" * 1500).rstrip(b"=").decode()
    with pytest.raises(InvalidDid):
        resolve(deep)
    deep_member = base64.urlsafe_b64encode(b'{"kty":' + b"[" * 1400).rstrip(b"=").decode()
    with pytest.raises(InvalidDid):
        resolve("did:jwk:" + deep_member)


# --- syntax and dispatch --------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "did:",
        "did:web:",
        "did:web:exa mple.com",
        "DID:key:z6Mk",
        "did:Web:example.com",
        "not-a-did",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#frag",
        "did:web:example.com:",
        "did:web:localhost%3A8000:offices:ep%2",
    ],
)
def test_malformed_dids_are_invalid(bad):
    with pytest.raises(InvalidDid):
        resolve(bad)


def test_overlong_input_is_invalid_before_parsing():
    with pytest.raises(InvalidDid, match=str(MAX_DID_LENGTH)):
        resolve("did:key:z" + "a" * MAX_DID_LENGTH)
    with pytest.raises(InvalidDid):
        dereference("did:key:z6Mk#" + "a" * MAX_DID_LENGTH)


def test_unknown_method_is_not_supported():
    with pytest.raises(MethodNotSupported):
        resolve("did:example:123456789abcdefghi")
    with pytest.raises(MethodNotSupported):
        resolve("did:sov:WRfXPg8dantKVubE3HX8pw")


def test_supported_methods():
    assert supported_methods() == ["jwk", "key", "web"]
