"""constraints.txt, the versions `make install` and the image install: every dependency that
pyproject.toml declares is pinned there, at a version pyproject.toml allows, so that a fresh
clone installs what the suite passed with (a dependency added or a range moved without
`make lock` fails here, not on someone's fresh machine next month)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"{match[1]} pinned twice"
        pins[name] = Version(match[2])
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    return [Requirement(line) for line in lines]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pins[name]}, outside {requirement}"
        )


def test_what_the_extras_bring_is_pinned_too():
    # psycopg[binary] brings psycopg-binary, celery[redis] brings kombu's redis client: read
    # from the installed packages' metadata
    pins = _pins()
    for requirement in _declared():
        for extra in requirement.extras:
            brought = [
                Requirement(line)
                for line in importlib.metadata.requires(requirement.name) or []
                if Requirement(line).marker is not None
                and Requirement(line).marker.evaluate({"extra": extra})
            ]
            assert brought, f"{requirement.name}[{extra}] brings nothing: a typo?"
            for dependency in brought:
                assert canonicalize_name(dependency.name) in pins, (
                    f"{dependency.name} (from {requirement}) is not in constraints.txt"
                )


def test_the_project_itself_is_not_pinned():
    # an editable install of the checkout must not be constrained to a released version
    assert canonicalize_name("ip-identity-registry") not in _pins()


def test_install_and_image_use_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e '.[dev]'" in makefile
    assert re.search(r"^\$\(STAMP\):.*constraints\.txt", makefile, re.MULTILINE)
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "pip install -c constraints.txt ." in dockerfile
    assert re.search(r"^COPY .*constraints\.txt", dockerfile, re.MULTILINE)
