"""Settings for bench/status.py (its process and its Celery worker): development settings with
DEBUG off and persistent database connections, as a deployment would run."""

import os

from registry.settings.dev import *  # noqa: F403

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("BENCH_CONN_MAX_AGE", "60"))  # noqa: F405
