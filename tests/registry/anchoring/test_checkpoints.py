"""Signed checkpoints: format, signature with the registry key, idempotence, key rotation,
the Celery task and the beat sweep, DID version anchoring and external backends."""

import hashlib

import pytest
import rfc8785
from django.core.exceptions import ImproperlyConfigured

from identity.services import did_create, did_key_rotate, registry_did_ensure
from registry.anchoring import backends, note, services, tasks
from registry.anchoring.hooks import DID_VERSION_KIND, did_version_key
from registry.anchoring.models import AnchorReceipt, Checkpoint, LogLeaf

from . import recording_backend

pytestmark = pytest.mark.django_db


def keys():
    return [note.VerifierKey.parse(k["verifier_key"]) for k in services.log_verifier_keys()]


def test_checkpoint_is_a_signed_note_of_the_current_tree(settings):
    for i in range(5):
        services.anchor_record(kind="test", key=str(i), data={"i": i})
    checkpoint = services.checkpoint_publish()
    size, root = services.log_head_root()
    assert checkpoint.tree_size == size == 5
    lines = checkpoint.note.split("\n")
    assert lines[0] == f"{settings.REGISTRY_HOST}/log"
    assert lines[1] == "5"
    assert lines[3] == ""
    assert lines[4].startswith(f"\u2014 {settings.REGISTRY_HOST}/log ")
    parsed = note.open_checkpoint(checkpoint.note, keys(), origin=services.log_origin())
    assert parsed.tree_size == 5
    assert parsed.root_hash == root
    # signed by the registry DID's current key, whose did:key is recorded
    registry = registry_did_ensure()
    current = registry.keys.get(retired_at__isnull=True)
    assert checkpoint.signer_did_key == current.did_key
    assert checkpoint.verifier_key == services.verifier_key_for(current.did_key)


def test_checkpoint_publish_is_idempotent_and_none_when_empty():
    assert services.checkpoint_publish() is None
    services.anchor_record(kind="test", key="a", data={})
    first = services.checkpoint_publish()
    assert services.checkpoint_publish().pk == first.pk
    assert tasks.publish_checkpoint.delay() is not None
    assert Checkpoint.objects.count() == 1


def test_checkpoint_latest_signs_on_demand():
    services.anchor_record(kind="test", key="a", data={})
    services.checkpoint_publish()
    services.anchor_record(kind="test", key="b", data={})
    latest = services.checkpoint_latest()
    assert latest.tree_size == 2
    assert Checkpoint.objects.count() == 2


def test_a_tampered_checkpoint_does_not_verify():
    services.anchor_record(kind="test", key="a", data={})
    checkpoint = services.checkpoint_publish()
    forged = checkpoint.note.replace("\n1\n", "\n2\n", 1)
    with pytest.raises(note.NoteError):
        note.open_checkpoint(forged, keys())


def test_old_checkpoints_verify_with_the_key_of_their_time_after_rotation():
    services.anchor_record(kind="test", key="a", data={})
    old = services.checkpoint_publish()
    old_key = note.VerifierKey.parse(old.verifier_key)
    did_key_rotate(did=registry_did_ensure())
    services.anchor_record(kind="test", key="b", data={})
    new = services.checkpoint_publish()
    new_key = note.VerifierKey.parse(new.verifier_key)
    assert old_key.key_id != new_key.key_id
    published = keys()
    assert published[0] == new_key
    assert old_key in published
    note.open_checkpoint(old.note, [old_key])
    with pytest.raises(note.NoteError):
        note.open_checkpoint(old.note, [new_key])
    note.open_checkpoint(new.note, published)


def test_every_did_document_version_is_anchored(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        did = did_create(path="offices:zz")
    with django_capture_on_commit_callbacks(execute=True):
        did_key_rotate(did=did)
    for version in did.versions.order_by("version_id"):
        leaf = LogLeaf.objects.get(
            kind=DID_VERSION_KIND, key=did_version_key(did.did, version.version_id)
        )
        assert leaf.data == {
            "did": did.did,
            "versionId": version.version_id,
            "sha256": hashlib.sha256(rfc8785.dumps(version.document)).hexdigest(),
            "time": version.created_at.isoformat().replace("+00:00", "Z"),
        }
    assert did.versions.count() == 2
    # the append's on-commit task published a checkpoint covering them
    assert Checkpoint.objects.order_by("-tree_size").first().tree_size == services.log_size()


def test_sweep_anchors_versions_the_hook_missed_and_publishes():
    did = did_create(path="offices:zy")  # on-commit hooks never run in this test transaction
    assert not LogLeaf.objects.filter(kind=DID_VERSION_KIND).exists()
    result = tasks.sweep.delay().get()
    assert result["did_versions_anchored"] >= 1
    assert LogLeaf.objects.filter(key=did_version_key(did.did, 1)).exists()
    assert result["checkpoint_size"] == services.log_size()
    again = services.anchor_sweep()
    assert again["did_versions_anchored"] == 0


@pytest.fixture
def recording(settings):
    settings.ANCHORING_BACKENDS = [
        "registry.anchoring.backends.MerkleLogBackend",
        "tests.registry.anchoring.recording_backend.RecordingBackend",
    ]
    recording_backend.RECEIVED.clear()
    recording_backend.REFUSED.clear()
    recording_backend.CALLS["n"] = 0
    recording_backend.FAIL["on"] = False
    yield recording_backend
    recording_backend.FAIL["on"] = False
    recording_backend.REFUSED.clear()


def test_external_backend_gets_each_leaf_once_after_commit(
    recording, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        leaf = services.anchor_record(kind="test", key="ext", data={"x": 1})
    # the checkpoint task created the registry DID, whose first version was anchored too
    assert sorted(recording.RECEIVED) == sorted(LogLeaf.objects.values_list("leaf_hash", flat=True))
    assert recording.RECEIVED.count(leaf.leaf_hash) == 1
    received = list(recording.RECEIVED)
    receipt = AnchorReceipt.objects.get(leaf=leaf)
    assert (receipt.backend, receipt.receipt) == ("recording", "tx-0")
    services.anchor_deliver(leaf_id=leaf.pk, backend_name="recording")
    services.anchor_sweep()
    assert received == recording.RECEIVED


def test_external_backend_failure_is_retried_by_the_sweep(recording):
    recording.FAIL["on"] = True
    leaf = services.anchor_record(kind="test", key="ext", data={})
    with pytest.raises(ConnectionError):
        services.anchor_deliver(leaf_id=leaf.pk, backend_name="recording")
    assert not AnchorReceipt.objects.exists()
    recording.FAIL["on"] = False
    services.anchor_sweep()
    assert AnchorReceipt.objects.filter(leaf=leaf, backend="recording").count() == 1


def test_a_leaf_the_backend_always_refuses_blocks_neither_later_leaves_nor_the_checkpoint(
    recording,
):
    # The on-commit hooks never run in this test transaction: as if every deliver_leaf message
    # had been lost, so the sweep is the only way the leaves reach the backend.
    leaves = [services.anchor_record(kind="test", key=str(i), data={"i": i}) for i in range(4)]
    recording.REFUSED.add(leaves[0].leaf_hash)  # the oldest leaf: the sweep meets it first
    result = services.anchor_sweep()
    delivered = set(AnchorReceipt.objects.values_list("leaf__leaf_hash", flat=True))
    assert delivered == set(LogLeaf.objects.values_list("leaf_hash", flat=True)) - {
        leaves[0].leaf_hash
    }
    assert result["delivered"] == len(delivered)
    assert result["checkpoint_size"] == services.log_size()
    # once the ledger takes it, the next sweep delivers it, and only it
    recording.REFUSED.clear()
    assert services.anchor_sweep()["delivered"] == 1
    assert AnchorReceipt.objects.filter(leaf=leaves[0]).count() == 1


def test_a_backend_that_is_down_is_given_up_for_the_sweep_which_still_checkpoints(recording):
    for i in range(20):
        services.anchor_record(kind="test", key=str(i), data={"i": i})
    recording.FAIL["on"] = True
    result = services.anchor_sweep()
    # a few attempts, not one (network timeout) per pending leaf: the sweep must stay short
    assert recording.CALLS["n"] == services.BACKEND_DOWN_AFTER_FAILURES
    assert result["delivered"] == 0
    assert result["checkpoint_size"] == services.log_size()
    assert Checkpoint.objects.filter(tree_size=services.log_size()).exists()


@pytest.mark.parametrize(
    "paths",
    [
        [],
        ["tests.registry.anchoring.recording_backend.RecordingBackend"],
        ["registry.anchoring.backends.MerkleLogBackend", "no.such.Backend"],
        ["registry.anchoring.backends.MerkleLogBackend", "registry.anchoring.models.LogLeaf"],
    ],
)
def test_backend_setting_is_checked(settings, paths):
    settings.ANCHORING_BACKENDS = paths
    with pytest.raises(ImproperlyConfigured):
        backends.anchor_backends()


def test_the_did_hook_never_breaks_the_identity_change(
    django_capture_on_commit_callbacks, monkeypatch
):
    from registry.anchoring import hooks

    def broken(**kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(services, "anchor_record", broken)
    with django_capture_on_commit_callbacks(execute=True):
        did = did_create(path="offices:zx")
    assert did.versions.count() == 1
    assert not LogLeaf.objects.filter(kind=DID_VERSION_KIND).exists()
    monkeypatch.undo()
    assert hooks.did_versions_unanchored()  # the sweep will pick it up
    services.anchor_sweep()
    assert LogLeaf.objects.filter(key=did_version_key(did.did, 1)).exists()


def test_the_sweep_finds_exactly_the_did_versions_without_a_leaf(
    django_capture_on_commit_callbacks, monkeypatch
):
    from registry.anchoring import hooks

    with django_capture_on_commit_callbacks(execute=True):
        anchored = did_create(path="offices:zx")
    monkeypatch.setattr(services, "anchor_record", lambda **kwargs: None)  # the hook is lost
    with django_capture_on_commit_callbacks(execute=True):
        first = did_create(path="offices:zy")
        second = did_create(path="applicants:0123456789abcdef0123")
    monkeypatch.undo()
    missing = hooks.did_versions_unanchored()
    assert [(v.did.did, v.version_id) for v in missing] == [(first.did, 1), (second.did, 1)]
    assert anchored.did not in {v.did.did for v in missing}
    assert [v.did.did for v in hooks.did_versions_unanchored(limit=1)] == [first.did]
    services.anchor_sweep()
    assert hooks.did_versions_unanchored() == []
    assert LogLeaf.objects.filter(key=did_version_key(second.did, 1)).exists()


def test_admin_is_read_only(admin_client):
    services.anchor_record(kind="test", key="a", data={})
    services.checkpoint_publish()
    assert admin_client.get("/admin/anchoring/logleaf/").status_code == 200
    assert admin_client.get("/admin/anchoring/checkpoint/").status_code == 200
    leaf = LogLeaf.objects.get(kind="test")
    assert admin_client.get(f"/admin/anchoring/logleaf/{leaf.pk}/change/").status_code == 200
    assert (
        admin_client.post(
            f"/admin/anchoring/logleaf/{leaf.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get("/admin/anchoring/logleaf/add/").status_code == 403
    assert LogLeaf.objects.filter(pk=leaf.pk).exists()


def test_log_key_command_prints_the_verifier_keys():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("log_key", stdout=out)
    current = services.log_verifier_keys()[0]["verifier_key"]
    assert out.getvalue().strip() == current
    note.VerifierKey.parse(current)
    did_key_rotate(did=registry_did_ensure())
    out = StringIO()
    call_command("log_key", "--all", stdout=out)
    lines = out.getvalue().split()
    assert len(lines) == 2
    assert lines[1] == current
