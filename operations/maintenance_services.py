"""Writes of the maintenance calendar: tasks, their materialised occurrences (complete, skip, move,
reopen), the rolling horizon, and Microsoft update-window presets. Views, API, admin, the demo and
the daily Celery task call these.

Occurrences are materialised from now to ``HORIZON_DAYS`` ahead. Identity is (task,
original_due_at), so materialising again is idempotent. Rebuilding after an edit touches only
*future open* occurrences that were not moved by hand: done, skipped and moved ones are history and
are kept. Every open occurrence written here gets its reminder schedule (``next_remind_at`` …) from
``operations.reminder_schedule.initial_stage``; closing one clears it.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from operations import calendar_services
from operations.maintenance_catalogue import CATEGORY_BY_KEY
from operations.maintenance_selectors import can_complete, can_edit_task, working_day_checker
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    MaintenanceTask,
    NonWorkingDayShift,
    OccurrenceStatus,
    TaskOccurrence,
)
from operations.recurrence import expand, pattern_shift, rrule_from_pattern, validate_rrule
from operations.reminder_schedule import initial_stage
from supportplan.access import is_api_key
from supportplan.lib.services import apply_fields
from supportplan.models import Product, SupportPlan

logger = logging.getLogger(__name__)

HORIZON_DAYS = 400
TASK_FIELDS = {
    "title",
    "description",
    "category",
    "owner",
    "backup",
    "responsible_role",
    "responsible_party",
    "environment",
    "scope_item",
    "rrule",
    "pattern",
    "starts_on",
    "local_time",
    "timezone",
    "ends_on",
    "schedule_from_completion",
    "non_working_day_shift",
    "working_calendar",
    "duration_minutes",
    "reminder_lead_minutes",
    "grace_minutes",
    "evidence_required",
    "active",
}
PLAN_RELATIONS = (
    "owner",
    "backup",
    "responsible_role",
    "responsible_party",
    "scope_item",
    "working_calendar",
)


# --- Helpers --------------------------------------------------------------------------------
def _user_of(actor: Any):
    """The user to record as ``closed_by`` (API keys and the system record none)."""
    if actor is None or is_api_key(actor) or not getattr(actor, "pk", None):
        return None
    return actor


def _require_aware(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError({field: "Give a date and time."})
    if timezone.is_naive(value):
        raise ValidationError({field: "Give a date and time with its time zone (aware)."})
    return value


def _set_reminder(occurrence: TaskOccurrence, task: MaintenanceTask, now: datetime) -> None:
    """Stores the reminder stage of an open occurrence (cleared when it is closed)."""
    if occurrence.status != OccurrenceStatus.OPEN:
        occurrence.next_remind_at, occurrence.next_remind_kind, occurrence.late_reminders_sent = None, "", 0
        return
    stage = initial_stage(
        due_at=occurrence.due_at,
        lead_minutes=task.reminder_lead_minutes,
        grace_minutes=task.grace_minutes,
        now=now,
    )
    if stage is None:
        occurrence.next_remind_at, occurrence.next_remind_kind, occurrence.late_reminders_sent = None, "", 0
    else:
        occurrence.next_remind_at, occurrence.next_remind_kind = stage.at, stage.kind
        occurrence.late_reminders_sent = stage.sequence


REMINDER_FIELDS = ["next_remind_at", "next_remind_kind", "late_reminders_sent"]
#: What completing (or reopening) an occurrence sets.
CLOSING_FIELDS = ["status", "closed_at", "closed_by", "notes", "evidence_url"]


def _clean_task(task: MaintenanceTask, fields: dict) -> None:
    """Turns ``pattern`` or ``rrule`` into the stored rule and checks everything else."""
    pattern = fields.get("pattern")
    if pattern:
        task.rrule = rrule_from_pattern(pattern)
        task.pattern = dict(pattern)
        forced = pattern_shift(pattern)
        if forced:
            task.non_working_day_shift = forced
    elif "rrule" in fields or not task.pattern:
        task.rrule = validate_rrule(task.rrule)
        if "rrule" in fields:
            task.pattern = {}
    if task.category not in CATEGORY_BY_KEY:
        raise ValidationError({"category": f"“{task.category}” is not a catalogue category."})
    if task.ends_on and task.starts_on and task.ends_on < task.starts_on:
        raise ValidationError({"ends_on": "A task cannot end before it starts."})
    errors = {}
    for name in PLAN_RELATIONS:
        related = getattr(task, name)
        if related is not None and related.plan_id != task.plan_id:
            errors[name] = "Choose one from this plan."
    if errors:
        raise ValidationError(errors)
    if (
        task.owner_id
        and task.backup_id
        and task.owner_id == task.backup_id
        and ("owner" in fields or "backup" in fields)
    ):
        raise ValidationError({"backup": "The backup must be someone other than the owner."})
    task.full_clean()


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def _sync(
    task: MaintenanceTask, *, now: datetime, horizon_days: int = HORIZON_DAYS, rearm: bool = False
) -> int:
    """Makes the task's future open occurrences match its rule; returns how many were created.

    Future = rule instant at or after the window start (now, or for ``schedule_from_completion``
    the day after the last completion if later). Done, skipped and moved occurrences are kept.
    ``rearm`` recomputes the reminder schedule of every kept open occurrence (lead or grace changed).
    """
    window_start, anchor = now, task.starts_on
    if task.schedule_from_completion:
        last_done = (
            task.occurrences.filter(status=OccurrenceStatus.DONE, closed_at__isnull=False)
            .order_by("-closed_at")
            .values_list("closed_at", flat=True)
            .first()
        )
        if last_done is not None:
            anchor = max(task.starts_on, last_done.astimezone(ZoneInfo(task.timezone)).date())
            window_start = max(now, _local_midnight(anchor + timedelta(days=1), task.timezone))
    window_end = now + timedelta(days=horizon_days)
    produced: list[tuple[datetime, datetime]] = []
    if task.active and window_start < window_end:
        checker = None
        if task.non_working_day_shift != NonWorkingDayShift.NONE:
            checker = working_day_checker(
                task.working_calendar,
                start=window_start.date() - timedelta(days=40),
                end=window_end.date() + timedelta(days=40),
            )
        produced = expand(
            rrule=task.rrule,
            starts_on=anchor,
            local_time=task.local_time,
            tz=task.timezone,
            window_start=window_start,
            window_end=window_end,
            ends_on=task.ends_on,
            shift=task.non_working_day_shift,
            is_working_day=checker,
        )
    existing = {
        occurrence.original_due_at: occurrence
        for occurrence in task.occurrences.filter(original_due_at__gte=window_start)
    }
    wanted = {original for original, _due in produced}
    stale = [
        occurrence.pk
        for original, occurrence in existing.items()
        if original not in wanted and occurrence.status == OccurrenceStatus.OPEN and not occurrence.moved
    ]
    if stale:
        TaskOccurrence.objects.filter(pk__in=stale).delete()
    new, changed = [], []
    for original, due in produced:
        occurrence = existing.get(original)
        if occurrence is None:
            occurrence = TaskOccurrence(plan_id=task.plan_id, task=task, original_due_at=original, due_at=due)
            _set_reminder(occurrence, task, now)
            new.append(occurrence)
        elif occurrence.status == OccurrenceStatus.OPEN and (
            rearm or (not occurrence.moved and occurrence.due_at != due)
        ):
            if not occurrence.moved:
                occurrence.due_at = due
            _set_reminder(occurrence, task, now)
            changed.append(occurrence)
    if rearm:
        # Open moved occurrences outside the produced set keep their date but follow the new timing.
        for original, occurrence in existing.items():
            if original not in wanted and occurrence.status == OccurrenceStatus.OPEN and occurrence.moved:
                _set_reminder(occurrence, task, now)
                changed.append(occurrence)
    if new:
        TaskOccurrence.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        stamp = timezone.now()
        for occurrence in changed:
            occurrence.updated_at = stamp
        TaskOccurrence.objects.bulk_update(changed, ["due_at", *REMINDER_FIELDS, "updated_at"])
    return len(new)


# --- Tasks ----------------------------------------------------------------------------------
@transaction.atomic
def task_create(
    *, plan: SupportPlan, actor: Any = None, now: datetime | None = None, **fields: Any
) -> MaintenanceTask:
    """A recurring task from ``pattern`` (a form pattern, see ``operations.recurrence``) or ``rrule``
    text, with its occurrences materialised for the horizon. ``actor`` None = the system (demo)."""
    if actor is not None and not can_edit_task(actor, plan):
        raise PermissionDenied("Only the plan's leads create maintenance tasks.")
    fields = dict(fields)
    if not fields.get("pattern"):
        fields.pop("pattern", None)
        fields.setdefault("rrule", "")
    task = MaintenanceTask(plan=plan)
    apply_fields(task, fields, TASK_FIELDS)
    if "category" not in fields:
        task.category = "other"
    if not fields.get("pattern"):
        task.pattern = {}
    _clean_task(task, fields)
    task.save()
    task_materialise(task=task, now=now)
    return task


@transaction.atomic
def task_update(
    *, task: MaintenanceTask, actor: Any = None, now: datetime | None = None, **fields: Any
) -> MaintenanceTask:
    """Changes ``fields`` and rebuilds the future open occurrences (history and moved ones kept)."""
    if actor is not None and not can_edit_task(actor, task.plan):
        raise PermissionDenied("Only the plan's leads change maintenance tasks.")
    if "pattern" in fields and not fields["pattern"]:
        fields.pop("pattern")
        if "rrule" not in fields:
            fields["rrule"] = task.rrule
    if fields.get("pattern"):
        fields.pop("rrule", None)
    timing_before = (task.reminder_lead_minutes, task.grace_minutes)
    apply_fields(task, fields, TASK_FIELDS)
    _clean_task(task, fields)
    task.save()
    rearm = timing_before != (task.reminder_lead_minutes, task.grace_minutes)
    _sync(task, now=now or timezone.now(), rearm=rearm)
    return task


@transaction.atomic
def task_delete(*, task: MaintenanceTask, actor: Any = None) -> None:
    """Removes the task with all its occurrences (their history goes with it; deactivate to keep it)."""
    if actor is not None and not can_edit_task(actor, task.plan):
        raise PermissionDenied("Only the plan's leads delete maintenance tasks.")
    task.delete()


# --- Horizon --------------------------------------------------------------------------------
@transaction.atomic
def task_materialise(
    *, task: MaintenanceTask, now: datetime | None = None, horizon_days: int = HORIZON_DAYS
) -> int:
    """Materialises the task's occurrences from ``now`` to ``now + horizon_days``; idempotent.
    Returns the number of occurrences created."""
    # Serialise concurrent runs on one task (the daily task and an edit): lock the task row.
    MaintenanceTask.objects.select_for_update(of=("self",)).filter(pk=task.pk).values_list(
        "pk", flat=True
    ).first()
    return _sync(task, now=now or timezone.now(), horizon_days=horizon_days)


def plan_materialise(*, plan: SupportPlan, now: datetime | None = None) -> int:
    """Materialises every task of ``plan``; returns the occurrences created."""
    now = now or timezone.now()
    tasks = MaintenanceTask.objects.filter(plan=plan).select_related("working_calendar")
    return sum(task_materialise(task=task, now=now) for task in tasks)


def materialise_all(*, now: datetime | None = None) -> int:
    """The daily run over every task of every plan. A task that fails is logged and skipped."""
    now = now or timezone.now()
    created = 0
    for task in MaintenanceTask.objects.select_related("working_calendar").iterator(chunk_size=200):
        try:
            created += task_materialise(task=task, now=now)
        except Exception:
            logger.exception("Could not materialise maintenance task %s", task.pk)
    return created


# --- Occurrences ----------------------------------------------------------------------------
def _require_can_complete(actor: Any, occurrence: TaskOccurrence) -> None:
    if not can_complete(actor, occurrence):
        raise PermissionDenied("Only the task's owner, backup, responsible party or a lead may do this.")


def _require_open(occurrence: TaskOccurrence) -> None:
    if occurrence.status != OccurrenceStatus.OPEN:
        raise ValidationError(
            {"status": f"This occurrence is already {occurrence.get_status_display().lower()}."}
        )


def _locked(occurrence: TaskOccurrence) -> TaskOccurrence:
    """Locks the task's row, then the occurrence's own: the order of ``task_update`` and
    ``task_materialise`` (task, then its occurrences), so a completion and an edit of the task wait
    for each other instead of deadlocking."""
    MaintenanceTask.objects.select_for_update(of=("self",)).filter(pk=occurrence.task_id).values_list(
        "pk", flat=True
    ).first()
    fresh = (
        TaskOccurrence.objects.select_for_update(of=("self",))
        .select_related("task", "plan")
        .get(pk=occurrence.pk)
    )
    occurrence.__dict__.update({key: value for key, value in fresh.__dict__.items() if key != "_state"})
    return occurrence


@transaction.atomic
def occurrence_complete(
    *,
    occurrence: TaskOccurrence,
    actor: Any,
    notes: str = "",
    evidence_url: str = "",
    completed_at: datetime | None = None,
) -> TaskOccurrence:
    """Marks the occurrence done (who, when: aware, default now; notes; evidence link) and clears its
    reminders. With ``schedule_from_completion`` the next due dates are counted from this completion."""
    _require_can_complete(actor, occurrence)
    occurrence = _locked(occurrence)
    _require_open(occurrence)
    task = occurrence.task
    now = timezone.now()
    completed_at = _require_aware(completed_at, "completed_at") if completed_at is not None else now
    if completed_at > now + timedelta(minutes=5):
        raise ValidationError({"completed_at": "A completion cannot lie in the future."})
    evidence_url, notes = (evidence_url or "").strip(), (notes or "").strip()
    if task.evidence_required and not evidence_url:
        raise ValidationError({"evidence_url": "This task needs evidence of completion: give a link."})
    occurrence.status = OccurrenceStatus.DONE
    occurrence.closed_at, occurrence.closed_by = completed_at, _user_of(actor)
    occurrence.notes, occurrence.evidence_url = notes, evidence_url
    _set_reminder(occurrence, task, now)
    occurrence.full_clean()
    occurrence.save(update_fields=[*CLOSING_FIELDS, *REMINDER_FIELDS, "updated_at"])
    if task.schedule_from_completion:
        _sync(task, now=now)
    return occurrence


@transaction.atomic
def occurrence_skip(*, occurrence: TaskOccurrence, actor: Any, reason: str) -> TaskOccurrence:
    """Skips the occurrence with a reason (required) and clears its reminders."""
    _require_can_complete(actor, occurrence)
    occurrence = _locked(occurrence)
    _require_open(occurrence)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this occurrence is skipped."})
    now = timezone.now()
    occurrence.status = OccurrenceStatus.SKIPPED
    occurrence.closed_at, occurrence.closed_by, occurrence.notes = now, _user_of(actor), reason
    _set_reminder(occurrence, occurrence.task, now)
    occurrence.full_clean()
    occurrence.save(
        update_fields=["status", "closed_at", "closed_by", "notes", *REMINDER_FIELDS, "updated_at"]
    )
    return occurrence


@transaction.atomic
def occurrence_move(
    *, occurrence: TaskOccurrence, actor: Any, due_at: datetime, reason: str = ""
) -> TaskOccurrence:
    """Moves one open occurrence to ``due_at`` (aware); a rebuild keeps it there. Its reminders
    re-arm for the new instant."""
    _require_can_complete(actor, occurrence)
    _require_aware(due_at, "due_at")
    occurrence = _locked(occurrence)
    _require_open(occurrence)
    task = occurrence.task
    if task.ends_on and due_at.astimezone(ZoneInfo(task.timezone)).date() > task.ends_on + timedelta(days=31):
        raise ValidationError({"due_at": "That is more than a month after the task ends."})
    occurrence.due_at = due_at.astimezone(UTC)
    occurrence.moved, occurrence.move_reason = True, (reason or "").strip()
    _set_reminder(occurrence, task, timezone.now())
    occurrence.full_clean()
    occurrence.save(update_fields=["due_at", "moved", "move_reason", *REMINDER_FIELDS, "updated_at"])
    return occurrence


@transaction.atomic
def occurrence_move_out_of_freeze(*, occurrence: TaskOccurrence, actor: Any) -> TaskOccurrence:
    """Moves an occurrence that conflicts with freeze windows to the end of the last window it runs
    into (following windows that chain on), keeping the move reason; a no-op without a conflict."""
    from operations.maintenance_selectors import conflicts_for_occurrence

    _require_can_complete(actor, occurrence)
    due_at, names = occurrence.due_at, []
    for _ in range(50):  # windows chained back to back; bounded
        windows = conflicts_for_occurrence(occurrence, due_at=due_at)
        if not windows:
            break
        names.extend(window.name for window in windows if window.name not in names)
        due_at = max(window.ends_at for window in windows)
    if not names:
        return occurrence
    return occurrence_move(
        occurrence=occurrence,
        actor=actor,
        due_at=due_at,
        reason=f"Moved out of freeze: {', '.join(names)}"[:300],
    )


@transaction.atomic
def occurrence_reopen(*, occurrence: TaskOccurrence, actor: Any) -> TaskOccurrence:
    """Reopens a done or skipped occurrence (a mistaken completion); its reminders re-arm."""
    _require_can_complete(actor, occurrence)
    occurrence = _locked(occurrence)
    if occurrence.status == OccurrenceStatus.OPEN:
        raise ValidationError({"status": "This occurrence is open already."})
    now = timezone.now()
    was_done = occurrence.status == OccurrenceStatus.DONE
    occurrence.status = OccurrenceStatus.OPEN
    occurrence.closed_at, occurrence.closed_by = None, None
    occurrence.notes, occurrence.evidence_url = "", ""
    _set_reminder(occurrence, occurrence.task, now)
    occurrence.full_clean()
    occurrence.save(update_fields=[*CLOSING_FIELDS, *REMINDER_FIELDS, "updated_at"])
    if was_done and occurrence.task.schedule_from_completion:
        _sync(occurrence.task, now=now)
    return occurrence


# --- Windows --------------------------------------------------------------------------------
#: Finance & Operations service updates (domain 4.5): months of the year.
FO_UPDATE_MONTHS = (2, 4, 7, 10)
#: Customer Engagement / Power Platform release waves: general availability months; early access
#: opens about two months before.
RELEASE_WAVES = ((1, 4), (2, 10))
WAVE_PRODUCTS = {Product.CUSTOMER_ENGAGEMENT, Product.POWER_PLATFORM}


def _first_weekday(year: int, month: int, weekday: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _preset_windows(year: int, products: set[str]) -> list[dict]:
    windows = []
    if Product.FINANCE_OPERATIONS in products:
        for month in FO_UPDATE_MONTHS:
            # Microsoft applies the update on a weekend of the month; the preset takes the second
            # Saturday (UTC) as the production slot, to be moved to the weekend the plan schedules.
            saturday = _first_weekday(year, month, 5) + timedelta(days=7)
            starts = datetime.combine(saturday, time(0), UTC)
            windows.append(
                {
                    "name": f"F&O service update — {date(year, month, 1):%B %Y}",
                    "kind": CalendarEventKind.SERVICE_UPDATE,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(days=2),
                    "notes": "Microsoft's Finance & Operations service update (February, April, July, "
                    "October; at least two a year, one consecutive pause allowed). Move this window to "
                    "the weekend you schedule for production; review release notes and run regression "
                    "tests first.",
                }
            )
    if products & WAVE_PRODUCTS:
        for number, month in RELEASE_WAVES:
            early = month - 2
            windows.append(
                {
                    "name": f"{year} release wave {number} — early access",
                    "kind": CalendarEventKind.RELEASE_WAVE,
                    "starts_at": _month_start(year, early),
                    "ends_at": _month_start(year, month),
                    "notes": "Customer Engagement / Power Platform: early access opens about two months "
                    "before general availability. Opt in on a sandbox and test.",
                }
            )
            end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
            windows.append(
                {
                    "name": f"{year} release wave {number} — general availability",
                    "kind": CalendarEventKind.RELEASE_WAVE,
                    "starts_at": _month_start(year, month),
                    "ends_at": _month_start(end_year, end_month),
                    "notes": "Major release wave rolls out region by region (minor updates arrive weekly).",
                }
            )
    return windows


@transaction.atomic
def update_window_presets_apply(
    *, plan: SupportPlan, year: int, actor: Any = None, products: list[str] | None = None
) -> list[CalendarEvent]:
    """Creates Microsoft's update windows of ``year`` for the plan's products (or ``products``): F&O
    service updates (Feb, Apr, Jul, Oct) and CE / Power Platform release waves (April, October, each
    with its early-access window). Idempotent by name and start; returns the created events."""
    if actor is not None and not can_edit_task(actor, plan):
        raise PermissionDenied("Only the plan's leads add update windows.")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "Give a year, e.g. 2027."}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "Give a year between 2000 and 2100."})
    chosen = set(products if products is not None else plan.products)
    unknown = chosen - set(Product.values)
    if unknown:
        raise ValidationError({"products": f"Unknown product(s): {', '.join(sorted(unknown))}."})
    created = []
    for window in _preset_windows(year, chosen):
        if CalendarEvent.objects.filter(
            plan=plan, name=window["name"], starts_at=window["starts_at"]
        ).exists():
            continue
        created.append(calendar_services.calendar_event_create(plan=plan, blocks_maintenance=False, **window))
    return created


@transaction.atomic
def freeze_window_create(
    *,
    plan: SupportPlan,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = CalendarEventKind.FREEZE,
    notes: str = "",
    actor: Any = None,
) -> CalendarEvent:
    """A freeze window (maintenance occurrences inside it are conflicts)."""
    if actor is not None and not can_edit_task(actor, plan):
        raise PermissionDenied("Only the plan's leads add freeze windows.")
    return calendar_services.calendar_event_create(
        plan=plan,
        name=name,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        notes=notes,
        blocks_maintenance=True,
    )
