"""Answers a project lead gets conform to the OpenAPI schema (/api/schema/), as schemathesis checks
them in CI (bench/schemathesis_run.py, its "lead" pass). Each case here is one it found: a nullable
username declared non-null, a relative address declared a URI, a blank seed key under a slug
pattern, a name left out of a PATCH answer, and times of day declared RFC 3339 full-times."""

from __future__ import annotations

import functools
import re
from datetime import datetime

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from rest_framework import serializers

from models_catalog.models import Party
from operations.models import AccessPolicy
from scope.charter import charter_issue
from scope.readiness_models import ReadinessItem
from supportplan.serializers import TIME_OF_DAY_PATTERN
from supportplan.urls import router
from tests.conftest import api_as
from tests.scope.readiness_fixtures import seeded

ROOT = "urn:supportplan-openapi"


@functools.cache
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0's schema objects as JSON Schema: ``nullable: true`` becomes "or null"; refs point
    into the registered document."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: (ROOT + value if key == "$ref" else _json_schema(value))
        for key, value in node.items()
        if key not in ("nullable", "readOnly", "writeOnly", "example", "examples")
    }
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


# The formats schemathesis checks, which jsonschema checks only with optional packages installed.
FORMATS = FormatChecker(["date", "email"])
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
FULL_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("uri")
def _absolute_uri(value) -> bool:
    return not isinstance(value, str) or bool(ABSOLUTE_URI.match(value))


@FORMATS.checks("time")
def _full_time(value) -> bool:
    return not isinstance(value, str) or bool(FULL_TIME.match(value))


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("z", "Z")).tzinfo is not None


@functools.cache
def _registry() -> Registry:
    document = _json_schema({"components": openapi()["components"]})
    return Registry().with_resource(ROOT, Resource.from_contents(document, default_specification=DRAFT7))


def assert_conforms(response, path: str, method: str, body=None) -> None:
    """``response``'s JSON (or ``body``) is valid against the schema of ``method path`` for its status."""
    operation = openapi()["paths"][path][method.lower()]
    content = operation["responses"][str(response.status_code)]["content"]["application/json"]
    validator = Draft7Validator(_json_schema(content["schema"]), registry=_registry(), format_checker=FORMATS)
    answer = response.json() if body is None else body
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(answer)]
    assert not errors, errors


def schema_of(component: str, field: str) -> dict:
    return openapi()["components"]["schemas"][component]["properties"][field]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def northwind(plan, alice):
    return seeded(plan)


def test_a_running_hypercare_has_no_one_who_ended_it_and_says_so_in_schema(northwind, alice):
    response = api_as(alice).get("/api/v1/hypercare/northwind/")
    assert response.status_code == 200 and response.json()["ended_by"] is None
    assert_conforms(response, "/api/v1/hypercare/{plan_slug}/", "get")
    # The check can fail: a number where the schema says a username (or null) is refused.
    with pytest.raises(AssertionError, match="5 is not valid"):
        assert_conforms(
            response, "/api/v1/hypercare/{plan_slug}/", "get", body={**response.json(), "ended_by": 5}
        )


def test_a_charter_version_not_yet_signed_off_conforms(plan, alice):
    charter_issue(plan=plan, issued_by=alice)
    response = api_as(alice).get("/api/v1/charter-versions/")
    assert response.status_code == 200
    assert response.json()["results"][0]["signed_off_by"] is None
    assert response.json()["results"][0]["issued_by"] == "alice"
    assert_conforms(response, "/api/v1/charter-versions/", "get")


def test_evidence_files_are_absolute_addresses_or_null(northwind, alice):
    item = ReadinessItem.objects.get(plan=northwind, key="charter")
    without = api_as(alice).get(f"/api/v1/readiness-items/{item.pk}/")
    assert without.json()["evidence_file"] is None
    assert_conforms(without, "/api/v1/readiness-items/{id}/", "get")
    upload = {"file": SimpleUploadedFile("charter.pdf", b"%PDF-1.7 signed", content_type="application/pdf")}
    response = api_as(alice).post(f"/api/v1/readiness-items/{item.pk}/evidence/", upload, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["evidence_file"] == (
        f"http://testserver/plans/northwind/readiness/items/{item.pk}/evidence/"
    )
    assert_conforms(response, "/api/v1/readiness-items/{id}/evidence/", "post")
    assert schema_of("ReadinessItem", "evidence_file")["format"] == "uri"


def test_a_responsibility_the_plan_added_has_a_blank_seed_key_that_conforms(plan, alice):
    response = api_as(alice).post(
        "/api/v1/responsibilities/", {"plan": "northwind", "name": "Data archiving"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["seed_key"] == ""
    assert_conforms(response, "/api/v1/responsibilities/", "post")


def test_a_patch_of_a_risk_without_an_owner_still_answers_its_owner_name(plan, alice):
    created = api_as(alice).post(
        "/api/v1/risks/", {"plan": "northwind", "title": "Peak in week one"}, format="json"
    )
    assert created.status_code == 201, created.content
    response = api_as(alice).patch(f"/api/v1/risks/{created.json()['id']}/", {}, format="json")
    assert response.status_code == 200 and response.json()["owner_name"] == ""
    assert_conforms(response, "/api/v1/risks/{id}/", "patch")


def test_a_patch_of_an_access_policy_without_an_approver_still_answers_its_approver_name(plan, alice):
    partner = Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")
    policy = AccessPolicy.objects.create(
        plan=plan, party=partner, environment="support_copy", data_class="anonymised", max_duration_hours=24
    )
    response = api_as(alice).patch(f"/api/v1/access-policies/{policy.pk}/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["approver_name"] == "" and response.json()["party_name"] == "Contoso Consulting"
    assert_conforms(response, "/api/v1/access-policies/{id}/", "patch")


def test_times_of_day_are_described_by_a_pattern_not_as_rfc_3339_full_times(plan, alice):
    def formats(node):
        if isinstance(node, dict):
            yield node.get("format")
            for value in node.values():
                yield from formats(value)
        elif isinstance(node, list):
            for value in node:
                yield from formats(value)

    assert "time" not in set(formats(openapi()))
    assert schema_of("NotificationSettings", "digest_time")["pattern"] == TIME_OF_DAY_PATTERN
    response = api_as(alice).get("/api/v1/notification-settings/me/")
    assert response.status_code == 200 and re.match(TIME_OF_DAY_PATTERN, response.json()["digest_time"])
    # What the schema said before: format "time", which this answer does not meet (no offset).
    assert not FORMATS.conforms(response.json()["digest_time"], "time")
    assert_conforms(response, "/api/v1/notification-settings/me/", "get")
    for answered in ("07:30", "07:30:00", "04:19:42.760000", "23:59"):
        assert re.match(TIME_OF_DAY_PATTERN, answered)
    for refused in ("24:00", "7:30", "07:30:00+01:00", "07:30Z"):
        assert not re.match(TIME_OF_DAY_PATTERN, refused)


def test_a_maintenance_task_with_a_fractional_local_time_conforms(plan, alice):
    body = {
        "plan": "northwind",
        "title": "Batch job review",
        "pattern": {"kind": "weekly", "days": ["MO"]},
        "starts_on": "2027-01-04",
        "local_time": "04:19:42.76",
        "timezone": "Europe/Berlin",
    }
    response = api_as(alice).post("/api/v1/maintenance-tasks/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["local_time"] == "04:19:42.760000"
    assert_conforms(response, "/api/v1/maintenance-tasks/", "post")
    occurrences = api_as(alice).get("/api/v1/task-occurrences/", {"task": response.json()["id"]})
    assert occurrences.status_code == 200 and occurrences.json()["results"]
    first = occurrences.json()["results"][0]
    assert first["evidence_url"] == "" and first["next_remind_kind"] in {"", "before_due", "on_due", "late"}
    assert_conforms(occurrences, "/api/v1/task-occurrences/", "get")


def test_every_read_only_field_of_a_nullable_column_is_nullable_in_the_schema():
    # The class of the username fields above (ended_by, decided_by, closed_by, created_by…): a
    # declared read-only field over a column that may be null must say so, or the schema refuses it.
    missing = []
    for _prefix, viewset, _basename in router.registry:
        serializer_class = getattr(viewset, "serializer_class", None)
        if serializer_class is None or not issubclass(serializer_class, serializers.ModelSerializer):
            continue
        model = serializer_class.Meta.model
        for name, field in serializer_class().fields.items():
            if not field.read_only or isinstance(field, serializers.SerializerMethodField):
                continue
            if field.source == "*" or "." in field.source:
                continue
            try:
                column = model._meta.get_field(field.source)
            except FieldDoesNotExist:
                continue
            if getattr(column, "null", False) and not field.allow_null:
                missing.append(f"{serializer_class.__name__}.{name}")
    assert not missing, missing
