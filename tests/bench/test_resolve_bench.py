"""bench/resolve.py still runs end to end (gunicorn on loopback, real requests), briefly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_resolve_bench_runs_and_reports_both_endpoints():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "resolve.py"),
            "--seconds",
            "0.5",
            "--rounds",
            "1",
            "--clients",
            "1",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        # a throwaway SQLite file, never the database DATABASE_URL names
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "GET /api/health" in out
    assert "GET /1.0/identifiers/<did>" in out
    assert "throughput ratio resolve/health:" in out
    assert "goals met" in out or "goals NOT met" in out
    # both endpoints answered 200 to every request
    for line in out.splitlines():
        if line.startswith("GET "):
            assert line.split()[-1] == "0", line
