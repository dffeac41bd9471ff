"""What the HTTP benchmarks share: the app under gunicorn on loopback, on a throwaway database.

gunicorn runs gthread workers without --preload (didkit must not be loaded before a fork).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(tmp: Path, **overrides: str) -> dict:
    """The server's environment: development settings, quiet logs, files and (unless
    DATABASE_URL is set) a fresh SQLite database in `tmp`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings.dev",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "REGISTRY_VAR_DIR": str(tmp),
        **overrides,
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def gunicorn_start(env: dict, *, port: int, workers: int, threads: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "registry.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_up(port: int, proc: subprocess.Popen, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited early with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer in time")


def gunicorn_stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker_pids(pid: int) -> list[int]:
    """The gunicorn workers: the children of the arbiter `pid` (empty where /proc does not say)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _server_socket_inode(client_port: int, server_port: int) -> str | None:
    """The inode of the server's end of a loopback TCP connection (from /proc/net/tcp)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port == client_port:
                return fields[9]
    return None


def _owner_of_inode(inode: str, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


def worker_of(conn: http.client.HTTPConnection, port: int, workers: list[int]) -> int | None:
    """The gunicorn worker holding the server end of `conn` (an open connection), or None
    where /proc does not say."""
    if conn.sock is None or not workers:
        return None
    inode = _server_socket_inode(conn.sock.getsockname()[1], port)
    return _owner_of_inode(inode, workers) if inode else None


def connection_to_worker(
    port: int, worker: int | None, workers: list[int], *, tries: int = 200
) -> http.client.HTTPConnection:
    """A keep-alive connection served by gunicorn worker `worker` (for client processes that
    each take their own worker: see `spread_connections`). Each try has served one
    GET /api/health; after `tries`, or with no worker to aim at, the last one as it landed."""
    conn = None
    for _ in range(tries):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/health")
        conn.getresponse().read()
        owner = worker_of(conn, port, workers)
        if worker is None or owner is None or owner == worker:
            return conn
        conn.close()
    return conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def spread_connections(port: int, gunicorn: subprocess.Popen, count: int, *, tries: int = 200):
    """`count` keep-alive connections to the server, spread over its workers as evenly as they
    go (one per worker while there are workers left).

    Which gunicorn worker accepts a connection is a race between them: left to chance, both of
    two connections land on the same worker about half the time, and a two-worker server then
    runs on one process (one GIL) and measures half its rate. Connections are opened until
    each lands on a worker that has fewest; where /proc does not say who holds a socket,
    they are left as they land. Each connection has served one GET /api/health."""
    workers = worker_pids(gunicorn.pid)
    load = dict.fromkeys(workers, 0)
    chosen: list[http.client.HTTPConnection] = []
    for _ in range(tries):
        if len(chosen) == count:
            break
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/health")
        conn.getresponse().read()
        owner = worker_of(conn, port, workers)
        if owner is None or load[owner] == min(load.values()):
            if owner is not None:
                load[owner] += 1
            chosen.append(conn)
        else:
            conn.close()
    while len(chosen) < count:  # could not place them: take what comes
        chosen.append(http.client.HTTPConnection("127.0.0.1", port, timeout=30))
    return chosen
