"""Builders for the maintenance-calendar tests (test_recurrence.py, test_maintenance_*.py).

Northwind's people: Tina (team member, owns the access review), Bob (support lead), Carol of
Contoso Consulting (partner, responsible for the refresh). "UK office hours" are Monday–Friday with
England's bank holidays imported for 2026–2029.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import holidays as holidays_package

from models_catalog.models import Party, PartyKind, Person
from operations import calendar_services
from operations import maintenance_services as services
from operations.models import MaintenanceTask, ServiceCalendar
from supportplan.models import Membership

OFFICE_HOURS = {str(day): [["09:00", "17:30"]] for day in range(5)}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def england_holidays(*years: int) -> set[date]:
    return set(holidays_package.country_holidays("GB", subdiv="ENG", years=list(years)))


def build_person(plan, name: str, *, user=None, party=None) -> Person:
    return Person.objects.create(
        plan=plan, name=name, user=user, party=party, email=f"{name.lower()}@example.com"
    )


def build_partner_party(plan, carol=None) -> Party:
    party = Party.objects.create(plan=plan, name="Contoso Consulting", kind=PartyKind.PARTNER)
    if carol is not None:
        Membership.objects.filter(plan=plan, user=carol).update(organisation=party)
    return party


def build_uk_calendar(plan) -> ServiceCalendar:
    calendar = calendar_services.calendar_create(
        plan=plan,
        name="UK office hours",
        timezone="Europe/London",
        weekly_windows=OFFICE_HOURS,
        holiday_country="GB",
        holiday_subdivision="ENG",
    )
    calendar_services.holiday_import_apply(calendar=calendar, years=[2026, 2027, 2028, 2029])
    return calendar


def build_task(plan, *, now: datetime | None = None, **fields) -> MaintenanceTask:
    """A weekly Monday 09:00 London task unless ``fields`` say otherwise (created by the system)."""
    defaults = {
        "title": "Storage and licence review",
        "category": "storage_licence_review",
        "pattern": {"kind": "weekly", "days": ["MO"]},
        "starts_on": date(2027, 1, 1),
        "local_time": time(9, 0),
        "timezone": "Europe/London",
        "duration_minutes": 60,
        "reminder_lead_minutes": 1440,
        "grace_minutes": 120,
    }
    if "rrule" in fields:
        defaults.pop("pattern")
    defaults.update(fields)
    return services.task_create(plan=plan, actor=None, now=now, **defaults)
