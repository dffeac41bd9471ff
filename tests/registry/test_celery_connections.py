"""The worker's check of its idle database connections before each task (registry/celery.py):
a working connection is kept without a round trip; one the server dropped is replaced."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection, connections

from registry.celery import check_database_connections
from tests.registry.database_helpers import backend_pid, terminate_backend

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the check reads a PostgreSQL socket"
    ),
]

WORKER_TASK = SimpleNamespace(request=SimpleNamespace(is_eager=False))


@pytest.fixture
def server_asked(monkeypatch):
    """How many times the check asked the server (`is_usable`, a `SELECT 1`); the real
    method still runs."""
    calls = []
    wrapper = connections["default"]
    real = wrapper.is_usable

    def counted():
        calls.append(wrapper.alias)
        return real()

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return calls


def test_a_working_idle_connection_is_kept_without_a_round_trip(server_asked):
    pid = backend_pid()
    raw = connection.connection
    check_database_connections(sender=WORKER_TASK)
    assert connection.connection is raw
    assert server_asked == []
    assert backend_pid() == pid


def test_a_connection_the_server_dropped_is_replaced_before_the_task(server_asked):
    pid = backend_pid()
    terminate_backend(pid)
    check_database_connections(sender=WORKER_TASK)
    # The dropped socket was readable: the server was asked, and the connection closed.
    assert server_asked == ["default"]
    assert connection.connection is None
    # The task's first statement opens a new connection instead of failing.
    assert backend_pid() != pid


def test_an_eager_task_leaves_its_callers_connection_alone(server_asked):
    pid = backend_pid()
    terminate_backend(pid)
    check_database_connections(sender=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert server_asked == []
    assert connection.connection is not None
    connection.close()
