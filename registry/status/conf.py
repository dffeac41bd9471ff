"""Settings of the status app, with their defaults (override in Django settings)."""

from __future__ import annotations

import logging
import os
import time

from django.conf import settings

from .bitstring import MIN_LIST_BITS

logger = logging.getLogger(__name__)


def list_size() -> int:
    """Entries per new list (tests of list roll-over use a small one)."""
    return int(getattr(settings, "STATUS_LIST_SIZE", MIN_LIST_BITS))


def cache_seconds() -> int:
    """How long a verified list is trusted without re-reading it: the spec's default TTL."""
    return int(getattr(settings, "STATUS_LIST_CACHE_SECONDS", 300))


def broker_backoff_seconds() -> float:
    """After a failed enqueue, how long to leave publishing to the outbox sweep."""
    return float(getattr(settings, "STATUS_BROKER_BACKOFF_SECONDS", 10))


def fault_pause(where: str) -> None:
    """Fault injection for the reliability tests only: with STATUS_PUBLISH_FAULT_PAUSE=<seconds>
    in a worker's environment, pause at `where` (inside the publish transaction) so that a test
    can SIGKILL the worker there. Zero (the default) does nothing."""
    seconds = float(os.environ.get("STATUS_PUBLISH_FAULT_PAUSE", "0") or 0)
    if seconds > 0:
        logger.warning("fault pause %ss: %s", seconds, where)
        time.sleep(seconds)
