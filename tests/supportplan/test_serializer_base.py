"""The cheap declared-field copy builds the same fields as DRF's deepcopy, and new ones each time."""

import copy

import pytest
from django.urls import get_resolver
from rest_framework import serializers

from supportplan.serializer_base import FastCopySerializer, _clonable, field_clone, field_copy, fields_copy


def all_serializer_classes():
    get_resolver().url_patterns  # noqa: B018 - imports every API module
    found, pending = set(), [serializers.BaseSerializer]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return sorted(
        (
            cls
            for cls in found
            if cls.__module__.split(".")[0] in {"supportplan", "operations", "scope", "models_catalog"}
        ),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def test_every_project_serializer_gets_the_same_fields_as_with_deepcopy(db):  # a queryset's repr reads
    classes = [cls for cls in all_serializer_classes() if getattr(cls, "_declared_fields", None)]
    assert len(classes) > 20
    for cls in classes:
        declared = cls._declared_fields
        expected, copied = copy.deepcopy(declared), fields_copy(declared)
        assert list(copied) == list(expected), cls
        for name, field in copied.items():
            assert type(field) is type(expected[name]), (cls, name)
            assert repr(field) == repr(expected[name]), (cls, name)
            assert field is not declared[name], (cls, name)
            assert vars(field).keys() == vars(expected[name]).keys(), (cls, name)


class Child(serializers.Serializer):
    code = serializers.CharField(max_length=5)


class Sample(FastCopySerializer):
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    count = serializers.IntegerField(min_value=1, max_value=5, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)
    child = Child(required=False)
    word = serializers.RegexField(r"^[a-z]+$", required=False)


def test_each_instance_has_its_own_fields_and_validates_as_drf_does():
    first, second = Sample(data={}), Sample(data={})
    assert first.fields["kind"] is not second.fields["kind"]
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["child"] is not second.fields["child"]
    first.fields["count"].required = True
    assert second.fields["count"].required is False
    good = Sample(data={"kind": "a", "count": 2, "tags": ["x"], "child": {"code": "c"}, "word": "ok"})
    assert good.is_valid(), good.errors
    bad = Sample(data={"kind": "z", "count": 9, "tags": ["long"], "child": {"code": "toolong"}, "word": "No"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"kind", "count", "tags", "child", "word"}


def test_mutable_arguments_are_copied_not_shared():
    field = serializers.ChoiceField(choices=[["a", "A"]], default=[1])
    copied = field_copy(field)
    assert copied._kwargs["choices"] == field._kwargs["choices"]
    assert copied._kwargs["choices"] is not field._kwargs["choices"]
    assert copied._kwargs["choices"][0] is not field._kwargs["choices"][0]
    assert copied.default is not field.default


@pytest.mark.parametrize("value", ["x", 1, 1.5, None, ("a", ("b", 2))])
def test_immutable_arguments_are_shared_as_deepcopy_does(value):
    field = serializers.Field(default=value)
    assert field_copy(field).default is copy.deepcopy(field).default


def fields_summary(fields):
    return [(name, type(field), repr(field)) for name, field in fields.items()]


def test_every_project_model_serializer_gets_the_same_fields_from_its_prototype(db):
    from supportplan.serializer_base import FastCopyModelSerializer

    classes = [
        cls
        for cls in all_serializer_classes()
        if issubclass(cls, serializers.ModelSerializer) and hasattr(getattr(cls, "Meta", None), "model")
    ]
    assert len(classes) > 20
    for cls in classes:
        fast = type(f"Fast{cls.__name__}", (FastCopyModelSerializer, cls), {"__module__": cls.__module__})
        expected = fields_summary(cls().get_fields())
        first, second = fast().get_fields(), fast().get_fields()
        assert fields_summary(first) == expected, cls
        assert fields_summary(second) == expected, cls
        assert all(first[name] is not second[name] for name in first), cls
        assert fast.__dict__["_fields_prototype"] is not first


def test_a_model_serializer_prototype_is_per_class_and_never_bound(db):
    from supportplan.models import Location
    from supportplan.serializer_base import FastCopyModelSerializer

    class Short(FastCopyModelSerializer):
        class Meta:
            model = Location
            fields = ["id", "name"]

    class Longer(Short):
        class Meta:
            model = Location
            fields = ["id", "name", "plan"]

    assert list(Short().fields) == ["id", "name"]
    assert list(Longer().fields) == ["id", "name", "plan"]
    assert list(Short().fields) == ["id", "name"]
    assert all(field.parent is None for field in Short._fields_prototype.values())
    one, two = Longer(), Longer()
    one.fields["name"].required = False
    assert two.fields["name"].required is True


def test_every_project_serializer_gets_clones_equal_to_deepcopy_and_its_own(db):
    classes = [
        cls
        for cls in all_serializer_classes()
        if getattr(cls, "_declared_fields", None)
        and issubclass(cls, serializers.Serializer)
        and not issubclass(cls, serializers.ModelSerializer)
    ]
    assert len(classes) > 20
    cloned = 0
    for cls in classes:
        fast = (
            cls
            if issubclass(cls, FastCopySerializer)
            else type(f"Fast{cls.__name__}", (FastCopySerializer, cls), {"__module__": cls.__module__})
        )
        fast().get_fields()  # the prototype, built by the first instance
        expected = copy.deepcopy(cls._declared_fields)
        first, second = fast().get_fields(), fast().get_fields()
        prototype = fast.__dict__["_fields_prototype"]
        assert fields_summary(first) == fields_summary(expected), cls
        assert fields_summary(second) == fields_summary(expected), cls
        for name, field in first.items():
            assert vars(field).keys() == vars(expected[name]).keys(), (cls, name)
            assert field is not second[name] and field is not prototype[name], (cls, name)
            for attribute, value in vars(field).items():
                if type(value) in (list, dict) and value:
                    assert value is not vars(second[name])[attribute], (cls, name, attribute)
            cloned += _clonable(prototype[name])
    assert cloned > 100  # most fields are cloned, not rebuilt


def test_a_clone_changed_by_one_instance_leaves_the_next_alone():
    first = Sample(data={})
    first.fields["count"].validators.append(lambda value: None)
    first.fields["kind"].error_messages["invalid_choice"] = "changed"
    first.fields["count"].required = True
    second = Sample(data={"kind": "z"})
    assert len(second.fields["count"].validators) == len(first.fields["count"].validators) - 1
    assert second.fields["count"].required is False
    assert not second.is_valid()
    assert second.errors["kind"] == ['"z" is not a valid choice.']


def test_fields_with_nested_fields_or_mutable_defaults_are_rebuilt_not_cloned():
    assert not _clonable(serializers.ListField(child=serializers.CharField()))
    assert not _clonable(Child())
    assert not _clonable(serializers.JSONField(default=[1]))
    assert _clonable(serializers.CharField(max_length=3, default="x"))
    default = serializers.JSONField(default=[1])
    assert field_clone(default).default is not default.default
