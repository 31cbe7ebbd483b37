"""Serializer bases whose instances get their fields cheaply.

DRF gives every serializer instance its own copy of the declared fields with
``copy.deepcopy(self._declared_fields)``: each field is built again from the arguments it was
declared with, every argument deep-copied through ``copy``'s generic machinery. An input
serializer of fifteen fields paid ~120 ``deepcopy`` calls per request, most of them on strings,
numbers and lists of choice tuples.

``fields_copy`` builds the same fields the same way (``Field.__deepcopy__``: the class called
again with its arguments; ``validators`` and ``regex`` shared, as DRF does) but copies the
arguments by kind: immutable values are shared (as ``deepcopy`` does too), lists, tuples and dicts
of them are copied directly, and anything else (nested serializers, lazy text, objects) still goes
through ``copy.deepcopy``. Each instance keeps its own field objects, so views may still change
``serializer.fields`` per request.

``FastCopySerializer`` goes further for the input serializers of the ingestion path (one per
request): the first instance of a class builds the fields once as an unbound prototype, and every
instance gets ``field_clone``s of it: the same attributes (lists and dicts copied), without
calling ``__init__`` again (~10 µs a field instead of ~50).
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import re
import uuid
from collections.abc import Callable

from rest_framework import fields, serializers
from rest_framework.fields import Field

_ATOMIC = frozenset(
    {
        str,
        int,
        float,
        bool,
        bytes,
        type(None),
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        type,
    }
)
_SHARED_KWARGS = frozenset({"validators", "regex"})


def _copy_value(value):
    kind = type(value)
    if kind in _ATOMIC or kind is re.Pattern:
        return value
    if kind is tuple:
        items = tuple(_copy_value(item) for item in value)
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if kind is list:
        return [_copy_value(item) for item in value]
    if kind is dict and all(type(key) in _ATOMIC for key in value):
        return {key: _copy_value(item) for key, item in value.items()}
    return copy.deepcopy(value)


def field_copy(field: Field) -> Field:
    """What ``copy.deepcopy(field)`` returns, for a plain field; nested serializers are deep-copied."""
    if isinstance(field, serializers.BaseSerializer) or type(field).__deepcopy__ is not Field.__deepcopy__:
        return copy.deepcopy(field)
    args = [_copy_value(item) for item in field._args]
    kwargs = {
        key: value if key in _SHARED_KWARGS else _copy_value(value) for key, value in field._kwargs.items()
    }
    return field.__class__(*args, **kwargs)


def fields_copy(declared: dict[str, Field]) -> dict[str, Field]:
    return {name: field_copy(field) for name, field in declared.items()}


def _clonable(field: Field) -> bool:
    """A plain, unbound field whose state is its attributes: no nested field or serializer bound
    to it (``child``), no ``__deepcopy__`` of its own, and a default and initial value that a
    one-level copy copies entirely."""
    if isinstance(field, serializers.BaseSerializer) or type(field).__deepcopy__ is not Field.__deepcopy__:
        return False
    if hasattr(field, "child") or hasattr(field, "child_relation") or getattr(field, "parent", None):
        return False
    return all(type(value) in _ATOMIC or value is fields.empty for value in (field.default, field.initial))


def field_clone(prototype: Field) -> Field:
    """A new field with ``prototype``'s attributes (what ``__init__`` with the same arguments
    sets), its lists and dicts copied so the new one may be changed alone; ``field_copy`` for a
    field ``_clonable`` refuses."""
    if not _clonable(prototype):
        return field_copy(prototype)
    return _cloner(prototype)()


def _cloner(prototype: Field) -> Callable[[], Field]:
    """``field_clone`` of a ``_clonable`` prototype, with the inspection done once."""
    cls, attributes = type(prototype), vars(prototype)
    containers = [name for name, value in attributes.items() if type(value) in (list, dict)]

    def clone() -> Field:
        field = object.__new__(cls)
        state = attributes.copy()
        for name in containers:
            state[name] = state[name].copy()
        field.__dict__ = state
        return field

    return clone


class FastCopySerializer(serializers.Serializer):
    """``serializers.Serializer`` whose instances get ``field_clone``s of a per-class prototype
    of the declared fields (built with ``fields_copy`` by the first instance, never bound). For
    serializers whose fields do not depend on the instance, the context or the request."""

    def get_fields(self):
        cls = type(self)
        makers = cls.__dict__.get("_field_makers")
        if makers is None:
            prototype = fields_copy(self._declared_fields)
            makers = [
                (name, _cloner(field) if _clonable(field) else functools.partial(field_copy, field))
                for name, field in prototype.items()
            ]
            cls._fields_prototype, cls._field_makers = prototype, makers
        return {name: make() for name, make in makers}


class FastCopyModelSerializer(serializers.ModelSerializer):
    """``serializers.ModelSerializer`` that works out its fields from the model once per class.

    DRF's ``ModelSerializer.get_fields`` inspects the model and builds every field again for each
    instance (~0.7 ms for a 15-field serializer, more than most responses' own rendering). Here the
    first instance of a class builds them as DRF does and keeps them as a prototype that is never
    bound or handed out; every instance gets ``fields_copy`` of it: fields built the same way, its
    own objects. Only for serializers whose fields do not depend on the instance, the context or the
    request (no ``get_fields``/``build_field``/``get_extra_kwargs`` override reading them): such a
    serializer must stay on ``serializers.ModelSerializer``.
    """

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype
        return fields_copy(prototype)
