"""The Celery application. Workers must not use the prefork pool: a process that forks after
using didkit hangs in the child. `make run` and docker/ start workers with `--pool threads`."""

import os
import select

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.dev")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _eager(task) -> bool:
    # An eager task runs inside its caller's request or transaction: leave its connections be.
    return task is None or bool(getattr(task.request, "is_eager", False))


@task_prerun.connect
def check_database_connections(sender=None, **kwargs) -> None:
    """Before each task: close this thread's database connections if they outlived
    CONN_MAX_AGE (SQLite's default 0: every time), and any that no longer answers (the server
    restarted or dropped it), so the task starts on a working one instead of failing into a
    retry. Celery's default was a new connection per task (CELERY_DB_REUSE_MAX keeps them)."""
    if _eager(sender):
        return
    from django.db import close_old_connections, connections

    close_old_connections()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not _idle_connection_usable(conn):
            conn.close()


def _idle_connection_usable(conn) -> bool:
    """Whether an idle connection still works, without a round trip when it plainly does.

    A healthy idle connection has nothing to read: a server that drops it (restart,
    `pg_terminate_backend`, idle timeout) sends its error and closes the socket, which makes it
    readable. Only then is the server asked (`SELECT 1`, Django's `is_usable`), which also
    tells a stray notice from a dead connection. A `SELECT 1` before every task cost a round
    trip on each status-list publication. Connections without a socket (SQLite) are asked."""
    fileno = getattr(conn.connection, "fileno", None)
    if fileno is None:
        return conn.is_usable()
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception:  # noqa: BLE001 - closed or broken in a driver-specific way: reconnect
        return False
    return not readable or conn.is_usable()


@task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """After each task what Django does after each request: close a connection that failed
    or outlived CONN_MAX_AGE."""
    if _eager(sender):
        return
    from django.db import close_old_connections

    close_old_connections()
