"""Hypercare: exit metrics computed from support requests and SLA clocks (thresholds at their edges),
starting through the gate, and ending it, which switches the SLA policy in force."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from operations import sla_services
from operations.models import SlaClock, SupportRequest
from operations.selectors import policy_in_force
from scope.readiness_models import HypercarePlan, ReadinessItem, ReadinessStatus
from scope.readiness_selectors import hypercare_metrics
from scope.readiness_services import hypercare_end, hypercare_start
from supportplan.models import AuditEntry
from tests.conftest import api_as
from tests.operations.sla_fixtures import build_sla_world
from tests.scope.readiness_fixtures import GO_LIVE, complete_hypercare, seeded, target_with_ladder

STARTED = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(plan):
    seeded(plan)
    world = build_sla_world(plan)  # hypercare policy 1 Apr – 30 Jun 2027, steady state from 1 Jan 2027
    world.target = target_with_ladder(world.hypercare, world.p1, world.round_the_clock)
    return world


@pytest.fixture
def hypercare(world):
    return complete_hypercare(world.plan, started_at=STARTED, starts_on=GO_LIVE)


def request_for(world, priority, *, status="in_progress", reported=STARTED + timedelta(hours=1), **fields):
    return SupportRequest.objects.create(
        plan=world.plan,
        title="Invoice fails",
        priority=priority,
        status=status,
        reported_at=reported,
        **fields,
    )


def clocks(world, request, *, met: int, breached: int) -> None:
    """``met`` clocks met in time and ``breached`` clocks that breached, as cycles of one request."""
    common = {
        "plan": world.plan,
        "request": request,
        "target": world.target,
        "metric": "resolution",
        "calendar": world.round_the_clock,
        "target_seconds": 14400,
        "started_at": STARTED,
        "computed_at": STARTED,
    }
    rows = [SlaClock(cycle=i, state="met", stopped_at=STARTED, **common) for i in range(met)]
    rows += [
        SlaClock(cycle=met + i, state="breached", breached_at=STARTED + timedelta(hours=4), **common)
        for i in range(breached)
    ]
    SlaClock.objects.bulk_create(rows)


def criterion(world, hypercare, key: str):
    metrics = hypercare_metrics(plan=world.plan, hypercare=hypercare)
    return next(c for c in metrics.criteria if c.key == key)


# --- Exit metrics ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("met", "breached", "figure", "is_met"),
    [
        (899, 101, "89.9 % (899 met of 1000)", False),
        (8999, 1001, "89.9 % (8999 met of 10000)", False),  # 89.99 %: shown rounded down, still not met
        (9, 1, "90.0 % (9 met of 10)", True),
        (12, 0, "100.0 % (12 met of 12)", True),
    ],
    ids=["89.9", "89.99", "exactly-90", "100"],
)
def test_p1_and_p2_sla_targets_must_be_met_at_least_ninety_percent(
    world, hypercare, met, breached, figure, is_met
):
    clocks(world, request_for(world, world.p1), met=met, breached=breached)
    result = criterion(world, hypercare, "p1_p2_sla_met")
    assert (result.figure, result.met) == (figure, is_met)


def test_p3_clocks_and_requests_from_before_hypercare_do_not_count(world, hypercare):
    clocks(world, request_for(world, world.p1), met=9, breached=1)
    clocks(world, request_for(world, world.p3), met=0, breached=5)
    clocks(world, request_for(world, world.p2, reported=STARTED - timedelta(days=1)), met=0, breached=5)
    assert criterion(world, hypercare, "p1_p2_sla_met").figure == "90.0 % (9 met of 10)"


def test_a_clock_met_after_breaching_counts_as_breached(world, hypercare):
    request = request_for(world, world.p2)
    clocks(world, request, met=10, breached=0)
    SlaClock.objects.filter(request=request, cycle__in=[0, 1]).update(
        breached_at=STARTED + timedelta(hours=5)
    )
    assert criterion(world, hypercare, "p1_p2_sla_met").figure == "80.0 % (8 met of 10)"


def test_without_decided_clocks_the_sla_criterion_is_not_met(world, hypercare):
    result = criterion(world, hypercare, "p1_p2_sla_met")
    assert (result.met, result.figure) == (False, "no decided P1/P2 clock yet")


@pytest.mark.parametrize(
    ("without", "needed", "is_met"), [(19, 1, True), (18, 1, False), (20, 0, True)], ids=["95", "94.7", "100"]
)
def test_ninety_five_percent_must_be_resolved_without_hypercare_only_resources(
    world, hypercare, without, needed, is_met
):
    for index in range(without + needed):
        request_for(
            world, world.p3, status="resolved", resolved_at=STARTED + timedelta(days=1),
            needed_hypercare_resources=index >= without,
        )  # fmt: skip
    request_for(world, world.p3, status="in_progress", needed_hypercare_resources=True)  # not resolved yet
    assert criterion(world, hypercare, "resolved_without_hypercare").met is is_met


def test_an_open_p1_without_an_action_plan_fails_the_exit(world, hypercare):
    request_for(world, world.p1, status="resolved")  # resolved: fine
    request_for(world, world.p1, has_action_plan=True)  # open, with a plan: fine
    request_for(world, world.p2)  # not a P1
    assert criterion(world, hypercare, "open_p1_without_action_plan").met
    request_for(world, world.p1, status="awaiting_vendor")
    result = criterion(world, hypercare, "open_p1_without_action_plan")
    assert (result.met, result.figure) == (False, "1 open P1 without an action plan")


def test_key_processes_are_a_persons_confirmation(world, hypercare):
    assert not criterion(world, hypercare, "key_processes_working").met
    hypercare.key_processes_working = True
    assert criterion(world, hypercare, "key_processes_working").met


# --- Start and end --------------------------------------------------------------------------
def open_the_gate(plan) -> None:
    ReadinessItem.objects.filter(plan=plan).update(status=ReadinessStatus.DONE)


def test_starting_hypercare_sets_the_plans_window_and_the_hypercare_policy_applies(world, bob):
    open_the_gate(world.plan)
    complete_hypercare(world.plan, planned_end=date(2027, 5, 31))
    hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)
    world.plan.refresh_from_db()
    assert (world.plan.hypercare_start, world.plan.hypercare_end) == (GO_LIVE, date(2027, 5, 31))
    assert policy_in_force(plan=world.plan, day=date(2027, 4, 2)) == world.hypercare
    with pytest.raises(ValidationError, match="Hypercare started on"):
        hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)


@time_machine.travel("2027-05-15 10:00Z", tick=False)
def test_ending_hypercare_puts_the_steady_state_policy_in_force_from_today(world, bob):
    open_the_gate(world.plan)
    complete_hypercare(world.plan)
    hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)
    assert policy_in_force(plan=world.plan, day=date(2027, 5, 15)) == world.hypercare

    ended = hypercare_end(plan=world.plan, actor=bob, note="Exit criteria met two weeks early.")

    world.plan.refresh_from_db()
    world.hypercare.refresh_from_db()
    assert world.plan.hypercare_end == date(2027, 5, 14)
    assert world.hypercare.valid_to == date(2027, 5, 14)
    assert policy_in_force(plan=world.plan, day=date(2027, 5, 15)) == world.steady_state
    assert policy_in_force(plan=world.plan, day=date(2027, 5, 14)) == world.hypercare
    assert (ended.ended_by, ended.end_note) == (bob, "Exit criteria met two weeks early.")
    entries = AuditEntry.objects.filter(content_type__model="hypercareplan", object_pk=str(ended.pk))
    assert any("ended_at" in (entry.changes or {}) for entry in entries)
    assert AuditEntry.objects.filter(
        content_type__model="slapolicy", object_pk=str(world.hypercare.pk)
    ).exists()


@time_machine.travel("2027-05-15 10:00Z", tick=False)
def test_ending_early_brings_a_later_steady_state_policy_forward_to_today(world, bob):
    sla_services.sla_policy_update(policy=world.steady_state, valid_from=date(2027, 7, 1))
    open_the_gate(world.plan)
    complete_hypercare(world.plan)
    hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)
    hypercare_end(plan=world.plan, actor=bob)
    world.steady_state.refresh_from_db()
    assert world.steady_state.valid_from == date(2027, 5, 15)
    assert policy_in_force(plan=world.plan, day=date(2027, 5, 15)) == world.steady_state


@time_machine.travel("2027-05-15 10:00Z", tick=False)
def test_hypercare_cannot_end_without_a_steady_state_policy_to_switch_to(world, bob):
    open_the_gate(world.plan)
    complete_hypercare(world.plan)
    hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)
    world.steady_state.delete()
    with pytest.raises(ValidationError, match="No steady-state SLA policy"):
        hypercare_end(plan=world.plan, actor=bob)
    assert HypercarePlan.objects.get(plan=world.plan).ended_at is None
    world.hypercare.refresh_from_db()
    assert world.hypercare.valid_to == date(2027, 6, 30)


def test_hypercare_that_has_not_started_cannot_end(world, bob):
    with pytest.raises(ValidationError, match="has not started"):
        hypercare_end(plan=world.plan, actor=bob, today=date(2027, 5, 15))


@time_machine.travel("2027-05-15 10:00Z", tick=False)
def test_the_api_ends_hypercare_and_answers_with_the_metrics(world, bob, victor):
    open_the_gate(world.plan)
    complete_hypercare(world.plan)
    hypercare_start(plan=world.plan, actor=bob, today=GO_LIVE)
    clocks(world, request_for(world, world.p1, reported=datetime(2027, 5, 1, tzinfo=UTC)), met=9, breached=1)

    assert api_as(victor).post("/api/v1/hypercare/northwind/end/", {}, format="json").status_code == 403
    response = api_as(bob).post("/api/v1/hypercare/northwind/end/", {"note": "Done"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ended_by"] == "bob" and body["end_note"] == "Done"
    sla = next(c for c in body["metrics"]["criteria"] if c["key"] == "p1_p2_sla_met")
    assert sla == {"key": "p1_p2_sla_met", "label": "At least 90 % of P1 and P2 SLA targets met", "met": True,
                   "figure": "90.0 % (9 met of 10)"}  # fmt: skip
    again = api_as(bob).post("/api/v1/hypercare/northwind/end/", {}, format="json")
    assert again.status_code == 400
