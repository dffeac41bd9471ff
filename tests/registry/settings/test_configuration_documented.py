"""Every environment variable the settings read is documented in the README's Configuration
table (name, default, meaning). Adding a setting? Add its row there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ROOT / "registry" / "settings"
READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|env_bool|env_int|env_float)\(\s*["']([A-Z0-9_]+)["']"""
)


def _configuration_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Configuration\n(.*?)(?=^## )", readme, flags=re.S | re.M)
    assert match, "README.md has no '## Configuration' section"
    return match.group(1)


def _documented() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", _configuration_section(), flags=re.M))


def test_every_setting_read_from_the_environment_is_documented():
    read = {name for path in SETTINGS.glob("*.py") for name in READ.findall(path.read_text())}
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REGISTRY_HOST"} <= read  # the regex works
    missing = sorted(read - _documented())
    assert not missing, f"add these to README.md ## Configuration: {missing}"


def test_production_requirements_are_documented():
    section = _configuration_section()
    production = (SETTINGS / "production.py").read_text()
    required = re.search(r"for _name in \(([^)]*)\)", production).group(1)
    for name in re.findall(r'"([A-Z_]+)"', required):
        assert re.search(rf"^\| `{name}` \|.*[Rr]equired in production", section, flags=re.M), name
