"""The beat's reminder sweep: one indexed question (``next_remind_at <= now`` through the partial index
"occurrence_reminder_due"), rows claimed with ``select_for_update(skip_locked=True)``, each turned into
outbox rows through ``publish`` and its next stage stored. A bad row is logged and pushed back an hour;
it never blocks the queue."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from operations.models import TaskOccurrence
from operations.models.maintenance import OccurrenceStatus, ReminderKind
from operations.models.notifications import EventType
from operations.notify.outbox import recipients_for_people, recipients_for_plan_leads, write_event
from operations.reminder_schedule import ReminderStage, stage_after, stage_to_send

logger = logging.getLogger(__name__)

#: How long a row that failed to process waits before the sweep tries it again.
BAD_ROW_RETRY = timedelta(hours=1)

EVENT_TYPES = {
    ReminderKind.BEFORE_DUE: EventType.TASK_DUE_SOON,
    ReminderKind.ON_DUE: EventType.TASK_DUE,
    ReminderKind.LATE: EventType.TASK_LATE,
}
SUBJECTS = {
    ReminderKind.BEFORE_DUE: "Due soon: {title}",
    ReminderKind.ON_DUE: "Due now: {title}",
    ReminderKind.LATE: "Late: {title}",
}


def reminders_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Writes the due reminders of up to ``limit`` occurrences into the outbox; returns how many
    occurrences were processed. Safe to run in parallel: rows locked by another sweep are skipped."""
    now = now or timezone.now()
    processed = 0
    with transaction.atomic():
        rows = list(
            TaskOccurrence.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_remind_at__isnull=False, next_remind_at__lte=now)
            .select_related("task", "task__owner__user", "task__backup__user", "plan")
            .order_by("next_remind_at", "id")[:limit]
        )
        for occurrence in rows:
            try:
                with transaction.atomic():
                    occurrence_remind(occurrence=occurrence, now=now)
            except Exception:
                logger.exception("Reminder for occurrence %s failed; retrying in an hour.", occurrence.pk)
                TaskOccurrence.objects.filter(pk=occurrence.pk).update(next_remind_at=now + BAD_ROW_RETRY)
            processed += 1
    return processed


def occurrence_remind(*, occurrence: TaskOccurrence, now: datetime) -> ReminderStage | None:
    """Publishes the latest passed stage of one locked occurrence and stores the stage after it.
    Returns the stage sent (None when nothing was due: closed, inactive or already sent)."""
    task = occurrence.task
    timing = {
        "due_at": occurrence.due_at,
        "lead_minutes": task.reminder_lead_minutes,
        "grace_minutes": task.grace_minutes,
    }
    if occurrence.status != OccurrenceStatus.OPEN or not task.active:
        _store_next(occurrence, None, occurrence.late_reminders_sent)
        return None
    stage = stage_to_send(**timing, now=now)
    already_sent = (
        stage is not None
        and stage.kind == ReminderKind.LATE
        and stage.sequence <= occurrence.late_reminders_sent
    )
    if stage is not None and not already_sent:
        _publish_stage(occurrence=occurrence, stage=stage, now=now)
    late_sent = stage.sequence if stage is not None and stage.kind == ReminderKind.LATE else 0
    _store_next(occurrence, stage_after(**timing, now=now), max(late_sent, 0))
    return None if already_sent else stage


def _store_next(occurrence: TaskOccurrence, stage: ReminderStage | None, late_sent: int) -> None:
    occurrence.next_remind_at = stage.at if stage else None
    occurrence.next_remind_kind = stage.kind if stage else ""
    occurrence.late_reminders_sent = late_sent
    occurrence.save(update_fields=["next_remind_at", "next_remind_kind", "late_reminders_sent", "updated_at"])


def occurrence_link(occurrence: TaskOccurrence) -> str:
    for name, args in (
        ("maintenance-occurrence", [occurrence.plan.slug, occurrence.pk]),
        ("maintenance-task-detail", [occurrence.plan.slug, occurrence.task_id]),
    ):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return occurrence.plan.get_absolute_url()


def _publish_stage(*, occurrence: TaskOccurrence, stage: ReminderStage, now: datetime) -> None:
    task = occurrence.task
    recipients = recipients_for_people([task.owner, task.backup]) or recipients_for_plan_leads(
        plan=occurrence.plan
    )
    event_type = EVENT_TYPES[stage.kind]
    context = {
        "occurrence_id": occurrence.pk,
        "task_id": task.pk,
        "task": task.title,
        "kind": stage.kind,
        "late_reminder": stage.sequence,
        "due_at": occurrence.due_at.isoformat(),
        "late_at": (occurrence.due_at + timedelta(minutes=task.grace_minutes)).isoformat(),
        "owner": str(task.owner) if task.owner else "",
        "backup": str(task.backup) if task.backup else "",
        "plan": occurrence.plan.name,
    }
    write_event(
        plan=occurrence.plan,
        event_key=stage.event_key(occurrence_id=occurrence.pk, due_at=occurrence.due_at),
        event_type=event_type,
        recipients=recipients,
        subject=SUBJECTS[stage.kind].format(title=task.title),
        body=task.description,
        link=occurrence_link(occurrence),
        context=context,
        webhook_payload={
            "plan": occurrence.plan.slug,
            "occurrence_id": occurrence.pk,
            "task_id": task.pk,
            "task": task.title,
            "kind": stage.kind,
            "late_reminder": stage.sequence,
            "due_at": occurrence.due_at.isoformat(),
        },
        now=now,
        scheduled_for=stage.at,
    )
