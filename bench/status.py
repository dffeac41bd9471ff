#!/usr/bin/env python
"""Benchmark of status lists (issue 4), each number next to its baseline measured in the same run:

1. publish latency: from a revocation request (POST /credentials/status, API key) to the newly
   published 131,072-entry list (signed, stored, anchored) through the Celery task, against the
   raw flip + gzip + sign of the same list (goal: p50 within 4x). Every index of the list is
   allocated, as in a list that has filled up. By default a real worker
   (`celery worker --pool threads`) on Redis (REDIS_URL, default db 5) publishes; `--eager` runs
   the task in this process instead (no Redis needed). Either way the mode is printed.
2. verification throughput (credential_verify, JSON-LD credentials sharing one list) with the
   status check against the same verification with the status check replaced by a no-op
   (goal: status checking costs at most 20%).
3. the Merkle root over 65,536 leaves against plain hashing, and the inclusion-proof size at
   100,000 leaves (goals: within 2x; at most 17 hashes), with the anchoring app's functions
   (bench/merkle.py).

A fresh SQLite database in a temporary directory is used unless DATABASE_URL is set.
BENCH_SHOW_WORKER_LOG=1 prints the end of the worker's log (task durations).

    .venv/bin/python bench/status.py [--rounds 15] [--verify-seconds 3] [--eager]

Runs for about a minute.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOALS = {"publish_p50": 4.0, "status_cost": 0.20}


def _setup_environment(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.status_settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    os.environ["REGISTRY_VAR_DIR"] = str(tmp)
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-status-{uuid.uuid4().hex[:8]}"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def _start_worker(tmp: Path) -> subprocess.Popen:
    log = (tmp / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "registry",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--queues",
            os.environ["CELERY_TASK_DEFAULT_QUEUE"],
            "--hostname",
            f"bench-status-{uuid.uuid4().hex[:6]}@localhost",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit(f"the Celery worker exited:\n{(tmp / 'worker.log').read_text()[-2000:]}")
        if "ready." in (tmp / "worker.log").read_text(errors="replace"):
            return worker
        time.sleep(0.2)
    sys.exit("the Celery worker did not start in time")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait_for_checkpoint(status_list, *, deadline: float) -> None:
    from registry.anchoring.models import Checkpoint
    from registry.status.models import StatusListVersion

    latest = StatusListVersion.objects.filter(status_list=status_list).order_by("-version").first()
    needed = (latest.anchor_leaf_index or 0) + 1
    while not Checkpoint.objects.filter(tree_size__gte=needed).exists():
        if time.perf_counter() > deadline:
            return
        time.sleep(0.002)


def publish_benchmark(*, rounds: int, eager: bool, tmp: Path) -> dict:
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from identity.crypto import didkit_adapter
    from identity.services import did_signing_key
    from registry.api.services import api_key_create
    from registry.celery import app
    from registry.participants.services import participant_create
    from registry.status.bitstring import bit_set, bits_from_indexes, bitstring_encode
    from registry.status.models import StatusEntry, StatusList
    from registry.status.services import status_entry_allocate, status_list_credential_build

    office = participant_create(
        kind="office", display_name="Bench Status Office", country="QZ", st3_code="QZ"
    )
    _, api_key = api_key_create(office=office, scopes=["revoke"])
    ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(2000)]
    with transaction.atomic():
        for credential_id in ids:
            status_entry_allocate(issuer_did=office.did.did, credential_id=credential_id)
    status_list = StatusList.objects.get(issuer=office.did)
    # Every other index taken too, as in a list that has filled up: a publication must cost the
    # same whatever number of credentials the list holds.
    taken = set(StatusEntry.objects.filter(status_list=status_list).values_list("index", flat=True))
    now = timezone.now()
    StatusEntry.objects.bulk_create(
        (
            StatusEntry(
                status_list=status_list,
                index=index,
                credential_id=f"urn:bench:filler:{status_list.pk}:{index}",
                purpose=status_list.purpose,
                allocated_at=now,
                updated_at=now,
            )
            for index in range(status_list.size)
            if index not in taken
        ),
        batch_size=5000,
    )

    revoked = list(
        StatusEntry.objects.filter(status_list=status_list)
        .exclude(state="active")
        .values_list("index", flat=True)
    )
    bits = bits_from_indexes(revoked, status_list.size)

    def raw_publish(n: int) -> float:
        """Baseline: flip one bit of the same list, gzip + base64url it, sign it (no database,
        no queue)."""
        started = time.perf_counter()
        bit_set(bits, n * 7919 % status_list.size)
        _, pair = did_signing_key(office.did.did)
        unsigned = status_list_credential_build(
            status_list=status_list,
            encoded_list=bitstring_encode(bits),
            issuer_did_key=pair.did_key,
            issued_at=timezone.now(),
        )
        didkit_adapter.issue_credential(unsigned, key=pair)
        return time.perf_counter() - started

    def versions_published() -> int:
        # Polled every millisecond while a round waits: one plain statement, not an ORM query
        # (which would take CPU from the worker being measured).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM status_statuslistversion WHERE status_list_id = %s",
                [status_list.pk],
            )
            return cursor.fetchone()[0]

    worker = None
    app.conf.task_always_eager = eager
    if not eager:
        worker = _start_worker(tmp)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    measured, requests, raw = [], [], []
    try:
        # Rounds alternate (raw, then through the task) so that both see the same machine load.
        for n in range(rounds + 2):
            raw_seconds = raw_publish(n)
            # didkit's runtime threads wind down after a signature; the request starts after.
            time.sleep(0.05)
            before = versions_published()
            started = time.perf_counter()
            response = client.post(
                "/credentials/status",
                {"credentialId": ids[n], "credentialStatus": [{"status": "revoked"}]},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            answered = time.perf_counter()
            deadline = started + 30
            while versions_published() == before:
                if time.perf_counter() > deadline:
                    sys.exit("no new list version within 30 s: is the worker running?")
                time.sleep(0.001)
            if n >= 2:  # two warm-up rounds (worker connections, caches)
                measured.append(time.perf_counter() - started)
                requests.append(answered - started)
                raw.append(raw_seconds)
            # Not measured: let the worker sign the checkpoint that follows each publication, so
            # that the next round (its raw baseline and its request) starts on a quiet machine
            # instead of sharing it with the previous round's follow-up work.
            _wait_for_checkpoint(status_list, deadline=time.perf_counter() + 10)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
            if os.environ.get("BENCH_SHOW_WORKER_LOG"):
                print((tmp / "worker.log").read_text()[-4000:])
    p50, raw_p50 = statistics.median(measured), statistics.median(raw)
    return {
        "mode": "eager task in this process" if eager else "real Celery worker via Redis",
        "rounds": rounds,
        "p50": p50,
        "p90": _percentile(measured, 0.9),
        "request_p50": statistics.median(requests),
        "raw_p50": raw_p50,
        "raw_p90": _percentile(raw, 0.9),
        "ratio": p50 / raw_p50,
        "office": office,
    }


def verify_benchmark(*, seconds: float, office) -> dict:
    from registry.credentials.services import credential_issue
    from registry.credentials.verification import credential_verify
    from registry.participants.services import participant_create
    from registry.status import verification as status_verification
    from registry.trust.services import accreditation_grant

    accreditation_grant(office=office, credential_types=["IPApplicantCredential"])
    applicant = participant_create(kind="applicant", display_name="Bench Ltd", country="FR")
    claims = {
        "id": applicant.did.did,
        "name": "Bench Ltd",
        "personType": "legal",
        "country": "FR",
        "address": "1 rue du Banc, 75001 Paris",
        "partyIdentifiers": [{"office": "QZ", "partyIdentifier": "42"}],
    }
    documents = [
        credential_issue(
            issuer=office,
            credential_type="IPApplicantCredential",
            subject_did=applicant.did.did,
            claims=claims,
        ).document
        for _ in range(50)
    ]
    real_check = status_verification.status_check
    noop = status_verification.StatusCheckResult(ok=True, code="active", detail="not checked")

    def verify_once(document, with_status: bool) -> float:
        status_verification.status_check = (
            real_check if with_status else (lambda credential, *, issuer_did_key: noop)
        )
        try:
            started = time.perf_counter()
            report = credential_verify(document)
            elapsed = time.perf_counter() - started
        finally:
            status_verification.status_check = real_check
        assert report.verified, report
        return elapsed

    verify_once(documents[0], True)  # warm up: the list is read and verified once, then cached
    # Each credential is verified both ways back to back, in alternating order, so that both
    # totals see the same machine load.
    totals = {True: 0.0, False: 0.0}
    count, deadline = 0, time.perf_counter() + 2 * seconds
    while time.perf_counter() < deadline or count < 20:
        document = documents[count % len(documents)]
        first = count % 2 == 0
        totals[first] += verify_once(document, first)
        totals[not first] += verify_once(document, not first)
        count += 1
    with_status, without = count / totals[True], count / totals[False]
    return {
        "with_status": with_status,
        "without_status": without,
        "cost": 1 - with_status / without,
        "verifications": count,
    }


def _merkle_module():
    spec = importlib.util.spec_from_file_location("bench_merkle", ROOT / "bench" / "merkle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--verify-seconds", type=float, default=3.0)
    parser.add_argument("--eager", action="store_true", help="run the publish task in-process")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-status-"))
    try:
        _setup_environment(tmp)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        eager = args.eager or not _redis_reachable(os.environ["REDIS_URL"])
        if eager and not args.eager:
            print(f"Redis at {os.environ['REDIS_URL']} unreachable: running the task eagerly")

        publish = publish_benchmark(rounds=args.rounds, eager=eager, tmp=tmp)
        verify = verify_benchmark(seconds=args.verify_seconds, office=publish["office"])
        merkle = _merkle_module()
        root = merkle.merkle_root_benchmark(65_536, repeat=7)
        proof = merkle.inclusion_proof_benchmark(100_000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ok = {
        "publish": publish["ratio"] <= GOALS["publish_p50"],
        "verify": verify["cost"] <= GOALS["status_cost"],
        "root": root["ratio"] <= root["goal_ratio"],
        "proof": proof["max_hashes"] <= proof["goal_max_hashes"],
    }
    mark = {True: "ok", False: "MISSED"}
    print(f"status lists benchmark ({publish['mode']}, {os.environ['DATABASE_URL'].split(':')[0]})")
    print(
        f"  publish 131,072-entry list after a revocation request: p50 {publish['p50'] * 1000:.1f} ms"
        f" (p90 {publish['p90'] * 1000:.1f} ms; the request itself p50"
        f" {publish['request_p50'] * 1000:.1f} ms)\n"
        f"    raw flip + gzip + sign of the same list:            p50 {publish['raw_p50'] * 1000:.1f} ms"
        f" (p90 {publish['raw_p90'] * 1000:.1f} ms)\n"
        f"    ratio {publish['ratio']:.2f}x (goal <= {GOALS['publish_p50']:.0f}x) {mark[ok['publish']]}"
    )
    print(
        f"  verification with status check:    {verify['with_status']:.0f} credentials/s\n"
        f"    same verification without status: {verify['without_status']:.0f} credentials/s\n"
        f"    status checking costs {verify['cost'] * 100:.1f}% (goal <= {GOALS['status_cost'] * 100:.0f}%)"
        f" {mark[ok['verify']]}"
    )
    print(
        f"  Merkle root over {root['leaves']:,} leaves: {root['root_seconds'] * 1000:.1f} ms\n"
        f"    plain SHA-256 of the same leaves:  {root['plain_seconds'] * 1000:.1f} ms\n"
        f"    ratio {root['ratio']:.2f}x (goal <= {root['goal_ratio']:.0f}x) {mark[ok['root']]}"
    )
    print(
        f"  inclusion proof at {proof['leaves']:,} leaves: {proof['max_hashes']} hashes"
        f" ({proof['proof_bytes']} bytes; goal <= {proof['goal_max_hashes']}) {mark[ok['proof']]}"
    )
    sys.stdout.flush()
    # didkit's runtime can abort at interpreter shutdown; leave with our own status.
    os._exit(0 if all(ok.values()) else 1)


if __name__ == "__main__":
    main()
