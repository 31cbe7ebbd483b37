"""The cheap declared-field copy builds the same fields as DRF's deepcopy, and new ones each time; the
fast validation path validates as DRF does."""

import copy

import pytest
from django.urls import get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


# --- The fast validation path -----------------------------------------------------------------
def _drf_validated(cls, data):
    """DRF's own ``is_valid`` on an instance of ``cls`` (the fast path not tried)."""
    serializer = cls(data=data)
    valid = serializers.Serializer.is_valid(serializer)
    return valid, (dict(serializer.validated_data) if valid else serializer.errors)


def _fast_validated(cls, data):
    serializer = cls(data=data)
    valid = serializer.is_valid()
    return valid, (dict(serializer.validated_data) if valid else serializer.errors)


def _typed(result):
    valid, payload = result
    if not valid:
        return valid, payload
    return valid, [(name, type(value), value) for name, value in payload.items()]


class Plain(FastCopySerializer):
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    title = serializers.CharField(max_length=8, required=False)
    blank_ok = serializers.CharField(max_length=4, required=False, allow_blank=True, allow_null=True)
    raw = serializers.CharField(max_length=6, required=False, trim_whitespace=False)
    count = serializers.IntegerField(min_value=1, max_value=5, required=False)
    ratio = serializers.FloatField(required=False, max_value=1.5)
    flag = serializers.BooleanField(required=False)
    with_default = serializers.CharField(required=False, default="d")
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


def _event_serializer():
    from operations.apis_requests import EventInputSerializer

    return EventInputSerializer


_TEXT = st.one_of(
    st.sampled_from(["", " ", "a", " a ", "b", "comment", " comment", "status_changed", "handed_off"]),
    st.sampled_from(["high", "low", "x\x00y", "\ud800", "Pending Caller", "P2", "verylongword!"]),
    st.sampled_from(["2027-07-05T09:00:00Z", "2027-07-05T09:00:00+02:00", "2027-07-05T09:00:00", "nope"]),
    st.text(max_size=12),
)
_VALUES = st.one_of(
    _TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=9),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("cls_name", ["plain", "event"])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_fast_path_validates_exactly_as_drf_does(cls_name, data):
    cls = Plain if cls_name == "plain" else _event_serializer()
    names = [*cls._declared_fields, "unknown"]
    body = data.draw(st.dictionaries(st.sampled_from(names), _VALUES, max_size=len(names)))
    assert _typed(_fast_validated(cls, body)) == _typed(_drf_validated(cls, body))


@pytest.mark.parametrize(
    "body",
    [
        {
            "kind": "comment",
            "occurred_at": "2027-07-05T09:00:00+02:00",
            "body": " Checked. ",
            "actor_name": "x",
        },
        {"kind": "status_changed", "occurred_at": "2027-07-05T09:00:00Z", "status": "Pending Caller"},
        {
            "kind": "handed_off",
            "occurred_at": "2027-07-05T09:00:00Z",
            "level": 3,
            "party": 12,
            "reference": "P",
        },
        {
            "kind": "priority_changed",
            "occurred_at": "2027-07-05T09:00:00Z",
            "impact": "high",
            "urgency": "low",
        },
    ],
)
def test_a_helpdesk_event_is_validated_without_building_the_fields(body):
    serializer = _event_serializer()(data=body)
    assert serializer.is_valid(), serializer.errors
    assert "fields" not in vars(serializer)  # DRF's cached field set was never built
    assert dict(serializer.validated_data) == _drf_validated(_event_serializer(), body)[1]


@pytest.mark.parametrize(
    "body",
    [
        {"occurred_at": "2027-07-05T09:00:00Z"},  # a required field missing
        {"kind": "comment", "occurred_at": "2027-07-05T09:00:00"},  # naive
        {"kind": "comment", "occurred_at": "2027-07-05T09:00:00Z", "level": 9},
        {"kind": "comment", "occurred_at": "2027-07-05T09:00:00Z", "actor_name": "x" * 121},
    ],
)
def test_refused_bodies_get_drf_s_errors(body):
    fast, drf = _fast_validated(_event_serializer(), body), _drf_validated(_event_serializer(), body)
    assert fast == drf and fast[0] is False


def test_classes_with_their_own_validation_are_left_to_drf():
    class WithFieldHook(FastCopySerializer):
        name = serializers.CharField()

        def validate_name(self, value):
            return value.upper()

    class WithHook(FastCopySerializer):
        name = serializers.CharField()

        def validate(self, attrs):
            return {**attrs, "extra": 1}

    class ContextValidator:
        requires_context = True

        def __call__(self, value, field):
            if field.context.get("refuse"):
                raise serializers.ValidationError("refused")

    class WithContextField(FastCopySerializer):
        name = serializers.CharField(validators=[ContextValidator()])

    serializer = WithFieldHook(data={"name": "ab"})
    assert serializer.is_valid() and serializer.validated_data == {"name": "AB"}
    serializer = WithHook(data={"name": "ab"})
    assert serializer.is_valid() and serializer.validated_data == {"name": "ab", "extra": 1}
    serializer = WithContextField(data={"name": "ab"}, context={"refuse": True})
    assert not serializer.is_valid() and serializer.errors == {"name": ["refused"]}


def test_form_data_and_partial_updates_are_left_to_drf():
    from django.http import QueryDict

    form = Plain(data=QueryDict("kind=a&count=2"))
    assert form.is_valid()
    # An unticked checkbox is false in form data (DRF's rule for HTML input), not skipped.
    assert dict(form.validated_data) == {"kind": "a", "count": 2, "flag": False, "with_default": "d"}
    assert Plain(data={"title": "x"}, partial=True).is_valid()
