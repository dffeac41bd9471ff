"""The didkit adapter's synchronous bridge: answers, errors, threads, and the event-loop fallback.

Every other test that signs or verifies goes through the bridge too; these pin down what the
bridge itself promises."""

import asyncio
import threading

import pytest

from identity.crypto import didkit_adapter
from identity.crypto.errors import CryptoError
from identity.crypto.keys import Ed25519KeyPair


def _credential(key: Ed25519KeyPair, subject: str = "did:example:subject") -> dict:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": key.did_key,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject},
    }


@pytest.fixture
def event_loop_only(monkeypatch):
    """Force the adapter's fallback: a real asyncio loop per thread."""
    monkeypatch.setattr(didkit_adapter, "_bridge_usable", False)


def test_bridge_signs_and_verifies_without_an_event_loop():
    key = Ed25519KeyPair.generate()
    signed = didkit_adapter.issue_credential(_credential(key), key=key)
    assert signed["proof"]["verificationMethod"].startswith(key.did_key)
    assert didkit_adapter.verify_credential(signed).ok
    jwt = didkit_adapter.issue_credential(_credential(key), key=key, proof_format="jwt")
    assert jwt.count(".") == 2
    assert didkit_adapter.verify_credential(jwt).ok
    # the bridge answered: no fallback was needed, and no loop was left behind in this thread
    assert didkit_adapter._bridge_usable
    assert asyncio._get_running_loop() is None


def test_bridge_turns_didkit_errors_into_crypto_errors():
    with pytest.raises(CryptoError):
        didkit_adapter.resolve_offline("did:key:z6MkNotAKey")
    key = Ed25519KeyPair.generate()
    with pytest.raises(CryptoError):  # signing for another issuer than the key's
        didkit_adapter.issue_credential(_credential(key), key=Ed25519KeyPair.generate())
    tampered = didkit_adapter.issue_credential(_credential(key), key=key)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    verdict = didkit_adapter.verify_credential(tampered)
    assert not verdict.ok
    assert verdict.errors
    assert didkit_adapter._bridge_usable


def test_bridge_gives_each_thread_its_own_answer():
    keys = [Ed25519KeyPair.generate() for _ in range(4)]
    results: dict[int, list] = {i: [] for i in range(len(keys))}

    def sign(i):
        for n in range(10):
            subject = f"did:example:{i}-{n}"
            signed = didkit_adapter.issue_credential(_credential(keys[i], subject), key=keys[i])
            results[i].append((subject, signed))

    threads = [threading.Thread(target=sign, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, signed_list in results.items():
        assert len(signed_list) == 10
        for subject, signed in signed_list:
            assert signed["credentialSubject"]["id"] == subject
            assert signed["issuer"] == keys[i].did_key
            assert didkit_adapter.verify_credential(signed).ok


def test_event_loop_fallback_gives_the_same_answers(event_loop_only):
    key = Ed25519KeyPair.generate()
    signed = didkit_adapter.issue_credential(_credential(key), key=key)
    assert didkit_adapter.verify_credential(signed).ok
    with pytest.raises(CryptoError):
        didkit_adapter.resolve_offline("did:key:z6MkNotAKey")
    assert didkit_adapter.resolve_offline(key.did_key)["id"] == key.did_key


def test_a_binding_that_wants_more_of_a_loop_switches_to_the_event_loop(monkeypatch):
    calls = []

    async def answer(value):
        return value

    def needs_a_real_loop(value):
        calls.append(value)
        asyncio.get_running_loop().create_task  # noqa: B018  (the bridge has no create_task)
        return answer(value)

    monkeypatch.setattr(didkit_adapter, "_bridge_usable", True)
    assert didkit_adapter._didkit(needs_a_real_loop, "x") == "x"
    assert not didkit_adapter._bridge_usable
    assert didkit_adapter._didkit(needs_a_real_loop, "y") == "y"
    assert calls == ["x", "x", "y"]


def test_a_silent_binding_times_out_instead_of_hanging(monkeypatch):
    def never_completes():
        return asyncio.get_running_loop().create_future()

    monkeypatch.setattr(didkit_adapter, "_bridge_usable", True)
    monkeypatch.setattr(didkit_adapter, "DIDKIT_TIMEOUT_SECONDS", 0.05)
    with pytest.raises(CryptoError, match="did not answer"):
        didkit_adapter._didkit(never_completes)
