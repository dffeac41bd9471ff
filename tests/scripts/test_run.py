"""`scripts/run.py` for real: it starts the registry, serves, runs a Celery worker, and Ctrl-C
stops every process it started."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run.py"

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Running:
    """scripts/run.py as a subprocess, its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(RUN)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate, what: str, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            if self.proc.poll() is not None:
                pytest.fail(f"run.py exited ({self.proc.returncode}) before {what}:\n{self.output}")
            time.sleep(0.3)
        pytest.fail(f"timed out waiting for {what}:\n{self.output[-5000:]}")

    def started(self) -> dict[str, int]:
        return {
            m.group(1): int(m.group(2))
            for line in self.lines
            if (m := re.match(r"\[run\] started (\w+) \(pid (\d+)\)", line))
        }

    def kill_everything(self) -> None:
        for pid in [self.proc.pid, *self.started().values()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def run_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REGISTRY_HOST", "PORT"}
    }
    env.update(
        PORT=str(_free_port()),
        REGISTRY_VAR_DIR=str(tmp_path / "var"),  # SQLite database and beat schedule in here
        STATIC_ROOT=str(tmp_path / "static"),
        # Nothing listens there: run.py has to start its own redis-server (or do without).
        REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0",
    )
    return env


def _stop_and_check(running: Running, expected: set[str]) -> None:
    pids = running.started()
    assert set(pids) == expected, running.output
    assert all(_group_alive(pid) for pid in pids.values())
    running.proc.send_signal(signal.SIGINT)
    try:
        code = running.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"run.py did not stop after SIGINT:\n{running.output[-5000:]}")
    running._reader.join(timeout=5)
    assert code == 0, running.output[-5000:]
    alive = {name: pid for name, pid in pids.items() if _group_alive(pid)}
    assert not alive, f"still running after Ctrl-C: {alive}"
    for name in expected:
        assert f"[run] stopped {name}" in running.output


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_run_starts_web_worker_beat_and_private_redis_and_stops_them(run_env):
    running = Running(run_env)
    try:
        port = run_env["PORT"]
        health = running.wait_for(
            lambda: _get_json(f"http://127.0.0.1:{port}/api/health"), "the web server"
        )
        assert health == {"status": "ok"}
        body = _get_json(f"http://127.0.0.1:{port}/api/participants/?kind=office&q=EP")
        # The demo data is loaded, under the host the server really listens on.
        assert body["results"][0]["did"] == f"did:web:localhost%3A{port}:offices:ep"
        running.wait_for(
            lambda: any(re.search(r"registry@\S+ ready\.", line) for line in running.lines),
            "the Celery worker",
        )
        running.wait_for(
            lambda: any("beat: Starting" in line for line in running.lines), "Celery beat"
        )
        assert "started a private redis-server" in running.output
        assert "concurrency: 4 (thread)" in running.output
        var = Path(run_env["REGISTRY_VAR_DIR"])
        assert (var / "db.sqlite3").is_file()
        assert list(var.glob("celerybeat-schedule*"))
        assert (var / "redis").is_dir()
        # A worker that dies (e.g. kombu giving up on a broker reconnect) is started again;
        # the web server keeps serving meanwhile.
        first_worker = running.started()["worker"]
        os.killpg(first_worker, signal.SIGKILL)
        running.wait_for(
            lambda: running.started()["worker"] != first_worker, "the worker to be restarted"
        )
        # run.py prints this after the new worker's "started" line: wait for it as well.
        restarted = rf"\[run\] worker \(pid {first_worker}\) exited with status -9; restarted it"
        running.wait_for(
            lambda: any(re.search(restarted, line) for line in running.lines),
            "the supervisor to report the restart",
        )
        running.wait_for(
            lambda: (
                sum(bool(re.search(r"registry@\S+ ready\.", line)) for line in running.lines) >= 2
            ),
            "the restarted Celery worker",
        )
        assert _get_json(f"http://127.0.0.1:{port}/api/health") == {"status": "ok"}
        _stop_and_check(running, {"redis", "web", "worker", "beat"})
    finally:
        running.kill_everything()


def test_run_without_redis_serves_the_web_and_stops_when_a_child_dies(run_env):
    # Only the venv on PATH: no redis-server to fall back on.
    run_env["PATH"] = str(Path(sys.executable).parent)
    running = Running(run_env)
    try:
        url = f"http://127.0.0.1:{run_env['PORT']}/api/health"
        running.wait_for(lambda: _get_json(url), "the web server")
        assert "apt-get install redis-server" in running.output
        assert "WITHOUT worker and beat" in running.output
        assert set(running.started()) == {"web"}
        # A child dies: the supervisor says which, and stops (here: nothing else is left).
        web = running.started()["web"]
        os.killpg(web, signal.SIGKILL)
        assert running.proc.wait(timeout=30) == 1
        running._reader.join(timeout=5)
        assert re.search(r"\[run\] web \(pid \d+\) exited with status -9", running.output)
        assert "[run] stopped web" in running.output
        assert not _group_alive(web)
    finally:
        running.kill_everything()


def test_closing_the_terminal_stops_everything_it_started(run_env):
    # The terminal window running `make run` is closed: SIGHUP. The children live in their own
    # sessions (so that Ctrl-C reaches only run.py), so no one else tells them to stop: left
    # running they would keep the port, and the next `make run` would refuse to start.
    run_env["PATH"] = str(Path(sys.executable).parent)  # web only: the quickest start
    running = Running(run_env)
    try:
        url = f"http://127.0.0.1:{run_env['PORT']}/api/health"
        running.wait_for(lambda: _get_json(url), "the web server")
        web = running.started()["web"]
        running.proc.send_signal(signal.SIGHUP)
        assert running.proc.wait(timeout=60) == 0
        running._reader.join(timeout=5)
        assert "[run] SIGHUP received; stopping" in running.output
        assert "[run] stopped web" in running.output
        assert not _group_alive(web)
    finally:
        running.kill_everything()


def _process_gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody reaped yet (its parent, run.py, is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_stop_when_run_py_is_killed_outright(run_env):
    # SIGKILL (or a hard crash) gives run.py no chance to stop anything: the kernel has to tell
    # the children, which live in sessions of their own. Left running, the web server would keep
    # the port and the next `make run` would refuse to start.
    run_env["PATH"] = str(Path(sys.executable).parent)  # web only: the quickest start
    running = Running(run_env)
    try:
        url = f"http://127.0.0.1:{run_env['PORT']}/api/health"
        running.wait_for(lambda: _get_json(url), "the web server")
        children = running.started()
        assert set(children) == {"web"}
        running.proc.kill()
        running.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(map(_process_gone, children.values())):
            time.sleep(0.1)
        alive = {name: pid for name, pid in children.items() if not _process_gone(pid)}
        assert not alive, f"still running after run.py was killed: {alive}"
    finally:
        running.kill_everything()


def test_run_refuses_a_busy_port(run_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        run_env["PORT"] = str(busy.getsockname()[1])
        result = subprocess.run(
            [sys.executable, str(RUN)],
            cwd=ROOT,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"port {run_env['PORT']} on 127.0.0.1 is not free" in result.stdout
    assert "started" not in result.stdout
