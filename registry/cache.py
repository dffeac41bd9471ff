"""The default cache: Redis, shared by every web process and Celery worker, falling back to this
process's memory while Redis cannot be reached.

Shared, because processes must agree: throttle and login-failure counters count a client's
requests whichever process serves them, and a remote did:web document fetched once serves every
process. (Until this, development ran a per-process cache; production ran Django's RedisCache.)

Falling back, because the registry keeps serving while Redis is down (issue 4): Django's
RedisCache raises on every call then, so throttled endpoints, resolution and verification
answered 500. Instead, a connection failure switches this process to an in-memory cache for
`retry_seconds`, then Redis is tried again. Meanwhile each process caches and counts on its own.
Errors that are not about reaching Redis (a missing key for `incr`, a value that cannot be
pickled) propagate as they always did.
"""

from __future__ import annotations

import logging
import re
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
_FALLBACK_SETTINGS = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")


class ResilientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` that degrades to per-process memory while
    Redis is unreachable. Settings as RedisCache's, plus `RETRY_SECONDS` (default 5): how long
    a process stays on memory after a failure before trying Redis again. Give OPTIONS short
    `socket_connect_timeout` / `socket_timeout` values: a Redis that does not answer costs one
    timeout per process every RETRY_SECONDS."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self.retry_seconds = float(params.get("RETRY_SECONDS", 5))
        self._fallback = LocMemCache(
            f"redis-fallback:{server}",
            {name: params[name] for name in _FALLBACK_SETTINGS if name in params},
        )
        self._down_until = 0.0

    @property
    def redis_reachable(self) -> bool:
        """False while this process is on its in-memory fallback."""
        return time.monotonic() >= self._down_until

    def _call(self, name: str, *args, **kwargs):
        return self._on_redis_or_memory(
            getattr(super(), name), getattr(self._fallback, name), *args, **kwargs
        )

    def _on_redis_or_memory(self, on_redis, in_memory, *args, **kwargs):
        if self.redis_reachable:
            try:
                result = on_redis(*args, **kwargs)
            except _UNREACHABLE as exc:
                self._fall_back(exc)
            else:
                if self._down_until:
                    self._down_until = 0.0
                    logger.warning("Redis cache reachable again: shared cache restored")
                return result
        return in_memory(*args, **kwargs)

    def _fall_back(self, exc: Exception) -> None:
        if not self._down_until:
            logger.warning(
                "Redis cache unreachable (%s: %s): this process caches in memory, retrying "
                "Redis every %.0f s",
                exc.__class__.__name__,
                str(exc)[:200],
                self.retry_seconds,
            )
        self._down_until = time.monotonic() + self.retry_seconds

    def clear(self):
        """Delete this cache's keys (those under its KEY_PREFIX), not the whole Redis database
        as RedisCache does: by default the cache shares its database with the Celery broker,
        whose queued messages a FLUSHDB would drop. Without a KEY_PREFIX, RedisCache's FLUSHDB."""
        self._fallback.clear()
        if not self.key_prefix:
            return self._call("clear")
        return self._on_redis_or_memory(self._delete_own_keys, lambda: True)

    def _delete_own_keys(self) -> bool:
        client = self._cache.get_client(None, write=True)
        pattern = _GLOB_SPECIAL.sub(r"\\\g<0>", self.key_prefix) + ":*"
        batch: list = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


def _delegated(name: str):
    def operation(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    operation.__name__ = operation.__qualname__ = name
    operation.__doc__ = f"RedisCache.{name}, or the in-memory fallback's while Redis is down."
    return operation


# Every BaseCache operation that reaches the server (clear is above); the rest (get_or_set, decr,
# the async variants) are built on these.
for _name in (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
    "delete_many",
):  # fmt: skip
    setattr(ResilientRedisCache, _name, _delegated(_name))
del _name
