"""Real Celery workers and a private redis-server as subprocesses, for the integration tests.

Workers use the threads pool (didkit hangs in forked children), the test database (passed in
DATABASE_URL) and a queue of their own, so that runs never see each other's messages.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

from .celery_helpers import free_port

BASE_DIR = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def worker_database_url() -> str:
    """The URL of the database this test process uses (the test_... database)."""
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def shared_redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Worker:
    """`celery -A registry worker --pool threads` on the test database and a given queue."""

    def __init__(
        self,
        *,
        broker_url: str,
        queue: str,
        log_dir: Path,
        extra_env: dict | None = None,
        beat: bool = False,
        concurrency: int = 4,
    ) -> None:
        self.broker_url = broker_url
        self.queue = queue
        self.log_path = log_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.extra_env = extra_env or {}
        self.beat = beat
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "registry.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": self.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def start(self, *, timeout: float = 40) -> Worker:
        command = [
            str(BIN / "celery"),
            "-A",
            "registry",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(self.concurrency),
            "--queues",
            self.queue,
            "--hostname",
            f"h5-{uuid.uuid4().hex[:8]}@localhost",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        if self.beat:
            command += ["--beat", "--schedule", str(self.log_path.with_suffix(".beat"))]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill it and its children only
        )
        log.close()
        self.wait_for_log("ready.", timeout=timeout)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, *, timeout: float, count: int = 1) -> None:
        def seen():
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited ({self.process.returncode}):\n{self.log()[-3000:]}"
                )
            return self.log().count(text) >= count

        wait_until(seen, timeout=timeout, what=f"{text!r} in the worker log")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, mid-transaction."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


class RedisServer:
    """A private redis-server on an ephemeral loopback port (never the shared one)."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _ping(client), timeout=10, what="redis-server to start")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False
