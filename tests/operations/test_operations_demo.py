"""The demo's service hours and SLAs: built once, converging on a second run, and showing the gaps."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from models_catalog.demo import seed_support_model
from operations.breach import breach_calculate
from operations.demo import seed_operations_demo
from operations.gaps import plan_gaps
from operations.models import (
    CalendarEvent,
    CalendarHoliday,
    EscalationStep,
    ExtraOpenPeriod,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
)
from supportplan.models import Location
from tests.operations.breach_fixtures import *  # noqa: F403

LONDON = ZoneInfo("Europe/London")
LOCATIONS = [
    # as manage.py seed_demo creates them: name, country, subdivision, zone, languages, users
    ("Head office, Manchester", "GB", "ENG", "Europe/London", ["en"], 560),
    ("Distribution centre, Duisburg", "DE", "NW", "Europe/Berlin", ["de", "en"], 190),
    ("Sales office, Lyon", "FR", "ARA", "Europe/Paris", ["fr", "en"], 140),
    ("Warehouse, Venlo", "NL", "LI", "Europe/Amsterdam", ["nl", "de", "en"], 110),
]


def counts(plan) -> dict[str, int]:
    return {
        "calendars": ServiceCalendar.objects.filter(plan=plan).count(),
        "holidays": CalendarHoliday.objects.filter(calendar__plan=plan).count(),
        "extra periods": ExtraOpenPeriod.objects.filter(calendar__plan=plan).count(),
        "events": CalendarEvent.objects.filter(plan=plan).count(),
        "priorities": Priority.objects.filter(plan=plan).count(),
        "matrix cells": PriorityMatrixCell.objects.filter(plan=plan).count(),
        "policies": SlaPolicy.objects.filter(plan=plan).count(),
        "targets": SlaTarget.objects.filter(policy__plan=plan).count(),
        "escalation steps": EscalationStep.objects.filter(target__policy__plan=plan).count(),
    }


@pytest.fixture
def demo_plan(plan):
    with time_machine.travel("2027-01-15 10:00Z", tick=False):
        plan.go_live_date = plan.hypercare_start = date(2027, 11, 1)
        plan.hypercare_end = date(2027, 12, 26)
        plan.save()
        for name, country, subdivision, zone, languages, users in LOCATIONS:
            Location.objects.create(
                plan=plan,
                name=name,
                country=country,
                subdivision=subdivision,
                timezone=zone,
                languages=languages,
                user_count=users,
            )
        seed_support_model(plan=plan)
        seed_operations_demo(plan=plan)
        yield plan


def test_the_demo_creates_calendars_priorities_policies_and_a_ladder_once(demo_plan):
    assert {key: value for key, value in counts(demo_plan).items() if key != "holidays"} == {
        "calendars": 6,
        "extra periods": 12,
        "events": 12,
        "priorities": 4,
        "matrix cells": 9,
        "policies": 2,
        "targets": 17,  # 8 per policy, and the service desk's 24×7 P1 pick-up in hypercare
        "escalation steps": 6,  # three on each policy's P1 resolution
    }
    before = counts(demo_plan)
    with time_machine.travel("2027-01-15 10:00Z", tick=False):
        seed_operations_demo(plan=demo_plan)
    assert counts(demo_plan) == before, "a second run changes nothing"


def test_the_calendars_hold_real_holidays_with_their_source_and_a_period_end_each_month(demo_plan):
    uk = ServiceCalendar.objects.get(plan=demo_plan, name="UK office hours")
    assert (uk.holiday_country, uk.holiday_subdivision, uk.timezone) == ("GB", "ENG", "Europe/London")
    boxing_day = uk.holidays.get(date=date(2027, 12, 28))
    assert boxing_day.name == "Boxing Day (observed)"
    assert boxing_day.source == "imported" and boxing_day.source_detail.startswith("holidays ")
    assert boxing_day.source_detail.endswith(" GB-ENG")
    assert uk.holidays.filter(date__year=2028).exists()
    germany = ServiceCalendar.objects.get(plan=demo_plan, name="DE office hours")
    assert germany.holidays.filter(date=date(2027, 5, 27), name="Corpus Christi").exists()  # NW only
    assert [location.name for location in germany.locations.all()] == ["Distribution centre, Duisburg"]
    assert ServiceCalendar.objects.get(plan=demo_plan, name="EU P1 24×7 cover").is_24x7

    # Each period-end runs from 18:00 on the last working day to 02:00 on the first, head-office time.
    events = list(CalendarEvent.objects.filter(plan=demo_plan).order_by("starts_at"))
    january = events[0]
    assert january.name == "Period-end close January 2027"
    assert january.starts_at.isoformat() == "2027-01-29T18:00:00+00:00"  # Friday 29 January
    assert january.ends_at.isoformat() == "2027-02-01T02:00:00+00:00"
    april = next(event for event in events if event.name == "Period-end close April 2027")
    assert april.starts_at.isoformat() == "2027-04-30T17:00:00+00:00"  # 18:00 BST
    assert events[-1].name == "Period-end close December 2027"
    assert all(
        event.required_service_level and event.calendar.name == "Period-end extended hours"
        for event in events
    )


def test_the_policies_follow_the_hypercare_window(demo_plan):
    hypercare = SlaPolicy.objects.get(plan=demo_plan, phase="hypercare")
    steady = SlaPolicy.objects.get(plan=demo_plan, phase="steady_state")
    assert (hypercare.valid_from, hypercare.valid_to) == (date(2027, 11, 1), date(2027, 12, 26))
    assert (steady.valid_from, steady.valid_to) == (date(2027, 12, 27), None)
    p1 = steady.targets.get(priority__code="P1", metric="resolution")
    assert p1.calendar.name == "EU P1 24×7 cover"
    ladder = list(p1.escalation_steps.order_by("position"))
    assert [(step.trigger, step.action) for step in ladder] == [
        ("percent", "notify_role"),
        ("breach", "notify_party"),
        ("after_breach", "notify_level_contact"),
    ]
    assert ladder[0].percent == 75 and ladder[0].role.seed_key == "support_manager"
    assert ladder[1].party.name == "Contoso Consulting"
    assert (ladder[2].minutes_after_breach, ladder[2].repeat_every_minutes, ladder[2].max_repeats) == (
        30,
        60,
        3,
    )


def test_the_demo_shows_the_gap_checks_at_work(demo_plan, bob):
    with time_machine.travel("2027-01-15 10:00Z", tick=False):
        codes = [gap.code for gap in plan_gaps(user=bob, plan=demo_plan)]
    assert codes.count("round_the_clock_target_without_round_the_clock_team") == 1
    assert codes.count("agreement_slower_than_sla") == 2  # Contoso's P2 resolution, in both policies
    assert codes.count("location_holiday_is_team_working_day") >= 3
    assert "priority_without_target" not in codes


def test_the_calculator_answers_for_a_p2_on_the_demo(demo_plan):
    manchester = Location.objects.get(plan=demo_plan, name="Head office, Manchester")
    result = breach_calculate(
        plan=demo_plan, start=datetime(2028, 1, 7, 15, 0, tzinfo=LONDON), priority="P2", location=manchester
    )
    resolution = result.targets[-1]
    # 16 business hours on 08:00–18:00 from Friday 15:00: Friday 3 h, Monday 10 h, Tuesday 08:00–11:00.
    assert resolution.deadline_local == datetime(2028, 1, 11, 11, 0, tzinfo=LONDON)
