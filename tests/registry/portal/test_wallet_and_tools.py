import base64
import json

import pytest
from django.conf import settings
from django.urls import reverse

from identity.crypto import didkit_adapter
from identity.crypto.keys import Ed25519KeyPair
from identity.models import LinkedDid
from registry.portal.views import WALLET_CHALLENGE_KEY

pytestmark = pytest.mark.django_db


def _wallet_presentation(pair: Ed25519KeyPair, challenge: str, *, fmt="ldp", domain=None):
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": pair.did_key,
    }
    signed = didkit_adapter.issue_presentation(
        presentation,
        key=pair,
        challenge=challenge,
        domain=domain or settings.REGISTRY_HOST,  # the domain the wallet page shows
        proof_format=fmt,
    )
    return signed if fmt == "jwt" else json.dumps(signed)


@pytest.mark.parametrize("fmt", ["ldp", "jwt"])
def test_link_wallet_over_the_challenge(client, alice, fmt):
    client.force_login(alice.user)
    page = client.get(reverse("portal:wallet"))
    challenge = client.session[WALLET_CHALLENGE_KEY]
    assert challenge in page.content.decode()
    wallet = Ed25519KeyPair.generate()
    response = client.post(
        reverse("portal:wallet"), {"document": _wallet_presentation(wallet, challenge, fmt=fmt)}
    )
    assert response.status_code == 302
    link = LinkedDid.objects.get(did=alice.did)
    assert link.linked_did == wallet.did_key
    assert wallet.did_key in client.get(reverse("portal:dashboard")).content.decode()


def test_wallet_upload_file(client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice.user)
    client.get(reverse("portal:wallet"))
    challenge = client.session[WALLET_CHALLENGE_KEY]
    wallet = Ed25519KeyPair.generate()
    upload = SimpleUploadedFile(
        "vp.json", _wallet_presentation(wallet, challenge).encode(), "application/json"
    )
    response = client.post(reverse("portal:wallet"), {"upload": upload})
    assert response.status_code == 302
    assert LinkedDid.objects.filter(linked_did=wallet.did_key).exists()


def test_wrong_challenge_or_replay_does_not_link(client, alice):
    client.force_login(alice.user)
    client.get(reverse("portal:wallet"))
    challenge = client.session[WALLET_CHALLENGE_KEY]
    wallet = Ed25519KeyPair.generate()
    # Signed over another challenge.
    response = client.post(
        reverse("portal:wallet"), {"document": _wallet_presentation(wallet, "not-ours")}
    )
    assert response.status_code == 200
    assert "not verified" in response.content.decode()
    assert not LinkedDid.objects.exists()
    # The used challenge is replaced: a presentation over the old one fails too.
    assert client.session[WALLET_CHALLENGE_KEY] != challenge
    response = client.post(
        reverse("portal:wallet"), {"document": _wallet_presentation(wallet, challenge)}
    )
    assert response.status_code == 200
    assert not LinkedDid.objects.exists()


@pytest.mark.parametrize("fmt", ["ldp", "jwt"])
def test_a_presentation_for_another_domain_does_not_link(client, alice, fmt):
    # A phishing site relaying our challenge gets the victim's wallet to sign for its own
    # domain (wallets put the requesting site there): that must not link the wallet.
    client.force_login(alice.user)
    page = client.get(reverse("portal:wallet"))
    assert settings.REGISTRY_HOST in page.content.decode()  # shown beside the challenge
    challenge = client.session[WALLET_CHALLENGE_KEY]
    wallet = Ed25519KeyPair.generate()
    response = client.post(
        reverse("portal:wallet"),
        {"document": _wallet_presentation(wallet, challenge, fmt=fmt, domain="phisher.example")},
    )
    assert response.status_code == 200
    assert not LinkedDid.objects.filter(linked_did=wallet.did_key).exists()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


NESTED = "[" * 5000 + "]" * 5000  # past the JSON parser's recursion limit


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[1, 2]",
        "plain words",
        '{"holder": ' + NESTED + "}",
        _b64('{"alg":"EdDSA"}') + "." + _b64('{"vp": ' + NESTED + "}") + ".c2ln",
    ],
)
def test_wallet_bad_input(client, alice, text):
    client.force_login(alice.user)
    response = client.post(reverse("portal:wallet"), {"document": text})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not LinkedDid.objects.exists()


def test_tools_are_for_officers(client, alice, ep_officer, ep):
    for name in ("portal:tool-resolve", "portal:tool-verify"):
        client.force_login(alice.user)
        assert client.get(reverse(name)).status_code == 404
        client.force_login(ep_officer)
        assert client.get(reverse(name)).status_code == 200


def test_resolve_tool(client, ep_officer, ep, alice):
    client.force_login(ep_officer)
    page = client.get(reverse("portal:tool-resolve"), {"did": alice.did.did}).content.decode()
    assert 'id="did-document"' in page
    assert alice.did.keys.get().public_key_multibase in page
    page = client.get(reverse("portal:tool-resolve"), {"did": "did:nope"})
    assert page.status_code == 200
    assert "invalidDid" in page.content.decode() or "methodNotSupported" in page.content.decode()


def test_verify_tool_shows_each_check(client, ep_officer, ep, alice):
    from registry.credentials.services import credential_issue

    issued = credential_issue(
        issuer=ep,
        credential_type="IPApplicantCredential",
        subject_did=alice.did.did,
        claims={"name": "Alice", "personType": "legal", "country": "FR", "address": "Paris"},
    )
    client.force_login(ep_officer)
    response = client.post(
        reverse("portal:tool-verify"),
        {"kind": "credential", "document": json.dumps(issued.document)},
    )
    page = response.content.decode()
    assert 'id="verdict">verified' in page
    for check in ("proof", "issuer", "status"):
        assert check in page
    tampered = json.loads(json.dumps(issued.document))
    tampered["credentialSubject"]["name"] = "Mallory"
    page = client.post(
        reverse("portal:tool-verify"), {"kind": "credential", "document": json.dumps(tampered)}
    ).content.decode()
    assert 'id="verdict">not verified' in page
    # A presentation needs its challenge.
    response = client.post(
        reverse("portal:tool-verify"), {"kind": "presentation", "document": "{}"}
    )
    assert "challenge" in response.context["form"].errors


def test_wallet_already_linked_elsewhere_is_refused_and_a_new_challenge_shown(client, alice, bob):
    from identity.services import did_link_wallet

    wallet = Ed25519KeyPair.generate()
    did_link_wallet(did=bob.did, wallet_did=wallet.did_key)
    client.force_login(alice.user)
    client.get(reverse("portal:wallet"))
    challenge = client.session[WALLET_CHALLENGE_KEY]
    response = client.post(
        reverse("portal:wallet"), {"document": _wallet_presentation(wallet, challenge)}
    )
    assert response.status_code == 200
    assert "already linked" in response.content.decode()
    assert client.session[WALLET_CHALLENGE_KEY] != challenge
    assert not LinkedDid.objects.filter(did=alice.did).exists()


def test_verify_tool_shows_the_checks_of_embedded_credentials(client, ep_officer, ep, alice):
    from identity.services import did_signing_key
    from registry.credentials.services import challenge_create, credential_issue

    issued = credential_issue(
        issuer=ep,
        credential_type="IPApplicantCredential",
        subject_did=alice.did.did,
        claims={"name": "Alice", "personType": "legal", "country": "FR", "address": "Paris"},
    )
    _, pair = did_signing_key(alice.did)
    challenge = challenge_create().value
    presentation = didkit_adapter.issue_presentation(
        {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": pair.did_key,
            "verifiableCredential": [issued.document],
        },
        key=pair,
        challenge=challenge,
    )
    client.force_login(ep_officer)
    data = {"kind": "presentation", "challenge": challenge, "document": json.dumps(presentation)}
    page = client.post(reverse("portal:tool-verify"), data).content.decode()
    assert 'id="verdict">verified' in page
    assert "Embedded credential 1" in page
    # The challenge is used up: the same presentation again fails its challenge check.
    page = client.post(reverse("portal:tool-verify"), data).content.decode()
    assert 'id="verdict">not verified' in page
