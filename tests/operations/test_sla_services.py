"""Priorities, the matrix, phase-aware SLA policies, targets and escalation ladders: the services."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from models_catalog.models import AgreementCommitment, SupportLevel
from operations import selectors
from operations import sla_services as services
from operations.models import EscalationStep, Priority, PriorityMatrixCell, SlaPolicy, SlaTarget
from tests.operations.sla_fixtures import (
    EXAMPLE_LADDER_SENTENCE,
    HYPERCARE_END,
    build_elsewhere,
    build_sla_world,
    example_ladder,
)


@pytest.fixture
def world(plan):
    return build_sla_world(plan)


@pytest.fixture
def elsewhere(other_plan):
    return build_elsewhere(other_plan)


def _target(world, **fields):
    defaults = {
        "policy": world.steady_state,
        "priority": world.p1,
        "metric": "first_response",
        "minutes": 30,
        "calendar": world.round_the_clock,
    }
    return services.sla_target_create(**{**defaults, **fields})


def _messages(error: pytest.ExceptionInfo, field: str) -> str:
    return " ".join(error.value.message_dict[field])


# --- Priorities and the matrix --------------------------------------------------------------
EXAMPLE_MATRIX = {
    ("high", "high"): "P1",
    ("high", "medium"): "P2",
    ("high", "low"): "P3",
    ("medium", "high"): "P2",
    ("medium", "medium"): "P3",
    ("medium", "low"): "P4",
    ("low", "high"): "P3",
    ("low", "medium"): "P4",
    ("low", "low"): "P4",
}


def test_seeding_gives_p1_to_p4_labelled_as_examples_and_a_full_matrix(plan):
    services.priorities_seed_defaults(plan=plan)
    priorities = list(Priority.objects.filter(plan=plan).order_by("rank"))
    assert [(p.code, p.rank) for p in priorities] == [("P1", 1), ("P2", 2), ("P3", 3), ("P4", 4)]
    assert all(p.definition.startswith(services.EXAMPLE_LABEL) for p in priorities)
    cells = PriorityMatrixCell.objects.filter(plan=plan).select_related("priority")
    assert {(cell.impact, cell.urgency): cell.priority.code for cell in cells} == EXAMPLE_MATRIX


def test_seeding_twice_changes_nothing_and_keeps_a_leads_edits(plan):
    services.priorities_seed_defaults(plan=plan)
    p1 = Priority.objects.get(plan=plan, code="P1")
    p2 = Priority.objects.get(plan=plan, code="P2")
    services.priority_update(priority=p1, name="Business down", definition="Ours now.")
    services.matrix_set_cell(plan=plan, impact="high", urgency="medium", priority=p1)

    services.priorities_seed_defaults(plan=plan)

    assert Priority.objects.filter(plan=plan).count() == 4
    assert PriorityMatrixCell.objects.filter(plan=plan).count() == 9
    p1.refresh_from_db()
    assert (p1.name, p1.definition) == ("Business down", "Ours now.")
    assert selectors.priority_for(plan=plan, impact="high", urgency="medium") == p1
    assert selectors.priority_for(plan=plan, impact="medium", urgency="high") == p2


def test_seeding_fills_only_what_is_missing(plan):
    services.priority_create(plan=plan, code="P1", name="Sev 1", rank=1)
    services.priorities_seed_defaults(plan=plan)
    assert Priority.objects.get(plan=plan, code="P1").name == "Sev 1"
    assert Priority.objects.filter(plan=plan).count() == 4


def test_a_priority_code_is_unique_in_a_plan_whatever_its_case(world):
    with pytest.raises(ValidationError) as error:
        services.priority_create(plan=world.plan, code="p1", name="Again")
    assert "already has a priority p1" in _messages(error, "code")


def test_another_plan_may_use_the_same_code(world, elsewhere):
    assert elsewhere.priority.code == world.p1.code


def test_a_rank_outside_1_to_99_is_refused(world):
    with pytest.raises(ValidationError) as error:
        services.priority_create(plan=world.plan, code="P0", name="Meltdown", rank=0)
    assert "from 1" in _messages(error, "rank")


def test_a_priority_used_by_a_target_cannot_be_removed(world):
    _target(world)
    with pytest.raises(ValidationError, match="P1 is used by 1 SLA target"):
        services.priority_delete(priority=world.p1)
    assert Priority.objects.filter(pk=world.p1.pk).exists()


def test_a_priority_used_by_the_matrix_cannot_be_removed_but_an_unused_one_can(world):
    with pytest.raises(ValidationError, match="P4 is used by the priority matrix"):
        services.priority_delete(priority=world.p4)
    p5 = services.priority_create(plan=world.plan, code="P5", name="Planning", rank=5)
    services.priority_delete(priority=p5)
    assert not Priority.objects.filter(pk=p5.pk).exists()


def test_a_new_priority_code_is_carried_over_to_the_agreements_commitments(world):
    AgreementCommitment.objects.create(agreement=world.partner_contract, priority="P1", response_minutes=30)
    services.priority_update(priority=world.p1, code="S1")
    assert list(world.partner_contract.commitments.values_list("priority", flat=True)) == ["S1"]


def test_a_new_code_an_agreement_already_commits_to_under_the_old_one_is_refused(world):
    AgreementCommitment.objects.create(agreement=world.partner_contract, priority="P1", response_minutes=30)
    AgreementCommitment.objects.create(agreement=world.partner_contract, priority="S1", response_minutes=20)
    with pytest.raises(ValidationError) as error:
        services.priority_update(priority=world.p1, code="S1")
    assert "“Partner support contract” already has a commitment for S1" in _messages(error, "code")
    world.p1.refresh_from_db()
    assert world.p1.code == "P1"


def test_setting_a_cell_replaces_its_priority(world):
    cell = services.matrix_set_cell(plan=world.plan, impact="low", urgency="low", priority=world.p3)
    assert cell.priority == world.p3
    assert PriorityMatrixCell.objects.filter(plan=world.plan).count() == 9
    assert selectors.priority_for(plan=world.plan, impact="low", urgency="low") == world.p3


def test_a_cell_with_an_unknown_impact_or_urgency_is_refused_per_field(world):
    with pytest.raises(ValidationError) as error:
        services.matrix_set_cell(plan=world.plan, impact="huge", urgency="soon", priority=world.p1)
    assert set(error.value.message_dict) == {"impact", "urgency"}


def test_a_cell_refuses_another_plans_priority(world, elsewhere):
    with pytest.raises(ValidationError) as error:
        services.matrix_set_cell(plan=world.plan, impact="high", urgency="high", priority=elsewhere.priority)
    assert "this plan" in _messages(error, "priority")
    assert selectors.priority_for(plan=world.plan, impact="high", urgency="high") == world.p1


@pytest.mark.parametrize(
    ("criticality", "impact"), [("critical", "high"), ("high", "high"), ("medium", "medium"), ("low", "low")]
)
def test_a_processs_criticality_suggests_an_impact(criticality, impact):
    assert services.priority_suggested_impact(criticality=criticality) == impact


def test_an_unknown_criticality_is_a_field_error():
    with pytest.raises(ValidationError) as error:
        services.priority_suggested_impact(criticality="vital")
    assert "criticality" in error.value.message_dict


# --- Policies -------------------------------------------------------------------------------
def test_a_policy_overlapping_another_of_its_phase_is_refused_naming_it(world):
    with pytest.raises(ValidationError) as error:
        services.sla_policy_create(
            plan=world.plan, name="Extended hypercare", phase="hypercare", valid_from=date(2027, 6, 1)
        )
    message = _messages(error, "valid_from")
    assert "“Hypercare” (1 Apr 2027 – 30 Jun 2027)" in message
    assert not SlaPolicy.objects.filter(name="Extended hypercare").exists()


def test_an_open_ended_policy_overlaps_every_later_one_of_its_phase(world):
    with pytest.raises(ValidationError, match="Steady state"):
        services.sla_policy_create(
            plan=world.plan,
            name="Steady state 2030",
            phase="steady_state",
            valid_from=date(2030, 1, 1),
            valid_to=date(2030, 12, 31),
        )


def test_policies_of_one_phase_may_follow_each_other_day_after_day(world):
    services.sla_policy_update(policy=world.steady_state, valid_to=date(2027, 12, 31))
    following = services.sla_policy_create(
        plan=world.plan, name="Steady state 2028", phase="steady_state", valid_from=date(2028, 1, 1)
    )
    assert following.pk


def test_policies_of_different_phases_may_overlap(world):
    # The steady-state policy is open-ended from January; hypercare sits inside it.
    assert world.hypercare.valid_from > world.steady_state.valid_from


def test_moving_a_policy_onto_another_of_its_phase_is_refused_and_a_policy_never_overlaps_itself(world):
    later = services.sla_policy_create(
        plan=world.plan, name="Second hypercare", phase="hypercare", valid_from=date(2028, 4, 1)
    )
    with pytest.raises(ValidationError, match="“Hypercare”"):
        services.sla_policy_update(policy=later, valid_from=date(2027, 6, 30))
    services.sla_policy_update(policy=world.hypercare, valid_to=date(2027, 7, 31), description="Extended")
    world.hypercare.refresh_from_db()
    assert world.hypercare.valid_to == date(2027, 7, 31)


def test_a_policy_cannot_end_before_it_starts(world):
    with pytest.raises(ValidationError) as error:
        services.sla_policy_update(policy=world.hypercare, valid_to=date(2027, 3, 1))
    assert "cannot end before it starts" in _messages(error, "valid_to")


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        (["awaiting_customer", "on_holiday"], "Unknown status(es): on_holiday"),
        (["awaiting_customer", "awaiting_customer"], "listed twice"),
        ("awaiting_customer", "as a list"),
        ([3], "as a list"),
    ],
)
def test_only_known_request_statuses_pause_a_clock(world, statuses, message):
    with pytest.raises(ValidationError) as error:
        services.sla_policy_update(policy=world.steady_state, pause_statuses=statuses)
    assert message in _messages(error, "pause_statuses")


def test_a_duplicate_policy_name_is_refused(world):
    with pytest.raises(ValidationError) as error:
        services.sla_policy_create(
            plan=world.plan, name="hypercare", phase="hypercare", valid_from=date(2029, 1, 1)
        )
    assert "name" in error.value.message_dict


@pytest.mark.parametrize(
    ("day", "phase", "policy"),
    [
        (date(2027, 3, 31), "steady_state", "Steady state"),  # the day before go-live
        (date(2027, 4, 1), "hypercare", "Hypercare"),  # hypercare's first day
        (date(2027, 6, 30), "hypercare", "Hypercare"),  # its last day
        (date(2027, 7, 1), "steady_state", "Steady state"),  # the day after
        (date(2026, 12, 31), "steady_state", None),  # before any policy
    ],
)
def test_the_policy_in_force_switches_with_the_hypercare_window(world, day, phase, policy):
    assert selectors.phase_on(plan=world.plan, day=day) == phase
    in_force = selectors.policy_in_force(plan=world.plan, day=day)
    assert (in_force.name if in_force else None) == policy


def test_a_hypercare_day_without_a_hypercare_policy_falls_back_to_the_steady_state_one(world):
    services.sla_policy_update(policy=world.hypercare, valid_to=date(2027, 5, 31))
    assert selectors.policy_in_force(plan=world.plan, day=HYPERCARE_END).name == "Steady state"


# --- Targets --------------------------------------------------------------------------------
def test_a_target_names_its_clock_calendar_level_and_underpinning_agreement(world):
    target = _target(
        world,
        metric="resolution",
        minutes=480,
        calendar=world.office_hours,
        request_type="incident",
        support_level=world.level_3,
        underpinning_agreement=world.partner_contract,
    )
    assert str(target) == "P1 Resolution: 480 min on UK office hours"
    assert target.underpinning_agreement == world.partner_contract


@pytest.mark.parametrize("field", ["priority", "calendar", "support_level", "underpinning_agreement"])
def test_a_target_refuses_anything_of_another_plan(world, elsewhere, field):
    from models_catalog.models import Agreement

    foreign = {
        "priority": elsewhere.priority,
        "calendar": elsewhere.calendar,
        "support_level": SupportLevel.objects.create(plan=elsewhere.plan, number=1, name="Desk"),
        "underpinning_agreement": Agreement.objects.create(
            plan=elsewhere.plan,
            party=elsewhere.party,
            name="Theirs",
            kind="contract_sla",
            starts_on=date(2027, 1, 1),
        ),
    }[field]
    with pytest.raises(ValidationError) as error:
        _target(world, **{field: foreign})
    assert "of this plan" in _messages(error, field)
    assert not SlaTarget.objects.exists()


@pytest.mark.parametrize("minutes", [0, 525_601])
def test_a_target_takes_1_to_525600_minutes(world, minutes):
    with pytest.raises(ValidationError) as error:
        _target(world, minutes=minutes)
    assert "from 1 to 525,600" in _messages(error, "minutes")


def test_a_policy_has_one_target_per_priority_metric_request_type_and_level(world):
    _target(world)
    with pytest.raises(ValidationError) as error:
        _target(world, minutes=60)
    assert "already has a P1 first response target for any request type at any level" in _messages(
        error, "metric"
    )
    _target(world, request_type="incident")
    _target(world, support_level=world.level_1)
    _target(world, policy=world.hypercare)
    assert SlaTarget.objects.count() == 4


# --- Escalation ladders ---------------------------------------------------------------------
def test_a_ladder_is_stored_in_order_and_reads_as_a_sentence(world):
    target = _target(world, escalation_steps=example_ladder(world))
    steps = list(target.escalation_steps.order_by("position"))
    assert [step.position for step in steps] == [0, 1, 2]
    assert services.escalation_ladder_sentence(steps) == EXAMPLE_LADDER_SENTENCE


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        ({"trigger": "percent", "percent": 0, "action": "raise_level"}, "percent", "between 1 and 100"),
        ({"trigger": "percent", "percent": 101, "action": "raise_level"}, "percent", "between 1 and 100"),
        ({"trigger": "percent", "action": "raise_level"}, "percent", "needs a percentage"),
        ({"trigger": "breach", "percent": 50, "action": "raise_level"}, "percent", "Only a step at a share"),
        ({"trigger": "after_breach", "action": "raise_level"}, "minutes_after_breach", "needs the minutes"),
        (
            {"trigger": "breach", "minutes_after_breach": 5, "action": "raise_level"},
            "minutes_after_breach",
            "Only",
        ),
        ({"trigger": "breach", "action": "notify_role"}, "role", "Name the role"),
        ({"trigger": "breach", "action": "notify_person"}, "person", "Name the person"),
        ({"trigger": "breach", "action": "notify_party"}, "party", "Name the party"),
        ({"trigger": "breach", "action": "raise_priority", "max_repeats": 11}, "max_repeats", "at most 10"),
        (
            {"trigger": "breach", "action": "raise_level", "max_repeats": 2},
            "repeat_every_minutes",
            "how often",
        ),
        (
            {"trigger": "breach", "action": "raise_level", "max_repeats": 2, "repeat_every_minutes": 4},
            "repeat_every_minutes",
            "every 5 to",
        ),
        (
            {"trigger": "breach", "action": "raise_level", "repeat_every_minutes": 30},
            "max_repeats",
            "how many",
        ),
        ({"trigger": "soon", "action": "raise_level"}, "trigger", "not a valid choice"),
        ({"trigger": "breach", "action": "shout"}, "action", "not a valid choice"),
    ],
)
def test_a_bad_step_is_refused_with_a_field_message(world, step, field, message):
    target = _target(world)
    with pytest.raises(ValidationError) as error:
        services.escalation_step_create(target=target, **step)
    assert message in _messages(error, field)
    assert not EscalationStep.objects.exists()


def test_a_step_names_the_recipient_its_action_needs_and_no_other(world):
    target = _target(world)
    with pytest.raises(ValidationError) as error:
        services.escalation_step_create(
            target=target, trigger="breach", action="raise_level", role=world.support_manager
        )
    assert "Only a step that notifies a role" in _messages(error, "role")


def test_a_step_refuses_a_recipient_of_another_plan(world, elsewhere):
    target = _target(world)
    with pytest.raises(ValidationError) as error:
        services.escalation_step_create(
            target=target, trigger="breach", action="notify_role", role=elsewhere.role
        )
    assert "of this plan" in _messages(error, "role")


def test_a_ladder_with_descending_percentages_is_refused_and_the_old_one_kept(world):
    target = _target(world, escalation_steps=example_ladder(world))
    steps = [
        {"trigger": "percent", "percent": 75, "action": "raise_level"},
        {"trigger": "percent", "percent": 50, "action": "raise_priority"},
    ]
    with pytest.raises(ValidationError) as error:
        services.escalation_ladder_replace(target=target, steps=steps)
    assert "Step 2 (at 50 % of the target) comes before step 1" in _messages(error, "escalation_steps")
    assert target.escalation_steps.count() == 3


def test_a_ladder_reports_each_bad_step_by_number(world):
    target = _target(world)
    steps = [
        {"trigger": "percent", "percent": 150, "action": "raise_level"},
        {"trigger": "breach", "action": "x"},
    ]
    with pytest.raises(ValidationError) as error:
        services.escalation_ladder_replace(target=target, steps=steps)
    messages = _messages(error, "escalation_steps")
    assert "Step 1 — percent: Give a percentage between 1 and 100." in messages
    assert "Step 2 — action:" in messages


def test_several_steps_may_share_a_moment(world):
    target = _target(world)
    steps = [
        {"trigger": "breach", "action": "raise_level"},
        {"trigger": "breach", "action": "notify_role", "role": world.support_manager},
    ]
    assert len(services.escalation_ladder_replace(target=target, steps=steps)) == 2


def test_a_target_with_a_bad_ladder_is_not_stored_at_all(world):
    with pytest.raises(ValidationError):
        _target(world, escalation_steps=[{"trigger": "percent", "percent": 101, "action": "raise_level"}])
    assert not SlaTarget.objects.exists()


def test_a_ladder_has_at_most_20_steps(world):
    target = _target(world)
    steps = [{"trigger": "breach", "action": "raise_level"}] * 21
    with pytest.raises(ValidationError, match="at most 20 steps"):
        services.escalation_ladder_replace(target=target, steps=steps)


def test_a_new_step_takes_its_place_in_time_on_the_ladder(world):
    target = _target(world, escalation_steps=example_ladder(world))
    services.escalation_step_create(
        target=target, trigger="percent", percent=50, action="notify_level_contact"
    )
    sentences = [
        services.escalation_step_sentence(step) for step in target.escalation_steps.order_by("position")
    ]
    assert sentences[:2] == [
        "At 50 % of the target: notify the contact of the level holding the request",
        "At 75 % of the target: notify the Support manager",
    ]


def test_changing_a_step_moves_it_and_removing_one_closes_the_gap(world):
    target = _target(world, escalation_steps=example_ladder(world))
    first = target.escalation_steps.get(position=0)
    services.escalation_step_update(
        step=first, percent=None, trigger="after_breach", minutes_after_breach=120
    )
    assert [s.trigger for s in target.escalation_steps.order_by("position")] == [
        "breach",
        "after_breach",
        "after_breach",
    ]
    assert target.escalation_steps.get(position=2).minutes_after_breach == 120
    services.escalation_step_delete(step=target.escalation_steps.get(position=0))
    assert list(target.escalation_steps.order_by("position").values_list("position", flat=True)) == [0, 1]


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"trigger": "breach", "action": "raise_priority"}, "At breach: raise the priority one step"),
        (
            {"trigger": "after_breach", "minutes_after_breach": 240, "action": "raise_level"},
            "4 h after breach: raise to the next support level",
        ),
        (
            {"trigger": "breach", "action": "raise_level", "max_repeats": 1, "repeat_every_minutes": 15},
            "At breach, then once more 15 min later: raise to the next support level",
        ),
    ],
)
def test_each_step_reads_as_a_sentence(world, fields, sentence):
    step = services.escalation_step_create(target=_target(world), **fields)
    assert services.escalation_step_sentence(step) == sentence


def test_a_person_is_notified_by_name(world):
    step = services.escalation_step_create(
        target=_target(world),
        trigger="percent",
        percent=90,
        action="notify_person",
        person=world.service_desk_lead,
    )
    assert services.escalation_step_sentence(step) == "At 90 % of the target: notify Priya Shah"


# --- Reads ----------------------------------------------------------------------------------
def _fill(world, policy, count: int) -> None:
    for priority in [world.p1, world.p2, world.p3, world.p4][:count]:
        for metric in ("first_response", "resolution"):
            _target(
                world, policy=policy, priority=priority, metric=metric, escalation_steps=example_ladder(world)
            )


def test_the_overview_costs_three_queries_however_many_targets_and_steps(
    world, alice, django_assert_num_queries
):
    _fill(world, world.hypercare, 1)
    with django_assert_num_queries(3):
        small = [(p, list(p.targets.all())) for p in services.sla_overview(user=alice, plan=world.plan)]
        [services.escalation_ladder_sentence(t.escalation_steps.all()) for _p, ts in small for t in ts]
    _fill(world, world.steady_state, 4)
    with django_assert_num_queries(3):
        policies = list(services.sla_overview(user=alice, plan=world.plan))
        sentences = [
            services.escalation_ladder_sentence(target.escalation_steps.all())
            for policy in policies
            for target in policy.targets.all()
        ]
    assert [policy.name for policy in policies] == ["Steady state", "Hypercare"]
    assert len(sentences) == 10
    assert sentences[0] == EXAMPLE_LADDER_SENTENCE


def test_the_overview_of_another_plan_is_empty(world, dave):
    assert list(services.sla_overview(user=dave, plan=world.plan)) == []


def test_a_partner_reads_the_overview(world, carol):
    assert len(services.sla_overview(user=carol, plan=world.plan)) == 2
