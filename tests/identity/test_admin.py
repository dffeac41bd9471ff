import base64

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from identity.models import Did, DidDocumentVersion, DidKey, LinkedDid
from identity.services import did_create, did_key_rotate, did_link_wallet

pytestmark = pytest.mark.django_db

WALLET = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def did():
    did = did_create(path="agents:admintest")
    did_key_rotate(did=did)
    did_link_wallet(did=did, wallet_did=WALLET)
    return did


def _ciphertext_forms(key: DidKey) -> list[str]:
    raw = bytes(DidKey.objects.get(pk=key.pk).private_key_ciphertext)
    return [
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw[:16].hex(),
    ]


def _pages(did: Did) -> list[str]:
    key = did.keys.first()
    version = did.versions.first()
    link = did.linked_dids.first()
    return [
        reverse("admin:identity_did_changelist"),
        reverse("admin:identity_did_change", args=[did.pk]),
        reverse("admin:identity_didkey_changelist"),
        reverse("admin:identity_didkey_change", args=[key.pk]),
        reverse("admin:identity_diddocumentversion_changelist"),
        reverse("admin:identity_diddocumentversion_change", args=[version.pk]),
        reverse("admin:identity_linkeddid_changelist"),
        reverse("admin:identity_linkeddid_change", args=[link.pk]),
    ]


def test_pages_show_public_key_material_never_the_ciphertext(admin_client, did):
    keys = list(did.keys.all())
    secrets = [form for key in keys for form in _ciphertext_forms(key)]
    for url in _pages(did):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "private_key_ciphertext" not in html, url
        assert "ciphertext" not in html.lower(), url
        for secret in secrets:
            assert secret not in html, url
    key_page = admin_client.get(reverse("admin:identity_didkey_change", args=[keys[0].pk]))
    assert keys[0].did_key in key_page.content.decode()
    assert keys[0].public_key_multibase in key_page.content.decode()


def test_everything_is_read_only(admin_client, did):
    key = did.keys.first()
    for model in ("did", "didkey", "diddocumentversion", "linkeddid"):
        assert admin_client.get(reverse(f"admin:identity_{model}_add")).status_code == 403
    delete = reverse("admin:identity_didkey_delete", args=[key.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:identity_didkey_change", args=[key.pk])
    before = DidKey.objects.get(pk=key.pk)
    response = admin_client.post(change, {"did_key": "did:key:zForged", "master_key_id": "x"})
    assert response.status_code == 403
    after = DidKey.objects.get(pk=key.pk)
    assert (after.did_key, after.master_key_id) == (before.did_key, before.master_key_id)
    version = did.versions.first()
    response = admin_client.post(
        reverse("admin:identity_diddocumentversion_change", args=[version.pk]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert DidDocumentVersion.objects.get(pk=version.pk).reason == version.reason
    # No "delete selected" bulk action either.
    changelist = admin_client.get(reverse("admin:identity_didkey_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert DidKey.objects.count() == 2
    assert LinkedDid.objects.count() == 1


def test_did_page_shows_history_and_search_by_did_key(admin_client, did):
    page = admin_client.get(reverse("admin:identity_did_change", args=[did.pk])).content.decode()
    for key in did.keys.all():
        assert key.did_key in page
    assert "key-rotated" in page
    assert "wallet-linked" in page
    new_key = did.keys.order_by("-number").first()
    found = admin_client.get(reverse("admin:identity_did_changelist"), {"q": new_key.did_key})
    assert did.did in found.content.decode()
    assert found.context["cl"].result_count == 1


def test_the_changelists_cannot_filter_on_the_private_key(admin_client):
    # Any local field may be filtered from the query string unless the admin says otherwise:
    # the key list answered lookups on the ciphertext (an oracle, or a 500 for a comparison).
    did_create(path="acme")
    for query in (
        {"private_key_ciphertext__isnull": "False"},
        {"private_key_ciphertext__startswith": "g"},
        {"private_key_ciphertext__gt": "a"},
    ):
        assert admin_client.get("/admin/identity/didkey/", query).status_code == 400, query
    response = admin_client.get("/admin/identity/did/", {"keys__private_key_ciphertext__gt": "a"})
    assert response.status_code == 400
