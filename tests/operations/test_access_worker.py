"""End to end through a real Celery worker against Redis (DB 8) and PostgreSQL: a grant whose expiry
has passed, the beat's ``expire_grants`` task sent through the broker, and the worker marks it expired,
writes the notices into the outbox and delivers the requester's e-mail."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from operations import access_services
from operations.models import AccessRequest, Notification
from operations.models.notifications import DeliveryStatus, EventType
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.worker_process import start_worker

REDIS_DB = 8


def fail_with_output(worker: subprocess.Popen, why: str) -> None:
    worker.terminate()
    pytest.fail(f"{why}. The worker's output:\n" + worker.communicate(timeout=20)[0].decode())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_a_grant_and_the_notices_exist(
    needs_redis, needs_postgres, plan, alice, tina, carol_of_partner, partner, policy, tmp_path, monkeypatch
):
    broker = needs_redis.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    asked = timezone.now() - timedelta(hours=3)
    grant = access_services.access_request_create(
        plan=plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="Trace the posting error",
        duration_hours=2,
        now=asked,
    )
    access_services.access_request_decide(access_request=grant, actor=tina, approve=True, now=asked)
    still_running = access_services.access_request_create(
        plan=plan, actor=alice, party=partner, environment="support_copy", reason="Later", duration_hours=5
    )
    access_services.access_request_decide(access_request=still_running, actor=tina, approve=True)

    hostname = f"access-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    # Celery reads CELERY_BROKER_URL from the environment before any broker it is given (CI sets it):
    # the probe must talk to this test's broker database.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    client = Celery("access-probe", broker=broker, backend=broker)
    # Messages a previous run left on this broker database would act on this test's rows.
    client.control.purge()
    worker = start_worker(broker=broker, var_dir=tmp_path, hostname=hostname)
    try:
        deadline = time.monotonic() + 60
        while not client.control.ping(destination=[hostname], timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                fail_with_output(worker, "The worker did not start")
        result = client.send_task("operations.tasks_access.expire_grants")
        try:
            expired = result.get(timeout=60)
        except Exception:
            fail_with_output(worker, "No answer from expire_grants")
        assert expired == 1

        grant.refresh_from_db()
        still_running.refresh_from_db()
        assert grant.status == "expired"
        assert grant.ended_at is not None and grant.ended_at >= grant.expires_at
        assert still_running.status == "approved"
        notices = Notification.objects.filter(
            event_type=EventType.ACCESS_EXPIRED, context__access_request_id=grant.pk
        )
        assert {n.recipient_user.username for n in notices} == {"carol", "tina"}

        # The notices' e-mails go out through the same worker (the outbox queued them after commit).
        deadline = time.monotonic() + 30
        while notices.exclude(email_status=DeliveryStatus.SENT).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not notices.exclude(email_status=DeliveryStatus.SENT).exists()
        assert any("Access expired" in path.read_text() for path in (tmp_path / "mail").iterdir())
        assert AccessRequest.objects.filter(status="expired").count() == 1
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_beat_runs_the_expiry_every_minute():
    import operations.tasks  # noqa: F401 -- registers the tasks, as the worker's autodiscovery does
    from supportplan.celery import app

    entry = app.conf.beat_schedule["expire-access-grants-every-minute"]
    assert entry == {"task": "operations.tasks_access.expire_grants", "schedule": 60.0}
    assert entry["task"] in app.tasks


def test_the_task_works_off_a_backlog_in_batches(plan, alice, tina, partner, policy, monkeypatch):
    from operations import tasks_access

    asked = timezone.now() - timedelta(days=2)
    for number in range(5):
        AccessRequest.objects.create(
            plan=plan,
            policy=policy,
            party=partner,
            environment="support_copy",
            requested_by=alice,
            reason=f"Backlog {number}",
            duration_hours=1,
            status="approved",
            granted_from=asked,
            expires_at=asked + timedelta(hours=1),
        )
    monkeypatch.setattr(tasks_access, "EXPIRE_BATCH", 2)
    assert tasks_access.expire_grants.apply().get() == 5
    assert not AccessRequest.objects.filter(status="approved").exists()


@pytest.mark.django_db(transaction=True)
def test_a_grant_locked_by_another_sweep_is_skipped_not_waited_for(
    needs_postgres, plan, alice, tina, partner, policy
):
    """Two sweeps never handle one grant: the second skips the row the first holds (skip_locked)."""
    import threading

    from django.db import connections, transaction

    asked = timezone.now() - timedelta(hours=3)
    grant = AccessRequest.objects.create(
        plan=plan,
        policy=policy,
        party=partner,
        environment="support_copy",
        requested_by=alice,
        reason="Locked elsewhere",
        duration_hours=1,
        status="approved",
        granted_from=asked,
        expires_at=asked + timedelta(hours=1),
    )
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                AccessRequest.objects.select_for_update().get(pk=grant.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert access_services.access_grants_expire() == 0
    finally:
        release.set()
        holder.join(timeout=30)
    assert access_services.access_grants_expire() == 1
    grant.refresh_from_db()
    assert grant.status == "expired"
