"""Fixtures for the breach calculator and gap checks: a UK office-hours calendar (Mon–Fri 09:00–17:30
Europe/London, with hand-entered 2026–2027 bank holidays), a 24×7 calendar in Berlin, P1–P4 with a
matrix that leaves low × low empty, and a steady-state policy (P4 has no targets on purpose).

Import the fixtures you use into a test module: ``from tests.operations.breach_fixtures import *``.
"""

from __future__ import annotations

from datetime import date

import pytest

from models_catalog.models import Agreement, AgreementCommitment, Party, SupportLevel
from operations import engine
from operations.models import (
    CalendarHoliday,
    HolidaySource,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaMetric,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
)
from tests.factories import LocationFactory

__all__ = [
    "_fresh_engine_cache",
    "berlin_round_the_clock",
    "london",
    "make_calendar",
    "make_target",
    "priorities",
    "service_desk",
    "steady_state",
    "uk_hours",
]

OFFICE_DAYS = {str(day): [["09:00", "17:30"]] for day in range(5)}
ROUND_THE_CLOCK = {str(day): [["00:00", "00:00"]] for day in range(7)}

UK_BANK_HOLIDAYS = [
    (date(2026, 4, 3), "Good Friday"),
    (date(2026, 4, 6), "Easter Monday"),
    (date(2027, 3, 26), "Good Friday"),
    (date(2027, 3, 29), "Easter Monday"),
    (date(2027, 5, 3), "May Day"),
    (date(2027, 5, 31), "Spring Bank Holiday"),
    (date(2027, 12, 25), "Christmas Day"),
    (date(2027, 12, 26), "Boxing Day"),
    (date(2027, 12, 27), "Christmas Day (observed)"),
    (date(2027, 12, 28), "Boxing Day (observed)"),
]


@pytest.fixture(autouse=True)
def _fresh_engine_cache():
    # The engine cache is keyed by (calendar id, updated_at); a rolled-back test can leave a key
    # that the next test's calendar reuses (same id on SQLite, same instant under a frozen clock).
    engine._build.cache_clear()
    yield
    engine._build.cache_clear()


def make_calendar(
    plan, name, *, timezone="Europe/London", windows=None, holidays=(), locations=(), parties=()
):
    calendar = ServiceCalendar.objects.create(
        plan=plan, name=name, timezone=timezone, weekly_windows=OFFICE_DAYS if windows is None else windows
    )
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(calendar=calendar, date=day, name=label, source=HolidaySource.CUSTOM)
        for day, label in holidays
    )
    calendar.locations.set(locations)
    calendar.parties.set(parties)
    calendar.save()  # bump updated_at after the holidays: the engine cache's key
    return calendar


def make_target(policy, priority, metric, minutes, calendar, **fields):
    return SlaTarget.objects.create(
        policy=policy, priority=priority, metric=metric, minutes=minutes, calendar=calendar, **fields
    )


@pytest.fixture
def london(plan):
    return LocationFactory(
        plan=plan, name="Head office, Manchester", country="GB", subdivision="ENG", timezone="Europe/London"
    )


@pytest.fixture
def uk_hours(plan, london):
    return make_calendar(plan, "UK office hours", holidays=UK_BANK_HOLIDAYS, locations=[london])


@pytest.fixture
def berlin_round_the_clock(plan):
    return make_calendar(plan, "EU P1 24×7 cover", timezone="Europe/Berlin", windows=ROUND_THE_CLOCK)


@pytest.fixture
def priorities(plan):
    made = {
        code: Priority.objects.create(plan=plan, code=code, name=name, rank=rank)
        for rank, (code, name) in enumerate(
            [("P1", "Critical"), ("P2", "High"), ("P3", "Medium"), ("P4", "Low")], 1
        )
    }
    matrix = {
        ("high", "high"): "P1",
        ("high", "medium"): "P2",
        ("medium", "high"): "P2",
        ("high", "low"): "P3",
        ("medium", "medium"): "P3",
        ("low", "high"): "P3",
        ("medium", "low"): "P4",
        ("low", "medium"): "P4",
        # low × low is missing on purpose
    }
    for (impact, urgency), code in matrix.items():
        PriorityMatrixCell.objects.create(plan=plan, impact=impact, urgency=urgency, priority=made[code])
    return made


@pytest.fixture
def steady_state(plan, priorities, uk_hours, berlin_round_the_clock):
    """From 1 January 2026, open-ended. P1 on 24×7 (30 min / 4 h), P2 (1 h / 8 h) and P3 (2 h / 8 h 30)
    on UK office hours; P4 has none."""
    policy = SlaPolicy.objects.create(
        plan=plan, name="Steady state", phase=SlaPhase.STEADY_STATE, valid_from=date(2026, 1, 1)
    )
    p1, p2, p3 = priorities["P1"], priorities["P2"], priorities["P3"]
    make_target(policy, p1, SlaMetric.FIRST_RESPONSE, 30, berlin_round_the_clock)
    make_target(policy, p1, SlaMetric.RESOLUTION, 240, berlin_round_the_clock)
    make_target(policy, p2, SlaMetric.FIRST_RESPONSE, 60, uk_hours)
    make_target(policy, p2, SlaMetric.RESOLUTION, 480, uk_hours)
    make_target(policy, p3, SlaMetric.FIRST_RESPONSE, 120, uk_hours)
    make_target(policy, p3, SlaMetric.RESOLUTION, 510, uk_hours)
    return policy


@pytest.fixture
def service_desk(plan):
    """“Northwind IT Service Desk”, filling level 2, with a contract committing P1/P2 times."""
    party = Party.objects.create(plan=plan, name="Northwind IT Service Desk", kind="helpdesk")
    level = SupportLevel.objects.create(plan=plan, number=2, name="Helpdesk")
    level.parties.add(party)
    agreement = Agreement.objects.create(
        plan=plan,
        party=party,
        name="Service desk delivery",
        kind="service_delivery",
        starts_on=date(2026, 1, 1),
    )
    AgreementCommitment.objects.create(
        agreement=agreement, priority="P2", response_minutes=30, resolution_minutes=1440
    )
    return party
