"""E-mail delivery: templates with subject, text and HTML, times in the recipient's zone, a stable
Message-ID, retries with backoff then "failed", quiet hours, the daily digest and urgent notices."""

from __future__ import annotations

import smtplib
from datetime import time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from operations.models import Notification, NotificationSettings
from operations.models.notifications import DeliveryStatus, DigestMode, EventType
from operations.notify.email import email_deliver, retry_delay
from operations.notify.outbox import Recipient, claim_due_emails, outbox_sweep, publish
from operations.notify.reminders import reminders_sweep
from tests.factories import LocationFactory
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import claimed_notices, occurrence, person, task, utc

DUE = utc(2026, 7, 6, 7, 0)  # Monday 09:00 in Berlin


@pytest.fixture
def berlin_tina(plan, tina):
    NotificationSettings.objects.create(user=tina, timezone="Europe/Berlin")
    return person(plan, name="Tina Team", user=tina)


@pytest.fixture
def new_york_backup(plan):
    office = LocationFactory(plan=plan, name="New York", country="US", timezone="America/New_York")
    return person(plan, name="Nia", email="nia@example.com", location=office)


def run(at, django_capture_on_commit_callbacks, sweep_reminders=True):
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        if sweep_reminders:
            reminders_sweep(now=at)
        outbox_sweep(now=at)


def test_a_reminder_email_has_subject_text_and_html_with_times_in_each_recipients_zone(
    plan, berlin_tina, new_york_backup, eager_celery, django_capture_on_commit_callbacks
):
    occurrence(task(plan, owner=berlin_tina, backup=new_york_backup), due_at=DUE, now=utc(2026, 7, 1))
    run(DUE, django_capture_on_commit_callbacks)
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"tina@example.com", "nia@example.com"}
    tinas = by_address["tina@example.com"]
    assert tinas.subject == "Due now: Rotate the SSL certificate — due Mon 6 Jul 2026, 09:00 CEST"
    assert "Due: Mon 6 Jul 2026, 09:00 CEST" in tinas.body
    assert "Times are shown in Europe/Berlin" in tinas.body
    html, mimetype = tinas.alternatives[0]
    assert mimetype == "text/html" and "<td>Mon 6 Jul 2026, 09:00 CEST</td>" in html
    assert "Due: Mon 6 Jul 2026, 03:00 EDT" in by_address["nia@example.com"].body
    assert "http://" in tinas.body and "/plans/northwind/" in tinas.body


def test_the_message_id_is_the_notices_stable_id_on_every_attempt(
    plan, tina, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            plan=plan,
            event_key="e:1",
            event_type=EventType.SLA_BREACHED,
            recipients=[Recipient(user=tina)],
            subject="P1 breached",
            body="",
            now=utc(2026, 3, 1),
        )
    notice = Notification.objects.get()
    Notification.objects.update(email_status=DeliveryStatus.SENDING)  # as if the message came twice
    email_deliver(notification_id=notice.pk)
    assert len(mail.outbox) == 2
    ids = {message.message()["Message-ID"] for message in mail.outbox}
    assert ids == {notice.message_id}
    assert notice.message_id == f"<notification-{notice.pk}.e.1.user.{tina.pk}@supportplan>"


def test_delivering_a_notice_that_is_not_claimed_does_nothing(plan, tina):
    publish(
        plan=plan,
        event_key="e:1",
        event_type=EventType.SLA_BREACHED,
        recipients=[Recipient(user=tina)],
        subject="s",
        body="",
        now=utc(2026, 3, 1),
    )
    notice = Notification.objects.get()
    Notification.objects.update(email_status=DeliveryStatus.SENT)
    assert email_deliver(notification_id=notice.pk) == "skipped"
    assert mail.outbox == []


def test_smtp_errors_are_retried_with_growing_waits_then_marked_failed_with_the_error(
    plan, tina, monkeypatch, settings
):
    settings.NOTIFY_MAX_ATTEMPTS = 4

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    start = utc(2026, 3, 1, 10, 0)
    publish(
        plan=plan,
        event_key="e:1",
        event_type=EventType.SLA_BREACHED,
        recipients=[Recipient(user=tina)],
        subject="s",
        body="",
        now=start,
    )
    notice = Notification.objects.get()
    at = start
    waits = []
    for _attempt in range(4):
        assert email_deliver(notification_id=notice.pk, now=at) in {"pending", "failed"}
        notice.refresh_from_db()
        if notice.email_status == DeliveryStatus.PENDING:
            waits.append(notice.deliver_after - at)
            assert claim_due_emails(now=notice.deliver_after - timedelta(seconds=1)) == []
            at = notice.deliver_after
            assert claim_due_emails(now=at) == [notice.pk]
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert notice.email_status == DeliveryStatus.FAILED and notice.email_attempts == 4
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in notice.email_last_error
    assert claim_due_emails(now=at + timedelta(days=1)) == []
    assert retry_delay(30) == timedelta(hours=12)


def test_quiet_hours_hold_the_email_until_they_end(
    plan, tina, eager_celery, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(
        user=tina, timezone="Europe/Berlin", quiet_start=time(22, 0), quiet_end=time(7, 0)
    )
    night = utc(2026, 7, 6, 21, 30)  # 23:30 in Berlin
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            plan=plan,
            event_key="e:1",
            event_type=EventType.SLA_WARNING,
            recipients=[Recipient(user=tina)],
            subject="P2 at 80%",
            body="",
            now=night,
        )
    run(utc(2026, 7, 7, 4, 59), django_capture_on_commit_callbacks, sweep_reminders=False)
    assert mail.outbox == []
    assert Notification.objects.get().read_at is None  # the inbox item is there at once
    run(utc(2026, 7, 7, 5, 0), django_capture_on_commit_callbacks, sweep_reminders=False)  # 07:00 Berlin
    assert [message.subject for message in mail.outbox] == ["P2 at 80%"]


def test_the_daily_digest_collects_a_days_reminders_into_one_email_at_the_digest_time(
    plan, berlin_tina, eager_celery, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.filter(user=berlin_tina.user).update(
        digest_mode=DigestMode.DAILY, digest_time=time(7, 30)
    )
    for hour in (8, 11, 15):
        occurrence(
            task(
                plan, owner=berlin_tina, title=f"Check at {hour}", reminder_lead_minutes=0, grace_minutes=1440
            ),
            due_at=utc(2026, 7, 6, hour),
            now=utc(2026, 7, 1),
        )
    for hour in (8, 11, 15):
        run(utc(2026, 7, 6, hour), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    run(utc(2026, 7, 7, 5, 29), django_capture_on_commit_callbacks, sweep_reminders=False)
    assert mail.outbox == []
    run(utc(2026, 7, 7, 5, 30), django_capture_on_commit_callbacks, sweep_reminders=False)  # 07:30 Berlin
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.subject == "Your daily digest: 3 reminders for Northwind Distribution"
    assert "Due now: Check at 8 (due Mon 6 Jul 2026, 10:00 CEST)" in digest.body
    assert "Due now: Check at 15" in digest.body
    assert Notification.objects.filter(sent_in_digest__isnull=False).count() == 3
    run(utc(2026, 7, 7, 5, 31), django_capture_on_commit_callbacks, sweep_reminders=False)
    assert len(mail.outbox) == 1


def test_an_urgent_notice_goes_at_once_despite_the_digest_and_quiet_hours(
    plan, tina, eager_celery, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(
        user=tina, digest_mode=DigestMode.DAILY, quiet_start=time(0, 0), quiet_end=time(23, 59)
    )
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            plan=plan,
            event_key="e:1",
            event_type=EventType.TASK_LATE,
            recipients=[Recipient(user=tina)],
            subject="Backups failing",
            body="",
            urgent=True,
            now=utc(2026, 7, 6, 12),
        )
    assert [message.subject for message in mail.outbox] == ["Backups failing"]
    assert Notification.objects.get().email_status == DeliveryStatus.SENT


def test_a_batch_sends_each_notice_and_a_bad_id_does_not_stop_the_rest(plan, tina, bob, alice, monkeypatch):
    from operations.notify import email as email_module

    first, broken, second = claimed_notices(plan, [tina, bob, alice], now=utc(2026, 3, 1))
    real = email_module._send_one

    def send_one(notification, **kwargs):
        if notification.pk == broken:
            raise RuntimeError("a broken row")
        return real(notification, **kwargs)

    monkeypatch.setattr(email_module, "_send_one", send_one)
    outcome = email_module.emails_deliver(notification_ids=[first, broken, -1, second])
    assert outcome == {DeliveryStatus.SENT: 2, "error": 1, "skipped": 1}
    assert sorted(message.subject for message in mail.outbox) == ["Notice 0", "Notice 2"]
    assert Notification.objects.get(pk=broken).email_status == DeliveryStatus.SENDING  # the sweep reclaims it


def test_on_postgresql_a_delivery_commits_without_waiting_for_the_disk(needs_postgres, plan, tina):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    (notice_id,) = claimed_notices(plan, [tina], now=utc(2026, 3, 1))
    with CaptureQueriesContext(connection) as queries:
        assert email_deliver(notification_id=notice_id) == DeliveryStatus.SENT
    assert any("SET LOCAL synchronous_commit TO OFF" in query["sql"] for query in queries)
