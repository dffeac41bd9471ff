"""Hot-path queries that the ORM compiles once per database connection, then runs with new values.

Building a small query through the ORM (filters, joins, ordering, the compiler) costs 10 to 20
times what SQLite or PostgreSQL take to run it: about 1 ms against 0.05 ms on the development
machine, and several milliseconds under load. The few queries every credential issuance or
verification runs are therefore compiled once, by the ORM itself (so the SQL, the column
converters and the model instances still follow the models), and then executed with each call's
values; the same goes for the INSERTs of an issuance (`PrecompiledInsert`). Nothing but the
SQL text is reused: every call reads the database, so a rotated key, a
withdrawn accreditation or a revoked API key shows at once.

They also run on the driver's cursor, in the SQL dialect of the driver (SQLite's `?`
placeholders converted once), inside Django's error wrapping and broken-transaction check: the
wrapper cursor Django adds around every statement costs about 0.1 ms, more than SQLite takes
to run one of these. When Django logs queries (DEBUG, `assertNumQueries`,
`CaptureQueriesContext`) or an execute wrapper is installed, they go through Django's cursor as
any query does, so they are logged and counted.

    API_KEY = PrecompiledQuery(
        lambda prefix: ApiKey.objects.select_related("office__did").filter(prefix=prefix),
        prefix=str,
    )
    api_key = API_KEY.first(prefix="3f9a1c2b7d4e")
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import QuerySet
from django.db.models.constants import OnConflict
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql.subqueries import InsertQuery
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class _Constant:
    value: Any


def _driver_sql(connection, sql: str) -> str:
    """`sql` as the driver takes it: what Django's SQLite cursor converts on every call."""
    if connection.vendor == "sqlite":
        return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return sql


def _execute(connection, sql: str, driver_sql: str, args: list, then: Callable):
    """Run one statement and return `then(cursor)`."""
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return then(cursor)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = connection.create_cursor()
        try:
            if connection.vendor == "sqlite":
                # the base class's execute: Django's subclass would convert the SQL again
                sqlite3.Cursor.execute(cursor, driver_sql, args)
            else:
                cursor.execute(driver_sql, args)
            return then(cursor)
        finally:
            cursor.close()


def _fetchall(cursor) -> list:
    return cursor.fetchall()


def _compiled_for(local, connection, compile_: Callable):
    """This thread's compiled statement for `connection`, compiled on first use (and again
    when Django has opened a new connection)."""
    compiled = getattr(local, "compiled", None)
    if compiled is None or compiled.connection is not connection:
        compiled = local.compiled = compile_(connection)
    return compiled


@dataclass(frozen=True)
class _Compiled:
    connection: Any
    compiler: Any
    sql: str
    driver_sql: str
    slots: tuple  # per SQL parameter: a parameter name, or a _Constant
    for_update: bool  # SELECT ... FOR UPDATE: refused outside a transaction, as Django does
    model: type | None  # None: a values_list() query, whose rows are returned as they are
    flat: bool  # values_list(..., flat=True): each row's one value
    init_list: list[str]
    start: int
    end: int
    populators: list
    converters: dict


def _sentinel(name: str, kind: type, position: int):
    # Values no real call uses, recognisable among the compiled parameters.
    if kind is int:
        return -7_340_033_000 - position
    if kind is str:
        return f"\x00precompiled:{name}\x00"
    raise ImproperlyConfigured(f"precompiled parameter {name}: only str and int are supported")


class PrecompiledQuery:
    """`build(**params)` returns a QuerySet of model instances (select_related and
    select_for_update allowed) or a `values_list()` (rows as tuples, or values when flat); each
    parameter is declared with its type (str or int) and must reach the SQL unchanged (exact
    lookups, not `icontains`). `all(**values)` / `first(**values)` run it on the default
    database (the project has one; routers are not consulted)."""

    def __init__(self, build: Callable[..., QuerySet], **params: type):
        self._build = build
        self._params = params
        self._local = threading.local()  # Django's connections are per thread, so are these

    def _compile(self, connection) -> _Compiled:
        sentinels = {
            name: _sentinel(name, kind, i) for i, (name, kind) in enumerate(self._params.items())
        }
        queryset = self._build(**sentinels)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots: list = []
        for value in params:
            name = next(
                (n for n, s in sentinels.items() if type(value) is type(s) and value == s), None
            )
            slots.append(name if name is not None else _Constant(value))
        missing = set(sentinels) - {s for s in slots if isinstance(s, str)}
        if missing:
            raise ImproperlyConfigured(f"precompiled parameters not in the SQL: {sorted(missing)}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[: compiler.col_count]]
        common = {
            "connection": connection,
            "compiler": compiler,
            "sql": sql,
            "driver_sql": _driver_sql(connection, sql),
            "slots": tuple(slots),
            "converters": compiler.get_converters(fields),
            "for_update": bool(queryset.query.select_for_update),
        }
        iterable = queryset._iterable_class
        if iterable in (ValuesListIterable, FlatValuesListIterable):
            flat = iterable is FlatValuesListIterable
            return _Compiled(
                **common, model=None, flat=flat, init_list=[], start=0, end=0, populators=[]
            )
        if iterable is not ModelIterable:
            raise ImproperlyConfigured("precompiled queries return instances or values_list()")
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            **common,
            model=klass_info["model"],
            flat=False,
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, connection.alias),
        )

    def all(self, **values) -> list:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = _compiled_for(self._local, connection, self._compile)
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        args = [values[s] if isinstance(s, str) else s.value for s in compiled.slots]
        rows = _execute(connection, compiled.sql, compiled.driver_sql, args, _fetchall)
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        if compiled.model is None:
            return [row[0] for row in rows] if compiled.flat else [tuple(row) for row in rows]
        objects = []
        for row in rows:
            obj = compiled.model.from_db(
                connection.alias, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def first(self, **values):
        """The first instance (or row), or None (give the queryset its ordering and a [:1]
        slice)."""
        objects = self.all(**values)
        return objects[0] if objects else None


@dataclass(frozen=True)
class _CompiledInsert:
    connection: Any
    compiler: Any
    sql: str
    driver_sql: str
    returning: bool
    # per field: (field, attname, how its value is prepared: _AS_IS_STR, _AS_IS_INT, _DATETIME
    # or _DJANGO)
    fields: tuple


_AS_IS_STR, _AS_IS_INT, _DATETIME, _DJANGO = range(4)
_INTEGER_FIELDS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.AutoField,
    models.BigAutoField,
)


def _taken_as_is(value, preparation: int, field) -> bool:
    if value is None:
        return field.null
    kind = type(value)  # exactly: a bool is no int here, a str subclass no str
    return (preparation == _AS_IS_STR and kind is str) or (
        preparation == _AS_IS_INT and kind is int
    )


def _preparation(field) -> int:
    """How an INSERT prepares this field's value. Django's preparation (`pre_save`, then
    `get_db_prep_save`) costs microseconds per field; for these exact field classes it returns a
    `str` or `int` value as it is, and an aware datetime as the backend adapts it. Anything
    else (JSON, IP addresses, booleans, auto_now, subclasses) keeps Django's own preparation."""
    kind = type(field)
    if kind in (models.CharField, models.TextField):
        return _AS_IS_STR
    if kind in _INTEGER_FIELDS:
        return _AS_IS_INT
    if kind is models.ForeignKey and type(field.target_field) in _INTEGER_FIELDS:
        return _AS_IS_INT
    if kind is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        return _DATETIME
    return _DJANGO


class PrecompiledInsert:
    """The INSERT of one row of `model`, compiled once per connection. `insert(obj)` writes
    every concrete field of the unsaved instance (defaults and `pre_save` applied as `save()`
    would), sets its primary key and returns True; with `ignore_conflicts`, a row that breaks a
    unique constraint is not written (PostgreSQL ON CONFLICT DO NOTHING, SQLite INSERT OR
    IGNORE) and it returns False. No signals are sent: use it only for models without
    receivers or a custom `save()` that matters for inserts."""

    def __init__(self, model: type, *, ignore_conflicts: bool = False):
        self._model = model
        self._fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self._on_conflict = OnConflict.IGNORE if ignore_conflicts else None
        self._local = threading.local()

    def _compile(self, connection, obj) -> _CompiledInsert:
        query = InsertQuery(self._model, on_conflict=self._on_conflict)
        query.insert_values(self._fields, [obj])
        compiler = query.get_compiler(connection=connection)
        returning = connection.features.can_return_columns_from_insert
        if returning:
            compiler.returning_fields = [self._model._meta.pk]
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(self._fields) + len(compiler.returning_params):
            raise ImproperlyConfigured(f"{self._model.__name__}: unexpected INSERT parameters")
        return _CompiledInsert(
            connection,
            compiler,
            sql,
            _driver_sql(connection, sql),
            returning,
            tuple((f, f.attname, _preparation(f)) for f in self._fields),
        )

    def insert(self, obj) -> bool:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = _compiled_for(self._local, connection, lambda c: self._compile(c, obj))
        compiler = compiled.compiler
        adapt_datetime = connection.ops.adapt_datetimefield_value
        params = []
        for field, attname, preparation in compiled.fields:
            value = getattr(obj, attname)
            if preparation == _DJANGO or not _taken_as_is(value, preparation, field):
                if preparation == _DATETIME and type(value) is datetime and value.tzinfo:
                    value = adapt_datetime(value)
                else:
                    value = compiler.prepare_value(field, compiler.pre_save_val(field, obj))
            params.append(value)
        model = self._model

        def inserted_pk(cursor):
            if compiled.returning:
                row = connection.ops.fetch_returned_insert_columns(
                    cursor, compiler.returning_params
                )
                return row[0] if row else None
            if cursor.rowcount == 1:
                return connection.ops.last_insert_id(
                    cursor, model._meta.db_table, model._meta.pk.column
                )
            return None

        pk = _execute(
            connection,
            compiled.sql,
            compiled.driver_sql,
            [*params, *compiler.returning_params],
            inserted_pk,
        )
        if pk is None:
            return False
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        return True


@dataclass(frozen=True)
class _CompiledUpdate:
    connection: Any
    sql: str
    driver_sql: str


class PrecompiledUpdate:
    """`UPDATE <table> SET <fields> WHERE pk = <obj.pk>` for one instance, the SQL built once per
    connection; values go through each field's own `get_db_prep_save`, as `save(update_fields=)`
    does (without its signals). Returns the number of rows updated (0 or 1)."""

    def __init__(self, model: type, fields: list[str]):
        self._model = model
        self._fields = [model._meta.get_field(name) for name in fields]
        self._local = threading.local()

    def _compile(self, connection) -> _CompiledUpdate:
        quote = connection.ops.quote_name
        meta = self._model._meta
        # Identifiers from the model's metadata, quoted by the backend; values are parameters.
        sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
            quote(meta.db_table),
            ", ".join(f"{quote(field.column)} = %s" for field in self._fields),
            quote(meta.pk.column),
        )
        return _CompiledUpdate(connection, sql, _driver_sql(connection, sql))

    def update(self, obj) -> int:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = _compiled_for(self._local, connection, self._compile)
        params = [
            field.get_db_prep_save(getattr(obj, field.attname), connection)
            for field in self._fields
        ]
        params.append(self._model._meta.pk.get_db_prep_save(obj.pk, connection))
        return _execute(connection, compiled.sql, compiled.driver_sql, params, _rowcount)


def _rowcount(cursor) -> int:
    return cursor.rowcount
