#!/usr/bin/env python
"""Benchmark: issuing and verifying credentials through the VC API next to raw didkit.

Serves the app under gunicorn on 127.0.0.1 (ephemeral port, gthread workers, no --preload:
didkit must not be loaded before a fork) on a fresh SQLite database in a temporary directory
(or DATABASE_URL if set), with an accredited office, its API key and an applicant. Then, in the
same run, it measures:

- raw didkit (through identity.crypto.didkit_adapter, in this process) signing and verifying
  the same credential the API issues, with 1 and with 2 threads;
- POST /credentials/issue (JSON-LD and VC-JWT), POST /credentials/verify and GET /api/health
  with `--clients` calls in flight (keep-alive connections, spread over the gunicorn workers:
  left to chance, two connections share one worker half the time and the rates halve).

Goals (issue 3): API issuance >= 0.45 x raw issue rate with two calls in flight; API
verification >= 0.5 x raw verify rate; VC-JWT issuance >= 0.4 x the trivial endpoint's rate.
The raw baseline of each ratio is the single-thread rate (what one didkit call costs);
ratios against the 2-thread raw rate are printed too.

    .venv/bin/python bench/issue_verify.py [--seconds 2.5] [--rounds 3] [--clients 2] [--workers 2]

Runs for about a minute. The verify rate limit is switched off for the bench (every client is
127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _common import (
    ROOT,
    bench_env,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    manage,
    spread_connections,
    wait_until_up,
)

sys.path.insert(0, str(ROOT))
GOALS = {"issue": 0.45, "verify": 0.5, "jwt_vs_health": 0.4}

SETUP = """
import json
from identity.services import registry_did_ensure
from registry.api.services import api_key_create
from registry.participants.services import office_upsert, participant_create
from registry.trust.services import accreditation_grant
registry_did_ensure()
office, _ = office_upsert(st3_code="EP", name="European Patent Office")
accreditation_grant(office=office, credential_types=["IPApplicantCredential", "IPRepresentativeCredential"])
_, key = api_key_create(office=office, scopes=["issue", "verify"])
applicant = participant_create(kind="applicant", display_name="Bench Ltd", country="FR")
print(json.dumps({"key": key, "applicant": applicant.did.did}))
"""


def request(port, method, path, body=None, headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(
        method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})}
    )
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response.status, data


def rate(fn, *, seconds: float, threads: int) -> tuple[float, int]:
    """Calls per second of `fn()` run back to back by `threads` threads for `seconds`;
    `fn` returns True on success. Returns (rate of successes, failures). An HTTP call
    (`http_call`) gives each thread a keep-alive connection of its own, spread over the
    server's workers."""
    counts = [0] * threads
    failures = [0] * threads
    start_barrier = threading.Barrier(threads + 1)
    end = [0.0]
    connections = fn.connect(threads) if hasattr(fn, "connect") else []
    calls = [fn(conn) for conn in connections] if connections else [fn] * threads

    def loop(i):
        local = calls[i]
        start_barrier.wait()
        while time.perf_counter() < end[0]:
            if local():
                counts[i] += 1
            else:
                failures[i] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    started = time.perf_counter()
    end[0] = started + seconds
    start_barrier.wait()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return sum(counts) / elapsed, sum(failures)


def http_call(server, method, path, body=None, headers=None, ok=(200,)):
    """A call for `rate`: `server` is (port, gunicorn process)."""
    port, gunicorn = server
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}

    def with_connection(conn):
        def call() -> bool:
            nonlocal conn
            try:
                conn.request(method, path, body=payload, headers=all_headers)
                response = conn.getresponse()
                response.read()
                return response.status in ok
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                return False

        return call

    with_connection.connect = lambda n: spread_connections(port, gunicorn, n)
    return with_connection


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="per measurement and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="API calls in flight")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    options = parser.parse_args()

    from identity.crypto import didkit_adapter
    from identity.crypto.keys import Ed25519KeyPair

    tmp = Path(tempfile.mkdtemp(prefix="bench-issue-verify-"))
    port = free_port()
    env = bench_env(
        tmp,
        REGISTRY_HOST=f"127.0.0.1:{port}",
        THROTTLE_VERIFY="",
        THROTTLE_PUBLIC="",
        CELERY_TASK_ALWAYS_EAGER="1",
        SQLITE_CONN_MAX_AGE="60",
    )
    gunicorn = None
    try:
        print(f"database: {env['DATABASE_URL'].split('@')[-1]}")
        manage(env, "migrate", "--noinput", timeout=180)
        setup = json.loads(manage(env, "shell", "-c", SETUP, timeout=180).strip().splitlines()[-1])
        gunicorn = gunicorn_start(env, port=port, workers=options.workers, threads=options.threads)
        wait_until_up(port, gunicorn, timeout=60)
        server = (port, gunicorn)
        auth = {"Authorization": f"Bearer {setup['key']}"}
        subject = {
            "id": setup["applicant"],
            "name": "Bench Ltd",
            "personType": "legal",
            "country": "FR",
            "address": "1 rue du Banc, Paris",
            "partyIdentifiers": [{"office": "EP", "partyIdentifier": "4242"}],
        }

        def issue_body(fmt):
            return {
                "credential": {
                    "type": ["VerifiableCredential", "IPApplicantCredential"],
                    "credentialSubject": subject,
                },
                "options": {"proofFormat": fmt},
            }

        status, data = request(port, "POST", "/credentials/issue", issue_body("ldp"), auth)
        if status != 201:
            sys.exit(f"issuance check failed: {status} {data[:500]!r}")
        issued = json.loads(data)["verifiableCredential"]
        status, data = request(
            port, "POST", "/credentials/verify", {"verifiableCredential": issued}
        )
        if status != 200 or not json.loads(data)["verified"]:
            sys.exit(f"verification check failed: {status} {data[:800]!r}")
        print(f"server: gunicorn gthread {options.workers}x{options.threads} on 127.0.0.1:{port}")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")

        # The raw baseline signs what the API signs: same context, subject, issuer shape and
        # status entry, with a key of its own.
        key = Ed25519KeyPair.generate()
        unsigned = {k: v for k, v in issued.items() if k != "proof"}
        unsigned["issuer"] = {"id": key.did_key, "registryDid": issued["issuer"]["registryDid"]}

        def raw_issue() -> bool:
            unsigned["id"] = f"urn:uuid:{uuid.uuid4()}"
            return bool(didkit_adapter.issue_credential(unsigned, key=key))

        raw_signed = didkit_adapter.issue_credential(unsigned, key=key)
        assert didkit_adapter.verify_credential(raw_signed).ok

        def raw_verify() -> bool:
            return didkit_adapter.verify_credential(raw_signed).ok

        s = options.seconds
        # warm-up: connections, caches, imports in every worker
        rate(http_call(server, "GET", "/api/health"), seconds=1, threads=options.clients)
        rate(
            http_call(server, "POST", "/credentials/issue", issue_body("jwt"), auth, ok=(201,)),
            seconds=1,
            threads=options.clients,
        )
        rate(
            http_call(server, "POST", "/credentials/verify", {"verifiableCredential": issued}),
            seconds=1,
            threads=options.clients,
        )
        rate(raw_issue, seconds=1, threads=1)

        n = options.clients
        measurements = {
            "raw_issue": (raw_issue, 1),
            "raw_issue_2": (raw_issue, 2),
            "raw_verify": (raw_verify, 1),
            "raw_verify_2": (raw_verify, 2),
            "health": (http_call(server, "GET", "/api/health"), n),
            "api_issue": (
                http_call(server, "POST", "/credentials/issue", issue_body("ldp"), auth, ok=(201,)),
                n,
            ),
            "api_issue_jwt": (
                http_call(server, "POST", "/credentials/issue", issue_body("jwt"), auth, ok=(201,)),
                n,
            ),
            "api_verify": (
                http_call(server, "POST", "/credentials/verify", {"verifiableCredential": issued}),
                n,
            ),
        }
        # Rounds alternate every measurement, so that a baseline and what it is compared with
        # see the same machine (others' load comes and goes); the rates are averaged.
        totals = {name: [0.0, 0] for name in measurements}
        for _ in range(options.rounds):
            for name, (fn, threads) in measurements.items():
                value, failures = rate(fn, seconds=s, threads=threads)
                totals[name][0] += value / options.rounds
                totals[name][1] += failures
        results = {name: (value, failures) for name, (value, failures) in totals.items()}

        labels = {
            "raw_issue": "didkit issue (ldp), 1 thread",
            "raw_issue_2": "didkit issue (ldp), 2 threads",
            "raw_verify": "didkit verify (ldp), 1 thread",
            "raw_verify_2": "didkit verify (ldp), 2 threads",
            "health": f"GET /api/health, {n} in flight",
            "api_issue": f"POST /credentials/issue ldp, {n} in flight",
            "api_issue_jwt": f"POST /credentials/issue jwt, {n} in flight",
            "api_verify": f"POST /credentials/verify ldp, {n} in flight",
        }
        print()
        print(f"{'measurement':<44} {'per second':>11} {'failures':>9}")
        for name, label in labels.items():
            value, failures = results[name]
            print(f"{label:<44} {value:>11.1f} {failures:>9}")

        def ratio(a, b):
            return results[a][0] / results[b][0] if results[b][0] else 0.0

        checks = [
            ("API issue (ldp) / raw issue", ratio("api_issue", "raw_issue"), GOALS["issue"]),
            ("API verify / raw verify", ratio("api_verify", "raw_verify"), GOALS["verify"]),
            ("API issue (jwt) / health", ratio("api_issue_jwt", "health"), GOALS["jwt_vs_health"]),
        ]
        print()
        for label, value, goal in checks:
            print(f"{label:<34} {value:6.2f}  (goal >= {goal})")
        print(f"{'API issue (ldp) / raw issue x2':<34} {ratio('api_issue', 'raw_issue_2'):6.2f}")
        print(f"{'API verify / raw verify x2':<34} {ratio('api_verify', 'raw_verify_2'):6.2f}")
        failures = sum(results[k][1] for k in ("api_issue", "api_issue_jwt", "api_verify"))
        met = all(value >= goal for _, value, goal in checks) and not failures
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        print("goals met" if met else "goals NOT met")
        return 0 if met or not options.strict else 1
    finally:
        gunicorn_stop(gunicorn)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # didkit's runtime can abort at interpreter shutdown
