"""Reads of the maintenance calendar: displayed states, scoped occurrence lists, conflicts with freeze
windows, and who may complete an occurrence or edit a task. Writes live in
``operations.maintenance_services``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from operations.models import (
    CalendarEvent,
    MaintenanceTask,
    OccurrenceState,
    OccurrenceStatus,
    ServiceCalendar,
    TaskOccurrence,
)
from operations.recurrence import DEFAULT_WORKING_DAY, weekday_checker
from supportplan import access
from supportplan.models import Membership, SupportPlan


# --- States ---------------------------------------------------------------------------------
def occurrence_state(occurrence: TaskOccurrence, *, now: datetime) -> str:
    """The displayed ``OccurrenceState``: upcoming before the reminder lead time starts, due from then
    until due + grace, late afterwards; done and skipped as stored. ``now`` is aware."""
    if occurrence.status == OccurrenceStatus.DONE:
        return OccurrenceState.DONE
    if occurrence.status == OccurrenceStatus.SKIPPED:
        return OccurrenceState.SKIPPED
    task = occurrence.task
    if now >= occurrence.due_at + timedelta(minutes=task.grace_minutes):
        return OccurrenceState.LATE
    if now >= occurrence.due_at - timedelta(minutes=task.reminder_lead_minutes):
        return OccurrenceState.DUE
    return OccurrenceState.UPCOMING


def filter_by_state(queryset: QuerySet, state: str, *, now: datetime) -> QuerySet:
    """Occurrences in the displayed ``state`` at ``now`` (the same rule as ``occurrence_state``).

    Lead time and grace belong to the task, and a plan has few distinct values: one condition per
    distinct value compares ``due_at`` with a constant (portable, and uses the due-date index).
    """
    if state == OccurrenceState.DONE:
        return queryset.filter(status=OccurrenceStatus.DONE)
    if state == OccurrenceState.SKIPPED:
        return queryset.filter(status=OccurrenceStatus.SKIPPED)
    if state not in (OccurrenceState.LATE, OccurrenceState.DUE, OccurrenceState.UPCOMING):
        return queryset.none()
    opened = queryset.filter(status=OccurrenceStatus.OPEN)
    combos = set(
        opened.order_by().values_list("task__reminder_lead_minutes", "task__grace_minutes").distinct()
    )
    condition = Q(pk__in=[])
    for lead, grace in combos:
        late_from = now - timedelta(minutes=grace)  # due_at <= late_from: late
        due_from = now + timedelta(minutes=lead)  # due_at <= due_from: due (or late)
        same = Q(task__reminder_lead_minutes=lead, task__grace_minutes=grace)
        if state == OccurrenceState.LATE:
            condition |= same & Q(due_at__lte=late_from)
        elif state == OccurrenceState.DUE:
            condition |= same & Q(due_at__gt=late_from, due_at__lte=due_from)
        else:
            condition |= same & Q(due_at__gt=due_from)
    return opened.filter(condition)


# --- Lists ----------------------------------------------------------------------------------
def occurrences_for(
    *,
    user: Any,
    plan: SupportPlan | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    owner: Any = None,
    category: str | None = None,
    state: str | None = None,
    mine: bool = False,
    task: MaintenanceTask | None = None,
    now: datetime | None = None,
) -> QuerySet[TaskOccurrence]:
    """The occurrences ``user`` may see, due in ``[start, end)`` (aware), filtered; in due order.

    ``owner`` is a Person (or its id); ``mine`` keeps the occurrences whose task's owner or backup is
    the user's own person record.
    """
    queryset = TaskOccurrence.objects.for_user(user).select_related(
        "task", "task__owner", "task__backup", "task__responsible_party", "plan", "closed_by"
    )
    if plan is not None:
        queryset = queryset.filter(plan=plan)
    if task is not None:
        queryset = queryset.filter(task=task)
    if start is not None:
        queryset = queryset.filter(due_at__gte=start)
    if end is not None:
        queryset = queryset.filter(due_at__lt=end)
    if owner is not None:
        owner_id = getattr(owner, "pk", owner)
        queryset = queryset.filter(Q(task__owner_id=owner_id) | Q(task__backup_id=owner_id))
    if category:
        queryset = queryset.filter(task__category=category)
    if mine:
        if access.is_api_key(user) or not getattr(user, "pk", None):
            return queryset.none()
        queryset = queryset.filter(Q(task__owner__user=user) | Q(task__backup__user=user))
    if state:
        queryset = filter_by_state(queryset, state, now=now or timezone.now())
    return queryset.order_by("due_at", "id")


def task_history(task: MaintenanceTask) -> QuerySet[TaskOccurrence]:
    """The task's closed occurrences and its moved ones, newest first (who, when, notes, evidence)."""
    return (
        task.occurrences.filter(
            Q(status__in=[OccurrenceStatus.DONE, OccurrenceStatus.SKIPPED]) | Q(moved=True)
        )
        .select_related("closed_by")
        .order_by("-due_at", "-id")
    )


def next_occurrences(
    task: MaintenanceTask, *, now: datetime | None = None, limit: int = 5
) -> list[TaskOccurrence]:
    """The task's next open occurrences (due at or after ``now``)."""
    now = now or timezone.now()
    return list(
        task.occurrences.filter(status=OccurrenceStatus.OPEN, due_at__gte=now).order_by("due_at")[:limit]
    )


# --- Conflicts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conflict:
    """An open occurrence whose ``[due_at, due_at + duration)`` overlaps a freeze ``event``."""

    occurrence: TaskOccurrence
    event: CalendarEvent


def _conflicts(occurrences: QuerySet, events: list[CalendarEvent]) -> list[Conflict]:
    if not events:
        return []
    events.sort(key=lambda event: event.starts_at)
    found = []
    for occurrence in occurrences:
        starts = occurrence.due_at
        ends = starts + timedelta(minutes=occurrence.task.duration_minutes)
        for event in events:
            if event.starts_at >= ends:
                break
            if event.ends_at > starts:
                found.append(Conflict(occurrence=occurrence, event=event))
    return found


def conflicts_for(
    *, plan: SupportPlan, start: datetime | None = None, end: datetime | None = None
) -> list[Conflict]:
    """Open occurrences of ``plan`` overlapping a ``blocks_maintenance`` window; ``start``/``end``
    (aware) bound the occurrences' due instants. In due order, one row per (occurrence, window)."""
    occurrences = TaskOccurrence.objects.filter(plan=plan, status=OccurrenceStatus.OPEN).select_related(
        "task", "task__owner"
    )
    if start is not None:
        occurrences = occurrences.filter(due_at__gte=start)
    if end is not None:
        occurrences = occurrences.filter(due_at__lt=end)
    events = CalendarEvent.objects.filter(plan=plan, blocks_maintenance=True)
    if start is not None:
        events = events.filter(ends_at__gt=start)
    if end is not None:
        # An occurrence due just before ``end`` may last into a window starting after it.
        events = events.filter(starts_at__lt=end + timedelta(days=7))
    return _conflicts(occurrences.order_by("due_at", "id"), list(events))


def conflicts_for_task(task: MaintenanceTask, *, start: datetime | None = None) -> list[Conflict]:
    """The task's open occurrences (from ``start``, default now) inside freeze windows."""
    start = start if start is not None else timezone.now()
    occurrences = task.occurrences.filter(status=OccurrenceStatus.OPEN, due_at__gte=start).select_related(
        "task"
    )
    events = list(
        CalendarEvent.objects.filter(plan_id=task.plan_id, blocks_maintenance=True, ends_at__gt=start)
    )
    return _conflicts(occurrences.order_by("due_at", "id"), events)


def conflicts_for_occurrence(
    occurrence: TaskOccurrence, *, due_at: datetime | None = None
) -> list[CalendarEvent]:
    """The freeze windows the occurrence (or the occurrence at ``due_at``) would fall into."""
    starts = due_at or occurrence.due_at
    ends = starts + timedelta(minutes=occurrence.task.duration_minutes)
    return list(
        CalendarEvent.objects.filter(
            plan_id=occurrence.plan_id, blocks_maintenance=True, starts_at__lt=ends, ends_at__gt=starts
        ).order_by("starts_at")
    )


# --- Working days ---------------------------------------------------------------------------
def working_day_checker(
    calendar: ServiceCalendar | None, *, start: date | None = None, end: date | None = None
) -> Callable[[date], bool]:
    """``is_working_day(date)`` for a service calendar: a weekday with opening windows that is not
    a holiday (extra open periods do not make a day a working day). Monday to Friday without one.
    ``start``/``end`` limit the holidays loaded."""
    if calendar is None:
        return DEFAULT_WORKING_DAY
    open_weekdays = {int(day) for day, windows in (calendar.weekly_windows or {}).items() if windows}
    holidays = calendar.holidays.all()
    if start is not None:
        holidays = holidays.filter(date__gte=start)
    if end is not None:
        holidays = holidays.filter(date__lte=end)
    return weekday_checker(open_weekdays=open_weekdays, holidays=set(holidays.values_list("date", flat=True)))


# --- Permissions ----------------------------------------------------------------------------
def can_edit_task(principal: Any, plan: SupportPlan) -> bool:
    """Leads (and superusers) create, change and delete tasks; API keys never do."""
    return access.can_configure(principal, plan)


def can_complete(principal: Any, occurrence: TaskOccurrence) -> bool:
    """Whether ``principal`` may complete, skip, move or reopen the occurrence.

    Leads: any. Team members and partners: when they are the owner's or backup's user; a partner
    also when its organisation is the task's responsible party. Viewers and read-only API keys:
    never. Read-write API keys: for their own plan.
    """
    plan = occurrence.plan
    if access.is_api_key(principal):
        return principal.api_key.can_write and principal.plan_id == plan.pk
    if principal is None or not principal.is_authenticated or not principal.is_active:
        return False
    if principal.is_superuser or access.can_configure(principal, plan):
        return True
    role = access.role_in(principal, plan)
    from supportplan.models import PlanRole

    if role not in (PlanRole.TEAM_MEMBER, PlanRole.PARTNER):
        return False
    task = occurrence.task
    for person in (task.owner, task.backup):
        if person is not None and person.user_id == principal.pk:
            return True
    if role == PlanRole.PARTNER and task.responsible_party_id:
        return Membership.objects.filter(
            plan=plan, user=principal, organisation_id=task.responsible_party_id
        ).exists()
    return False
