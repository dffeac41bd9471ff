"""Settings for the benchmarks: development settings with DEBUG off and persistent database
connections (CONN_MAX_AGE, default 60 s as PostgreSQL deployments use). The project's SQLite
settings open a new connection per request (CONN_MAX_AGE=0), which on its own costs ~2.5 ms
on a small machine; BENCH_CONN_MAX_AGE=0 measures that configuration."""

import os

from registry.settings.dev import *  # noqa: F403

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("BENCH_CONN_MAX_AGE", "60"))  # noqa: F405
