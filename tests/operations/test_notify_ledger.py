"""Delivery transactions as a worker runs them (outside any atomic block): on PostgreSQL each
delivery's outcome, its COMMIT and the next delivery's lock travel together (``DeliveryLedger``).
Each row still ends in its own committed transaction, an error rolls back that row only, and no
transaction is left open after the batch."""

from __future__ import annotations

import smtplib
import threading

import psycopg2.extensions
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test.utils import CaptureQueriesContext

from operations.models import Notification, WebhookDelivery
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify.email import emails_deliver
from operations.notify.outbox import DeliveryLedger, Recipient, publish
from operations.notify.webhooks import webhook_endpoint_create, webhooks_deliver
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import claimed_notices, utc

NOW = utc(2026, 3, 10, 12, 0)
pytestmark = pytest.mark.django_db(transaction=True)


def _idle() -> bool:
    status = connection.connection.get_transaction_status()
    return status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_chained_deliveries_record_every_outcome_in_its_own_commit(
    needs_postgres, plan, tina, bob, alice, monkeypatch
):
    first, refused, third = claimed_notices(plan, [tina, bob, alice], now=NOW)
    real_send = EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        if message.to == [bob.email]:
            raise smtplib.SMTPRecipientsRefused({bob.email: (550, b"no such user")})
        return real_send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    with CaptureQueriesContext(connection) as queries:
        outcome = emails_deliver(notification_ids=[first, refused, third], now=NOW)
    assert outcome == {DeliveryStatus.SENT: 2, DeliveryStatus.PENDING: 1}
    assert sorted(message.subject for message in mail.outbox) == ["Notice 0", "Notice 2"]
    sent = Notification.objects.get(pk=first)
    assert (sent.email_status, sent.email_attempts, sent.email_sent_at) == (DeliveryStatus.SENT, 1, NOW)
    retried = Notification.objects.get(pk=refused)
    assert retried.email_status == DeliveryStatus.PENDING and retried.email_attempts == 1
    assert "SMTPRecipientsRefused" in retried.email_last_error and retried.deliver_after > NOW
    assert retried.claimed_at is None
    assert Notification.objects.get(pk=third).email_status == DeliveryStatus.SENT
    chained = [query["sql"] for query in queries if "COMMIT; BEGIN" in query["sql"]]
    assert len(chained) == 2  # the 2nd and 3rd locks each carried the previous outcome and its commit
    assert all("synchronous_commit TO OFF" in sql for sql in chained)
    assert _idle()


def test_an_unexpected_error_rolls_back_that_delivery_only(
    needs_postgres, plan, tina, bob, alice, monkeypatch
):
    first, broken, third = claimed_notices(plan, [tina, bob, alice], now=NOW)
    real_send = EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        if message.to == [bob.email]:
            raise RuntimeError("a bug, not an SMTP error")
        return real_send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    outcome = emails_deliver(notification_ids=[first, broken, third], now=NOW)
    assert outcome == {DeliveryStatus.SENT: 2, "error": 1}
    statuses = dict(Notification.objects.values_list("pk", "email_status"))
    assert statuses == {
        first: DeliveryStatus.SENT,
        broken: DeliveryStatus.SENDING,
        third: DeliveryStatus.SENT,
    }
    assert Notification.objects.get(pk=broken).email_attempts == 0  # rolled back: the sweep reclaims it
    assert _idle()


def test_a_row_locked_by_another_worker_waits_and_is_then_skipped_as_sent(needs_postgres, plan, tina):
    (notice_id,) = claimed_notices(plan, [tina], now=NOW)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with DeliveryLedger(
                Notification, status_field="email_status", attempts_field="email_attempts"
            ) as ledger:
                assert ledger.lock(notice_id) == 0
                locked.set()
                release.wait(10)
                ledger.record(notice_id, email_status=DeliveryStatus.SENT, email_attempts=1)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    threading.Timer(0.3, release.set).start()
    assert emails_deliver(notification_ids=[notice_id], now=NOW) == {"skipped": 1}
    thread.join(10)
    assert mail.outbox == []
    assert Notification.objects.get(pk=notice_id).email_attempts == 1


def test_a_410_in_a_chained_batch_disables_the_endpoint_and_spares_its_other_deliveries(
    needs_postgres, plan, tina, receiver
):
    hook = webhook_endpoint_create(plan=plan, name="Helpdesk", url=receiver.url)
    receiver.statuses = [204, 410]
    ids = []
    for number in range(4):
        ids += publish(
            plan=plan,
            event_key=f"hook:{number}",
            event_type=EventType.SLA_BREACHED,
            recipients=[Recipient(user=tina)],
            subject="x",
            body="",
            now=NOW,
        ).delivery_ids
    outcome = webhooks_deliver(delivery_ids=ids, now=NOW)
    assert outcome == {DeliveryStatus.SENT: 1, DeliveryStatus.DISABLED: 3}
    assert len(receiver.requests) == 2  # the last two were never called
    hook.refresh_from_db()
    assert hook.active is False and "410 Gone" in hook.disabled_reason
    statuses = list(WebhookDelivery.objects.order_by("pk").values_list("status", "attempts"))
    assert statuses[:2] == [(DeliveryStatus.SENT, 1), (DeliveryStatus.DISABLED, 1)]
    assert {status for status, _ in statuses[2:]} == {DeliveryStatus.DISABLED}
    assert _idle()
