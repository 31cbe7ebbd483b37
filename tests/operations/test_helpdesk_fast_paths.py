"""The ingestion path's shortcuts (issue 7) say and store exactly what the ORM and DRF would: plain-SQL
rows, the request lock, API key lookup, the event and list representations, and the trace shared by
the detail's totals."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import time_machine
from django.db.models import F
from django.urls import reverse
from rest_framework import serializers

from operations.apis_requests import EventSerializer, RequestDetailSerializer, RequestSerializer
from operations.helpdesk import selectors
from operations.helpdesk.services._common import _lock
from operations.models import (
    RequestEvent,
    RequestReference,
    SlaClock,
    SlaPolicy,
    StatusMapping,
    SupportRequest,
)
from supportplan import services as plan_services
from supportplan.lib import rows
from supportplan.models import ApiKey, ApiKeyScope
from tests.conftest import api_as
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import utc

NOW = utc(2027, 7, 5, 10, 0)
REQUESTS = reverse("supportrequest-list")

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def servicenow(plan, alice, helpdesk_world):
    api_key, raw = plan_services.api_key_create(
        plan=plan, name="ServiceNow", scope=ApiKeyScope.READ_WRITE, created_by=alice
    )
    StatusMapping.objects.create(
        plan=plan,
        api_key=api_key,
        external_status="Pending Caller",
        status="awaiting_customer",
        clock_effect="pause",
    )
    return SimpleNamespace(key=api_key, raw=raw, api=api_as(key=raw))


def create(servicenow, source_id: str = "INC0012345", **fields) -> dict:
    body = {
        "source_system": "servicenow",
        "source_id": source_id,
        "title": "Warehouse cannot post picking lists",
        "description": "Picking lists fail in WH-02.",
        "request_type": "incident",
        "impact": "medium",
        "urgency": "medium",
        "status": "new",
        "level": 2,
        "reported_at": "2027-07-05T09:00:00+01:00",
        "references": [{"system": "servicenow", "reference": source_id}],
        **fields,
    }
    response = servicenow.api.post(REQUESTS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post_event(servicenow, request_id: int, **body) -> dict:
    response = servicenow.api.post(reverse("supportrequest-events", args=[request_id]), body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def worked_request(servicenow, helpdesk):
    """A request with an event of every kind a helpdesk sends."""
    request_id = create(servicenow)["id"]
    for body in [
        {"kind": "status_changed", "status": "Pending Caller", "occurred_at": "2027-07-05T08:10:00Z"},
        {"kind": "priority_changed", "priority": "P2", "occurred_at": "2027-07-05T08:15:00Z"},
        {"kind": "public_update", "body": "Looking into it.", "occurred_at": "2027-07-05T08:20:00Z"},
        {
            "kind": "handed_off",
            "level": 3,
            "party": helpdesk.partner.pk,
            "reference_system": "partner",
            "reference": "PRT-4411",
            "occurred_at": "2027-07-05T08:30:00Z",
        },
        {
            "kind": "comment",
            "body": "Batch job restarted.",
            "actor_name": "Sam",
            "occurred_at": "2027-07-05T08:40:00Z",
        },
        {"kind": "status_changed", "status": "resolved", "occurred_at": "2027-07-05T08:50:00Z"},
        {"kind": "reopened", "status": "in_progress", "occurred_at": "2027-07-05T08:55:00Z"},
    ]:
        post_event(servicenow, request_id, source_event_id=f"sys-{body['occurred_at']}", **body)
    return SupportRequest.objects.get(pk=request_id)


# --- Representations ---------------------------------------------------------------------------
def test_an_event_is_represented_as_drfs_model_serializer_would(servicenow, worked_request):
    events = RequestEvent.objects.filter(request=worked_request).select_related("priority", "level", "party")
    assert {event.kind for event in events} >= {"created", "status_changed", "priority_changed", "handed_off"}
    for event in events:
        serializer = EventSerializer(event)
        assert serializer.data == serializers.ModelSerializer.to_representation(serializer, event)


def test_an_event_write_answers_with_the_stored_event_as_the_events_list_shows_it(servicenow, worked_request):
    url = reverse("supportrequest-events", args=[worked_request.pk])
    answered = post_event(
        servicenow, worked_request.pk, kind="comment", body="x", occurred_at="2027-07-05T09:00:00Z"
    )
    listed = servicenow.api.get(url).json()["results"]
    assert answered in listed


def test_write_answers_are_plain_json_values_stored_as_they_are(servicenow, worked_request, monkeypatch):
    """The idempotency record keeps an answer made of plain JSON values as it is; anything else (an
    enum member, a datetime) costs it a JSON round trip of the whole body."""
    from operations.helpdesk import idempotency

    answers = []
    real_json_safe = idempotency._json_safe
    monkeypatch.setattr(idempotency, "_json_safe", lambda body: answers.append(body) or real_json_safe(body))
    create(servicenow, "INC0000009")  # a new request: its trace starts with the "created" entry
    post_event(servicenow, worked_request.pk, kind="comment", body="x", occurred_at="2027-07-05T09:00:00Z")
    assert len(answers) == 2
    assert all(idempotency._is_json_native(body) for body in answers)


def test_a_list_row_is_represented_as_drfs_model_serializer_would(servicenow, worked_request):
    create(servicenow, "INC0000002", impact="high", urgency="high")
    listed = servicenow.api.get(REQUESTS).json()["results"]
    requests = SupportRequest.objects.annotate(
        plan_slug=F("plan__slug"),
        priority_code=F("priority__code"),
        level_number=F("current_level__number"),
        party_name=F("current_party__name"),
    ).order_by("-updated_at", "-id")
    expected = []
    for request in requests:
        serializer = RequestSerializer(request)
        expected.append(serializers.ModelSerializer.to_representation(serializer, request))
    assert listed == expected
    assert {row["party"]["name"] for row in listed if row["party"]} and listed[0]["references"]


def test_the_detail_computes_the_trace_once_for_the_trace_and_the_totals(
    servicenow, worked_request, monkeypatch
):
    calls = []
    original = selectors.request_trace
    monkeypatch.setattr(selectors, "request_trace", lambda *a, **k: calls.append(1) or original(*a, **k))
    detail = servicenow.api.get(reverse("supportrequest-detail", args=[worked_request.pk])).json()
    assert len(calls) == 1
    fresh = selectors.holder_totals(worked_request)
    assert [row["seconds"] for row in detail["time_per_party"]] == [
        row["seconds"] for row in fresh["parties"]
    ]
    assert [row["seconds"] for row in detail["time_per_level"]] == [row["seconds"] for row in fresh["levels"]]
    assert list(detail) == list(RequestDetailSerializer.Meta.fields)


# --- Plain-SQL rows (PostgreSQL) -----------------------------------------------------------------
def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_rows_read_the_same_instances_as_the_orm(needs_postgres, worked_request):
    for model, where, params in [
        (SlaClock, 't."request_id" = %s', [worked_request.pk]),
        (SupportRequest, 't."id" = %s', [worked_request.pk]),
        (SlaPolicy, 't."id" = %s', [worked_request.policy_id]),
    ]:
        fetched = sorted(rows.fetch(model, where, params), key=lambda instance: instance.pk)
        expected = sorted(
            model.objects.filter(pk__in=[instance.pk for instance in fetched]), key=lambda i: i.pk
        )
        assert fetched and [_values(instance) for instance in fetched] == [_values(i) for i in expected]
        assert all(not instance._state.adding for instance in fetched)
    policy = rows.fetch(SlaPolicy, 't."id" = %s', [worked_request.policy_id])[0]
    assert isinstance(policy.pause_statuses, list)  # JSON converted as the ORM converts it


def test_rows_insert_stores_what_save_stores_and_reports_a_taken_unique_key(needs_postgres, worked_request):
    made = RequestReference(
        plan_id=worked_request.plan_id, request=worked_request, system="isv", reference="FWA-123"
    )
    assert rows.insert([made]) is True
    stored = RequestReference.objects.get(pk=made.pk)
    assert (stored.system, stored.reference, stored.created_at) == ("isv", "FWA-123", NOW)
    again = RequestReference(
        plan_id=worked_request.plan_id, request=worked_request, system="isv", reference="FWA-123"
    )
    assert rows.insert([again], on_conflict_do_nothing=True) is False
    assert again.pk is None
    assert RequestReference.objects.filter(reference="FWA-123").count() == 1


def test_rows_update_prepares_values_as_the_orm(needs_postgres, worked_request):
    changed = rows.update(
        SupportRequest, {"sla_state": "breached", "next_breach_at": NOW}, '"id" = %s', [worked_request.pk]
    )
    assert changed == 1
    worked_request.refresh_from_db()
    assert (worked_request.sla_state, worked_request.next_breach_at) == ("breached", NOW)


def test_the_request_lock_reads_the_request_with_its_policy_and_keeps_the_loaded_plan(worked_request):
    loaded = SupportRequest.objects.select_related("plan").get(pk=worked_request.pk)
    locked = _lock(loaded)
    assert _values(locked) == _values(SupportRequest.objects.get(pk=worked_request.pk))
    assert locked.plan is loaded.plan
    assert _values(locked.policy) == _values(SlaPolicy.objects.get(pk=worked_request.policy_id))


def test_a_hand_off_reference_taken_by_another_request_is_400(servicenow, helpdesk, worked_request):
    other = create(servicenow, "INC0000002")["id"]
    response = servicenow.api.post(
        reverse("supportrequest-events", args=[other]),
        {
            "kind": "handed_off",
            "level": 3,
            "party": helpdesk.partner.pk,
            "reference_system": "partner",
            "reference": "PRT-4411",
            "occurred_at": "2027-07-05T08:30:00Z",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "already belongs" in response.json()["error"]["fields"]["reference"][0]
    assert not RequestEvent.objects.filter(request_id=other, kind="handed_off").exists()


# --- API keys ------------------------------------------------------------------------------------
def test_a_key_is_found_with_its_plan_and_a_revoked_key_is_refused_at_once(servicenow, worked_request):
    found = plan_services.api_key_authenticate(servicenow.raw)
    assert _values(found) == _values(ApiKey.objects.get(pk=servicenow.key.pk)) | {
        "last_used_at": found.last_used_at
    }
    assert found.plan.slug == "northwind"
    # Read back from one JSON array: the plan too, type for type (dates, a JSON list, timestamps).
    from supportplan.models import SupportPlan

    plan = SupportPlan.objects.get(pk=found.plan_id)
    plan.go_live_date = date(2027, 9, 1)
    plan.save(update_fields=["go_live_date"])
    found = plan_services.api_key_authenticate(servicenow.raw)
    typed = lambda values: {name: (type(value), value) for name, value in values.items()}  # noqa: E731
    assert typed(_values(found.plan)) == typed(_values(SupportPlan.objects.get(pk=plan.pk)))
    assert found.plan.products and found.plan.go_live_date == date(2027, 9, 1)
    assert plan_services.api_key_authenticate(servicenow.raw[:-1] + "x") is None
    assert servicenow.api.get(REQUESTS).status_code == 200
    plan_services.api_key_revoke(api_key=servicenow.key)
    assert plan_services.api_key_authenticate(servicenow.raw) is None
    assert servicenow.api.get(REQUESTS).status_code == 401


def test_an_event_posted_by_a_team_member_is_stored_with_the_member_as_author(worked_request, tina):
    response = api_as(user=tina).post(
        reverse("supportrequest-events", args=[worked_request.pk]),
        {"kind": "comment", "body": "Called the user.", "occurred_at": "2027-07-05T09:00:00Z"},
        format="json",
    )
    assert response.status_code == 201
    assert RequestEvent.objects.get(pk=response.json()["id"]).user == tina
