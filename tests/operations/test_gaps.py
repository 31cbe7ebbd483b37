"""The gap checks, each with a case that fires and one that does not. “Today” is 1 April 2027."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from models_catalog.models import Agreement, AgreementCommitment, Party, SupportLevel
from operations.gaps import (
    gap_agreement_slower_than_sla,
    gap_location_holiday_is_team_working_day,
    gap_priority_without_target,
    gap_round_the_clock_target_without_round_the_clock_team,
    is_round_the_clock,
    plan_gaps,
)
from operations.models import SlaMetric, SlaPhase, SlaPolicy
from tests.factories import LocationFactory
from tests.operations.breach_fixtures import *  # noqa: F403
from tests.operations.breach_fixtures import make_calendar, make_target


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2027-04-01 12:00Z", tick=False):
        yield


def messages(gaps) -> list[str]:
    return [gap.message for gap in gaps]


# --- 1. Round-the-clock target, office-hours team -------------------------------------------
def test_a_24x7_target_with_only_an_office_hours_team_is_a_gap(steady_state, service_desk, uk_hours):
    uk_hours.parties.add(service_desk)
    gaps = gap_round_the_clock_target_without_round_the_clock_team(plan=steady_state.plan)
    assert messages(gaps) == [
        "P1 first response in “Steady state” runs round the clock on “EU P1 24×7 cover”, but no party "
        "filling any support level works round the clock: "
        "Northwind IT Service Desk works “UK office hours” only.",
        "P1 resolution in “Steady state” runs round the clock on “EU P1 24×7 cover”, but no party "
        "filling any support level works round the clock: "
        "Northwind IT Service Desk works “UK office hours” only.",
    ]
    assert {gap.severity for gap in gaps} == {"high"}
    assert gaps[0].ids("party") == [service_desk.pk]


def test_it_says_when_a_party_has_no_calendar_at_all(steady_state, service_desk):
    gaps = gap_round_the_clock_target_without_round_the_clock_team(plan=steady_state.plan)
    assert gaps[0].message.endswith("Northwind IT Service Desk has no service calendar at all.")


def test_it_says_when_nobody_fills_the_level(steady_state):
    gaps = gap_round_the_clock_target_without_round_the_clock_team(plan=steady_state.plan)
    assert gaps[0].message.endswith("but no party fills any support level.")


def test_a_24x7_target_with_a_round_the_clock_party_is_no_gap(
    steady_state, service_desk, berlin_round_the_clock
):
    berlin_round_the_clock.parties.add(service_desk)
    assert gap_round_the_clock_target_without_round_the_clock_team(plan=steady_state.plan) == []


def test_a_per_level_target_looks_only_at_that_levels_parties(
    plan, steady_state, priorities, service_desk, berlin_round_the_clock
):
    partner = Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")
    SupportLevel.objects.create(plan=plan, number=4, name="Partner").parties.add(partner)
    berlin_round_the_clock.parties.add(partner)
    level_2 = SupportLevel.objects.get(plan=plan, number=2)
    make_target(
        steady_state,
        priorities["P1"],
        SlaMetric.NEXT_UPDATE,
        60,
        berlin_round_the_clock,
        support_level=level_2,
    )
    gaps = gap_round_the_clock_target_without_round_the_clock_team(plan=plan)
    assert messages(gaps) == [
        "P1 next update at level 2 in “Steady state” runs round the clock on “EU P1 24×7 cover”, but no "
        "party filling level 2 works round the clock: "
        "Northwind IT Service Desk has no service calendar at all."
    ]


def test_two_twelve_hour_shifts_a_day_are_round_the_clock_and_a_missing_hour_is_not(plan):
    shifts = {str(day): [["00:00", "12:00"], ["12:00", "00:00"]] for day in range(7)}
    assert is_round_the_clock(make_calendar(plan, "Two shifts", windows=shifts))
    night_off = {**shifts, "6": [["00:00", "23:00"]]}
    assert not is_round_the_clock(make_calendar(plan, "Sunday night off", windows=night_off))


def test_targets_of_a_policy_that_has_ended_are_ignored(steady_state, service_desk):
    steady_state.valid_to = date(2027, 3, 31)
    steady_state.save()
    assert gap_round_the_clock_target_without_round_the_clock_team(plan=steady_state.plan) == []


# --- 2. Agreement slower than the SLA -------------------------------------------------------
def test_an_underpinning_contract_slower_than_the_target_is_a_gap_naming_both_figures(
    steady_state, service_desk
):
    agreement = Agreement.objects.get(name="Service desk delivery")
    steady_state.targets.filter(priority__code="P2", metric=SlaMetric.RESOLUTION).update(
        underpinning_agreement=agreement
    )
    gaps = gap_agreement_slower_than_sla(plan=steady_state.plan)
    assert messages(gaps) == [
        "“Service desk delivery” (Northwind IT Service Desk) commits to resolve P2 within 24 h (1,440 min), "
        "but the SLA target it underpins, P2 resolution in “Steady state”, allows 8 h (480 min)."
    ]
    assert gaps[0].ids("agreement") == [agreement.pk]


def test_a_per_level_target_is_compared_with_the_agreements_of_that_levels_parties(
    plan, steady_state, priorities, service_desk, uk_hours
):
    level_2 = SupportLevel.objects.get(plan=plan, number=2)
    make_target(steady_state, priorities["P2"], SlaMetric.FIRST_RESPONSE, 20, uk_hours, support_level=level_2)
    gaps = gap_agreement_slower_than_sla(plan=plan)
    assert messages(gaps) == [
        "“Service desk delivery” (Northwind IT Service Desk) commits to respond to P2 within 30 min, but the "
        "SLA target it underpins, P2 first response at level 2 in “Steady state”, allows 20 min."
    ]


def test_a_business_hours_commitment_under_a_24x7_clock_says_so(plan, steady_state, service_desk):
    agreement = Agreement.objects.get(name="Service desk delivery")
    AgreementCommitment.objects.create(agreement=agreement, priority="P1", resolution_minutes=480)
    steady_state.targets.filter(priority__code="P1", metric=SlaMetric.RESOLUTION).update(
        underpinning_agreement=agreement
    )
    [gap] = gap_agreement_slower_than_sla(plan=plan)
    assert gap.message.endswith(
        "Worse: the agreement counts business hours only; the SLA clock runs round the clock."
    )


def test_a_contract_as_fast_as_the_target_is_no_gap(steady_state, service_desk):
    agreement = Agreement.objects.get(name="Service desk delivery")
    agreement.commitments.update(resolution_minutes=480)
    steady_state.targets.filter(priority__code="P2").update(underpinning_agreement=agreement)
    assert gap_agreement_slower_than_sla(plan=steady_state.plan) == []


def test_a_generic_target_without_an_underpinning_agreement_is_not_compared(steady_state, service_desk):
    assert gap_agreement_slower_than_sla(plan=steady_state.plan) == []


def test_an_agreement_that_has_ended_is_ignored(steady_state, service_desk):
    agreement = Agreement.objects.get(name="Service desk delivery")
    Agreement.objects.filter(pk=agreement.pk).update(ends_on=date(2027, 1, 31))
    steady_state.targets.filter(priority__code="P2").update(underpinning_agreement=agreement)
    assert gap_agreement_slower_than_sla(plan=steady_state.plan) == []


# --- 3. Holidays that differ between a location and its team ---------------------------------
DE_HOLIDAYS = [
    (date(2027, 3, 26), "Good Friday"),  # before today: ignored
    (date(2027, 5, 6), "Ascension Day"),
    (date(2027, 5, 27), "Corpus Christi"),
    (date(2027, 12, 25), "Christmas Day"),  # a Saturday: no working day lost
    (date(2028, 5, 25), "Ascension Day"),  # more than 12 months ahead: ignored
]


@pytest.fixture
def duisburg(plan):
    return LocationFactory(
        plan=plan, name="Duisburg", country="DE", subdivision="NW", timezone="Europe/Berlin"
    )


@pytest.fixture
def uk_team(uk_hours, service_desk):
    uk_hours.parties.add(service_desk)
    return uk_hours


def test_holidays_that_differ_from_the_teams_are_gaps_both_ways(plan, duisburg, uk_team):
    make_calendar(
        plan, "DE office hours", timezone="Europe/Berlin", holidays=DE_HOLIDAYS, locations=[duisburg]
    )
    gaps = gap_location_holiday_is_team_working_day(plan=plan)
    assert [(gap.severity, gap.message) for gap in gaps] == [
        (
            "medium",
            "“UK office hours”, which serves Duisburg, is off on 4 working days in the next 12 months when "
            "Duisburg works (“DE office hours”): 3 May 2027 (May Day), 31 May 2027 (Spring Bank Holiday), "
            "27 December 2027 (Christmas Day (observed)), 28 December 2027 (Boxing Day (observed)).",
        ),
        (
            "low",
            "Duisburg (“DE office hours”) is off on 2 working days in the next 12 months when "
            "“UK office hours”, which serves it, works: "
            "6 May 2027 (Ascension Day), 27 May 2027 (Corpus Christi).",
        ),
    ]
    assert gaps[0].ids("location") == [duisburg.pk]


def test_the_same_holidays_on_both_sides_are_no_gap(plan, duisburg, uk_team):
    from tests.operations.breach_fixtures import UK_BANK_HOLIDAYS

    make_calendar(
        plan, "DE office hours", timezone="Europe/Berlin", holidays=UK_BANK_HOLIDAYS, locations=[duisburg]
    )
    assert gap_location_holiday_is_team_working_day(plan=plan) == []


def test_a_calendar_that_serves_no_location_and_no_level_is_not_compared(plan, duisburg, uk_hours):
    # uk_hours is linked to the London location only, and no party filling a level works it.
    make_calendar(
        plan, "DE office hours", timezone="Europe/Berlin", holidays=DE_HOLIDAYS, locations=[duisburg]
    )
    assert gap_location_holiday_is_team_working_day(plan=plan) == []


def test_a_round_the_clock_calendar_serving_a_location_is_open_on_holidays_by_design(
    plan, duisburg, service_desk, berlin_round_the_clock
):
    berlin_round_the_clock.parties.add(service_desk)
    make_calendar(
        plan, "DE office hours", timezone="Europe/Berlin", holidays=DE_HOLIDAYS, locations=[duisburg]
    )
    assert gap_location_holiday_is_team_working_day(plan=plan) == []


# --- 4. Priorities without a target ---------------------------------------------------------
def test_a_priority_without_a_target_in_the_policy_in_force_today_is_a_high_gap(steady_state):
    gaps = gap_priority_without_target(plan=steady_state.plan)
    assert [(gap.severity, gap.message) for gap in gaps] == [
        (
            "high",
            "P4 Low has no target in “Steady state” (the policy in force today): requests of this "
            "priority run on no clock.",
        )
    ]


def test_a_priority_without_a_target_in_a_later_policy_is_a_medium_gap(
    plan, steady_state, priorities, uk_hours
):
    make_target(steady_state, priorities["P4"], SlaMetric.RESOLUTION, 2400, uk_hours)
    hypercare = SlaPolicy.objects.create(
        plan=plan,
        name="Hypercare",
        phase=SlaPhase.HYPERCARE,
        valid_from=date(2027, 9, 1),
        valid_to=date(2027, 10, 31),
    )
    for code in ("P1", "P2", "P3"):
        make_target(hypercare, priorities[code], SlaMetric.RESOLUTION, 240, uk_hours)
    assert [(gap.severity, gap.message) for gap in gap_priority_without_target(plan=plan)] == [
        (
            "medium",
            "P4 Low has no target in “Hypercare” (from 1 September 2027): requests of this priority run "
            "on no clock.",
        )
    ]


def test_every_priority_with_a_target_is_no_gap(steady_state, priorities, uk_hours):
    make_target(steady_state, priorities["P4"], SlaMetric.RESOLUTION, 2400, uk_hours)
    assert gap_priority_without_target(plan=steady_state.plan) == []


def test_a_live_plan_with_no_policy_in_force_today_is_a_high_gap(plan, steady_state, priorities, uk_hours):
    make_target(steady_state, priorities["P4"], SlaMetric.RESOLUTION, 2400, uk_hours)
    steady_state.valid_from = date(2027, 5, 1)
    steady_state.save()
    plan.go_live_date = date(2027, 3, 1)
    plan.save()
    assert messages(gap_priority_without_target(plan=plan)) == [
        "No SLA policy is in force today, so no priority (P1, P2, P3, P4) has a target. The next, “Steady "
        "state”, starts on 1 May 2027."
    ]


def test_before_go_live_a_policy_that_starts_later_is_no_gap(plan, steady_state, priorities, uk_hours):
    make_target(steady_state, priorities["P4"], SlaMetric.RESOLUTION, 2400, uk_hours)
    steady_state.valid_from = date(2027, 5, 1)
    steady_state.save()
    plan.go_live_date = date(2027, 5, 1)
    plan.save()
    assert gap_priority_without_target(plan=plan) == []


def test_priorities_with_no_policy_at_all_are_a_gap(plan, priorities):
    assert messages(gap_priority_without_target(plan=plan)) == [
        "No SLA policy is in force today, so no priority (P1, P2, P3, P4) has a target."
    ]


# --- All of them ----------------------------------------------------------------------------
def test_plan_gaps_lists_every_check_most_severe_first(bob, steady_state, service_desk):
    gaps = plan_gaps(user=bob, plan=steady_state.plan)
    assert [gap.severity for gap in gaps] == ["high", "high", "high"]
    assert {gap.code for gap in gaps} == {
        "round_the_clock_target_without_round_the_clock_team",
        "priority_without_target",
    }


def test_a_partner_may_not_read_the_gaps(carol, plan):
    with pytest.raises(PermissionDenied):
        plan_gaps(user=carol, plan=plan)


def test_another_plans_lead_does_not_find_the_plan(dave, plan):
    with pytest.raises(Http404):
        plan_gaps(user=dave, plan=plan)


def test_plan_gaps_costs_the_same_queries_however_much_there_is(
    bob, plan, steady_state, priorities, service_desk, uk_team, duisburg, berlin_round_the_clock
):
    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            plan_gaps(user=bob, plan=plan)
        return len(context.captured_queries)

    def add_team(number: int) -> None:
        """A level with a party, its slower contract, its calendar at a site, and two targets."""
        party = Party.objects.create(plan=plan, name=f"Party {number}", kind="partner")
        level = SupportLevel.objects.create(plan=plan, number=number, name=f"Level {number}")
        level.parties.add(party)
        agreement = Agreement.objects.create(
            plan=plan, party=party, name=f"Contract {number}", kind="contract_sla", starts_on=date(2027, 1, 1)
        )
        AgreementCommitment.objects.create(agreement=agreement, priority="P2", resolution_minutes=9999)
        site = LocationFactory(plan=plan, name=f"Site {number}", country="GB", timezone="Europe/London")
        make_calendar(plan, f"Hours {number}", holidays=DE_HOLIDAYS[1:3], parties=[party], locations=[site])
        p2 = priorities["P2"]
        make_target(steady_state, p2, SlaMetric.NEXT_UPDATE, 30, berlin_round_the_clock, support_level=level)
        make_target(steady_state, p2, SlaMetric.RESOLUTION, 60, uk_team, support_level=level)

    make_calendar(
        plan, "DE office hours", timezone="Europe/Berlin", holidays=DE_HOLIDAYS, locations=[duisburg]
    )
    add_team(3)
    count()  # bob's role in the plan is looked up once, then remembered for the request
    before = count()
    add_team(4)
    add_team(5)
    assert count() == before <= 18
