import os
import sys
from pathlib import Path

import pytest

VECTORS = Path(
    os.environ.get("VECTORS_DIR", Path(__file__).resolve().parents[2] / "shared" / "vectors")
)


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not VECTORS.is_dir():
        pytest.fail(f"shared test vectors not found at {VECTORS} (set VECTORS_DIR)")
    return VECTORS


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    session.config._registry_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # didkit's PyO3 runtime can abort during interpreter shutdown (exit 134/139) after async
    # calls, turning a green run red; leave with pytest's own exit code instead.
    code = getattr(config, "_registry_exitstatus", None)
    if code is not None and not hasattr(sys, "_called_from_xdist"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
