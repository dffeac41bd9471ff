import base64
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from identity.crypto.keys import public_bytes_from_did_key, verify_ed25519
from identity.models import DidKey
from identity.services import did_create, did_key_rotate, did_signing_key

pytestmark = pytest.mark.django_db


def _master_key(kid: str) -> str:
    return f"{kid}:" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def _assert_signs(did) -> None:
    key, pair = did_signing_key(did)
    message = b"rotate_master_key test " + os.urandom(8)
    signature = pair.sign(message)
    assert verify_ed25519(public_bytes_from_did_key(key.did_key), signature, message)


def test_rotate_master_key_reencrypts_every_key(settings):
    old, new = _master_key("old-1"), _master_key("new-2")
    settings.REGISTRY_MASTER_KEYS = old
    dids = [did_create(path=f"agents:mk{i}") for i in range(3)]
    did_key_rotate(did=dids[0])  # a retired key must be re-encrypted too
    before = {k.pk: bytes(k.private_key_ciphertext) for k in DidKey.objects.all()}
    assert len(before) == 4
    assert set(DidKey.objects.values_list("master_key_id", flat=True)) == {"old-1"}

    settings.REGISTRY_MASTER_KEYS = f"{new},{old}"
    call_command("rotate_master_key")

    keys = list(DidKey.objects.all())
    assert {k.master_key_id for k in keys} == {"new-2"}
    assert all(bytes(k.private_key_ciphertext) != before[k.pk] for k in keys)
    for did in dids:
        _assert_signs(did)

    # The old master key can now leave the ring.
    settings.REGISTRY_MASTER_KEYS = new
    for did in dids:
        _assert_signs(did)
    # A second run has nothing to do and changes nothing.
    after = {k.pk: bytes(k.private_key_ciphertext) for k in DidKey.objects.all()}
    call_command("rotate_master_key")
    assert after == {k.pk: bytes(k.private_key_ciphertext) for k in DidKey.objects.all()}


def test_rotate_master_key_refuses_when_a_key_is_unreadable(settings):
    old = _master_key("old-1")
    settings.REGISTRY_MASTER_KEYS = old
    did = did_create(path="agents:lost")
    settings.REGISTRY_MASTER_KEYS = _master_key("new-2")  # the old key was dropped too early
    with pytest.raises(CommandError, match="old-1"):
        call_command("rotate_master_key")
    # Nothing lost: with the old key back in the ring, the key is still readable.
    settings.REGISTRY_MASTER_KEYS = old
    _assert_signs(did)


@pytest.mark.parametrize("size", ["0", "-5"])
def test_a_batch_size_below_one_is_refused_with_a_message_not_a_traceback(settings, size):
    # 0 ended in "range() arg 3 must not be zero" (a traceback); -5 re-encrypted nothing and
    # blamed the keys ("N key(s) are still under another master key").
    old, new = _master_key("old-1"), _master_key("new-2")
    settings.REGISTRY_MASTER_KEYS = old
    did_create(path="agents:mk-batch")
    settings.REGISTRY_MASTER_KEYS = f"{new},{old}"
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("rotate_master_key", "--batch-size", size)
    assert set(DidKey.objects.values_list("master_key_id", flat=True)) == {"old-1"}
