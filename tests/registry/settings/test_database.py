"""PostgreSQL runs the hot statements as prepared statements (DATABASE_PREPARED_STATEMENTS),
and the switch turns that off."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from registry.api.services import api_key_create
from tests.registry.settings.fresh_process import setting_in_fresh_process
from tests.registry.trust.factories import office

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are a PostgreSQL setting"
)


def _database_options(**env: str) -> dict:
    """DATABASES['default']['OPTIONS'] as a fresh process reads them from its environment."""
    return setting_in_fresh_process(
        "settings.DATABASES['default'].get('OPTIONS', {})",
        settings_module="registry.settings.test",
        env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", **env},
    )


def test_postgresql_binds_on_the_server_and_prepares_by_default():
    options = _database_options()
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_prepared_statements_can_be_switched_off_for_a_pooler():
    options = _database_options(DATABASE_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


@on_postgresql
@pytest.mark.django_db
def test_a_hot_statement_is_prepared_once_it_has_run_a_few_times():
    _, key = api_key_create(office=office("EP"), scopes=["issue"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    for _ in range(6):
        # Any authenticated call looks the key up; a bad body is fine, it is refused after.
        response = client.post("/credentials/issue", {}, format="json")
        assert response.status_code == 400, response.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "api_apikey"' in statement for statement in prepared), prepared
