"""E-mail delivery of one notice: rendered from ``templates/emails/<name>-subject.txt|-body.txt|-body.html``
with times in the recipient's zone, sent with a stable Message-ID so a receiver can drop a duplicate.

``email_deliver`` is idempotent: it locks the row and returns unless the row is "sending"; an SMTP or
connection error puts the row back to "pending" with an exponential backoff, and after
``NOTIFY_MAX_ATTEMPTS`` attempts it stays "failed" with the last error (admin and delivery log)."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone

from operations.models import Notification
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify.outbox import DeliveryLedger, PreferenceBook, preferences_for

logger = logging.getLogger(__name__)

TEMPLATES = {
    EventType.TASK_DUE_SOON: "task_reminder",
    EventType.TASK_DUE: "task_reminder",
    EventType.TASK_LATE: "task_reminder",
    EventType.TASK_DIGEST: "digest",
}
#: First retry after a minute, then doubling: 1, 2, 4, 8 … minutes, at most 12 hours apart.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=12)


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 8))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based)."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def recipient_zone(notification: Notification, book: PreferenceBook | None = None) -> ZoneInfo:
    if book is not None:
        return book.get(
            user_id=notification.recipient_user_id,
            location_id=notification.recipient_person.location_id
            if notification.recipient_person_id
            else None,
        ).zone
    person = notification.recipient_person if notification.recipient_person_id else None
    return preferences_for(user_id=notification.recipient_user_id, person=person).zone


def local_time(value: str | datetime | None, zone: ZoneInfo) -> str:
    """An instant (aware, or a UTC ISO string) as the recipient reads it: "Mon 6 Jul 2026, 09:00 CEST"."""
    if not value:
        return ""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return f"{settings.SITE_URL}{link}"


def email_context(notification: Notification, zone: ZoneInfo | None = None) -> dict:
    zone = zone or recipient_zone(notification)
    context = dict(notification.context or {})
    times = {key: local_time(value, zone) for key, value in context.items() if key.endswith("_at") and value}
    items = []
    if notification.event_type == EventType.TASK_DIGEST:
        for item in notification.digested.order_by("deliver_after", "id"):
            item_context = item.context or {}
            items.append(
                {
                    "subject": item.subject,
                    "link": absolute(item.link),
                    "due_at": local_time(item_context.get("due_at"), zone),
                    "plan": item_context.get("plan", ""),
                }
            )
    return {
        "notification": notification,
        "context": context,
        "times": times,
        "zone": str(zone),
        "link": absolute(notification.link),
        "items": items,
        "plan": notification.plan,
        "site_url": settings.SITE_URL,
    }


def build_message(notification: Notification, zone: ZoneInfo | None = None) -> EmailMultiAlternatives:
    name = TEMPLATES.get(notification.event_type, "notification")
    context = email_context(notification, zone)
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}-body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient_email],
        headers={"Message-ID": notification.message_id, "X-SupportPlan-Event": notification.event_key},
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", context), "text/html")
    return message


def _load(notification_ids: list[int]) -> dict[int, Notification]:
    """The batch's notices still "sending", read at once (without locks: each is locked when sent)."""
    # By key alone: with the status in the query too, the planner may AND in the whole pending index.
    notices = (
        Notification.objects.filter(pk__in=notification_ids)
        .select_related("plan", "recipient_person")
        .order_by()
    )
    return {notice.pk: notice for notice in notices if notice.email_status == DeliveryStatus.SENDING}


def email_deliver(*, notification_id: int, now: datetime | None = None, connection=None) -> str:
    """Sends one claimed notice; returns its status afterwards ("skipped" if it was not "sending").
    ``connection``: an open mail connection to reuse (a batch shares one SMTP session)."""
    notice = _load([notification_id]).get(notification_id)
    if notice is None:
        return "skipped"
    with _ledger() as ledger:
        return _send_one(notice, ledger=ledger, zone=recipient_zone(notice), now=now, connection=connection)


def _ledger() -> DeliveryLedger:
    return DeliveryLedger(Notification, status_field="email_status", attempts_field="email_attempts")


def _send_one(
    notification: Notification, *, ledger: DeliveryLedger, zone: ZoneInfo, now: datetime | None, connection
) -> str:
    """Renders, then locks, sends and records one notice in its own transaction (``ledger``)."""
    try:
        message, render_error = build_message(notification, zone), None
    except Exception as error:  # a bad row (template, data): record it, never retry it forever
        logger.exception("Notification %s could not be rendered.", notification.pk)
        message, render_error = None, error
    attempts = ledger.lock(notification.pk)
    if attempts is None:
        return "skipped"
    attempts += 1
    if message is None:
        status = DeliveryStatus.FAILED
        ledger.record(
            notification.pk,
            email_status=status,
            email_attempts=attempts,
            email_last_error=f"Could not render: {render_error}"[:2000],
        )
        return status
    if connection is not None:
        message.connection = connection
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        now = now or timezone.now()
        retry = attempts < max_attempts()
        status = DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED
        ledger.record(
            notification.pk,
            email_status=status,
            email_attempts=attempts,
            email_last_error=f"{type(error).__name__}: {error}"[:2000],
            deliver_after=now + retry_delay(attempts) if retry else notification.deliver_after,
            claimed_at=None,
        )
        return status
    ledger.record(
        notification.pk,
        email_status=DeliveryStatus.SENT,
        email_attempts=attempts,
        email_sent_at=now or timezone.now(),
        email_last_error="",
    )
    return DeliveryStatus.SENT


def emails_deliver(*, notification_ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Sends a batch of claimed notices over one mail connection, each in its own transaction, so a
    crash re-sends at most the one in flight (its Message-ID lets the receiver drop it). The notices
    and their recipients' zones are read once for the batch. Returns the count per resulting status."""
    outcome: dict[str, int] = {}
    notices = _load(notification_ids)
    book = PreferenceBook(
        user_ids=[notice.recipient_user_id for notice in notices.values()],
        location_ids=[
            notice.recipient_person.location_id for notice in notices.values() if notice.recipient_person_id
        ],
    )
    connection = get_connection()
    try:
        connection.open()
    except (smtplib.SMTPException, OSError):
        connection = None  # each send opens its own and records its own failure
    try:
        with _ledger() as ledger:
            for notification_id in notification_ids:
                notice = notices.get(notification_id)
                if notice is None:
                    outcome["skipped"] = outcome.get("skipped", 0) + 1
                    continue
                try:
                    zone = recipient_zone(notice, book)
                    status = _send_one(notice, ledger=ledger, zone=zone, now=now, connection=connection)
                except Exception:  # a bad row never blocks the rest of the batch; the sweep reclaims it
                    logger.exception("Notification %s could not be delivered.", notification_id)
                    ledger.abort()
                    status = "error"
                outcome[status] = outcome.get(status, 0) + 1
    finally:
        if connection is not None:
            connection.close()
    return outcome
