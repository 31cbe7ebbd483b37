"""``POST /api/v1/sla/breach/`` and ``GET /api/v1/sla/gaps/?plan=<slug>``: results, who may call
them, and a 400 with field messages for every bad input."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import api_as
from tests.operations.breach_fixtures import *  # noqa: F403

BREACH_URL = "/api/v1/sla/breach/"
GAPS_URL = "/api/v1/sla/gaps/"


@pytest.fixture
def body(steady_state, london):
    return {
        "plan": "northwind",
        "start": "2027-06-11T15:00:00+01:00",
        "priority": "P2",
        "location": london.pk,
    }


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def test_the_urls_are_where_the_readme_says():
    assert reverse("slabreach-list") == BREACH_URL
    assert reverse("slagap-list") == GAPS_URL


# --- Breach ---------------------------------------------------------------------------------
def test_a_lead_gets_each_targets_deadline_in_utc_and_local_time(alice, body):
    response = api_as(user=alice).post(BREACH_URL, body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["priority"] == {"code": "P2", "name": "High"}
    assert data["policy"]["name"] == "Steady state"
    assert data["display_zone"] == "Europe/London"
    resolution = next(target for target in data["targets"] if target["metric"] == "resolution")
    assert resolution["minutes"] == 480
    assert resolution["calendar"]["name"] == "UK office hours"
    assert resolution["deadline_utc"] == "2027-06-14T13:30:00+00:00"
    assert resolution["deadline_local"] == "2027-06-14T14:30:00+01:00"
    assert [segment["minutes"] for segment in resolution["segments"]] == [150.0, 330.0]
    assert resolution["holidays"] == [] and resolution["dst_changes"] == []


def test_holidays_and_clock_changes_are_in_the_response(alice, body):
    body["start"] = "2027-03-25T15:00:00Z"
    resolution = api_as(user=alice).post(BREACH_URL, body, format="json").json()["targets"][1]
    assert [holiday["name"] for holiday in resolution["holidays"]] == ["Good Friday", "Easter Monday"]
    assert resolution["dst_changes"][0]["description"] == (
        "2027-03-28 01:00 UTC: clocks go forward 01:00 → 02:00 Europe/London"
    )


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


# A calculation, not a write: every member and every key of the plan may call it, a read-only key
# included; another plan's lead does not find the plan (400 on `plan`), a visitor must authenticate.
CALCULATE = {"dave": 400, "anonymous": 401}


@pytest.mark.parametrize(
    "actor", ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]
)
def test_who_may_calculate(actor, body, request):
    response = client_for(actor, request).post(BREACH_URL, body, format="json")
    assert response.status_code == CALCULATE.get(actor, 200), response.content


def test_another_plans_slug_is_a_bad_request(alice, dave, body):
    body["plan"] = "contoso"
    assert "plan" in fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))


def test_another_plans_lead_does_not_find_this_plan(dave, body):
    assert "plan" in fields_of(api_as(user=dave).post(BREACH_URL, body, format="json"))


def test_a_start_without_offset_is_a_bad_request_naming_the_field(alice, body):
    body["start"] = "2027-06-11T15:00:00"
    assert "UTC offset" in fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))["start"][0]


def test_a_start_that_is_not_a_date_is_a_bad_request(alice, body):
    body["start"] = "next Friday"
    assert "start" in fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))


def test_impact_and_urgency_without_a_matrix_cell_are_a_bad_request(alice, body):
    del body["priority"]
    body.update(impact="low", urgency="low")
    fields = fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))
    assert "no cell for impact low × urgency low" in fields["impact"][0]


def test_impact_and_urgency_choose_the_priority(alice, body):
    del body["priority"]
    body.update(impact="high", urgency="medium")
    assert api_as(user=alice).post(BREACH_URL, body, format="json").json()["priority"]["code"] == "P2"


def test_no_policy_in_force_is_a_bad_request_on_start(alice, body):
    body["start"] = "2025-01-06T09:00:00Z"
    assert "No SLA policy" in fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))["start"][0]


def test_a_priority_without_targets_is_a_bad_request(alice, body):
    body["priority"] = "P4"
    assert fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))["priority"] == [
        "“Steady state” has no targets for P4."
    ]


def test_a_location_of_another_plan_is_a_bad_request(read_key, body, other_location):
    body["location"] = other_location.pk
    assert "location" in fields_of(api_as(key=read_key).post(BREACH_URL, body, format="json"))


def test_missing_location_and_calendar_is_a_bad_request(alice, body):
    del body["location"]
    assert "location" in fields_of(api_as(user=alice).post(BREACH_URL, body, format="json"))


@pytest.mark.parametrize(
    "change",
    [
        {"start": None},
        {"start": 12},
        {"start": "0001-01-01T00:00:00+05:00"},
        {"start": "9999-12-31T23:59:59-12:00"},
        {"priority": "P" * 50},
        {"impact": "huge", "priority": ""},
        {"location": "abc"},
        {"calendar": 10**12},
        {"support_level": 9},
        {"request_type": "gossip"},
    ],
)
def test_junk_values_are_bad_requests_never_errors(alice, body, change):
    body.update(change)
    response = api_as(user=alice).post(BREACH_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


# --- Gaps -----------------------------------------------------------------------------------
@time_machine.travel("2027-04-01 12:00Z", tick=False)
def test_a_lead_lists_the_plans_gaps(alice, steady_state):
    response = api_as(user=alice).get(GAPS_URL, {"plan": "northwind"})
    assert response.status_code == 200
    results = response.json()["results"]
    p4 = next(gap for gap in results if gap["code"] == "priority_without_target")
    assert p4["severity"] == "high"
    assert p4["message"].startswith("P4 Low has no target in “Steady state” (the policy in force today)")
    assert [obj["kind"] for obj in p4["objects"]] == ["priority", "sla_policy"]
    assert [gap["severity"] for gap in results] == sorted(
        (gap["severity"] for gap in results), key=["high", "medium", "low"].index
    )


# Gaps expose the whole support model: partners are refused, as on the page.
LIST_GAPS = {"carol": 403, "dave": 400, "anonymous": 401}


@pytest.mark.parametrize(
    "actor", ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]
)
def test_who_may_list_the_gaps(actor, steady_state, request):
    response = client_for(actor, request).get(GAPS_URL, {"plan": "northwind"})
    assert response.status_code == LIST_GAPS.get(actor, 200), response.content


def test_gaps_need_a_plan(alice):
    assert "plan" in fields_of(api_as(user=alice).get(GAPS_URL))
