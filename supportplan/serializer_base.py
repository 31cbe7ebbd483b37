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


#: Field classes whose validation reads the value and the field's own arguments only (not its
#: parent, the context or the request): the fast path validates with an unbound copy of the field.
#: A project field class says the same with ``validates_value_only = True`` (its subclasses too).
_VALUE_ONLY_FIELDS = frozenset(
    {fields.CharField, fields.ChoiceField, fields.IntegerField, fields.FloatField, fields.BooleanField}
)
#: What a serializer class may not override for the fast path to validate as DRF would.
_VALIDATION_HOOKS = (
    "validate",
    "run_validation",
    "to_internal_value",
    "run_validators",
    "get_validators",
    "validate_empty_values",
    "is_valid",
)


def _validates_value_only(field: Field) -> bool:
    if not (type(field) in _VALUE_ONLY_FIELDS or getattr(type(field), "validates_value_only", False)):
        return False
    return not any(getattr(validator, "requires_context", False) for validator in field.validators)


def _fast_plan(cls: type, declared: dict[str, Field]) -> list[tuple[str, Field, bool]] | None:
    """(name, an unbound copy of the field, whether its value is validated here) per writable field,
    in order; None when the class validates in a way the fast path does not copy (a hook of its
    own, a ``validate_<field>`` method, serializer validators, a field whose ``source`` is not its
    name)."""
    if any(getattr(cls, name) is not getattr(FastCopySerializer, name) for name in _VALIDATION_HOOKS):
        return None
    if getattr(getattr(cls, "Meta", None), "validators", None):
        return None
    plan = []
    for name, field in declared.items():
        if field.read_only:
            continue
        if getattr(cls, f"validate_{name}", None) is not None or field.source not in (None, name):
            return None
        plan.append((name, field, _validates_value_only(field)))
    return plan


class FastCopySerializer(serializers.Serializer):
    """``serializers.Serializer`` whose instances get ``field_clone``s of a per-class prototype
    of the declared fields (built with ``fields_copy`` by the first instance, never bound). For
    serializers whose fields do not depend on the instance, the context or the request.

    ``is_valid`` first tries a fast path that builds no fields: a JSON object whose every value is
    one a plain field (``_VALUE_ONLY_FIELDS``) accepts is validated with unbound copies of the
    fields, kept per class, as DRF would validate it. Anything else (a missing required field, an
    absent field with a default, a value a field refuses, a nested or related field given a value,
    form data, a partial update) goes through DRF's own validation, which also words the errors."""

    def get_fields(self):
        makers = _class_state(type(self))[1]
        return {name: make() for name, make in makers}

    def is_valid(self, *, raise_exception=False):
        if not hasattr(self, "_validated_data") and hasattr(self, "initial_data"):
            validated = self._fast_validated(self.initial_data)
            if validated is not None:
                self._validated_data, self._errors = validated, {}
        return super().is_valid(raise_exception=raise_exception)

    def _fast_validated(self, data) -> dict | None:
        """What DRF's validation would return for ``data``, or None when it must run itself."""
        plan = _class_state(type(self))[2]
        if plan is None or type(data) is not dict or self.partial:
            return None
        validated = {}
        for name, field, value_only in plan:
            value = data.get(name, fields.empty)
            if value is fields.empty:
                if field.required or field.default is not fields.empty:
                    return None  # DRF's error, or its default
                continue  # skipped, as DRF skips it
            if not value_only:
                return None
            try:
                validated[name] = field.run_validation(value)
            except Exception:  # DRF validates it again and words the error
                return None
        return validated


def _class_state(cls: type) -> tuple[dict[str, Field], list, list | None]:
    """The class's prototype fields, their makers and its fast-path plan, built once per class."""
    state = cls.__dict__.get("_fast_state")
    if state is None:
        prototype = fields_copy(cls._declared_fields)
        makers = [
            (name, _cloner(field) if _clonable(field) else functools.partial(field_copy, field))
            for name, field in prototype.items()
        ]
        # The fast path validates with fields of its own: what a field caches as it validates (its
        # validator list) never reaches the prototype the clones are made from.
        state = (prototype, makers, _fast_plan(cls, fields_copy(cls._declared_fields)))
        cls._fast_state, cls._fields_prototype, cls._field_makers = state, prototype, makers
    return state


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
