"""Reading rendered portal pages in tests."""

from __future__ import annotations

import re


def form_key(client, url: str, name: str = "form_key") -> str:
    """The one-time key of the form rendered at `url` for the logged-in user (its hidden
    field, `name` with the form's prefix), as a browser would send it back."""
    return form_key_in(client.get(url), name)


def form_key_in(page, name: str = "form_key") -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]+)"', page.content.decode())
    assert found, "the form has no one-time key"
    return found.group(1)


def post_at_once(user, url: str, data: dict, times: int = 2) -> list:
    """`times` identical POSTs sent together, as a double click does: each on its own client
    and database connection (the test needs `django_db(transaction=True)` on PostgreSQL)."""
    import threading

    from django.db import connection
    from django.test import Client

    clients = [Client() for _ in range(times)]
    for client in clients:
        client.force_login(user)
    start = threading.Barrier(times)
    responses: list = [None] * times

    def send(i):
        try:
            start.wait()
            responses[i] = clients[i].post(url, data)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses
