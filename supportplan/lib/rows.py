"""Plain SQL for the statements hot paths run on every request (PostgreSQL): the helpdesk event write
path and API-key authentication.

The ORM builds and compiles a query for every statement: on the ingestion path that cost more Python
time than the rest of an event's work together (issue 7: 16 helpdesk clients on two sync workers).
These helpers read and write the same rows with SQL built once per model from its ``_meta``, and
hand back ordinary model instances (``Model.from_db``, the field's ``from_db_value`` applied), so
callers keep working with models. Values are prepared for the database as the ORM prepares them
(``pre_save`` and ``get_db_prep_save``), so what is stored is the same.

Callers use them only when ``connection.vendor == "postgresql"`` (``FOR NO KEY UPDATE``,
``RETURNING``) and keep the ORM statement beside them for SQLite.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model


@dataclass(frozen=True)
class _Shape:
    table: str
    pk_column: str
    fields: tuple[Field, ...]
    attnames: tuple[str, ...]
    #: (index, converter) for the fields whose stored value needs converting (JSON, …).
    converters: tuple[tuple[int, Callable, Any], ...]


@functools.cache
def _shape(model: type[Model]) -> _Shape:
    quote = connection.ops.quote_name
    fields = tuple(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        for converter in field.get_db_converters(connection) + connection.ops.get_db_converters(column):
            converters.append((index, converter, column))
    return _Shape(
        table=quote(model._meta.db_table),
        pk_column=quote(model._meta.pk.column),
        fields=fields,
        attnames=tuple(field.attname for field in fields),
        converters=tuple(converters),
    )


@functools.cache
def columns(model: type[Model], alias: str) -> str:
    """The select list of every concrete column of ``model`` (in ``_meta`` order) under ``alias``."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _shape(model).fields)


def width(model: type[Model]) -> int:
    return len(_shape(model).fields)


def table(model: type[Model]) -> str:
    return _shape(model).table


def instance(model: type[Model], values: Sequence[Any]) -> Model:
    """A model instance from one row of ``columns(model, …)``, as the ORM would build it."""
    shape = _shape(model)
    if shape.converters:
        values = list(values)
        for index, converter, column in shape.converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(connection.alias, shape.attnames, values)


def instance_with(
    model: type[Model], row: Sequence[Any], related: Sequence[tuple[str, type[Model]]]
) -> Model:
    """An instance of ``model`` from a row of ``columns(model)`` followed by ``columns(…)`` of each
    related ``(attribute, model)``, in that order: each related instance set on its attribute (None
    when the instance's ``<attribute>_id`` is null), as ``select_related`` would."""
    end = width(model)
    obj = instance(model, row[:end])
    for attribute, related_model in related:
        start, end = end, end + width(related_model)
        loaded = getattr(obj, f"{attribute}_id") is not None
        setattr(obj, attribute, instance(related_model, row[start:end]) if loaded else None)
    return obj


@functools.cache
def light_class(model: type[Model]) -> type:
    """A plain class with ``model``'s concrete attnames as slots (and ``pk``): for rows a hot path
    reads, compares and writes back without the model's behaviour (building a model instance costs
    tens of microseconds; this, one)."""
    shape = _shape(model)
    if shape.converters:
        raise TypeError(f"{model.__name__} has fields whose values need converting.")
    pk_name = model._meta.pk.attname

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(shape.attnames, values, strict=True):
            setattr(self, name, value)

    return type(
        f"Light{model.__name__}",
        (),
        {
            "__slots__": shape.attnames,
            "__init__": __init__,
            "pk": property(lambda self: getattr(self, pk_name)),
            "__repr__": lambda self: f"<Light{model.__name__} {getattr(self, pk_name)}>",
        },
    )


def fetch(model: type[Model], where: str, params: Sequence[Any]) -> list[Model]:
    """Instances of ``model`` matching ``where`` (SQL over alias ``t``; no ordering)."""
    sql = f"SELECT {columns(model, 't')} FROM {table(model)} t WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [instance(model, row) for row in cursor.fetchall()]


def insert(objs: Sequence[Model], *, on_conflict_do_nothing: bool = False) -> bool:
    """``INSERT … RETURNING`` the primary keys of new instances of one model, in one statement;
    sets ``pk`` and marks them saved (what ``save()``/``bulk_create`` do, without signals: the
    models written here have no receivers).

    ``on_conflict_do_nothing`` (one instance): a row that breaks a unique constraint is not stored
    and False is returned, instead of an IntegrityError that would need a savepoint around it."""
    if not objs:
        return True
    if on_conflict_do_nothing and len(objs) != 1:
        raise ValueError("on_conflict_do_nothing inserts one row at a time.")
    sql, params = insert_sql(objs)
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    sql += f"{conflict} RETURNING {_shape(type(objs[0])).pk_column}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    if not keys:
        return False
    for obj, (key,) in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


def insert_sql(objs: Sequence[Model], *, with_pk: bool = False) -> tuple[str, list[Any]]:
    """The ``INSERT`` of new instances of one model (no ``RETURNING``): SQL and parameters, values
    prepared as ``save()`` prepares them (``pre_save`` included: ``auto_now`` and the like).
    ``with_pk``: the instances carry their primary key already (taken from the sequence)."""
    model = type(objs[0])
    shape = _shape(model)
    pk = model._meta.pk
    fields = [field for field in shape.fields if with_pk or field is not pk]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection) for obj in objs for field in fields
    ]
    sql = (
        f"INSERT INTO {shape.table} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(objs))}"
    )
    return sql, params


def update_sql(
    model: type[Model], values: dict[str, Any], where: str, params: Sequence[Any]
) -> tuple[str, list[Any]]:
    """The ``UPDATE`` of the rows matching ``where`` (SQL, no alias) with ``values`` (field names
    or attnames → Python values, prepared as the ORM prepares them): SQL and parameters."""
    quote = connection.ops.quote_name
    assignments, prepared = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        prepared.append(field.get_db_prep_save(value, connection))
    sql = f"UPDATE {table(model)} SET {', '.join(assignments)} WHERE {where}"  # noqa: S608
    return sql, [*prepared, *params]


def update(model: type[Model], values: dict[str, Any], where: str, params: Sequence[Any]) -> int:
    """``update_sql`` run; returns the row count."""
    sql, params = update_sql(model, values, where, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def bulk_update_sql(
    objs: Sequence[Any], names: Sequence[str], *, model: type[Model] | None = None
) -> tuple[str, list[Any]]:
    """The statement writing the fields ``names`` of saved instances of one model, as ``bulk_update``
    would: one ``UPDATE … FROM (VALUES …)`` (``bulk_update`` builds a ``CASE WHEN`` per field and row,
    which costs more Python time than the statement itself). ``model``: when ``objs`` are not
    instances of it but carry its attnames (``light_class``)."""
    model = model or type(objs[0])
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [pk, *(model._meta.get_field(name) for name in names)]
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs for field in fields
    ]
    columns = ", ".join(quote(field.column) for field in fields)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields[1:])
    sql = (
        f"UPDATE {table(model)} AS c SET {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({columns}) "
        f"WHERE c.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    return sql, params


def bulk_update(objs: Sequence[Model], names: Sequence[str]) -> None:
    """``bulk_update_sql`` run (nothing for no instances)."""
    if objs:
        with connection.cursor() as cursor:
            cursor.execute(*bulk_update_sql(objs, names))


# --- Writes sent together --------------------------------------------------------------------
#: Statements waiting for ``flush`` (None: no batch open, statements run at once).
_pending: ContextVar[list[tuple[str, Sequence[Any]]] | None] = ContextVar("rows_pending", default=None)


@contextmanager
def write_batch() -> Iterator[None]:
    """Inside it, ``execute_later`` queues statements; they are sent in one round trip when the
    block ends (or at ``flush``). An exception discards them (the transaction rolls back anyway).
    Nested blocks join the outer one. Callers queue only writes nothing reads again before the
    flush: the database sees them at the flush, not before. Elsewhere than on PostgreSQL the
    statements run at once."""
    if _pending.get() is not None or connection.vendor != "postgresql":
        yield
        return
    token = _pending.set([])
    try:
        yield
        flush()
    finally:
        _pending.reset(token)


def execute_later(sql: str, params: Sequence[Any]) -> None:
    """Runs the statement now, or at the end of the open ``write_batch``."""
    pending = _pending.get()
    if pending is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        pending.append((sql, params))


def flush() -> None:
    """Sends the open batch's statements, one round trip (PostgreSQL: the parameters are bound
    client-side by psycopg2 either way, so this is what ``execute`` would send, joined)."""
    pending = _pending.get()
    if not pending:
        return
    with connection.cursor() as cursor:
        if len(pending) == 1:
            cursor.execute(*pending[0])
        else:
            raw = cursor.cursor
            cursor.execute(";\n".join(raw.mogrify(sql, params).decode() for sql, params in pending))
    pending.clear()


# --- Prepared statements ---------------------------------------------------------------------
#: Names prepared on each open PostgreSQL connection (a new connection starts with none).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def prepared(name: str, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """``EXECUTE name(…)`` of ``sql`` (``%s`` placeholders) with ``params``, for ``cursor.execute``
    or ``execute_later``: PostgreSQL parses and plans the statement once per connection instead of
    on every request (on the ingestion path planning cost more server time than running). The
    first call on a connection sends the ``PREPARE`` (a prepared statement outlives a rolled-back
    transaction, so this stays true). ``name`` must be unique per statement text."""
    connection.ensure_connection()
    raw = connection.connection
    names = _prepared.get(raw)
    if names is None:
        # A connection seen for the first time: what its session has prepared already.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            names = _prepared[raw] = {name for (name,) in cursor.fetchall()}
    count = sql.count("%s")
    if name not in names:
        numbered = sql
        for number in range(1, count + 1):
            numbered = numbered.replace("%s", f"${number}", 1)
        with connection.cursor() as cursor:
            cursor.execute(f"PREPARE {name} AS {numbered}")
        names.add(name)
    return f"EXECUTE {name}({', '.join(['%s'] * count)})", params
