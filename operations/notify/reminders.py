"""The beat's reminder sweep: one indexed question (``next_remind_at <= now`` through the partial index
"occurrence_reminder_due"), rows claimed with ``select_for_update(skip_locked=True)``, the batch's
outbox rows written at once (``write_events``) and each row's next stage stored. A bad row is logged
and pushed back an hour; it never blocks the queue."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from operations.models import TaskOccurrence
from operations.models.maintenance import OccurrenceStatus, ReminderKind
from operations.models.notifications import EventType
from operations.notify.outbox import (
    OutboxEvent,
    Recipient,
    recipients_for_people,
    recipients_for_plan_leads,
    write_events,
)
from operations.reminder_schedule import ReminderStage, stage_after, stage_to_send
from supportplan.lib import rows

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
    occurrences were processed. Safe to run in parallel: rows locked by another sweep are skipped.

    The batch is written at once (``write_events``, one ``bulk_update`` of the next stages); should
    that fail, each row is retried on its own, so a bad row is logged and pushed back an hour and
    never blocks the others."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            TaskOccurrence.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_remind_at__isnull=False, next_remind_at__lte=now)
            .select_related("task", "task__owner__user", "task__backup__user", "plan")
            .order_by("next_remind_at", "id")[:limit]
        )
        leads: dict[int, list[Recipient]] = {}
        events, good, bad = [], [], []
        for occurrence in rows:
            try:
                event, _ = _plan_reminder(occurrence, now=now, leads=leads)
            except Exception:
                logger.exception("Reminder for occurrence %s failed; retrying in an hour.", occurrence.pk)
                bad.append(occurrence)
                continue
            good.append(occurrence)
            if event is not None:
                events.append(event)
        try:
            with transaction.atomic():
                write_events(events, now=now)
                _store_next_stages(good, now=now)
        except Exception:
            logger.exception("Writing %s reminders at once failed; writing them one by one.", len(events))
            bad += _remind_one_by_one(good, now=now)
        if bad:
            TaskOccurrence.objects.filter(pk__in=[o.pk for o in bad]).update(
                next_remind_at=now + BAD_ROW_RETRY
            )
    return len(rows)


def _remind_one_by_one(occurrences: list[TaskOccurrence], *, now: datetime) -> list[TaskOccurrence]:
    """The slow path: each occurrence in its own savepoint. Returns the ones that failed."""
    failed = []
    for occurrence in occurrences:
        # The batch's savepoint was rolled back: decide again from the stored stage.
        occurrence.refresh_from_db(fields=["next_remind_at", "next_remind_kind", "late_reminders_sent"])
        try:
            with transaction.atomic():
                occurrence_remind(occurrence=occurrence, now=now)
        except Exception:
            logger.exception("Reminder for occurrence %s failed; retrying in an hour.", occurrence.pk)
            failed.append(occurrence)
    return failed


def occurrence_remind(*, occurrence: TaskOccurrence, now: datetime) -> ReminderStage | None:
    """Publishes the latest passed stage of one locked occurrence and stores the stage after it.
    Returns the stage sent (None when nothing was due: closed, inactive or already sent)."""
    event, stage = _plan_reminder(occurrence, now=now, leads={})
    if event is not None:
        write_events([event], now=now)
    _store_next_stages([occurrence], now=now)
    return stage


def _plan_reminder(
    occurrence: TaskOccurrence, *, now: datetime, leads: dict
) -> tuple[OutboxEvent | None, ReminderStage | None]:
    """Decides one occurrence: sets its next stage on the instance (not saved) and returns the event
    to publish and its stage, if a stage is due and was not sent yet. ``leads``: plan id → lead
    recipients, shared by a sweep."""
    task = occurrence.task
    timing = {
        "due_at": occurrence.due_at,
        "lead_minutes": task.reminder_lead_minutes,
        "grace_minutes": task.grace_minutes,
    }
    if occurrence.status != OccurrenceStatus.OPEN or not task.active:
        _set_next(occurrence, None, occurrence.late_reminders_sent)
        return None, None
    stage = stage_to_send(**timing, now=now)
    already_sent = (
        stage is not None
        and stage.kind == ReminderKind.LATE
        and stage.sequence <= occurrence.late_reminders_sent
    )
    event = None
    if stage is not None and not already_sent:
        event = _reminder_event(occurrence=occurrence, stage=stage, leads=leads)
    late_sent = stage.sequence if stage is not None and stage.kind == ReminderKind.LATE else 0
    _set_next(occurrence, stage_after(**timing, now=now), max(late_sent, 0))
    return event, (None if already_sent else stage)


def _set_next(occurrence: TaskOccurrence, stage: ReminderStage | None, late_sent: int) -> None:
    occurrence.next_remind_at = stage.at if stage else None
    occurrence.next_remind_kind = stage.kind if stage else ""
    occurrence.late_reminders_sent = late_sent


def _store_next_stages(occurrences: list[TaskOccurrence], *, now: datetime) -> None:
    """Saves the next stage of each occurrence in one statement."""
    fields = ["next_remind_at", "next_remind_kind", "late_reminders_sent", "updated_at"]
    for occurrence in occurrences:
        occurrence.updated_at = now
    if connection.vendor == "postgresql":
        rows.bulk_update(occurrences, fields)  # bulk_update's CASE WHEN was most of a sweep's time
    elif occurrences:
        TaskOccurrence.objects.bulk_update(occurrences, fields)


def occurrence_link(occurrence: TaskOccurrence) -> str:
    """The task's page (its occurrences and their history), where the reminded person acts."""
    return reverse("maintenance-task", args=[occurrence.plan.slug, occurrence.task_id])


def _reminder_event(*, occurrence: TaskOccurrence, stage: ReminderStage, leads: dict) -> OutboxEvent:
    task = occurrence.task
    recipients = recipients_for_people([task.owner, task.backup])
    if not recipients:
        if occurrence.plan_id not in leads:
            leads[occurrence.plan_id] = recipients_for_plan_leads(plan=occurrence.plan)
        recipients = leads[occurrence.plan_id]
    facts = {
        "occurrence_id": occurrence.pk,
        "task_id": task.pk,
        "task": task.title,
        "kind": stage.kind,
        "late_reminder": stage.sequence,
        "due_at": occurrence.due_at.isoformat(),
    }
    # The notice (and its e-mail) says more; the webhook stays thin and names the plan by its slug.
    context = {
        **facts,
        "late_at": (occurrence.due_at + timedelta(minutes=task.grace_minutes)).isoformat(),
        "owner": str(task.owner) if task.owner else "",
        "backup": str(task.backup) if task.backup else "",
        "plan": occurrence.plan.name,
    }
    return OutboxEvent(
        plan=occurrence.plan,
        event_key=stage.event_key(occurrence_id=occurrence.pk, due_at=occurrence.due_at),
        event_type=EVENT_TYPES[stage.kind],
        recipients=recipients,
        subject=SUBJECTS[stage.kind].format(title=task.title),
        body=task.description,
        link=occurrence_link(occurrence),
        context=context,
        webhook_payload={"plan": occurrence.plan.slug, **facts},
        scheduled_for=stage.at,
    )
