"""Demo maintenance calendar for the demo plan (called by ``manage.py seed_demo`` after the service
calendars and the team are seeded).

A year of realistic tasks from the catalogue, owned by the plan's people, started three months ago
so the calendar has history: most past occurrences done (with notes and evidence), one skipped, the
latest of two tasks left late. The monthly period-end events freeze maintenance, and Microsoft's
update windows of this year and next are added. Converges: a second run adds nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from models_catalog.models import Person
from operations import calendar_services
from operations import maintenance_services as services
from operations.maintenance_catalogue import CATEGORY_BY_KEY
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    MaintenanceTask,
    OccurrenceStatus,
    ServiceCalendar,
)
from supportplan.models import LEAD_ROLES, Membership, SupportPlan

HISTORY_DAYS = 90
HEAD_OFFICE_ZONE = "Europe/London"
WORKING_CALENDAR = "UK office hours"

# title, category, pattern (None: the catalogue's suggestion), local time, owner index, backup index,
# non-working-day shift, environment, left late
TASKS = [
    (
        "Service health and log check",
        "service_health_check",
        None,
        time(8, 30),
        0,
        1,
        "none",
        "production",
        False,
    ),
    (
        "Message Center review",
        "message_center_review",
        {"kind": "weekly", "days": ["MO", "TH"]},
        time(10, 0),
        1,
        0,
        "none",
        "",
        False,
    ),
    (
        "Storage and licence review",
        "storage_licence_review",
        None,
        time(9, 0),
        2,
        0,
        "none",
        "production",
        True,
    ),
    ("Monthly security-role review", "access_review", None, time(10, 0), 0, 2, "next", "production", False),
    (
        "Remove departed vendor access",
        "vendor_access_removal",
        {"kind": "last_working_day"},
        time(15, 0),
        1,
        0,
        "previous",
        "production",
        False,
    ),
    ("Refresh UAT from production", "environment_refresh", None, time(7, 0), 3, 1, "none", "test", False),
    (
        "Refresh anonymised support copy",
        "anonymised_copy_refresh",
        None,
        time(7, 0),
        3,
        1,
        "none",
        "support_copy",
        True,
    ),
    ("Batch calendar review", "batch_calendar_review", None, time(14, 0), 2, 3, "next", "production", False),
    ("Quarterly DR exercise", "bc_dr_exercise", None, time(9, 0), 0, 3, "next", "production", False),
    ("Data-quality audit", "data_quality_audit", None, time(11, 0), 2, 1, "next", "production", False),
    (
        "Rotate integration certificates",
        "certificate_rotation",
        {"kind": "yearly", "month": 3, "day": 15},
        time(9, 0),
        1,
        0,
        "next",
        "production",
        False,
    ),
    (
        "Service account password renewal",
        "password_renewal",
        None,
        time(9, 0),
        1,
        2,
        "next",
        "production",
        False,
    ),
    (
        "Backup before monthly release",
        "backup_before_release",
        None,
        time(17, 0),
        3,
        0,
        "previous",
        "production",
        False,
    ),
]


def _people(plan: SupportPlan) -> list[Person]:
    people = list(Person.objects.filter(plan=plan).order_by("name"))
    return people


def _lead(plan: SupportPlan):
    membership = (
        Membership.objects.filter(plan=plan, role__in=LEAD_ROLES)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None


def _freeze_period_ends(plan: SupportPlan) -> None:
    for event in CalendarEvent.objects.filter(
        plan=plan, kind=CalendarEventKind.PERIOD_END, blocks_maintenance=False
    ):
        calendar_services.calendar_event_update(event=event, blocks_maintenance=True)


def _close_history(task: MaintenanceTask, *, actor, now: datetime, leave_late: bool) -> None:
    """Completes the task's past occurrences (notes, evidence); the latest one stays late if asked,
    and one in the middle of a long history is skipped."""
    past = list(task.occurrences.filter(status=OccurrenceStatus.OPEN, due_at__lt=now).order_by("due_at"))
    if leave_late and past:
        past = past[:-1]
    for index, occurrence in enumerate(past):
        if len(past) > 6 and index == len(past) // 2:
            services.occurrence_skip(
                occurrence=occurrence, actor=actor, reason="Office closed for the stocktake."
            )
            continue
        evidence = ""
        if task.evidence_required:
            evidence = f"https://evidence.northwind.example/{task.category}/{occurrence.due_at:%Y-%m-%d}"
        completed_at = min(occurrence.due_at + timedelta(minutes=task.duration_minutes + 20), now)
        services.occurrence_complete(
            occurrence=occurrence,
            actor=actor,
            notes=f"Done: {task.title.lower()} — nothing unusual.",
            evidence_url=evidence,
            completed_at=completed_at,
        )


@transaction.atomic
def seed_maintenance_demo(*, plan: SupportPlan) -> None:
    """A year of realistic tasks from the catalogue with owners, some done, some late, period-end
    freezes and the update windows. Creates only what is missing."""
    now = timezone.now()
    _freeze_period_ends(plan)
    for year in (now.year, now.year + 1):
        services.update_window_presets_apply(plan=plan, year=year)
    people = _people(plan)
    actor = _lead(plan)
    calendar = ServiceCalendar.objects.filter(plan=plan, name=WORKING_CALENDAR).first()
    started = now - timedelta(days=HISTORY_DAYS)
    existing = set(MaintenanceTask.objects.filter(plan=plan).values_list("title", flat=True))
    for title, key, pattern, at, owner, backup, shift, environment, leave_late in TASKS:
        if title in existing:
            continue
        category = CATEGORY_BY_KEY[key]
        task = services.task_create(
            plan=plan,
            actor=None,
            now=started,
            title=title,
            description=category.description,
            category=key,
            pattern=pattern or category.pattern,
            starts_on=started.date(),
            local_time=at,
            timezone=HEAD_OFFICE_ZONE,
            owner=people[owner % len(people)] if people else None,
            backup=people[backup % len(people)] if len(people) > 1 else None,
            environment=environment,
            non_working_day_shift=shift,
            working_calendar=calendar,
            duration_minutes=category.suggested_duration_minutes,
            reminder_lead_minutes=category.suggested_lead_minutes,
            grace_minutes=240,
            evidence_required=category.evidence_required,
        )
        services.task_materialise(task=task, now=now)
        if actor is not None:
            _close_history(task, actor=actor, now=now, leave_late=leave_late)
