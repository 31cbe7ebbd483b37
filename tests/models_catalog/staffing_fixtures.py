"""A small support team for the staffing tests, built with the ORM. Each test module wraps
``build_team`` in its own fixture.

Northwind has levels 1 and 2 and three sites: Manchester (Europe/London), Duisburg
(Europe/Berlin) and New York (America/New_York). People are added per test with ``person``;
profiles with ``profile`` (through the service, so they are valid).

Reference weeks (Mondays) used across the tests:

* 17 March 2025: no clock change anywhere in Europe; New York is already on summer time.
* 24 March 2025: Europe springs forward on Sunday 30 March at 01:00 UTC (London 01:00 → 02:00,
  Berlin 02:00 → 03:00).
* 20 October 2025: Europe falls back on Sunday 26 October at 01:00 UTC (London's 01:00 happens twice).
* 3 and 10 March 2025: New York changes on Sunday 9 March; London does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from models_catalog.models import Person, StaffingProfile, SupportLevel
from models_catalog.staffing_plan import staffing_profile_create
from supportplan.models import Location, SupportPlan

QUIET_WEEK = date(2025, 3, 17)
SPRING_FORWARD_WEEK = date(2025, 3, 24)
FALL_BACK_WEEK = date(2025, 10, 20)
NEW_YORK_WINTER_WEEK = date(2025, 3, 3)
NEW_YORK_SUMMER_WEEK = date(2025, 3, 10)

#: Monday to Friday, 09:00–17:00 local.
NINE_TO_FIVE = {str(day): [["09:00", "17:00"]] for day in range(5)}


def hour_of_week(weekday: int, hour: int) -> int:
    """Index into the 168 hours: weekday 0 = Monday."""
    return weekday * 24 + hour


def week_of(values: dict[int, float]) -> list[float]:
    """168 requests-per-hour values, zero except ``{hour_of_week: value}``."""
    hours = [0.0] * 168
    for index, value in values.items():
        hours[index] = value
    return hours


@dataclass
class Team:
    plan: SupportPlan
    level1: SupportLevel
    level2: SupportLevel
    manchester: Location
    duisburg: Location
    new_york: Location


def build_team(plan: SupportPlan) -> Team:
    return Team(
        plan=plan,
        level1=SupportLevel.objects.create(plan=plan, number=1, name="Super users"),
        level2=SupportLevel.objects.create(plan=plan, number=2, name="Helpdesk"),
        manchester=Location.objects.create(
            plan=plan, name="Manchester", country="GB", timezone="Europe/London", languages=["en"]
        ),
        duisburg=Location.objects.create(
            plan=plan, name="Duisburg", country="DE", timezone="Europe/Berlin", languages=["de", "en"]
        ),
        new_york=Location.objects.create(
            plan=plan, name="New York", country="US", timezone="America/New_York", languages=["en"]
        ),
    )


def person(
    plan: SupportPlan,
    name: str,
    *,
    levels: list[SupportLevel],
    location: Location | None = None,
    languages: list[str] | None = None,
    hours: dict | None = None,
    allocation: int = 100,
) -> Person:
    someone = Person.objects.create(
        plan=plan,
        name=name,
        location=location,
        languages=["en"] if languages is None else languages,
        working_hours=NINE_TO_FIVE if hours is None else hours,
        allocation_percent=allocation,
    )
    someone.levels.set(levels)
    return someone


def profile(plan: SupportPlan, level: SupportLevel, **fields: Any) -> StaffingProfile:
    """A valid profile; by default one request per hour on Monday 09:00, answered at once.

    Handle time one hour makes the traffic in Erlangs equal the requests per hour, so agent
    counts can be worked out by hand.
    """
    defaults: dict[str, Any] = {
        "name": "Helpdesk",
        "timezone": "Europe/London",
        "source": StaffingProfile.Source.ENTERED,
        "requests_per_hour": week_of({hour_of_week(0, 9): 1.0}),
        "handle_time_seconds": 3600,
        "service_level": Decimal("0.8"),
        "answer_within_seconds": 0,
        "max_occupancy": None,
        "shrinkage": Decimal("0"),
        "weekly_contract_hours": Decimal("10"),
    }
    return staffing_profile_create(plan=plan, level=level, **{**defaults, **fields})
