"""A database outage is a 503 with Retry-After in the API's error shape, not a 500: clients
retry, and the registry answers again once it reconnects."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.registry.database_helpers import backend_pid, terminate_backend
from tests.registry.trust.factories import office

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="drops a PostgreSQL server connection"
    ),
]


def test_the_api_answers_503_while_its_database_connection_is_gone():
    ep = office("EP")
    client = APIClient()
    path = f"/api/participants/{ep.did.did}/"
    assert client.get(path).status_code == 200
    terminate_backend(backend_pid())  # a restart or failover of PostgreSQL

    response = client.get(path)
    assert response.status_code == 503, response.content
    assert response.json() == {
        "error": "serviceUnavailable",
        "message": "The registry's database is unavailable; retry.",
    }
    assert response["Retry-After"] == "5"

    # Django replaces the broken connection after the request (the test client leaves that to
    # the test); the next request is served.
    connection.close()
    assert client.get(path).status_code == 200
