"""Thin Celery tasks of the notification outbox (ids in, one service call).

Retries are not Celery's: a failed delivery puts its row back to "pending" with a backoff and the
outbox sweep claims it again, so a lost message or a wiped broker only delays a notice."""

from __future__ import annotations

from celery import shared_task

from operations.notify.email import email_deliver, emails_deliver
from operations.notify.outbox import outbox_sweep
from operations.notify.reminders import reminders_sweep
from operations.notify.webhooks import webhook_deliver, webhooks_deliver

BATCH = 500
MAX_BATCHES = 40
# Results are not kept: the outcome of every delivery is its row in PostgreSQL.
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="operations.tasks_notify.sweep_reminders", **TASK_OPTIONS)
def sweep_reminders() -> dict:
    """Beat, every minute: due reminders into the outbox, then queue what is due."""
    reminders, batches = 0, 0
    while batches < MAX_BATCHES:  # a backlog (after downtime) is worked off in one run, in batches
        processed = reminders_sweep(limit=BATCH)
        reminders, batches = reminders + processed, batches + 1
        if processed < BATCH:
            break
    return {"occurrences": reminders, **outbox_sweep()}


@shared_task(name="operations.tasks_notify.sweep_outbox", **TASK_OPTIONS)
def sweep_outbox() -> dict:
    """Beat, every minute: digests and catch-up collapse, retries and rows whose message was lost."""
    return outbox_sweep()


@shared_task(name="operations.tasks_notify.deliver_emails", **TASK_OPTIONS)
def deliver_emails(notification_ids: list[int]) -> dict:
    return emails_deliver(notification_ids=notification_ids)


@shared_task(name="operations.tasks_notify.deliver_webhooks", **TASK_OPTIONS)
def deliver_webhooks(delivery_ids: list[int]) -> dict:
    return webhooks_deliver(delivery_ids=delivery_ids)


# One id per message: kept for messages queued before batching and for the admin's "retry now".
@shared_task(name="operations.tasks_notify.deliver_email", **TASK_OPTIONS)
def deliver_email(notification_id: int) -> str:
    return email_deliver(notification_id=notification_id)


@shared_task(name="operations.tasks_notify.deliver_webhook", **TASK_OPTIONS)
def deliver_webhook(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)
