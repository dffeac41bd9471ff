"""docker/: the compose file names the services and runs one image three ways; the Dockerfile
keeps the rules (slim Python 3.11, non-root, collectstatic, gunicorn without --preload). There
is no Docker engine in CI, so these read the files; the build step that can run here
(collectstatic with the production settings) is run for real."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def _command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_compose_has_the_services(compose):
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(compose["services"])


def test_web_worker_beat_share_one_image_and_build(compose):
    services = compose["services"]
    builds = [services[name]["build"] for name in APP_SERVICES]
    images = [services[name]["image"] for name in APP_SERVICES]
    assert builds[0] == builds[1] == builds[2]
    assert images[0] == images[1] == images[2]
    build = builds[0]
    assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == (
        DOCKER / "Dockerfile"
    ).resolve()


def test_app_services_environment(compose):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "registry.settings.production"
        for key in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "REGISTRY_MASTER_KEYS",
            "REGISTRY_HOST",
        ):
            assert env.get(key), f"{name} lacks {key}"
        assert re.match(r"postgres(ql)?://[^@]+@postgres:5432/", env["DATABASE_URL"])
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        # Secrets are never baked in: compose refuses to start without them.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["REGISTRY_MASTER_KEYS"].startswith("${REGISTRY_MASTER_KEYS:?")
        # All three start once the database, Redis and the one-shot migration are done.
        assert compose["services"][name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


def test_commands(compose):
    services = compose["services"]
    web = _command(services["web"])
    assert "gunicorn registry.wsgi:application" in web
    assert "--preload" not in web
    # Migrations run once, in their own service, not in web (nor in worker or beat).
    migrate = services["migrate"]
    assert shlex.split(_command(migrate)) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["image"] == services["web"]["image"]
    assert migrate["environment"] == services["web"]["environment"]
    assert set(migrate["depends_on"]) == {"postgres", "redis"}
    assert not [name for name in APP_SERVICES if "migrate" in _command(services[name])]
    worker = shlex.split(_command(services["worker"]))
    assert worker[:4] == ["celery", "-A", "registry", "worker"]
    assert worker[worker.index("--pool") + 1] == "threads"
    assert "prefork" not in worker
    beat = shlex.split(_command(services["beat"]))
    assert beat[:4] == ["celery", "-A", "registry", "beat"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_dockerfile_rules(dockerfile):
    instructions = [
        line.split(None, 1) for line in dockerfile.splitlines() if line and line[0].isalpha()
    ]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    users = [arg for op, arg in instructions if op == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert "collectstatic" in dockerfile
    assert "pip install" in dockerfile
    cmd = next(arg for op, arg in reversed(instructions) if op == "CMD")
    assert "gunicorn" in cmd
    assert "--preload" not in dockerfile.replace("WITHOUT --preload", "")


def test_dockerignore_keeps_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "var", "staticfiles"):
        assert entry in ignored


def test_the_image_collectstatic_step_works(tmp_path):
    """The Dockerfile's collectstatic step, with its placeholder secrets and the production
    settings (manifest storage), run here for real."""
    run = next(
        line
        for line in (DOCKER / "Dockerfile").read_text().split("RUN ")
        if "collectstatic" in line
    )
    env_assignments = dict(re.findall(r"(\w+)=(\S+) \\", run))
    assert {"SECRET_KEY", "REGISTRY_MASTER_KEYS", "REGISTRY_HOST"} <= set(env_assignments)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        **env_assignments,
        "DJANGO_SETTINGS_MODULE": "registry.settings.production",
        "STATIC_ROOT": str(tmp_path / "static"),
        "REGISTRY_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "static" / "staticfiles.json").is_file()
    assert (tmp_path / "static" / "admin" / "css").is_dir()


def test_healthchecks_probe_readiness_not_mere_liveness(compose):
    from django.core.management import get_commands
    from django.urls import resolve

    from registry.api.health import ReadinessApi

    services = compose["services"]
    web = " ".join(services["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"\s)]+)", web).group(1)
    # the page that answers 503 while the database is down (tests/registry/test_health.py)
    assert resolve(path).func.cls is ReadinessApi
    worker = services["worker"]["healthcheck"]
    assert worker["test"][1:] == ["python", "manage.py", "health"]
    assert "health" in get_commands()  # exits 1 when status changes wait, 2 when down
