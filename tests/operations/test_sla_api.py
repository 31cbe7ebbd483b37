"""The priority and SLA API: access for the whole cast, bad input (400, field messages, nothing
stored), the nested ladder, the policy in force, and query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from operations import sla_services as services
from operations.models import EscalationStep, Priority, PriorityMatrixCell, SlaPolicy, SlaTarget
from supportplan.models import Membership, PlanRole
from tests.conftest import api_as
from tests.operations.sla_fixtures import (
    EXAMPLE_LADDER_SENTENCE,
    build_elsewhere,
    build_sla_world,
    example_ladder,
)

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]


@pytest.fixture
def world(plan, other_plan, alice, bob, tina, carol, victor, dave, read_key, write_key):
    world = build_sla_world(plan)
    world.target = services.sla_target_create(
        policy=world.hypercare,
        priority=world.p1,
        metric="first_response",
        minutes=30,
        calendar=world.round_the_clock,
        escalation_steps=example_ladder(world),
    )
    world.elsewhere = build_elsewhere(other_plan)
    return world


def client_for(actor, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["fields"]


# --- Reads ----------------------------------------------------------------------------------
# Northwind rows per endpoint: everyone in the plan reads SLAs, partners and API keys included.
VISIBLE = {"priority": 4, "prioritymatrixcell": 9, "slapolicy": 2, "slatarget": 1, "escalationstep": 3}


@pytest.mark.parametrize("endpoint", sorted(VISIBLE))
@pytest.mark.parametrize("actor", ACTORS)
def test_lists_hold_only_what_the_actor_may_see(endpoint, actor, world, request):
    response = client_for(actor, request).get(reverse(f"{endpoint}-list"), {"plan": "northwind"})
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert response.json()["count"] == (0 if actor == "dave" else VISIBLE[endpoint])


@pytest.mark.parametrize("actor", ACTORS)
def test_a_target_of_another_plan_is_not_found(actor, world, request):
    response = client_for(actor, request).get(reverse("slatarget-detail", args=[world.target.pk]))
    assert response.status_code == {"dave": 404, "anonymous": 401}.get(actor, 200)


def test_dave_sees_his_own_plans_priorities_only(world, dave):
    response = api_as(user=dave).get(reverse("priority-list"))
    assert [(item["plan"], item["code"]) for item in response.json()["results"]] == [("contoso", "P1")]


# --- Writes ---------------------------------------------------------------------------------
CREATE = {"alice": 201, "bob": 201, "dave": 400, "anonymous": 401, "*": 403}
CHANGE = {"alice": 200, "bob": 200, "dave": 404, "anonymous": 401, "*": 403}
REMOVE = {**CHANGE, "alice": 204, "bob": 204}


def _expect(actor, table):
    return table.get(actor, table["*"])


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_priorities(actor, world, request):
    body = {"plan": "northwind", "code": "P5", "name": "Planning", "rank": 5}
    response = client_for(actor, request).post(reverse("priority-list"), body, format="json")
    assert response.status_code == _expect(actor, CREATE)
    assert Priority.objects.filter(code="P5").exists() is (response.status_code == 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_set_a_matrix_cell(actor, world, request):
    body = {"plan": "northwind", "impact": "low", "urgency": "low", "priority": world.p3.pk}
    response = client_for(actor, request).post(reverse("prioritymatrixcell-list"), body, format="json")
    # The cell exists already: a lead's POST replaces its priority (200).
    assert response.status_code == _expect(actor, {**CREATE, "alice": 200, "bob": 200})


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_a_policy(actor, world, request):
    url = reverse("slapolicy-detail", args=[world.hypercare.pk])
    response = client_for(actor, request).patch(url, {"description": "Changed"}, format="json")
    assert response.status_code == _expect(actor, CHANGE)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_targets(actor, world, request):
    body = {
        "policy": world.hypercare.pk,
        "priority": world.p2.pk,
        "metric": "resolution",
        "minutes": 480,
        "calendar": world.office_hours.pk,
    }
    response = client_for(actor, request).post(reverse("slatarget-list"), body, format="json")
    assert response.status_code == _expect(actor, CREATE)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_targets(actor, world, request):
    response = client_for(actor, request).delete(reverse("slatarget-detail", args=[world.target.pk]))
    assert response.status_code == _expect(actor, REMOVE)
    assert SlaTarget.objects.filter(pk=world.target.pk).exists() is (response.status_code != 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_escalation_steps(actor, world, request):
    body = {"target": world.target.pk, "trigger": "percent", "percent": 50, "action": "notify_level_contact"}
    response = client_for(actor, request).post(reverse("escalationstep-list"), body, format="json")
    assert response.status_code == _expect(actor, CREATE)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_escalation_steps(actor, world, request):
    step = world.target.escalation_steps.get(position=0)
    url = reverse("escalationstep-detail", args=[step.pk])
    response = client_for(actor, request).patch(url, {"percent": 80}, format="json")
    assert response.status_code == _expect(actor, CHANGE)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_policy_in_force_is_read_by_everyone_in_the_plan(actor, world, request):
    response = client_for(actor, request).get(
        reverse("slapolicy-in-force"), {"plan": "northwind", "date": "2027-05-01"}
    )
    assert response.status_code == {"dave": 404, "anonymous": 401}.get(actor, 200)


# --- What the endpoints return --------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "phase", "policy"),
    [("2027-03-31", "steady_state", "Steady state"), ("2027-04-01", "hypercare", "Hypercare")],
)
def test_the_policy_in_force_follows_the_hypercare_window(world, victor, day, phase, policy):
    response = api_as(user=victor).get(reverse("slapolicy-in-force"), {"plan": "northwind", "date": day})
    body = response.json()
    assert (body["date"], body["phase"], body["policy"]["name"]) == (day, phase, policy)


def test_the_policy_in_force_comes_with_its_targets_and_ladders(world, read_key):
    body = (
        api_as(key=read_key)
        .get(reverse("slapolicy-in-force"), {"plan": "northwind", "date": "2027-05-01"})
        .json()
    )
    [target] = body["policy"]["targets"]
    assert (target["minutes"], target["ladder"]) == (30, EXAMPLE_LADDER_SENTENCE)


def test_no_policy_in_force_is_a_null_policy(world, alice):
    body = (
        api_as(user=alice)
        .get(reverse("slapolicy-in-force"), {"plan": "northwind", "date": "2026-01-01"})
        .json()
    )
    assert (body["phase"], body["policy"]) == ("steady_state", None)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"date": "2027-05-01"}, "plan"), ({"plan": "northwind", "date": "May Day"}, "date")],
)
def test_the_policy_in_force_needs_a_plan_and_a_real_date(world, alice, params, field):
    assert field in _fields(api_as(user=alice).get(reverse("slapolicy-in-force"), params))


def test_a_target_with_a_ladder_round_trips(world, bob):
    body = {
        "policy": world.steady_state.pk,
        "priority": world.p2.pk,
        "metric": "first_response",
        "minutes": 120,
        "calendar": world.office_hours.pk,
        "request_type": "incident",
        "support_level": world.level_1.pk,
        "underpinning_agreement": world.partner_contract.pk,
        "escalation_steps": [
            {"trigger": "percent", "percent": 75, "action": "notify_role", "role": world.support_manager.pk},
            {"trigger": "breach", "action": "notify_person", "person": world.service_desk_lead.pk},
        ],
    }
    response = api_as(user=bob).post(reverse("slatarget-list"), body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["plan"] == "northwind"
    assert [step["position"] for step in created["escalation_steps"]] == [0, 1]
    assert (
        created["ladder"] == "At 75 % of the target: notify the Support manager; at breach: notify Priya Shah"
    )

    replaced = api_as(user=bob).patch(
        reverse("slatarget-detail", args=[created["id"]]),
        {"escalation_steps": [{"trigger": "breach", "action": "raise_priority"}]},
        format="json",
    )
    assert replaced.json()["ladder"] == "At breach: raise the priority one step"
    assert EscalationStep.objects.filter(target_id=created["id"]).count() == 1


def test_a_step_added_on_its_own_takes_its_place_in_time(world, alice):
    body = {"target": world.target.pk, "trigger": "percent", "percent": 50, "action": "notify_level_contact"}
    response = api_as(user=alice).post(reverse("escalationstep-list"), body, format="json")
    assert (response.json()["position"], response.json()["plan"]) == (0, "northwind")
    assert world.target.escalation_steps.get(position=1).percent == 75


def test_removing_a_priority_in_use_is_a_400(world, alice):
    response = api_as(user=alice).delete(reverse("priority-detail", args=[world.p1.pk]))
    assert "P1 is used by 1 SLA target" in _fields(response)["non_field_errors"][0]
    assert Priority.objects.filter(pk=world.p1.pk).exists()


def test_cells_are_not_removed(world, alice):
    cell = PriorityMatrixCell.objects.filter(plan=world.plan).first()
    assert api_as(user=alice).delete(reverse("prioritymatrixcell-detail", args=[cell.pk])).status_code == 405


def test_a_cells_priority_changes_in_place(world, alice):
    cell = PriorityMatrixCell.objects.get(plan=world.plan, impact="low", urgency="low")
    response = api_as(user=alice).patch(
        reverse("prioritymatrixcell-detail", args=[cell.pk]), {"priority": world.p3.pk}, format="json"
    )
    assert (response.status_code, response.json()["priority"]) == (200, world.p3.pk)


# --- Bad input: 400 with field messages, nothing stored -------------------------------------
def test_an_overlapping_policy_of_the_same_phase_is_a_400_on_valid_from(world, alice):
    body = {"plan": "northwind", "name": "Hypercare II", "phase": "hypercare", "valid_from": "2027-06-15"}
    response = api_as(user=alice).post(reverse("slapolicy-list"), body, format="json")
    assert "“Hypercare”" in _fields(response)["valid_from"][0]
    assert not SlaPolicy.objects.filter(name="Hypercare II").exists()


def test_an_overlapping_policy_of_another_phase_is_created(world, alice):
    body = {"plan": "northwind", "name": "Hypercare II", "phase": "steady_state", "valid_from": "2026-01-01"}
    body["valid_to"] = "2026-12-31"
    assert api_as(user=alice).post(reverse("slapolicy-list"), body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pause_statuses": ["awaiting_customer", "on_holiday"]}, "pause_statuses"),
        ({"pause_statuses": "awaiting_customer"}, "pause_statuses"),
        ({"phase": "warranty"}, "phase"),
        ({"valid_to": "2027-01-01"}, "valid_to"),
        ({"valid_from": "1 April"}, "valid_from"),
        ({"plan": "contoso"}, "plan"),
    ],
)
def test_bad_policy_changes_are_400s_naming_the_field(world, alice, changes, field):
    url = reverse("slapolicy-detail", args=[world.hypercare.pk])
    response = api_as(user=alice).patch(url, changes, format="json")
    assert field in _fields(response)
    world.hypercare.refresh_from_db()
    assert (world.hypercare.pause_statuses, str(world.hypercare.valid_from)) == ([], "2027-04-01")


def test_moving_a_policy_onto_another_of_its_phase_is_a_400(world, alice):
    pilot = services.sla_policy_create(
        plan=world.plan, name="Pilot", phase="hypercare", valid_from="2026-10-01", valid_to="2026-12-31"
    )
    response = api_as(user=alice).patch(
        reverse("slapolicy-detail", args=[pilot.pk]), {"valid_to": "2027-04-01"}, format="json"
    )
    assert "“Hypercare” (1 Apr 2027 – 30 Jun 2027)" in _fields(response)["valid_from"][0]
    pilot.refresh_from_db()
    assert str(pilot.valid_to) == "2026-12-31"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 525_601}, "minutes"),
        ({"minutes": 10**30}, "minutes"),
        ({"minutes": "soon"}, "minutes"),
        ({"metric": "happiness"}, "metric"),
        ({"request_type": "complaint"}, "request_type"),
        ({"calendar": 10**6}, "calendar"),
        (
            {"escalation_steps": [{"trigger": "percent", "percent": 150, "action": "raise_level"}]},
            "escalation_steps",
        ),
        (
            {"escalation_steps": [{"trigger": "percent", "percent": 0, "action": "raise_level"}]},
            "escalation_steps",
        ),
        ({"escalation_steps": [{"trigger": "percent", "action": "raise_level"}]}, "escalation_steps"),
        ({"escalation_steps": [{"trigger": "breach", "action": "notify_role"}]}, "escalation_steps"),
        ({"escalation_steps": "all of them"}, "escalation_steps"),
        ({"policy": 10**6}, "policy"),
    ],
)
def test_bad_target_changes_are_400s_naming_the_field(world, alice, changes, field):
    url = reverse("slatarget-detail", args=[world.target.pk])
    response = api_as(user=alice).patch(url, changes, format="json")
    assert field in _fields(response)
    world.target.refresh_from_db()
    assert (world.target.minutes, world.target.metric) == (30, "first_response")
    assert world.target.escalation_steps.count() == 3


def test_a_ladder_error_names_the_step_and_its_field(world, alice):
    ladder = [
        {"trigger": "percent", "percent": 50, "action": "raise_level"},
        {"trigger": "percent", "percent": 150, "action": "raise_level"},
    ]
    response = api_as(user=alice).patch(
        reverse("slatarget-detail", args=[world.target.pk]), {"escalation_steps": ladder}, format="json"
    )
    assert _fields(response)["escalation_steps"] == [
        "Step 2 — percent: Ensure this value is less than or equal to 100."
    ]


def test_descending_percentages_are_a_400(world, alice):
    ladder = [
        {"trigger": "percent", "percent": 90, "action": "raise_level"},
        {"trigger": "percent", "percent": 60, "action": "raise_priority"},
    ]
    response = api_as(user=alice).patch(
        reverse("slatarget-detail", args=[world.target.pk]), {"escalation_steps": ladder}, format="json"
    )
    assert "percentages ascending" in _fields(response)["escalation_steps"][0]
    assert world.target.escalation_steps.count() == 3


def test_a_new_target_with_a_bad_ladder_is_not_stored(world, alice):
    body = {
        "policy": world.steady_state.pk,
        "priority": world.p4.pk,
        "metric": "resolution",
        "minutes": 2400,
        "calendar": world.office_hours.pk,
        "escalation_steps": [
            {"trigger": "breach", "action": "raise_level"},
            {"trigger": "percent", "percent": 80, "action": "raise_level"},
        ],
    }
    response = api_as(user=alice).post(reverse("slatarget-list"), body, format="json")
    assert "escalation_steps" in _fields(response)
    assert not SlaTarget.objects.filter(priority=world.p4).exists()


def test_a_duplicate_target_is_a_400_on_metric(world, alice):
    body = {
        "policy": world.hypercare.pk,
        "priority": world.p1.pk,
        "metric": "first_response",
        "minutes": 15,
        "calendar": world.round_the_clock.pk,
    }
    response = api_as(user=alice).post(reverse("slatarget-list"), body, format="json")
    assert "already has a P1 first response target" in _fields(response)["metric"][0]
    assert SlaTarget.objects.count() == 1


def test_a_calendar_of_another_plan_the_lead_can_see_is_refused_by_the_service(world, alice):
    # alice also views Contoso: its calendar is visible to her, but not of the target's plan.
    Membership.objects.create(plan=world.elsewhere.plan, user=alice, role=PlanRole.VIEWER)
    url = reverse("slatarget-detail", args=[world.target.pk])
    response = api_as(user=alice).patch(url, {"calendar": world.elsewhere.calendar.pk}, format="json")
    assert _fields(response)["calendar"] == ["Choose a calendar of this plan."]
    world.target.refresh_from_db()
    assert world.target.calendar == world.round_the_clock


def test_a_role_of_a_plan_the_lead_cannot_see_does_not_exist_for_them(world, alice):
    body = {
        "target": world.target.pk,
        "trigger": "breach",
        "action": "notify_role",
        "role": world.elsewhere.role.pk,
    }
    response = api_as(user=alice).post(reverse("escalationstep-list"), body, format="json")
    assert "does not exist" in _fields(response)["role"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trigger": "percent", "percent": 101, "action": "raise_level"}, "percent"),
        ({"trigger": "percent", "percent": 0, "action": "raise_level"}, "percent"),
        ({"trigger": "percent", "percent": -5, "action": "raise_level"}, "percent"),
        ({"trigger": "after_breach", "action": "raise_level"}, "minutes_after_breach"),
        (
            {"trigger": "breach", "action": "raise_level", "max_repeats": 11, "repeat_every_minutes": 30},
            "max_repeats",
        ),
        (
            {"trigger": "breach", "action": "raise_level", "max_repeats": 2, "repeat_every_minutes": 1},
            "repeat_every_minutes",
        ),
        ({"trigger": "breach", "action": "notify_party"}, "party"),
        ({"trigger": "now", "action": "raise_level"}, "trigger"),
    ],
)
def test_bad_steps_are_400s_naming_the_field(world, alice, body, field):
    response = api_as(user=alice).post(
        reverse("escalationstep-list"), {"target": world.target.pk, **body}, format="json"
    )
    assert field in _fields(response)
    assert world.target.escalation_steps.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"impact": "enormous", "urgency": "high"}, "impact"),
        ({"impact": "high", "urgency": "yesterday"}, "urgency"),
        ({"impact": "high", "urgency": "high", "priority": 10**6}, "priority"),
    ],
)
def test_bad_cells_are_400s_naming_the_field(world, alice, body, field):
    body = {"plan": "northwind", "priority": world.p4.pk, **body}
    response = api_as(user=alice).post(reverse("prioritymatrixcell-list"), body, format="json")
    assert field in _fields(response)
    assert PriorityMatrixCell.objects.get(plan=world.plan, impact="high", urgency="high").priority == world.p1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "p2"}, "code"),
        ({"code": "P-TWELVE-CHARS"}, "code"),
        ({"rank": 0}, "rank"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_priorities_are_400s_naming_the_field(world, alice, body, field):
    body = {"plan": "northwind", "code": "P5", "name": "Planning", **body}
    response = api_as(user=alice).post(reverse("priority-list"), body, format="json")
    assert field in _fields(response)
    assert Priority.objects.filter(plan=world.plan).count() == 4


# --- Query counts ---------------------------------------------------------------------------
def test_the_target_list_costs_the_same_for_one_target_or_many(world, alice, django_assert_max_num_queries):
    client = api_as(user=alice)
    with django_assert_max_num_queries(10) as one:
        client.get(reverse("slatarget-list"), {"plan": "northwind"})
    for priority in (world.p2, world.p3, world.p4):
        services.sla_target_create(
            policy=world.steady_state,
            priority=priority,
            metric="resolution",
            minutes=600,
            calendar=world.office_hours,
            escalation_steps=example_ladder(world),
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("slatarget-list"), {"plan": "northwind"})
    assert response.json()["count"] == 4


def test_the_step_list_costs_the_same_for_few_or_many_steps(world, alice, django_assert_max_num_queries):
    client = api_as(user=alice)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("escalationstep-list"))
    services.sla_target_create(
        policy=world.steady_state,
        priority=world.p2,
        metric="resolution",
        minutes=600,
        calendar=world.office_hours,
        escalation_steps=example_ladder(world),
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("escalationstep-list")).json()["count"] == 6
