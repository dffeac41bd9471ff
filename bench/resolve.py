#!/usr/bin/env python
"""Benchmark: resolving a registry DID through /1.0/identifiers/ next to a trivial DRF endpoint.

Serves the app under gunicorn on 127.0.0.1 (an ephemeral port, gthread workers, no --preload:
didkit must not be loaded before a fork), on a fresh SQLite database in a temporary directory
(or DATABASE_URL if set), with persistent database connections (CONN_MAX_AGE and
SQLITE_CONN_MAX_AGE=60; `--conn-max-age 0` measures the project's SQLite default of one connection per request),
creates the registry DID (if missing), and drives both endpoints with a multi-process
keep-alive HTTP client, alternating rounds so that both see the same machine. Prints requests/s, p50 and p99 for each and their ratios.

Goals (issue 2): resolve req/s >= 0.55 x health req/s, and resolve p50 <= 2 x health p50.

    .venv/bin/python bench/resolve.py [--seconds 6] [--rounds 2] [--clients 4] [--workers 2]

Both endpoints pay the same client, HTTP and DRF costs, so the ratio measures what resolution
adds: one indexed query and the JSON of the document. The per-client rate limit is switched
off (see below).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    bench_env,
    connection_to_worker,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    manage,
    wait_until_up,
    worker_pids,
)

GOAL_RATIO = 0.55
GOAL_P50_FACTOR = 2.0


SETUP = """
from identity.services import registry_did_ensure
print(registry_did_ensure().did)
"""


def _client(args: tuple) -> tuple[int, int, list[float]]:
    """One keep-alive connection sending requests back to back for `seconds`, served by gunicorn
    worker `worker`: left to chance, four clients split 3-1 or 4-0 over two workers 10 times in
    16, and the busier worker's GIL then limits the rate measured."""
    port, path, seconds, worker, workers = args

    def connect():
        return connection_to_worker(port, worker, workers)

    conn = connect()
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= end:
            break
        try:
            conn.request("GET", path)  # no Accept: JSON for health, the result for resolve
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = connect()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = connect()
            continue
        latencies.append(time.perf_counter() - started)
    conn.close()
    return len(latencies), errors, latencies


def drive(pool, port: int, path: str, seconds: float, clients: int, workers: list[int]) -> dict:
    # client i on worker i mod N: the clients spread evenly over the workers
    jobs = [
        (port, path, seconds, workers[i % len(workers)] if workers else None, workers)
        for i in range(clients)
    ]
    started = time.perf_counter()
    results = pool.map(_client, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(lat for _, _, lats in results for lat in lats)
    count = len(latencies)
    return {
        "count": count,
        "errors": sum(e for _, e, _ in results),
        "elapsed": elapsed,
        "latencies": latencies,
    }


def summarize(runs: list[dict]) -> dict:
    latencies = sorted(lat for run in runs for lat in run["latencies"])
    count = len(latencies)
    elapsed = sum(run["elapsed"] for run in runs)
    return {
        "rps": count / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[min(count - 1, int(count * 0.99))] * 1000 if latencies else float("nan"),
        "count": count,
        "errors": sum(run["errors"] for run in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per round and endpoint")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="database CONN_MAX_AGE; 0 = a new connection per request (the SQLite default)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    options = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-resolve-"))
    port = free_port()
    env = bench_env(
        tmp,
        # Persistent connections, as PostgreSQL deployments use (CONN_MAX_AGE=60); SQLite
        # otherwise opens its file again for every request (~2.5 ms here).
        CONN_MAX_AGE=str(options.conn_max_age),
        SQLITE_CONN_MAX_AGE=str(options.conn_max_age),
        # Not the server's port: the DID is resolved from the database, never over HTTP, and an
        # existing DATABASE_URL database keeps its registry DID. The port stays %3A-encoded.
        REGISTRY_HOST=os.environ.get("REGISTRY_HOST", "localhost:8000"),
        # The per-client rate limit (600/min by default, and every bench client is 127.0.0.1)
        # would turn this into a 429 benchmark, and DRF's throttle keeps one timestamp per
        # request in the window, so a huge rate makes each request slower; it is off here.
        THROTTLE_RESOLVE="",
        THROTTLE_PUBLIC="",
    )
    gunicorn = None
    try:
        print(
            f"database: {env['DATABASE_URL'].split('@')[-1]} (CONN_MAX_AGE={options.conn_max_age})"
        )
        manage(env, "migrate", "--noinput")
        did = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
        path = "/1.0/identifiers/" + did  # the port stays percent-encoded: did:web:127.0.0.1%3A..
        gunicorn = gunicorn_start(env, port=port, workers=options.workers, threads=options.threads)
        wait_until_up(port, gunicorn, timeout=30)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
        if response.status != 200 or body["didDocument"]["id"] != did:
            sys.exit(f"resolution check failed: {response.status} {body}")
        print(f"server: gunicorn gthread {options.workers}x{options.threads} on 127.0.0.1:{port}")
        print(f"resolving {did} ({body['didResolutionMetadata']['contentType']})")

        runs: dict[str, list[dict]] = {"health": [], "resolve": []}
        targets = {"health": "/api/health", "resolve": path}
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(options.clients) as pool:
            workers = worker_pids(gunicorn.pid)
            for target in targets.values():  # warm-up: connections, caches, imports
                drive(pool, port, target, 1.0, options.clients, workers)
            for _ in range(options.rounds):
                for name, target in targets.items():
                    runs[name].append(
                        drive(pool, port, target, options.seconds, options.clients, workers)
                    )

        health, resolve = summarize(runs["health"]), summarize(runs["resolve"])
        print()
        print(
            f"{'endpoint':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>6}"
        )
        for label, s in (("GET /api/health", health), ("GET /1.0/identifiers/<did>", resolve)):
            print(
                f"{label:<30} {s['rps']:>9.0f} {s['p50']:>8.2f} {s['p99']:>8.2f} "
                f"{s['count']:>9} {s['errors']:>6}"
            )
        ratio = resolve["rps"] / health["rps"] if health["rps"] else 0.0
        p50_factor = resolve["p50"] / health["p50"] if health["p50"] else float("inf")
        print()
        print(f"throughput ratio resolve/health: {ratio:.2f} (goal >= {GOAL_RATIO})")
        print(f"p50 factor resolve/health:       {p50_factor:.2f} (goal <= {GOAL_P50_FACTOR})")
        met = (
            ratio >= GOAL_RATIO
            and p50_factor <= GOAL_P50_FACTOR
            and not health["errors"]
            and not resolve["errors"]
        )
        print("goals met" if met else "goals NOT met")
        return 0 if met or not options.strict else 1
    finally:
        gunicorn_stop(gunicorn)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
