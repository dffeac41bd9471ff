#!/usr/bin/env python
"""What `make run` starts: the whole registry on one machine, for development and demos.

1. Redis: uses the one at REDIS_URL if it answers; otherwise starts a private `redis-server`
   (no persistence, under var/) and points everything at it; if none is installed, says how to
   install one and serves the web alone (writes queue in the outbox until a worker runs).
2. Setup: `migrate`, `collectstatic`, `load_demo_data` (idempotent).
3. Children, each in its own process group: the web server on http://127.0.0.1:${PORT:-8000},
   a Celery worker (`--pool threads`: didkit hangs in forked children, so never prefork) and
   Celery beat (schedule file under var/).
4. Supervision: Ctrl-C / SIGTERM / SIGHUP stops everything it started. A worker or beat that exits is
   started again (at most RESTART_LIMIT times in RESTART_WINDOW_SECONDS); if the web server or
   the private Redis dies, or a restart limit is reached, it says which and stops the rest (exit
   status 1). If this process is killed (SIGKILL) or crashes, on Linux the kernel sends each
   child SIGTERM (scripts/die_with_parent.py), so none is left holding the port.

Environment: PORT, REGISTRY_HOST (defaults to localhost:$PORT when PORT is set),
REGISTRY_VAR_DIR (default ./var), REDIS_URL, DATABASE_URL, DJANGO_SETTINGS_MODULE
(default registry.settings.dev).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DIE_WITH_PARENT = ROOT / "scripts" / "die_with_parent.py"
STOP_TIMEOUT_SECONDS = 15
# A worker or beat that exits is started again, at most RESTART_LIMIT times a window.
RESTART_LIMIT = 5
RESTART_WINDOW_SECONDS = 60
INSTALL_REDIS_HINT = (
    "install Redis with `sudo apt-get install redis-server` (Debian/Ubuntu) or "
    "`brew install redis` (macOS), or set REDIS_URL to a running one, then run `make run` again"
)


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def dies_with_us(argv: list[str]) -> list[str]:
    """On Linux, `argv` run so that it gets SIGTERM when this process dies, however it dies
    (scripts/die_with_parent.py); elsewhere `argv` unchanged. The kernel signals when the
    *thread* that started the child ends: start children from the main thread only."""
    if not sys.platform.startswith("linux"):
        return argv
    return [PYTHON, "-I", str(DIE_WITH_PARENT), str(os.getpid()), *argv]


class Child:
    """A supervised process in its own process group, its output prefixed with its name."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            dies_with_us(argv),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own process group: the terminal's Ctrl-C reaches only us, and stopping the group
            # also stops anything the child started.
            start_new_session=True,
        )
        self.pgid = self.proc.pid
        self._pump = threading.Thread(target=self._forward_output, daemon=True)
        self._pump.start()
        say(f"started {name} (pid {self.proc.pid})")

    def _forward_output(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            print(f"{self.name:>6} | {line}", flush=True)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def wait(self, deadline: float) -> bool:
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.redis: Child | None = None
        self.stop_requested: int | None = None
        self.force = False
        # Celery worker and beat are restarted when they exit (a worker can die on a broker
        # reconnect, see README "Running it"); the web server and Redis are not.
        self.restartable: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.restarts: dict[str, list[float]] = {}

    def on_signal(self, signum, _frame) -> None:
        if self.stop_requested is not None:
            self.force = True  # a second Ctrl-C: stop waiting politely
            return
        self.stop_requested = signum

    def start(
        self, name: str, argv: list[str], env: dict[str, str], *, restartable: bool = False
    ) -> Child:
        child = Child(name, argv, env)
        self.children.append(child)
        if restartable:
            self.restartable[name] = (argv, env)
        return child

    def _restart(self, child: Child) -> bool:
        """Start a restartable child again, unless it keeps dying (then give up)."""
        now = time.monotonic()
        recent = [t for t in self.restarts.get(child.name, []) if now - t < RESTART_WINDOW_SECONDS]
        if len(recent) >= RESTART_LIMIT:
            return False
        self.restarts[child.name] = [*recent, now]
        child._pump.join(timeout=2)
        self.children.remove(child)
        argv, env = self.restartable[child.name]
        self.start(child.name, argv, env, restartable=True)
        return True

    def watch(self) -> int:
        """Wait for a signal or a dead child; return the exit status."""
        while self.stop_requested is None:
            for child in list(self.children):
                code = child.proc.poll()
                if code is None:
                    continue
                if child.name in self.restartable and self._restart(child):
                    say(
                        f"{child.name} (pid {child.proc.pid}) exited with status {code}; restarted it"
                    )
                    continue
                say(
                    f"{child.name} (pid {child.proc.pid}) exited with status {code}; "
                    "stopping the others"
                )
                return 1
            time.sleep(0.3)
        say(f"{signal.Signals(self.stop_requested).name} received; stopping")
        return 0

    def stop_all(self) -> None:
        # Redis last, so the worker and beat do not spend their shutdown reconnecting.
        ordered = [c for c in self.children if c is not self.redis]
        self._stop(ordered)
        if self.redis is not None:
            self._stop([self.redis])

    def _stop(self, children: list[Child]) -> None:
        for child in children:
            if child.proc.poll() is None:
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in children:
            while not child.wait(min(deadline, time.monotonic() + 0.3)):
                if self.force or time.monotonic() >= deadline:
                    say(f"{child.name} did not stop in time; killing it")
                    break
            # Whatever is left in the group (the child's own children), and the child itself
            # if it ignored SIGTERM.
            child.signal_group(signal.SIGKILL)
            child.proc.wait()
            child._pump.join(timeout=2)
            say(f"stopped {child.name}")


# --- Redis ---------------------------------------------------------------------------------


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        return bool(
            redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
        )
    except (redis.RedisError, OSError, ValueError):
        return False


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_private_redis(
    supervisor: Supervisor, url: str, var_dir: Path, env: dict[str, str]
) -> str | None:
    """Start `redis-server` on loopback; return the URL to use, or None if it is not installed
    or did not come up."""
    server = shutil.which("redis-server")
    if server is None:
        return None
    parts = urlsplit(url)
    loopback = (parts.hostname or "127.0.0.1") in {"127.0.0.1", "localhost", "::1"}
    port = parts.port or 6379
    if not (loopback and port_is_free(port)):
        port = free_port()
    data_dir = var_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    child = supervisor.start(
        "redis",
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
            "--daemonize",
            "no",
        ],
        env,
    )
    supervisor.redis = child
    # Same database number; no password or TLS: the private server has neither.
    private_url = urlunsplit(("redis", f"127.0.0.1:{port}", parts.path or "/0", "", ""))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            break
        if redis_answers(private_url, timeout=0.5):
            return private_url
        time.sleep(0.2)
    say("the private redis-server did not come up")
    supervisor._stop([child])
    supervisor.children.remove(child)
    supervisor.redis = None
    return None


# --- main ----------------------------------------------------------------------------------


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.dev")
    port = env.get("PORT") or "8000"
    env["PORT"] = port
    if not env.get("REGISTRY_HOST"):
        # DIDs are named after the host, port included: they must match where we serve.
        env["REGISTRY_HOST"] = f"localhost:{port}"
    env["REGISTRY_VAR_DIR"] = str(Path(env.get("REGISTRY_VAR_DIR") or ROOT / "var").resolve())
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def manage(env: dict[str, str], *args: str) -> None:
    say("manage.py " + " ".join(args))
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"[run] manage.py {' '.join(args)} failed (status {result.returncode})")


def main() -> int:
    supervisor = Supervisor()
    env = child_environment()
    var_dir = Path(env["REGISTRY_VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)
    port = env["PORT"]

    if not port.isdigit() or not port_is_free(int(port)):
        say(f"port {port} on 127.0.0.1 is not free (or not a port number): set PORT to another")
        return 2

    signal.signal(signal.SIGTERM, supervisor.on_signal)
    # The terminal closing (SIGHUP) too: the children have their own sessions, so nothing else
    # would stop them, and they would keep the port.
    signal.signal(signal.SIGHUP, supervisor.on_signal)
    try:
        with_celery = True
        if redis_answers(env["REDIS_URL"]):
            say(f"using Redis at {env['REDIS_URL']}")
        else:
            private = start_private_redis(supervisor, env["REDIS_URL"], var_dir, env)
            if private is not None:
                say(
                    f"no Redis answered at {env['REDIS_URL']}: started a private redis-server "
                    f"at {private} (no persistence; it stops with this command)"
                )
                env["REDIS_URL"] = private
            else:
                with_celery = False
                why = (
                    "redis-server is not installed"
                    if shutil.which("redis-server") is None
                    else "the private redis-server did not start (see its output above)"
                )
                say(
                    f"NO REDIS: nothing answers at {env['REDIS_URL']} and {why}. "
                    f"To get the Celery worker and beat, {INSTALL_REDIS_HINT}."
                )
                say(
                    "Serving the web WITHOUT worker and beat: the registry keeps working; "
                    "changes wait in the outbox until a worker runs."
                )
        if supervisor.stop_requested is not None:
            return 0

        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "load_demo_data")

        signal.signal(signal.SIGINT, supervisor.on_signal)
        if supervisor.stop_requested is None:
            supervisor.start(
                "web",
                [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                env,
            )
            if with_celery:
                supervisor.start(
                    "worker",
                    [
                        PYTHON,
                        "-m",
                        "celery",
                        "-A",
                        "registry",
                        "worker",
                        "--pool",
                        "threads",
                        "--concurrency",
                        "4",
                        "--loglevel",
                        "INFO",
                        "--hostname",
                        "registry@%h",
                    ],
                    env,
                    restartable=True,
                )
                supervisor.start(
                    "beat",
                    [
                        PYTHON,
                        "-m",
                        "celery",
                        "-A",
                        "registry",
                        "beat",
                        "--loglevel",
                        "INFO",
                        "--schedule",
                        str(var_dir / "celerybeat-schedule"),
                    ],
                    env,
                    restartable=True,
                )
            say(
                f"registry at http://127.0.0.1:{port}/ (DIDs under did:web:"
                f"{env['REGISTRY_HOST'].replace(':', '%3A')}; admin /admin/, API docs "
                "/api/docs/). Ctrl-C stops everything."
            )
        return supervisor.watch()
    except KeyboardInterrupt:
        say("interrupted; stopping")
        return 0
    finally:
        supervisor.stop_all()


if __name__ == "__main__":
    sys.exit(main())
