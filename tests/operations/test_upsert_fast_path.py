"""The upsert's fast path (issue 7) answers exactly what the scoped re-read and DRF's field walk
answered: the same keys, values and order for creates, updates, other writers and other viewers,
the same replay, in fewer statements."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from operations.apis_requests import RequestDetailSerializer
from operations.helpdesk import selectors
from operations.models import SupportRequest
from supportplan.access import ApiKeyPrincipal
from tests.conftest import api_as
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import make_partner_member, utc

NOW = utc(2027, 7, 5, 10, 0)
REQUESTS = reverse("supportrequest-list")
#: Statements of an upsert by API key, outside the test's transaction: 26 and 25 before the fast path;
#: the create 19 before its policy and targets were read in one statement, no clocks read for it and
#: its reference stored without a lookup first (``test_upsert_plain_reads``); the update 20 before its
#: events, clocks and targets were read in one statement. Statements prepared on first use on the
#: connection are not counted.
CREATE_STATEMENTS = 16
UPDATE_STATEMENTS = 18

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(integration):
    return api_as(key=integration.raw)


class _ReferenceDetailSerializer(RequestDetailSerializer):
    """The detail as it was computed before the fast path: DRF's field walk over the ORM's reads."""

    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)

    def _clocks(self, obj):
        return list(
            obj.clocks.select_related("calendar", "level").order_by("metric", "level__number", "cycle", "pk")
        )

    def _trace(self, obj):
        key = f"_trace_{obj.pk}"
        if key not in self.context:
            self.context[key] = selectors.request_trace(obj, viewer=self._viewer())
        return self.context[key]


def reference_detail(request_id: int, principal, monkeypatch) -> dict:
    """The scoped re-read rendered by DRF's walk, every read through the ORM (the selectors' plain
    statements are PostgreSQL's: another vendor name takes their ORM side)."""
    http = APIRequestFactory().get("/")
    force_authenticate(http, user=principal)
    from rest_framework.request import Request

    drf_request = Request(http)
    drf_request._user = principal
    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "reference")
        fresh = (
            selectors.requests_for(user=principal)
            .select_related(None)
            .annotate(
                plan_slug=F("plan__slug"),
                priority_code=F("priority__code"),
                level_number=F("current_level__number"),
                party_name=F("current_party__name"),
            )
            .get(pk=request_id)
        )
        return _ReferenceDetailSerializer(fresh, context={"request": drf_request}).data


def upsert(api, expect: int = 201, **fields) -> dict:
    body = {
        "source_system": "servicenow",
        "source_id": "INC0012345",
        "title": "Warehouse cannot post picking lists",
        "description": "Picking lists fail in WH-02.",
        "description_anonymised": "Lists fail.",
        "request_type": "incident",
        "impact": "medium",
        "urgency": "medium",
        "status": "New",
        "level": 2,
        "reported_at": "2027-07-05T09:00:00+01:00",
        "references": [{"system": "servicenow", "reference": "INC0012345"}],
        **fields,
    }
    response = api.post(REQUESTS, body, format="json")
    assert response.status_code == expect, response.json()
    return response.json()


def post_event(api, request_id: int, **body) -> None:
    response = api.post(reverse("supportrequest-events", args=[request_id]), body, format="json")
    assert response.status_code == 201, response.json()


def test_a_created_request_answers_as_the_scoped_re_read(api, integration, monkeypatch):
    answered = upsert(api)
    assert answered == reference_detail(answered["id"], ApiKeyPrincipal(integration), monkeypatch)
    assert answered["clocks"] and answered["trace"] and answered["priority"] and answered["party"]
    assert list(answered) == list(RequestDetailSerializer.Meta.fields)


def test_a_created_request_with_several_references_answers_as_the_scoped_re_read(
    api, integration, helpdesk, monkeypatch
):
    answered = upsert(
        api,
        level=3,
        references=[
            {"system": "servicenow", "reference": "INC0012345"},
            {"system": "jira", "reference": "PRT-4411", "party": helpdesk.partner.pk},
            {"system": " servicenow ", "reference": "INC0012345 "},
        ],
    )
    assert [row["system"] for row in answered["references"]] == ["servicenow", "jira"]
    assert answered == reference_detail(answered["id"], ApiKeyPrincipal(integration), monkeypatch)
    assert answered["trace"][0]["party"] == helpdesk.partner.pk


def test_an_updated_request_answers_as_the_scoped_re_read(api, integration, helpdesk, monkeypatch):
    request_id = upsert(api)["id"]
    post_event(
        api,
        request_id,
        kind="handed_off",
        level=3,
        party=helpdesk.partner.pk,
        reference_system="partner",
        reference="PRT-4411",
        occurred_at="2027-07-05T08:30:00Z",
    )
    post_event(api, request_id, kind="public_update", body="On it.", occurred_at="2027-07-05T08:40:00Z")
    answered = upsert(
        api,
        200,
        status="Pending Caller",
        impact="high",
        urgency="high",
        title="Posting fails everywhere",
        occurred_at="2027-07-05T08:50:00Z",
        references=[{"system": "jira", "reference": "PRT-4411"}],
    )
    assert answered == reference_detail(request_id, ApiKeyPrincipal(integration), monkeypatch)
    assert answered["status"] == "awaiting_customer" and answered["title"] == "Posting fails everywhere"
    assert [entry["level"] for entry in answered["trace"]] == [2, 3, 2]


def test_an_update_the_event_log_overrides_names_what_the_log_says(api, integration, helpdesk, monkeypatch):
    """The update's own priority and level are earlier than the log's: the request takes the log's."""
    request_id = upsert(api)["id"]
    post_event(api, request_id, kind="priority_changed", priority="P1", occurred_at="2027-07-05T08:30:00Z")
    post_event(
        api,
        request_id,
        kind="handed_off",
        level=3,
        party=helpdesk.partner.pk,
        occurred_at="2027-07-05T08:31:00Z",
    )
    answered = upsert(
        api, 200, impact="low", urgency="low", level=4, occurred_at="2027-07-05T08:10:00Z", status="Assigned"
    )
    assert (answered["priority"], answered["level"]) == ("P1", 3)
    assert answered == reference_detail(request_id, ApiKeyPrincipal(integration), monkeypatch)


def test_a_lead_writing_gets_the_scoped_re_read(plan, alice, helpdesk, monkeypatch):
    answered = upsert(api_as(alice), plan=plan.slug, status="new")
    assert answered == reference_detail(answered["id"], alice, monkeypatch)


def test_the_detail_shown_to_a_partner_is_the_walks(api, plan, carol, helpdesk, monkeypatch):
    make_partner_member(plan, carol, helpdesk.isv)
    request_id = upsert(api)["id"]
    post_event(
        api,
        request_id,
        kind="handed_off",
        level=4,
        party=helpdesk.isv.pk,
        body="Needs the ISV.",
        occurred_at="2027-07-05T08:30:00Z",
    )
    shown = api_as(carol).get(reverse("supportrequest-detail", args=[request_id])).json()
    assert shown == reference_detail(request_id, carol, monkeypatch)
    assert shown["description"] == "Lists fail." and {entry["body"] for entry in shown["trace"]} == {""}


def test_a_replay_answers_the_stored_body(api):
    first = api.post(
        REQUESTS,
        {"source_id": "INC0000001", "title": "Down", "status": "New", "level": 2},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    again = api.post(
        REQUESTS,
        {"source_id": "INC0000001", "title": "Down", "status": "New", "level": 2},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


KNOWN_STATUSES = (
    "Assigned, Cancelled, Closed, New, Pending Caller, Pending Change, Pending Vendor, Resolved, "
    "Work in Progress, new, assigned, in_progress, awaiting_customer, awaiting_vendor, resolved, closed, "
    "cancelled"
)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"title": ["Give the request a title."]}),
        (
            {"title": "t", "level": 5, "status": "Nope", "priority": "P9", "party": 999999},
            {
                "priority": ["Unknown priority “P9”. This plan has: P1, P2, P3, P4."],
                "status": [f"Unknown status “Nope”. Known statuses: {KNOWN_STATUSES}."],
                "party": ["Unknown party “999999”."],
            },
        ),
        (
            {"title": "t", "impact": "low", "urgency": "low", "location": 99999, "scope_item": 9999},
            {"scope_item": ["Unknown scope item “9999”."], "location": ["Unknown location “99999”."]},
        ),
        ({"title": "t", "level": 7}, {"level": ["Ensure this value is less than or equal to 5."]}),
    ],
)
def test_errors_are_unchanged(api, body, fields):
    answered = api.post(REQUESTS, {"source_id": "X1", **body}, format="json")
    assert answered.status_code == 400
    assert answered.json() == {
        "error": {"code": "invalid", "message": "The request has invalid fields.", "fields": fields}
    }
    assert not SupportRequest.objects.filter(source_id="X1").exists()


def test_an_upsert_costs_fewer_statements(needs_postgres, api):
    """After a first write (the key's last use, the calendars' engines are cached): the create needs
    no savepoint of its own and its response reads the clocks and the party calendars only; the
    update reads the events once for its write, the response reads four times."""
    upsert(api, source_id="INC0000009", references=[{"system": "servicenow", "reference": "INC0000009"}])
    with CaptureQueriesContext(connection) as created:
        upsert(api)
    with CaptureQueriesContext(connection) as updated:
        upsert(api, 200, status="Assigned", occurred_at="2027-07-05T08:50:00Z")
    created, updated = (
        [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("PREPARE ")]
        for captured in (created, updated)
    )
    assert len(created) <= CREATE_STATEMENTS, [sql[:60] for sql in created]
    assert len(updated) <= UPDATE_STATEMENTS, [sql[:60] for sql in updated]


def test_a_create_whose_source_key_was_stored_meanwhile_updates_that_request(api, integration, monkeypatch):
    """A concurrent upsert stored the same source key between the lookup and the INSERT."""
    from operations.helpdesk.services import requests as request_services

    first = upsert(api)
    looked_up = []
    original = request_services._existing

    def missed_once(*args):
        looked_up.append(args)
        return None if len(looked_up) == 1 else original(*args)

    monkeypatch.setattr(request_services, "_existing", missed_once)
    answered = upsert(api, 200, status="Assigned", occurred_at="2027-07-05T08:50:00Z")
    assert answered["id"] == first["id"] and answered["status"] == "assigned" and len(looked_up) == 2
    assert SupportRequest.objects.filter(source_id="INC0012345").count() == 1
    monkeypatch.undo()
    assert answered == reference_detail(first["id"], ApiKeyPrincipal(integration), monkeypatch)
