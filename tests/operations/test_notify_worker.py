"""End to end through a real Celery worker against Redis and PostgreSQL: a due occurrence, the beat's
sweep task sent through the broker, and the worker delivers the reminder into the e-mail file backend
with the notice's stable Message-ID."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from celery import Celery

from operations.models import Notification
from operations.models.notifications import DeliveryStatus
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import occurrence, person, task
from tests.operations.worker_process import read_mail, start_worker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_a_due_reminder_by_email_with_its_message_id(
    needs_redis, needs_postgres, plan, tina, tmp_path, monkeypatch
):
    from django.utils import timezone

    broker = needs_redis.rsplit("/", 1)[0] + "/6"
    owner = person(plan, name="Tina Team", user=tina)
    now = timezone.now()
    occurrence(
        task(plan, owner=owner, reminder_lead_minutes=60),
        due_at=now + timedelta(minutes=30),
        now=now,
    )
    hostname = f"notify-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    # Celery reads CELERY_BROKER_URL from the environment before any broker it is given (CI sets it):
    # the probe must talk to this test's broker database.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    client = Celery("notify-probe", broker=broker, backend=broker)
    # Messages a previous run left on this broker database would act on this test's rows.
    client.control.purge()
    worker = start_worker(broker=broker, var_dir=tmp_path, hostname=hostname)
    try:
        deadline = time.monotonic() + 60
        while not client.control.ping(destination=[hostname], timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.terminate()
                pytest.fail("The worker did not start:\n" + worker.communicate(timeout=20)[0].decode())
        client.send_task("operations.tasks_notify.sweep_reminders")
        mail_dir = tmp_path / "mail"
        deadline = time.monotonic() + 60
        while not (mail_dir.exists() and any(mail_dir.iterdir())):
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.terminate()
                pytest.fail("No e-mail was written:\n" + worker.communicate(timeout=20)[0].decode())
            time.sleep(0.2)
        time.sleep(0.5)  # let the worker commit the "sent" state
        notice = Notification.objects.get()
        messages = read_mail(mail_dir)
        assert len(messages) == 1
        message = messages[0]
        assert message["Message-ID"].strip() == notice.message_id
        assert message["Subject"].strip().startswith("Due soon: Rotate the SSL certificate")
        assert message["To"].strip() == "tina@example.com"
        deadline = time.monotonic() + 20
        while Notification.objects.get().email_status != DeliveryStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Notification.objects.get().email_status == DeliveryStatus.SENT
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_the_beat_sweeps_and_the_delivery_tasks_are_registered_acking_late():
    import operations.tasks  # noqa: F401 -- registers the tasks, as the worker's autodiscovery does
    from supportplan.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["operations.tasks_notify.sweep_reminders"] == 60.0
    assert schedule["operations.tasks_notify.sweep_outbox"] == 60.0
    for name in (
        "sweep_reminders",
        "sweep_outbox",
        "deliver_email",
        "deliver_webhook",
        "deliver_emails",
        "deliver_webhooks",
    ):
        task_ = app.tasks[f"operations.tasks_notify.{name}"]
        assert task_.acks_late is True and task_.reject_on_worker_lost is True


def test_the_delivery_tasks_carry_only_an_id(plan, tina, monkeypatch, django_capture_on_commit_callbacks):
    from operations import tasks_notify
    from operations.models.notifications import EventType
    from operations.notify.outbox import Recipient, publish

    sent = []
    monkeypatch.setattr(
        tasks_notify.deliver_emails, "delay", lambda *args, **kwargs: sent.append((args, kwargs))
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = publish(
            plan=plan,
            event_key="e:1",
            event_type=EventType.SLA_BREACHED,
            recipients=[Recipient(user=tina)],
            subject="s",
            body="",
        )
    assert sent == [(([result.notification_ids[0]],), {})]
