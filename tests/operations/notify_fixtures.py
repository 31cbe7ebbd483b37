"""Builders for the notification tests (test_notify_*.py): tasks with an owner and a backup,
occurrences armed for their first reminder, eager Celery, a public-DNS seam for endpoint URLs and a
local HTTP receiver that records what it was sent."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, date, datetime, time

import pytest

from models_catalog.models import Person
from operations.models import MaintenanceTask, Notification, TaskOccurrence
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify import webhooks
from operations.notify.outbox import Recipient, publish
from operations.reminder_schedule import initial_stage
from supportplan.celery import app

__all__ = ["Receiver", "eager_celery", "occurrence", "person", "public_dns", "receiver", "task", "utc"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def person(plan, *, name: str, user=None, email: str = "", location=None) -> Person:
    return Person.objects.create(
        plan=plan, name=name, user=user, email=email or (user.email if user else ""), location=location
    )


def task(
    plan, *, owner=None, backup=None, title: str = "Rotate the SSL certificate", **fields
) -> MaintenanceTask:
    defaults = {
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "starts_on": date(2026, 1, 5),
        "local_time": time(9, 0),
        "timezone": "Europe/Berlin",
        "reminder_lead_minutes": 1440,
        "grace_minutes": 120,
    }
    return MaintenanceTask.objects.create(
        plan=plan, title=title, owner=owner, backup=backup, **{**defaults, **fields}
    )


def occurrence(maintenance_task, *, due_at: datetime, now: datetime, **fields) -> TaskOccurrence:
    """An open occurrence whose next reminder is stored as the maintenance services would store it."""
    stage = initial_stage(
        due_at=due_at,
        lead_minutes=maintenance_task.reminder_lead_minutes,
        grace_minutes=maintenance_task.grace_minutes,
        now=now,
    )
    return TaskOccurrence.objects.create(
        plan=maintenance_task.plan,
        task=maintenance_task,
        original_due_at=due_at,
        due_at=due_at,
        next_remind_at=stage.at if stage else None,
        next_remind_kind=stage.kind if stage else "",
        **fields,
    )


@pytest.fixture
def eager_celery():
    """Delivery tasks run in-process when queued (after commit), like a worker would run them."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def public_dns(monkeypatch):
    """Resolves every host to a public address (the tests run without DNS), except the names
    ``*.internal`` (10.0.0.5) and ``localhost`` (127.0.0.1)."""

    def fake_resolve(host: str, port: int) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        if host.endswith(".internal"):
            return ["10.0.0.5"]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        return ["93.184.215.14"]

    monkeypatch.setattr(webhooks, "resolve", fake_resolve)


class Receiver:
    """A local HTTP server: answers with ``status`` (a list is consumed one per request)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.default_status = 204
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = Receiver()
    yield server
    server.close()


def claimed_notices(plan, users, *, now: datetime) -> list[int]:
    """One SLA notice per user, each claimed ("sending") as the outbox sweep leaves it for a worker;
    their ids in order. Subjects: "Notice 0", "Notice 1", …"""
    for number, user in enumerate(users):
        publish(
            plan=plan,
            event_key=f"batch:{number}",
            event_type=EventType.SLA_BREACHED,
            recipients=[Recipient(user=user)],
            subject=f"Notice {number}",
            body="",
            now=now,
        )
    Notification.objects.update(email_status=DeliveryStatus.SENDING)
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))
