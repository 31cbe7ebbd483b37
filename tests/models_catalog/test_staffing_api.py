"""The staffing API: the Erlang C calculator and staffing profiles, against the whole cast.

alice and bob lead Northwind; tina is a team member, carol a partner, victor a viewer; dave leads
another plan. Keys are Northwind's read and read-write API keys.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from models_catalog.models import StaffingProfile, SupportLevel
from tests.conftest import api_as
from tests.factories import MembershipFactory
from tests.models_catalog.staffing_fixtures import (
    QUIET_WEEK,
    build_team,
    hour_of_week,
    person,
    profile,
    week_of,
)

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]
CALCULATE = "staffing-calculate"

#: pyworkforce's own test: 100 requests per 30 minutes, 3 minutes handle time, 80 % in 20 s, 30 %
#: shrinkage: 14 agents, 20 to schedule.
PYWORKFORCE_CASE = {
    "arrivals_per_hour": 200,
    "handle_time_seconds": 180,
    "service_level": 0.8,
    "answer_within_seconds": 20,
    "shrinkage": 0.3,
}


@pytest.fixture
def team(plan):
    return build_team(plan)


@pytest.fixture
def world(team, other_plan, alice, bob, tina, carol, victor, dave, read_key, write_key):
    northwind = profile(team.plan, team.level2, name="Helpdesk")
    contoso_level = SupportLevel.objects.create(plan=other_plan, number=2, name="Contoso helpdesk")
    contoso = profile(other_plan, contoso_level, name="Contoso helpdesk")
    return {"team": team, "northwind": northwind, "contoso": contoso, "contoso_level": contoso_level}


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def _expect(actor: str, table: dict) -> int:
    return table.get(actor, table.get("*"))


def _status(outcome, ok_status: int) -> int:
    return ok_status if outcome == "ok" else outcome


def fields_of(response) -> dict:
    return response.json()["error"]["fields"]


# --- The calculator -------------------------------------------------------------------------
def test_the_calculator_answers_one_queue(alice):
    response = api_as(user=alice).post(reverse(CALCULATE), PYWORKFORCE_CASE, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["agents"], body["scheduled_staff"]) == (14, 20)
    assert body["service_level"] == pytest.approx(0.888, abs=0.001)
    assert body["occupancy"] == pytest.approx(0.714, abs=0.001)
    assert body["average_speed_of_answer"] > 0
    assert body["arrivals_per_hour"] == 200


def test_the_calculator_answers_a_list_in_order(alice):
    body = {**PYWORKFORCE_CASE, "arrivals": [0, 200, 0.5, 200]}
    del body["arrivals_per_hour"]
    response = api_as(user=alice).post(reverse(CALCULATE), body, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["agents"] for result in results] == [0, 14, 1, 14]
    assert [result["arrivals_per_hour"] for result in results] == [0, 200, 0.5, 200]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"arrivals_per_hour": None}, "arrivals_per_hour", ""),
        ({"arrivals_per_hour": -1}, "arrivals_per_hour", "greater than or equal to 0"),
        ({"arrivals_per_hour": "lots"}, "arrivals_per_hour", "valid number"),
        ({"arrivals_per_hour": "nan"}, "arrivals_per_hour", "valid number"),
        ({"arrivals_per_hour": "1e400"}, "arrivals_per_hour", "valid number"),
        ({"arrivals_per_hour": 1e12}, "arrivals_per_hour", "Erlangs"),
        ({"arrivals": [1, 2]}, "arrivals_per_hour", "not both"),
        ({"handle_time_seconds": 0}, "handle_time_seconds", "more than 0"),
        ({"handle_time_seconds": None}, "handle_time_seconds", ""),
        ({"service_level": 1}, "service_level", "(0, 1)"),
        ({"service_level": 0}, "service_level", "(0, 1)"),
        ({"answer_within_seconds": -5}, "answer_within_seconds", ""),
        ({"max_occupancy": 0}, "max_occupancy", "(0, 1]"),
        ({"max_occupancy": 1.01}, "max_occupancy", "(0, 1]"),
        ({"shrinkage": 1}, "shrinkage", "[0, 1)"),
        ({"shrinkage": -0.1}, "shrinkage", "[0, 1)"),
    ],
)
def test_each_bad_calculator_input_is_a_400_naming_the_field(alice, change, field, message):
    body = {**PYWORKFORCE_CASE, **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = api_as(user=alice).post(reverse(CALCULATE), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert message in " ".join(fields_of(response)[field])


@pytest.mark.parametrize(
    ("arrivals", "message"),
    [
        ([], "may not be empty"),
        ([1, -1], "greater than or equal to 0"),
        ([1, "x"], "valid number"),
        ([1] * 10_001, "no more than 10000"),
        (list(range(1, 5001)), "split the request"),
    ],
)
def test_a_bad_list_of_arrivals_is_a_400_naming_arrivals(alice, arrivals, message):
    body = {**PYWORKFORCE_CASE, "arrivals": arrivals}
    del body["arrivals_per_hour"]
    body["handle_time_seconds"] = 3600
    response = api_as(user=alice).post(reverse(CALCULATE), body, format="json")
    assert response.status_code == 400
    assert message in " ".join(fields_of(response)["arrivals"])


def test_a_body_that_is_not_json_is_a_400(alice):
    response = api_as(user=alice).post(reverse(CALCULATE), "{nope", content_type="application/json")
    assert response.status_code == 400


CALCULATOR_ACCESS = {"anonymous": 401, "*": 200}


@pytest.mark.parametrize("actor", ACTORS)
def test_any_signed_in_principal_may_calculate_a_read_only_key_included(actor, world, request):
    response = client_for(actor, request).post(reverse(CALCULATE), PYWORKFORCE_CASE, format="json")
    assert response.status_code == _expect(actor, CALCULATOR_ACCESS)


def test_the_calculator_takes_no_get(alice):
    assert api_as(user=alice).get(reverse(CALCULATE)).status_code == 405


# --- Profiles: reads ------------------------------------------------------------------------
SEES_NORTHWIND_PROFILES = {"alice", "bob", "tina", "victor", "read_key", "write_key"}


@pytest.mark.parametrize("actor", ACTORS)
def test_the_profile_list_holds_only_what_the_actor_may_see(actor, world, request):
    response = client_for(actor, request).get(reverse("staffingprofile-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    plans = {item["plan"] for item in response.json()["results"]}
    assert ("northwind" in plans) is (actor in SEES_NORTHWIND_PROFILES)
    assert ("contoso" in plans) is (actor == "dave")


READ_ONE = {"carol": 404, "dave": 404, "anonymous": 401, "*": 200}


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_one_profile(actor, world, request):
    response = client_for(actor, request).get(reverse("staffingprofile-detail", args=[world["northwind"].pk]))
    assert response.status_code == _expect(actor, READ_ONE)


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_profiles_week_plan(actor, world, request):
    url = reverse("staffingprofile-plan", args=[world["northwind"].pk])
    response = client_for(actor, request).get(url, {"week": QUIET_WEEK.isoformat()})
    assert response.status_code == _expect(actor, READ_ONE)


def test_the_profile_list_is_filtered_by_plan_and_level(world, alice):
    client = api_as(user=alice)
    assert client.get(reverse("staffingprofile-list"), {"plan": "northwind", "level": 2}).json()["count"] == 1
    assert client.get(reverse("staffingprofile-list"), {"level": 1}).json()["count"] == 0


# --- Profiles: writes -----------------------------------------------------------------------
CONFIGURE = {"alice": "ok", "bob": "ok", "dave": 404, "carol": 404, "anonymous": 401, "*": 403}
# dave sees neither the plan nor the level; a partner sees the plan but no support level.
CREATE_IN_NORTHWIND = {"alice": "ok", "bob": "ok", "dave": 400, "carol": 400, "anonymous": 401, "*": 403}


def new_profile(world, **changes) -> dict:
    body = {
        "plan": "northwind",
        "name": "Night desk",
        "level": world["team"].level2.pk,
        "timezone": "Europe/London",
        "source": "derived",
        "users": 500,
        "requests_per_user_per_month": "1.5",
        "hourly_shape": "flat",
        "handle_time_seconds": 600,
        "service_level": "0.8",
        "answer_within_seconds": 300,
    }
    return {**body, **changes}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_profiles(actor, world, request):
    response = client_for(actor, request).post(
        reverse("staffingprofile-list"), new_profile(world), format="json"
    )
    assert response.status_code == _status(_expect(actor, CREATE_IN_NORTHWIND), 201)
    assert StaffingProfile.objects.filter(name="Night desk").exists() is (response.status_code == 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_profiles(actor, world, request):
    url = reverse("staffingprofile-detail", args=[world["northwind"].pk])
    response = client_for(actor, request).patch(url, {"users": 42}, format="json")
    # Keys are refused for configuration before the lookup, so they get 403, never 404.
    expected = {**CONFIGURE, "read_key": 403, "write_key": 403}
    assert response.status_code == _status(_expect(actor, expected), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_profiles(actor, world, request):
    response = client_for(actor, request).delete(
        reverse("staffingprofile-detail", args=[world["northwind"].pk])
    )
    assert response.status_code == _status(_expect(actor, CONFIGURE), 204)
    assert StaffingProfile.objects.filter(pk=world["northwind"].pk).exists() is (response.status_code != 204)


def test_a_lead_creates_a_profile_and_reads_it_back(world, alice):
    client = api_as(user=alice)
    created = client.post(reverse("staffingprofile-list"), new_profile(world, language="DE"), format="json")
    assert created.status_code == 201, created.json()
    body = client.get(reverse("staffingprofile-detail", args=[created.json()["id"]])).json()
    assert body["language"] == "de"
    assert body["level_number"] == 2
    assert body["service_level"] == "0.800"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"service_level": "1.5"}, "service_level", "between 0 and 1"),
        ({"max_occupancy": "0"}, "max_occupancy", "above 0"),
        ({"shrinkage": "1"}, "shrinkage", "less than or equal to 0.99"),
        ({"source": "entered", "requests_per_hour": [1] * 167}, "requests_per_hour", "exactly 168"),
        (
            {"source": "entered", "requests_per_hour": [-1] * 168},
            "requests_per_hour",
            "greater than or equal to 0",
        ),
        ({"requests_per_hour": [1] * 169}, "requests_per_hour", "no more than 168"),
        ({"language": "xx"}, "language", "Unknown language"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "IANA"),
        ({"hourly_shape": "lunar"}, "hourly_shape", "valid choice"),
        ({"level": 999_999}, "level", "does not exist"),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_bad_profile_input_is_a_400_naming_the_field(world, alice, changes, field, message):
    response = api_as(user=alice).post(
        reverse("staffingprofile-list"), new_profile(world, **changes), format="json"
    )
    assert response.status_code == 400
    assert message in " ".join(fields_of(response)[field])
    assert not StaffingProfile.objects.filter(name="Night desk").exists()


def test_a_level_or_location_of_another_plan_is_a_400(world, alice, other_plan):
    # alice sees Contoso too, so its level is found, and then refused for belonging elsewhere.
    MembershipFactory(plan=other_plan, user=alice, role="viewer")
    contoso_location = other_plan.locations.create(name="Dublin", country="IE", timezone="Europe/Dublin")
    body = new_profile(world, level=world["contoso_level"].pk, location=contoso_location.pk)
    response = api_as(user=alice).post(reverse("staffingprofile-list"), body, format="json")
    assert response.status_code == 400
    assert fields_of(response)["level"] == ["Choose a support level of this plan."]
    assert fields_of(response)["location"] == ["Choose a location of this plan."]


def test_a_profile_cannot_move_to_another_plan(world, alice, other_plan):
    MembershipFactory(plan=other_plan, user=alice, role="project_lead")
    url = reverse("staffingprofile-detail", args=[world["northwind"].pk])
    response = api_as(user=alice).patch(url, {"plan": "contoso"}, format="json")
    assert response.status_code == 400
    assert "plan" in fields_of(response)


def test_a_duplicate_name_is_a_400_on_name(world, alice):
    response = api_as(user=alice).post(
        reverse("staffingprofile-list"), new_profile(world, name="Helpdesk"), format="json"
    )
    assert response.status_code == 400
    assert "already has a staffing profile" in fields_of(response)["name"][0]


# --- The week plan --------------------------------------------------------------------------
def test_the_week_plan_gives_every_hour_the_fte_and_the_gaps(world, alice):
    team = world["team"]
    queue = profile(
        team.plan, team.level2, name="Mornings", requests_per_hour=week_of({hour_of_week(0, 9): 1.0})
    )
    person(
        team.plan, "Amy", levels=[team.level2], location=team.manchester, hours={"0": [["09:00", "10:00"]]}
    )
    url = reverse("staffingprofile-plan", args=[queue.pk])
    body = api_as(user=alice).get(url, {"week": "2025-03-19"}).json()
    assert body["week_start"] == "2025-03-17"
    assert body["timezone"] == "Europe/London"
    assert len(body["hours"]) == 168
    nine = body["hours"][hour_of_week(0, 9)]
    assert (nine["label"], nine["agents_needed"], nine["scheduled"], nine["shortfall"]) == (
        "Mon 09:00",
        3,
        1.0,
        2.0,
    )
    assert nine["starts_at"] == "2025-03-17T09:00:00Z"
    assert body["fte_needed"] == pytest.approx(0.3)
    assert body["fte_available"] == pytest.approx(0.1)
    assert body["people"] == ["Amy"]
    assert body["gaps"] == [
        "Level 2 short by 0.2 FTE (needs 0.3, has 0.1)",
        "Too few people at level 2, Monday 09:00–10:00 (Europe/London): short by up to 2",
    ]


@pytest.mark.parametrize("week", ["next tuesday", "0001-01-01", "9999-12-31"])
def test_a_bad_week_is_a_400_naming_it(world, alice, week):
    url = reverse("staffingprofile-plan", args=[world["northwind"].pk])
    response = api_as(user=alice).get(url, {"week": week})
    assert response.status_code == 400
    assert "week" in fields_of(response)


def test_the_schema_documents_the_staffing_endpoints(alice):
    schema = api_as(user=alice).get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/staffing/calculate/" in schema["paths"]
    assert "/api/v1/staffing-profiles/{id}/plan/" in schema["paths"]
    assert "StaffingCalculation" in schema["components"]["schemas"]
