"""The default cache (registry/cache.py) against real redis-servers of its own: shared between
processes while Redis answers, in-process memory while it does not, and back on Redis once it
returns."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from registry.cache import ResilientRedisCache
from tests.registry.settings.fresh_process import setting_in_fresh_process
from tests.registry.status.processes import RedisServer, free_port

needs_redis_server = pytest.mark.skipif(
    not RedisServer.available(), reason="redis-server not installed"
)


def make_cache(url: str, *, retry_seconds: float = 5) -> ResilientRedisCache:
    """One process's cache, configured as the settings configure the default one."""
    return ResilientRedisCache(
        url,
        {
            "KEY_PREFIX": "registry",
            "RETRY_SECONDS": retry_seconds,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        },
    )


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def stored_in_redis(server: RedisServer, cache: ResilientRedisCache, key: str) -> bool:
    return bool(redis.Redis.from_url(server.url).exists(cache.make_key(key)))


@needs_redis_server
def test_what_one_process_caches_the_others_read(redis_server):
    worker, web = make_cache(redis_server.url), make_cache(redis_server.url)
    # A remote did:web document one process fetched, another reads.
    worker.set("did-web:abc", {"id": "did:web:example.org"}, 300)
    assert web.get("did-web:abc") == {"id": "did:web:example.org"}
    assert stored_in_redis(redis_server, worker, "did-web:abc")
    # Throttle counters are shared too.
    assert web.add("failures", 1, 60)
    assert not worker.add("failures", 1, 60)
    assert worker.incr("failures") == 2
    assert web.get("failures") == 2


def test_with_redis_unreachable_every_operation_works_in_memory(caplog):
    cache = make_cache(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="registry.cache"):
        cache.set("version", 3, 300)
        assert cache.get("version") == 3
        assert cache.get_many(["version", "other"]) == {"version": 3}
        assert cache.add("count", 1, 60)
        assert not cache.add("count", 1, 60)
        assert cache.incr("count") == 2
        assert cache.decr("count") == 1
        assert cache.get_or_set("computed", 7) == 7
        assert cache.has_key("computed")
        cache.delete("version")
        assert cache.get("version") is None
    assert not cache.redis_reachable
    # One warning per outage, not one per call.
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


@needs_redis_server
def test_back_on_redis_once_it_returns(redis_server, caplog):
    cache = make_cache(redis_server.url, retry_seconds=0.2)
    cache.set("before", 1, 300)
    assert stored_in_redis(redis_server, cache, "before")
    redis_server.stop()
    cache.set("during", 2, 300)  # no exception: kept in this process's memory
    assert cache.get("during") == 2
    assert not cache.redis_reachable
    redis_server.start()  # same port, empty
    time.sleep(0.3)
    with caplog.at_level(logging.WARNING, logger="registry.cache"):
        cache.set("after", 3, 300)
    assert cache.redis_reachable
    assert stored_in_redis(redis_server, cache, "after")
    assert not stored_in_redis(redis_server, cache, "during")
    assert any("reachable again" in r.getMessage() for r in caplog.records)


@needs_redis_server
def test_errors_that_are_not_about_reaching_redis_still_raise(redis_server):
    cache = make_cache(redis_server.url)
    with pytest.raises(ValueError):
        cache.incr("never-set")
    assert cache.redis_reachable


def _default_cache(settings_module: str, **env: str) -> dict:
    """CACHES['default'] as a fresh process reads it from its environment."""
    return setting_in_fresh_process(
        "settings.CACHES['default']",
        settings_module=settings_module,
        env={
            "SECRET_KEY": "x" * 50,
            "REGISTRY_MASTER_KEYS": "k1:dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE",
            "REGISTRY_HOST": "registry.example.org",
            **env,
        },
        unset=("CACHE_URL", "REDIS_URL", "DEBUG"),
    )


@pytest.mark.parametrize(
    "settings_module", ["registry.settings.dev", "registry.settings.production"]
)
def test_make_run_and_production_use_the_shared_cache_on_the_brokers_redis(settings_module):
    # What `make run` and a deployment run: one cache for the web and the workers (a
    # per-process cache kept a revoked credential verifying for minutes after `make run`
    # published the revocation).
    cache = _default_cache(settings_module, REDIS_URL="redis://redis.internal:6379/2")
    assert cache["BACKEND"] == "registry.cache.ResilientRedisCache"
    assert cache["LOCATION"] == "redis://redis.internal:6379/2"
    # A Redis of its own when the deployment wants one.
    cache = _default_cache(
        settings_module,
        REDIS_URL="redis://redis.internal:6379/2",
        CACHE_URL="redis://cache.internal:6379/0",
    )
    assert cache["LOCATION"] == "redis://cache.internal:6379/0"


@needs_redis_server
def test_clear_deletes_the_caches_keys_and_leaves_the_brokers_queue(redis_server):
    # By default the cache and the Celery broker share one Redis database.
    broker = redis.Redis.from_url(redis_server.url)
    broker.lpush("celery", b"a queued task message")
    cache = make_cache(redis_server.url)
    cache.set_many({f"key-{i}": i for i in range(2500)}, 300)
    assert cache.get("key-2499") == 2499
    cache.clear()
    assert cache.get("key-2499") is None
    assert not broker.keys("registry:*")
    assert broker.lrange("celery", 0, -1) == [b"a queued task message"]
