"""Builders for the maintenance-calendar UI and feed tests (test_maintenance_ui.py, test_feeds.py,
test_maintenance_browser.py); each module wraps the ones it uses in fixtures.

A demo-like Northwind calendar, built at ``BUILT_AT`` (Monday 1 March 2027) and looked at on
``NOW`` (Wednesday 10 March 2027, 12:00 UTC):
- "Weekly batch check": every Monday 09:00 Europe/Berlin, owner Tina (linked to the tina user),
  backup Alice. 1 March is done (with notes and evidence), 8 March is late.
- "Month-end certificate check": monthly on the 15th, 10:00 Europe/London, owner Alice; the
  15 March occurrence lies inside the "March period-end" freeze (14–16 March): a conflict.
- A Microsoft service-update window in April (not a freeze).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import time_machine

from models_catalog.models import Person
from operations import calendar_services
from operations import maintenance_services as services
from operations.models import CalendarEventKind, MaintenanceTask, TaskOccurrence

BUILT_AT = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def build_person(plan, name: str, user=None) -> Person:
    return Person.objects.create(plan=plan, name=name, user=user, email=f"{name.lower()}@example.com")


def build_weekly_task(
    plan, *, owner=None, backup=None, title="Weekly batch check", **extra
) -> MaintenanceTask:
    fields = {
        "title": title,
        "category": "batch_calendar_review",
        "owner": owner,
        "backup": backup,
        "pattern": {"kind": "weekly", "days": ["MO"], "interval": 1},
        "starts_on": date(2027, 1, 4),
        "local_time": time(9, 0),
        "timezone": "Europe/Berlin",
        "duration_minutes": 30,
        "reminder_lead_minutes": 60,
        "grace_minutes": 0,
    }
    fields.update(extra)
    return services.task_create(plan=plan, actor=None, **fields)


def build_monthly_task(plan, *, owner=None, title="Month-end certificate check", **extra) -> MaintenanceTask:
    fields = {
        "title": title,
        "category": "certificate_rotation",
        "owner": owner,
        "pattern": {"kind": "monthly_day", "day": 15, "interval": 1},
        "starts_on": date(2027, 1, 1),
        "local_time": time(10, 0),
        "timezone": "Europe/London",
        "duration_minutes": 60,
        "reminder_lead_minutes": 1440,
        "grace_minutes": 60,
    }
    fields.update(extra)
    return services.task_create(plan=plan, actor=None, **fields)


FREEZE_STARTS, FREEZE_ENDS = utc(2027, 3, 14), utc(2027, 3, 17)


def build_freeze(plan, name="March period-end", starts=FREEZE_STARTS, ends=FREEZE_ENDS):
    return calendar_services.calendar_event_create(
        plan=plan,
        name=name,
        kind=CalendarEventKind.PERIOD_END,
        starts_at=starts,
        ends_at=ends,
        blocks_maintenance=True,
    )


def build_update_window(plan):
    return calendar_services.calendar_event_create(
        plan=plan,
        name="Service update 10.0.50",
        kind=CalendarEventKind.SERVICE_UPDATE,
        starts_at=utc(2027, 4, 10),
        ends_at=utc(2027, 4, 12),
        blocks_maintenance=False,
    )


def build_calendar(plan, *, tina_user, alice_user):
    """The demo-like calendar above; returns a dict of what the tests name."""
    with time_machine.travel(BUILT_AT, tick=False):
        tina = build_person(plan, "Tina", tina_user)
        alice = build_person(plan, "Alice", alice_user)
        weekly = build_weekly_task(plan, owner=tina, backup=alice)
        monthly = build_monthly_task(plan, owner=alice)
        freeze = build_freeze(plan)
        update = build_update_window(plan)
    first = TaskOccurrence.objects.get(task=weekly, due_at=utc(2027, 3, 1, 8, 0))
    with time_machine.travel(utc(2027, 3, 1, 9, 0), tick=False):
        services.occurrence_complete(
            occurrence=first,
            actor=tina_user,
            notes="All batches green.",
            evidence_url="https://tickets.example.com/1",
        )
    return {
        "tina": tina,
        "alice": alice,
        "weekly": weekly,
        "monthly": monthly,
        "freeze": freeze,
        "update": update,
        "done": first,
        "late": TaskOccurrence.objects.get(task=weekly, due_at=utc(2027, 3, 8, 8, 0)),
        "conflicting": TaskOccurrence.objects.get(task=monthly, due_at=utc(2027, 3, 15, 10, 0)),
    }
