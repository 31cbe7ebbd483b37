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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import (
    ForeignKeyDeferredAttribute,
    ForwardManyToOneDescriptor,
)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

#: Field classes (exact) whose ``get_db_prep_save`` on PostgreSQL returns a value of one of these
#: types unchanged (and None as None): the preparation is skipped for such values, and any other
#: value (an enum member, an expression, a naive datetime…) still goes through the field.
_UNCHANGED_TYPES: dict[type[Field], tuple[type, ...]] = {
    **dict.fromkeys(
        (
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.PositiveBigIntegerField,
        ),
        (int,),
    ),
    **dict.fromkeys(
        (models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField), (str,)
    ),
    models.BooleanField: (bool,),
    models.DateField: (date,),
    # Aware datetimes only: a naive one is made aware (with a warning) by the field.
    models.DateTimeField: (datetime,),
}


def _unchanged_types(field: Field) -> tuple[type, ...] | None:
    if isinstance(field, models.ForeignKey) and type(field) in (models.ForeignKey, models.OneToOneField):
        return _unchanged_types(field.target_field)
    return _UNCHANGED_TYPES.get(type(field))


def _preparer(field: Field) -> Callable[[Any, Any], Any]:
    """``field.get_db_prep_save`` (value, connection), skipped for values it returns unchanged
    (``_UNCHANGED_TYPES``): on the ingestion path the ORM's preparation of plain ints, strings and
    aware datetimes cost more than building the statement."""
    prepare = field.get_db_prep_save
    types = _unchanged_types(field)
    if connection.vendor != "postgresql" or types is None:
        return prepare
    if types == (datetime,):

        def prepare_datetime(value, conn):
            if value is None or (type(value) is datetime and value.tzinfo is not None):
                return value
            return prepare(value, conn)

        return prepare_datetime

    def prepare_plain(value, conn):
        if value is None or type(value) in types:
            return value
        return prepare(value, conn)

    return prepare_plain


def _plain_pre_save(field: Field) -> bool:
    """Whether ``field.pre_save(obj, add=True)`` is just the attribute's value."""
    if type(field).pre_save is Field.pre_save:
        return True
    return isinstance(field, models.DateField) and not field.auto_now and not field.auto_now_add


def _plain_construction(model: type[Model], attnames: Sequence[str]) -> bool:
    """Whether an instance read from the database can be built by setting its attributes directly
    (what ``Model.from_db`` ends up doing) instead of through ``__init__``: no ``__init__`` or
    ``from_db`` of its own, no ``pre_init``/``post_init`` receivers, only plain attribute
    descriptors (no file or custom descriptor that converts on assignment)."""
    if model.__init__ is not Model.__init__ or model.from_db.__func__ is not Model.from_db.__func__:
        return False
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    return all(
        type(getattr(model, name, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
        for name in attnames
    )


@dataclass(frozen=True)
class _Shape:
    table: str
    pk_column: str
    fields: tuple[Field, ...]
    attnames: tuple[str, ...]
    #: (index, converter) for the fields whose stored value needs converting (JSON, …).
    converters: tuple[tuple[int, Callable, Any], ...]
    #: ``_preparer`` of each field, in ``fields`` order.
    preparers: tuple[Callable[[Any, Any], Any], ...]
    #: Whether each field's ``pre_save`` on insert is its attribute's value.
    plain_pre_save: tuple[bool, ...]
    plain_construction: bool


@functools.cache
def _shape(model: type[Model]) -> _Shape:
    quote = connection.ops.quote_name
    fields = tuple(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        for converter in field.get_db_converters(connection) + connection.ops.get_db_converters(column):
            converters.append((index, converter, column))
    attnames = tuple(field.attname for field in fields)
    return _Shape(
        table=quote(model._meta.db_table),
        pk_column=quote(model._meta.pk.column),
        fields=fields,
        attnames=attnames,
        converters=tuple(converters),
        preparers=tuple(_preparer(field) for field in fields),
        plain_pre_save=tuple(_plain_pre_save(field) for field in fields),
        plain_construction=_plain_construction(model, attnames),
    )


@functools.cache
def _named_fields(
    model: type[Model], names: tuple[str, ...]
) -> tuple[tuple[Field, ...], tuple[Callable, ...]]:
    """The fields called ``names`` (names or attnames) and their ``_preparer``s."""
    fields = tuple(model._meta.get_field(name) for name in names)
    return fields, tuple(_preparer(field) for field in fields)


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
        conn = connections[DEFAULT_DB_ALIAS]
        values = list(values)
        for index, converter, column in shape.converters:
            values[index] = converter(values[index], column, conn)
    if not shape.plain_construction:
        return model.from_db(DEFAULT_DB_ALIAS, shape.attnames, values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS
    obj.__dict__.update(zip(shape.attnames, values, strict=True))
    return obj


def instance_with(
    model: type[Model], row: Sequence[Any], related: Sequence[tuple[str, type[Model]]]
) -> Model:
    """An instance of ``model`` from a row of ``columns(model)`` followed by ``columns(…)`` of each
    related ``(attribute, model)``, in that order: each related instance set on its attribute (None
    when the instance's ``<attribute>_id`` is null), as ``select_related`` would."""
    end = width(model)
    obj = instance(model, row[:end])
    cache = obj._state.fields_cache
    for attribute, related_model in related:
        start, end = end, end + width(related_model)
        loaded = getattr(obj, f"{attribute}_id") is not None
        related_obj = instance(related_model, row[start:end]) if loaded else None
        if _caches_directly(model, attribute, related_model):
            # What the descriptor's __set__ comes to here: the id is the row's own, both are the
            # default database's, and a many-to-one caches nothing on the related side.
            cache[attribute] = related_obj
        else:
            setattr(obj, attribute, related_obj)
    return obj


@functools.cache
def _caches_directly(model: type[Model], attribute: str, related_model: type[Model]) -> bool:
    """Whether ``attribute`` of ``model`` is a plain foreign key to ``related_model``'s primary key
    (its descriptor Django's own), so that ``instance_with`` may cache a related row directly."""
    field = model._meta.get_field(attribute)
    return (
        field.many_to_one
        and field.remote_field.model is related_model
        and field.target_field is related_model._meta.pk
        and type(getattr(model, attribute)) is ForwardManyToOneDescriptor
        and not settings.DATABASE_ROUTERS
    )


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


@dataclass(frozen=True)
class _NewShape:
    #: Per concrete field: (name, attname, related model or None, default, whether default is callable).
    fields: tuple[tuple[str, str, type[Model] | None, Any, bool], ...]
    names: frozenset[str]  # the keywords ``new`` takes: names and attnames
    related: dict[str, type[Model]]  # the relations' names and the model each expects


@functools.cache
def _new_shape(model: type[Model]) -> _NewShape | None:
    """How ``new`` builds a ``model``; None where only ``model(...)`` builds it as Django would (an
    ``__init__`` of its own, init signals' receivers, custom descriptors, database routers that
    would choose the instance's database, relations that ``_caches_directly`` does not take, or
    with a default)."""
    shape = _shape(model)
    if not shape.plain_construction or settings.DATABASE_ROUTERS:
        return None
    fields, names, related = [], set(), {}
    for field in shape.fields:
        if getattr(field, "generated", False):
            return None
        target = None
        if field.is_relation:
            target = field.remote_field.model
            # Cached directly as instance_with caches it: Django's own descriptor, to a primary key.
            if not _caches_directly(model, field.name, target) or field.has_default():
                return None
            related[field.name] = target
        # Django's own defaults: a callable (``default=timezone.now``) is called per instance, a
        # plain value shared; a field without one takes get_default()'s constant (None or "").
        if field.has_default():
            default, is_callable = field.default, callable(field.default)
        else:
            default, is_callable = field.get_default(), False
        fields.append((field.name, field.attname, target, default, is_callable))
        names.update((field.name, field.attname))
    return _NewShape(tuple(fields), frozenset(names), related)


def new(model: type[Model], /, **values: Any) -> Model:
    """``model(**values)``, a new unsaved instance, built as ``Model.__init__`` builds it but without
    its generic machinery: a field not given takes its default, a related instance sets the
    ``<name>_id`` and is cached on the instance (as its descriptor does), and the instance's
    database is the related instances' (without routers: theirs or the default). On the ingestion
    path ``__init__`` of an event with its dozen defaulted fields cost more than its insert's SQL.
    Anything it does not take the same way (an unknown keyword, a related value of another class
    or database) goes to ``model(**values)``."""
    shape = _new_shape(model)
    if shape is None or not shape.names.issuperset(values):
        return model(**values)
    database = None
    for name, target in shape.related.items():
        value = values.get(name)
        if value is None:
            continue
        if type(value) is not target:
            return model(**values)
        if database is None:
            database = value._state.db or DEFAULT_DB_ALIAS
        elif value._state.db not in (None, database):
            return model(**values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attributes = obj.__dict__
    cache = state.fields_cache
    for name, attname, target, default, is_callable in shape.fields:
        if target is not None and name in values:
            value = values[name]
            cache[name] = value
            if value is None:
                attributes[attname] = None
            else:
                attributes[attname] = value.pk
                if value._state.db is None:
                    value._state.db = database
        elif attname in values:
            attributes[attname] = values[attname]
        else:
            attributes[attname] = default() if is_callable else default
    state.db = database
    return obj


# --- Rows read back from JSON -----------------------------------------------------------------
#: How a column read back from ``json_build_array`` becomes what psycopg2 returns for it (None: JSON
#: gives the same value), by the field's internal type. Statements run with Django's session time
#: zone, UTC: timestamps read back as aware UTC datetimes.
_FROM_JSON: dict[str, Any] = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "CharField",
            "TextField",
            "SlugField",
            "BooleanField",
        )
    ),
    "DateTimeField": datetime.fromisoformat,
    "DateField": date.fromisoformat,
}


def json_converters(fields: Sequence[Field], *, json_as_text: bool = False) -> tuple[tuple[int, Any], ...]:
    """(position, converter) of the columns of ``fields`` whose JSON value needs converting. A field
    type without a known conversion (decimals…) is refused when the statement is built; a JSON field
    too, unless the statement casts it to text (``json_as_text``: read as psycopg2 reads it here, a
    string for the field's own ``from_db_value``)."""
    converters = []
    for position, field in enumerate(fields):
        kind = (field.target_field if field.is_relation else field).get_internal_type()
        if kind == "JSONField" and json_as_text:
            continue
        if kind not in _FROM_JSON:
            raise TypeError(f"{field} cannot be read back from JSON.")
        if _FROM_JSON[kind] is not None:
            converters.append((position, _FROM_JSON[kind]))
    return tuple(converters)


def converted(row: list[Any], converters: tuple[tuple[int, Any], ...]) -> list[Any]:
    """``row`` (a JSON array's values) with its values as psycopg2 reads them (``json_converters``)."""
    for position, convert in converters:
        if row[position] is not None:
            row[position] = convert(row[position])
    return row


@functools.cache
def json_row(model_aliases: tuple[tuple[type[Model], str], ...]) -> tuple[str, tuple[tuple[int, Any], ...]]:
    """``json_build_array(…)::text`` of every concrete column of each (model, alias), as ``columns``
    lists them (JSON fields as text), and the ``converters`` of its values: one column where there
    would be dozens (psycopg2 decodes each column's name, per statement, through Python's codec)."""
    quote = connection.ops.quote_name
    expressions, fields = [], []
    for model, alias in model_aliases:
        for field in _shape(model).fields:
            cast = "::text" if field.get_internal_type() == "JSONField" else ""
            expressions.append(f"{alias}.{quote(field.column)}{cast}")
            fields.append(field)
    return f"json_build_array({', '.join(expressions)})::text", json_converters(fields, json_as_text=True)


def fetch(model: type[Model], where: str, params: Sequence[Any]) -> list[Model]:
    """Instances of ``model`` matching ``where`` (SQL over alias ``t``; no ordering)."""
    sql = f"SELECT {columns(model, 't')} FROM {table(model)} t WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [instance(model, row) for row in cursor.fetchall()]


def insert(objs: Sequence[Model], *, on_conflict_do_nothing: bool = False, name: str | None = None) -> bool:
    """``INSERT … RETURNING`` the primary keys of new instances of one model, in one statement;
    sets ``pk`` and marks them saved (what ``save()``/``bulk_create`` do, without signals: the
    models written here have no receivers).

    ``on_conflict_do_nothing`` (one instance): a row that breaks a unique constraint is not stored
    and False is returned, instead of an IntegrityError that would need a savepoint around it.
    ``name``: run as that prepared statement (``prepared``; one name per model, row count and
    conflict handling)."""
    if not objs:
        return True
    if on_conflict_do_nothing and len(objs) != 1:
        raise ValueError("on_conflict_do_nothing inserts one row at a time.")
    sql, params = insert_sql(objs)
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    sql += f"{conflict} RETURNING {_shape(type(objs[0])).pk_column}"
    if name is not None:
        sql, params = prepared(name, sql, params)
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
    head, row, fields = _insert_shape(type(objs[0]), with_pk)
    conn = connections[DEFAULT_DB_ALIAS]
    params = [
        prepare(getattr(obj, attname) if plain else field.pre_save(obj, add=True), conn)
        for obj in objs
        for field, attname, prepare, plain in fields
    ]
    return f"{head}{', '.join([row] * len(objs))}", params


@functools.cache
def _insert_shape(model: type[Model], with_pk: bool) -> tuple[str, str, tuple]:
    """``INSERT INTO … VALUES ``, one row's placeholders, and (field, attname, preparer, plain
    pre_save) per inserted field."""
    shape = _shape(model)
    pk = model._meta.pk
    quote = connection.ops.quote_name
    fields = tuple(
        (field, field.attname, prepare, plain)
        for field, prepare, plain in zip(shape.fields, shape.preparers, shape.plain_pre_save, strict=True)
        if with_pk or field is not pk
    )
    head = f"INSERT INTO {shape.table} ({', '.join(quote(field.column) for field, *_ in fields)}) VALUES "  # noqa: S608
    return head, "(" + ", ".join(["%s"] * len(fields)) + ")", fields


def update_sql(
    model: type[Model], values: dict[str, Any], where: str, params: Sequence[Any]
) -> tuple[str, list[Any]]:
    """The ``UPDATE`` of the rows matching ``where`` (SQL, no alias) with ``values`` (field names
    or attnames → Python values, prepared as the ORM prepares them): SQL and parameters."""
    names = tuple(values)
    assignments = _assignments(model, names)
    _fields, preparers = _named_fields(model, names)
    conn = connections[DEFAULT_DB_ALIAS]
    prepared = [prepare(value, conn) for prepare, value in zip(preparers, values.values(), strict=True)]
    return f"UPDATE {table(model)} SET {assignments} WHERE {where}", [*prepared, *params]  # noqa: S608


@functools.cache
def _assignments(model: type[Model], names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(field.column)} = %s" for field in _named_fields(model, names)[0])


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
    head, row, tail, fields = _bulk_update_shape(model, tuple(names))
    conn = connections[DEFAULT_DB_ALIAS]
    params = [prepare(getattr(obj, attname), conn) for obj in objs for attname, prepare in fields]
    return f"{head}{', '.join([row] * len(objs))}{tail}", params


@functools.cache
def _bulk_update_shape(model: type[Model], names: tuple[str, ...]) -> tuple[str, str, str, tuple]:
    """``bulk_update_sql``'s statement around its VALUES rows, one row's placeholders, and
    (attname, preparer) per value of a row (the primary key first)."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    named, preparers = _named_fields(model, names)
    fields = [pk, *named]
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    columns = ", ".join(quote(field.column) for field in fields)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in named)
    head = f"UPDATE {table(model)} AS c SET {assignments} FROM (VALUES "  # noqa: S608
    tail = f") AS v ({columns}) WHERE c.{quote(pk.column)} = v.{quote(pk.column)}"
    attnames = [field.attname for field in named]
    return head, row, tail, ((pk.attname, _preparer(pk)), *zip(attnames, preparers, strict=True))


def bulk_update(objs: Sequence[Model], names: Sequence[str]) -> None:
    """``bulk_update_sql`` run (nothing for no instances)."""
    if objs:
        with connection.cursor() as cursor:
            cursor.execute(*bulk_update_sql(objs, names))


# --- Writes sent together --------------------------------------------------------------------
#: Statements waiting for ``flush`` (None: no batch open, statements run at once).
_pending: ContextVar[list[tuple[str, Sequence[Any]]] | None] = ContextVar("rows_pending", default=None)


@contextmanager
def write_batch(*, until_commit: bool = False) -> Iterator[None]:
    """Inside it, ``execute_later`` queues statements. They are sent with the next statement the
    connection runs (one round trip: a read sees them, a savepoint or its rollback comes after
    them), or when the block ends. An exception discards what is still queued (the transaction
    rolls back anyway). Nested blocks join the outer one. Elsewhere than on PostgreSQL the
    statements run at once.

    ``until_commit``: the block is the last thing its transaction's outermost ``atomic`` block
    does. What is still queued at its end is then sent with that block's ``COMMIT`` (one round trip
    instead of two; this project's backend, ``DatabaseWrapper.hold_until_commit``), and sent at
    once in any other case (a savepoint, an enclosing block)."""
    if _pending.get() is not None or connection.vendor != "postgresql":
        yield
        return
    token = _pending.set([])
    try:
        with connection.execute_wrapper(_queued_first):
            yield
            if until_commit:
                _hold_until_commit()
            flush()
    finally:
        _pending.reset(token)


def _hold_until_commit() -> None:
    pending = _pending.get()
    hold = getattr(connections[DEFAULT_DB_ALIAS], "hold_until_commit", None)
    if not pending or hold is None:
        return
    with connection.cursor() as cursor:
        text = _joined(cursor.cursor, pending)
    if hold(text):
        pending.clear()


def execute_later(sql: str, params: Sequence[Any]) -> None:
    """Runs the statement now, or with the next statement of the open ``write_batch``."""
    pending = _pending.get()
    if pending is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        pending.append((sql, params))


def _joined(raw_cursor, statements: list[tuple[str, Sequence[Any] | None]]) -> str:
    # psycopg2 binds parameters client-side either way: this is the text ``execute`` would send.
    return ";\n".join(raw_cursor.mogrify(sql, params).decode() for sql, params in statements)


def _queued_first(execute, sql, params, many, context):
    """A ``write_batch``'s execute wrapper: the queued statements go first, in the same round trip
    (psycopg2 returns the last statement's rows)."""
    pending = _pending.get()
    if not pending or sql.startswith("PREPARE "):  # (a statement's preparation reads no rows)
        return execute(sql, params, many, context)
    queued = list(pending)
    pending.clear()
    if many:  # ``executemany`` runs its statement once per parameter set: the queue goes on its own
        with connection.cursor() as cursor:
            cursor.execute(_joined(cursor.cursor, queued))
        return execute(sql, params, many, context)
    return execute(_joined(context["cursor"].cursor, [*queued, (sql, params)]), None, many, context)


def flush() -> None:
    """Sends the open batch's queued statements now, one round trip."""
    pending = _pending.get()
    if not pending:
        return
    queued = list(pending)
    pending.clear()
    with connection.cursor() as cursor:
        if len(queued) == 1:
            cursor.execute(*queued[0])
        else:
            cursor.execute(_joined(cursor.cursor, queued))


# --- Prepared statements ---------------------------------------------------------------------
#: Per statement name: its ``PREPARE`` text, its ``EXECUTE`` text (built once per process) and the
#: SQL it was built from.
_statement_texts: dict[str, tuple[str, str, str]] = {}


@dataclass
class _Session:
    """What ``prepared`` knows of a connection's open session."""

    connection: Any  # the psycopg2 connection it belongs to
    names: set[str]  # statements prepared on it
    #: Whether strings can be written as plain '…' literals (``standard_conforming_strings``).
    plain_strings: bool
    raw_cursor: Any  # psycopg2's own adaptation of other values


def _session(conn=None) -> _Session | None:
    """What is known of the connection's open session (None: a session not seen yet). Kept on the
    Django connection with the session it belongs to: a new session starts with none."""
    conn = conn or connections[DEFAULT_DB_ALIAS]
    seen = conn.__dict__.get("_rows_prepared")
    if seen is None or seen.connection is not conn.connection:
        return None
    return seen


def _forget_session() -> None:
    connections[DEFAULT_DB_ALIAS].__dict__.pop("_rows_prepared", None)


def prepared(name: str, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """``EXECUTE name(…)`` of ``sql`` (``%s`` placeholders) with ``params``, for ``cursor.execute``
    or ``execute_later``: PostgreSQL parses and plans the statement once per connection instead of
    on every request (on the ingestion path planning cost more server time than running). The
    first call on a connection sends the ``PREPARE`` (a prepared statement outlives a rolled-back
    transaction, so this stays true). ``name`` must be unique per statement text."""
    conn = connections[DEFAULT_DB_ALIAS]
    conn.ensure_connection()
    session = _session(conn)
    if session is None:
        # A session seen for the first time: what it has prepared already.
        with conn.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            names = {name for (name,) in cursor.fetchall()}
        raw = conn.connection
        session = conn.__dict__["_rows_prepared"] = _Session(
            raw, names, raw.get_parameter_status("standard_conforming_strings") == "on", raw.cursor()
        )
    names = session.names
    texts = _statement_texts.get(name)
    if texts is None:
        count = sql.count("%s")
        numbered = sql
        for number in range(1, count + 1):
            numbered = numbered.replace("%s", f"${number}", 1)
        texts = _statement_texts[name] = (
            f"PREPARE {name} AS {numbered}",
            f"EXECUTE {name}({', '.join(['%s'] * count)})",
            sql,
        )
    elif texts[2] != sql:
        # A session keeps the first text prepared under a name: another would run the wrong one.
        raise ValueError(f"The prepared statement {name} is used with another text.")
    if name not in names:
        with conn.cursor() as cursor:
            cursor.execute(texts[0])
        names.add(name)
    if not session.plain_strings:
        return texts[1], params
    # The parameters written here as literals: psycopg2 would write the same text, at several times
    # the cost for plain ints, strings and aware datetimes (``_literal``).
    raw_cursor = session.raw_cursor
    return f"EXECUTE {name}({', '.join([_literal(value, raw_cursor) for value in params])})", None


def _literal(value: Any, raw_cursor) -> str:
    """``value`` as an SQL literal, as psycopg2 writes it (a session with standard conforming
    strings: inside '…' only the quote is special). Values other than None, ints, bools, strings
    without NUL and aware datetimes are left to psycopg2."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is int:
        return str(value) if value >= 0 else f" {value}"  # (psycopg2's space: never "--", a comment)
    if kind is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    if kind is bool:
        return "true" if value else "false"
    if kind is datetime and value.tzinfo is not None:
        return "'" + value.isoformat() + "'::timestamptz"
    return raw_cursor.mogrify("%s", [value]).decode()
