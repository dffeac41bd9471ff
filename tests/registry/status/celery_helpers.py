"""Point this process's Celery app at a given broker (and out of eager mode) for a test."""

from __future__ import annotations

import socket
from contextlib import contextmanager, suppress


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_pools(app) -> None:
    # Forget (do not close) the pools: kombu keeps them in a registry and would hand a closed
    # one to the next user; new ones are made for the new broker URL.
    app._pool = None
    with suppress(KeyError):
        app.__dict__["amqp"]._producer_pool = None


@contextmanager
def celery_broker(url: str, *, eager: bool = False, queue: str | None = None):
    from registry.celery import app
    from registry.status import services

    old = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    _reset_pools(app)
    app.conf.broker_url = url
    app.conf.task_always_eager = eager
    app.conf.task_default_queue = queue or old[2]
    services._broker_down_until = 0.0
    try:
        yield app
    finally:
        services.status_enqueue_drain()
        _reset_pools(app)
        app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = old
        services._broker_down_until = 0.0
