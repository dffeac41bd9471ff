"""Settings as a fresh process computes them from its environment (settings read environment
variables at import, so a test that changes them needs a new interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def setting_in_fresh_process(
    expression: str, *, settings_module: str, env: dict[str, str], unset: tuple[str, ...] = ()
):
    """The value (JSON) of `expression`, Python over `settings`, in a new process run with
    this one's environment without the variables `unset`, plus `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({expression}))"
    )
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
