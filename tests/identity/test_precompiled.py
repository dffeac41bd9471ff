"""Precompiled hot-path statements: same rows as the ORM, Django's errors and transaction rules,
and counted like any query when Django logs queries. Runs on the suite's database (PostgreSQL
in CI, SQLite by default)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from identity.models import Did, DidKey
from identity.precompiled import PrecompiledInsert, PrecompiledQuery, PrecompiledUpdate

pytestmark = pytest.mark.django_db(transaction=True)

DID_BY_PATH = PrecompiledQuery(
    lambda path: Did.objects.filter(path=path, deactivated_at__isnull=True).order_by("did"),
    path=str,
)
DID_INSERT = PrecompiledInsert(Did)
DID_INSERT_OR_IGNORE = PrecompiledInsert(Did, ignore_conflicts=True)
KEY_INSERT = PrecompiledInsert(DidKey)
AT = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)


def _did(name: str, **fields) -> Did:
    return Did(
        did=f"did:web:example.org:{name}",
        path=name,
        services=[{"id": "#s", "type": "LinkedDomains", "serviceEndpoint": "https://x.org"}],
        created_at=AT,
        updated_at=AT,
        **fields,
    )


def test_rows_read_and_written_match_the_orm():
    written = _did("offices:qz")
    assert DID_INSERT.insert(written)
    assert written.pk is not None
    orm = Did.objects.get(pk=written.pk)
    assert orm.did == "did:web:example.org:offices:qz"
    assert orm.services == written.services
    assert orm.created_at == AT

    (read,) = DID_BY_PATH.all(path="offices:qz")
    assert (read.pk, read.did, read.services, read.created_at) == (
        orm.pk,
        orm.did,
        orm.services,
        orm.created_at,
    )
    assert read.created_at.tzinfo is not None
    assert DID_BY_PATH.first(path="offices:none") is None


def test_every_kind_of_column_is_written_as_the_orm_writes_it():
    did = _did("offices:qt")
    assert DID_INSERT.insert(did)
    paris = timezone(timedelta(hours=1))
    key = DidKey(
        did_id=did.pk,  # a foreign key
        number=3,  # an integer
        did_key="did:key:z6MkExample",
        public_key_multibase="z6MkExample",
        private_key_ciphertext=b"\x00\x01sealed",  # binary: Django's own preparation
        master_key_id="ring-1",
        activated_at=datetime(2026, 12, 3, 10, 0, 0, 5, tzinfo=paris),  # not UTC
        retired_at=None,  # a NULL
    )
    assert KEY_INSERT.insert(key)
    stored = DidKey.objects.get(pk=key.pk)
    assert stored.did_id == did.pk
    assert stored.number == 3
    assert bytes(stored.private_key_ciphertext) == b"\x00\x01sealed"
    assert stored.activated_at == datetime(2026, 12, 3, 9, 0, 0, 5, tzinfo=UTC)
    assert stored.retired_at is None
    assert stored.compromised_at is None


def test_values_are_bound_never_spliced_into_the_sql():
    assert DID_INSERT.insert(_did("offices:qy"))
    assert DID_BY_PATH.all(path="offices:qy' OR '1'='1") == []
    assert DID_BY_PATH.all(path="%s") == []


def test_a_unique_violation_is_djangos_integrity_error_and_ignore_conflicts_skips_it():
    assert DID_INSERT.insert(_did("offices:qx"))
    with pytest.raises(IntegrityError), transaction.atomic():
        DID_INSERT.insert(_did("offices:qx"))
    duplicate = _did("offices:qx")
    assert DID_INSERT_OR_IGNORE.insert(duplicate) is False
    assert duplicate.pk is None
    assert Did.objects.filter(path="offices:qx").count() == 1


def test_a_broken_transaction_refuses_further_statements():
    assert DID_INSERT.insert(_did("offices:qw"))
    with transaction.atomic():
        # an error leaving an inner block without a savepoint dooms the outer one, as in Django
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            DID_INSERT.insert(_did("offices:qw"))
        with pytest.raises(TransactionManagementError):
            DID_BY_PATH.all(path="offices:qw")


def test_writes_roll_back_with_the_transaction():
    def insert_then_fail():
        with transaction.atomic():
            DID_INSERT.insert(_did("offices:qv"))
            assert Did.objects.filter(path="offices:qv").exists()
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert not Did.objects.filter(path="offices:qv").exists()


def test_statements_are_counted_when_django_logs_queries():
    with CaptureQueriesContext(connection) as queries:
        DID_INSERT.insert(_did("offices:qu"))
        DID_BY_PATH.all(path="offices:qu")
    assert len(queries) == 2
    assert "INSERT" in queries[0]["sql"].upper()
    assert "offices:qu" in queries[1]["sql"]


PATHS_OF = PrecompiledQuery(
    lambda after: Did.objects.filter(did__gt=after).order_by("path").values_list("path", flat=True),
    after=str,
)
ROWS_OF = PrecompiledQuery(
    lambda path: Did.objects.filter(path=path).values_list("did", "created_at"), path=str
)
DID_LOCKED = PrecompiledQuery(
    lambda path: Did.objects.select_for_update().filter(path=path), path=str
)


def test_values_lists_come_back_as_the_orm_gives_them():
    for name in ("offices:qb", "offices:qa"):
        DID_INSERT.insert(_did(name))
    assert PATHS_OF.all(after="did:web:example.org:") == ["offices:qa", "offices:qb"]
    assert PATHS_OF.first(after="did:web:zz") is None
    assert ROWS_OF.all(path="offices:qa") == [("did:web:example.org:offices:qa", AT)]


def test_a_locking_read_is_refused_outside_a_transaction():
    DID_INSERT.insert(_did("offices:qc"))
    with transaction.atomic():
        assert DID_LOCKED.first(path="offices:qc").path == "offices:qc"
    with pytest.raises(TransactionManagementError):
        DID_LOCKED.first(path="offices:qc")


DID_UPDATE = PrecompiledUpdate(Did, ["services", "updated_at", "deactivated_at"])


def test_an_update_writes_the_named_fields_only():
    did = _did("offices:qd")
    DID_INSERT.insert(did)
    later = AT + timedelta(days=1)
    did.services = [{"id": "#new", "type": "LinkedDomains", "serviceEndpoint": "https://y.org"}]
    did.updated_at = later
    did.deactivated_at = later
    did.path = "offices:not-written"  # not among the updated fields
    assert DID_UPDATE.update(did) == 1
    stored = Did.objects.get(pk=did.pk)
    assert stored.services == did.services
    assert (stored.updated_at, stored.deactivated_at) == (later, later)
    assert stored.path == "offices:qd"
    did.pk = did.pk + 1000
    assert DID_UPDATE.update(did) == 0
