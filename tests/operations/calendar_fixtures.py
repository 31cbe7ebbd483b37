"""Builders for the service-calendar tests (test_calendars*.py, test_holiday_import.py,
test_coverage.py); each module wraps the ones it uses in fixtures (no conftest: other parts share
this folder).

Northwind's head office is in England, its Berlin office in Bavaria. "UK office hours" are
Monday–Friday 09:00–17:30 London time; "EU P1 24×7 cover" is open around the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from models_catalog.models import Party, PartyKind, SupportLevel
from operations import calendar_services as services
from operations.models import ServiceCalendar
from supportplan.models import Location
from tests.factories import LocationFactory

OFFICE_HOURS = {str(day): [["09:00", "17:30"]] for day in range(5)}
AROUND_THE_CLOCK = {str(day): [["00:00", "00:00"]] for day in range(7)}
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def build_berlin(plan) -> Location:
    return LocationFactory(
        plan=plan, name="Berlin office", country="DE", subdivision="BY", timezone="Europe/Berlin"
    )


def build_uk_hours(plan, *, locations=(), parties=()) -> ServiceCalendar:
    return services.calendar_create(
        plan=plan,
        name="UK office hours",
        timezone="Europe/London",
        weekly_windows=OFFICE_HOURS,
        holiday_country="GB",
        holiday_subdivision="ENG",
        locations=locations,
        parties=parties,
    )


def build_p1_cover(plan, *, locations=(), parties=()) -> ServiceCalendar:
    return services.calendar_create(
        plan=plan,
        name="EU P1 24×7 cover",
        timezone="Europe/Berlin",
        weekly_windows=AROUND_THE_CLOCK,
        locations=locations,
        parties=parties,
    )


def build_contoso_hours(other_plan, *, locations=()) -> ServiceCalendar:
    return services.calendar_create(
        plan=other_plan,
        name="Dublin office hours",
        timezone="Europe/Dublin",
        weekly_windows=OFFICE_HOURS,
        holiday_country="IE",
        locations=locations,
    )


def build_party(plan, name: str, kind: str = PartyKind.INTERNAL_TEAM) -> Party:
    return Party.objects.create(plan=plan, name=name, kind=kind)


def build_level(plan, number: int, name: str, parties=()) -> SupportLevel:
    level = SupportLevel.objects.create(plan=plan, number=number, name=name)
    level.parties.set(parties)
    return level
