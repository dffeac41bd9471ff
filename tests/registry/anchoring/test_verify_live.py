"""The offline verifier against a live server: checkpoint signature, inclusion of a status
list version, consistency with a saved checkpoint, a full audit, and tampering detected."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
from django.core.management import CommandError, call_command

from registry.anchoring import merkle, note, services, verify
from registry.anchoring.models import Checkpoint, LogHead, LogLeaf, LogSubtree

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


def anchor_versions(versions, list_id="list-7"):
    out = []
    for v in versions:
        doc = {"id": f"https://example/status/{list_id}", "version": v}
        out.append(
            services.anchor_record(
                kind="status-list",
                key=f"{list_id}:{v}",
                data={
                    "list": list_id,
                    "version": v,
                    "sha256": hashlib.sha256(rfc8785.dumps(doc)).hexdigest(),
                    "time": "2026-11-25T12:00:00Z",
                },
            )
        )
    return out


def synthetic(version, list_id="list-7"):
    """Options naming a synthetic status-list leaf (no list is served for it)."""
    return {"kind": "status-list", "key": f"{list_id}:{version}"}


def run(live_server, **kwargs):
    lines: list[str] = []
    ok = verify.run(server=live_server.url, out=lines.append, **kwargs)
    return ok, "\n".join(lines)


def test_inclusion_consistency_and_audit(live_server, tmp_path):
    anchor_versions(range(1, 6))
    saved = tmp_path / "checkpoint.txt"
    ok, output = run(live_server, **synthetic(3), audit=True, save_checkpoint=str(saved))
    assert ok, output
    assert "OK checkpoint" in output
    assert "signature verified" in output
    assert "status-list list-7:3" in output
    assert "is included at index" in output
    assert "matches the checkpoint" in output
    old = note.Checkpoint.parse_text(note.parse_note(saved.read_text())[0])
    assert old.tree_size == services.log_size()

    anchor_versions(range(6, 20))
    ok, output = run(live_server, old_checkpoint=str(saved), audit=True)
    assert ok, output
    assert (
        f"OK checkpoint {old.tree_size} is consistent with checkpoint {services.log_size()}"
        in output
    )


def test_with_a_pinned_key_and_a_document(live_server, tmp_path):
    anchor_versions([1])
    key = services.log_verifier_keys()[0]["verifier_key"]
    document = tmp_path / "list.json"
    document.write_text(json.dumps({"version": 1, "id": "https://example/status/list-7"}))
    ok, output = run(live_server, keys=[key], **synthetic(1), document=str(document))
    assert ok, output
    assert "key given" in output
    document.write_text(json.dumps({"version": 2, "id": "https://example/status/list-7"}))
    ok, output = run(live_server, keys=[key], **synthetic(1), document=str(document))
    assert not ok
    assert "not the anchored document" in output


def test_wrong_key_fails(live_server):
    anchor_versions([1])
    other = note.verifier_key(services.log_origin(), bytes(range(32)))
    ok, output = run(live_server, keys=[other])
    assert not ok
    assert "FAIL checkpoint" in output


def test_unknown_leaf_fails(live_server):
    anchor_versions([1])
    ok, output = run(live_server, **synthetic(9))
    assert not ok
    assert "leafNotFound" in output


def test_leaf_altered_in_the_database_is_detected(live_server):
    leaves = anchor_versions(range(1, 9))
    assert run(live_server, audit=True)[0]
    victim = leaves[4]
    forged = victim.entry.replace('"version":5', '"version":50')
    assert forged != victim.entry
    # 1. the entry is changed behind the log's back: it no longer hashes to its leaf hash
    LogLeaf.objects.filter(pk=victim.pk).update(entry=forged)
    ok, output = run(live_server, audit=True)
    assert not ok
    assert f"entry {victim.index}: its data does not hash to its leaf hash" in output
    ok, output = run(live_server, **synthetic(5))
    assert not ok
    # 2. and its leaf hash too: now the recomputed root differs from the signed checkpoint
    LogLeaf.objects.filter(pk=victim.pk).update(leaf_hash=merkle.leaf_hash(forged.encode()).hex())
    ok, output = run(live_server, audit=True)
    assert not ok
    assert "differs from the signed checkpoint" in output
    ok, output = run(live_server, **synthetic(5))
    assert not ok
    assert "inclusion proof" in output


def test_management_command(live_server, tmp_path):
    anchor_versions([1, 2])
    call_command(
        "verify_log",
        "--server",
        live_server.url,
        "--kind",
        "status-list",
        "--key-name",
        "list-7:2",
        "--audit",
    )
    with pytest.raises(CommandError):
        call_command("verify_log", "--server", live_server.url, "--leaf-hash", "00" * 32)


def test_runs_without_django_settings(live_server):
    anchor_versions([1, 2, 3])
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.anchoring.verify",
            "--server",
            live_server.url,
            "--audit",
            "--kind",
            "status-list",
            "--key-name",
            "list-7:3",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is included at index" in result.stdout


def test_a_real_status_list_version_and_its_served_bytes(live_server):
    """End to end with the status app: a revocation publishes a new list version, anchored;
    the verifier checks its inclusion and that the served bytes hash to the anchored sha256;
    a stored list altered behind the log's back is detected."""
    from registry.status.models import StatusListVersion
    from registry.status.services import credential_status_change, status_entry_allocate
    from tests.registry.participants.factories import OfficeFactory

    office = OfficeFactory()
    status_entry_allocate(issuer_did=office.did.did, credential_id="urn:uuid:h4-1")
    credential_status_change(issuer=office, credential_id="urn:uuid:h4-1", action="revoke")
    version = StatusListVersion.objects.select_related("status_list").order_by("-pk").first()
    assert version is not None, "the revocation was not published"
    list_id = version.status_list.public_id
    ok, output = run(live_server, status_list=list_id, version=version.version, audit=True)
    assert ok, output
    assert f"OK the served status list {list_id}:{version.version} is the anchored one" in output

    StatusListVersion.objects.filter(pk=version.pk).update(body=version.body.replace("Z", "z", 1))
    ok, output = run(live_server, status_list=list_id, version=version.version)
    assert not ok
    assert "is not the anchored document" in output


def test_manage_py_verify_log_never_opens_the_database(live_server):
    """The command runs with a database URL that cannot work: it only speaks HTTP."""
    anchor_versions([1, 2])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings.test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/no_such_database",
    }
    command = [sys.executable, "manage.py", "verify_log", "--server", live_server.url]
    command += ["--kind", "status-list", "--key-name", "list-7:2", "--audit"]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is included at index" in result.stdout
    assert "matches the checkpoint" in result.stdout


def _restore_an_empty_backup():
    """What restoring a backup taken before any of these leaves does to the log."""
    for model in (Checkpoint, LogSubtree, LogLeaf, LogHead):
        model.objects.all().delete()


def test_monitor_starts_then_follows_the_log_and_catches_a_fork(live_server, tmp_path):
    state = tmp_path / "monitor" / "checkpoint.txt"
    state.parent.mkdir()
    anchor_versions(range(1, 4))
    ok, output = run(live_server, monitor=str(state))
    assert ok, output
    assert "monitoring starts from this one" in output
    first = note.Checkpoint.parse_text(note.parse_note(state.read_text())[0])
    assert first.tree_size == services.log_size()

    anchor_versions(range(4, 10))
    ok, output = run(live_server, monitor=str(state))
    assert ok, output
    size = services.log_size()
    assert f"OK checkpoint {first.tree_size} is consistent with checkpoint {size}" in output
    grown = state.read_text()
    assert note.Checkpoint.parse_text(note.parse_note(grown)[0]).tree_size == size
    assert [p.name for p in state.parent.iterdir()] == ["checkpoint.txt"]  # no temp file left

    # The registry is restored from an old backup: the log shrinks, then grows a different
    # history. Each run fails, and the saved checkpoint stays the last good one.
    _restore_an_empty_backup()
    anchor_versions(range(1, 5), list_id="list-8")
    ok, output = run(live_server, monitor=str(state))
    assert not ok
    assert "the log shrank" in output
    assert state.read_text() == grown
    anchor_versions(range(5, 12), list_id="list-8")
    ok, output = run(live_server, monitor=str(state))
    assert not ok
    assert f"FAIL consistency {size} -> {services.log_size()}" in output
    assert state.read_text() == grown


def test_monitor_with_an_explicit_file_option_is_refused(live_server, tmp_path):
    anchor_versions(range(1, 3))
    ok, output = run(live_server, monitor=str(tmp_path / "a"), save_checkpoint=str(tmp_path / "b"))
    assert not ok
    assert "not both" in output


def test_unreadable_or_unwritable_checkpoint_files_fail_with_a_reason(live_server, tmp_path):
    anchor_versions(range(1, 3))
    ok, output = run(live_server, old_checkpoint=str(tmp_path / "missing.txt"))
    assert not ok
    assert f"FAIL cannot read --old-checkpoint {tmp_path / 'missing.txt'}" in output
    ok, output = run(live_server, save_checkpoint=str(tmp_path / "no-such-dir" / "cp.txt"))
    assert not ok
    assert "FAIL cannot save the checkpoint" in output


def test_monitor_from_the_command_line_exits_non_zero_on_a_fork(live_server, tmp_path):
    state = tmp_path / "checkpoint.txt"
    anchor_versions(range(1, 6))
    command = [
        sys.executable,
        "-m",
        "registry.anchoring.verify",
        "--server",
        live_server.url,
        "--monitor",
        str(state),
    ]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    assert (
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0
    )
    size = services.log_size()
    _restore_an_empty_backup()
    anchor_versions(range(1, 8), list_id="list-9")
    failed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert f"FAIL consistency {size} -> {services.log_size()}" in failed.stdout


def test_a_server_option_that_is_not_an_http_url_is_a_fail_not_a_traceback():
    lines: list[str] = []
    assert verify.run(server="registry.example.org", out=lines.append) is False
    assert lines == ["FAIL --server must be an http(s) URL"]
