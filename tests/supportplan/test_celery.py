"""Celery wiring: settings, beat schedule in code, and a real worker's round trip through Redis."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from kombu import Queue

from supportplan.celery import app
from supportplan.models import ServiceHeartbeat
from supportplan.tasks import record_heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_acks_late_and_rejects_on_worker_loss():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert app.conf.timezone == "UTC"


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_a_healthy_database_connection_between_tasks_and_drops_an_expired_one():
    from types import SimpleNamespace

    from celery.fixups.django import DjangoWorkerFixup
    from django.db import connection

    from supportplan.celery import close_old_database_connections

    # Without CELERY_DB_REUSE_MAX Celery's fixup closes the connection around every task.
    assert DjangoWorkerFixup(app).db_reuse_max == 1000
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    connection.ensure_connection()
    opened = connection.connection
    close_old_database_connections(task=task)
    close_old_database_connections(task=task)
    assert connection.connection is opened
    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    close_old_database_connections(task=task)
    assert connection.connection is None


def test_every_beat_entry_names_a_task_the_worker_registers():
    import operations.tasks  # noqa: F401 -- what the worker's autodiscovery imports
    import supportplan.tasks  # noqa: F401

    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name


def test_beat_runs_the_heartbeat_every_minute():
    entry = app.conf.beat_schedule["record-worker-heartbeat-every-minute"]
    assert entry["task"] == "supportplan.tasks.record_heartbeat"
    assert entry["schedule"] == 60.0
    assert entry["task"] in app.tasks


def test_the_heartbeat_task_records_when_the_worker_last_ran(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    record_heartbeat.apply()
    assert ServiceHeartbeat.objects.get(name="worker").seen_at is not None


@pytest.mark.worker
def test_a_real_worker_answers_a_task_sent_through_redis(needs_redis, monkeypatch):
    broker = needs_redis.rsplit("/", 1)[0] + "/14"
    backend = needs_redis.rsplit("/", 1)[0] + "/15"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    # Celery prefers these variables over the URLs an app is given: set them for both sides.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", backend)
    env = {**os.environ}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "supportplan",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            "--hostname",
            f"{queue}@{socket.gethostname()}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # A separate client app, so the project's app keeps its own configuration.
    client = Celery("round-trip-probe", broker=broker, backend=backend)
    try:
        # Redis drops messages published before any queue is bound: wait until the worker answers.
        deadline = time.monotonic() + 60
        while not client.control.ping(destination=[f"{queue}@{socket.gethostname()}"], timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.terminate()
                pytest.fail(
                    "The worker did not start. Its output:\n" + worker.communicate(timeout=20)[0].decode()
                )
        started = time.monotonic()
        result = client.send_task("supportplan.tasks.ping", args=["round trip"], queue=Queue(queue))
        try:
            answer = result.get(timeout=60)
        except Exception:
            worker.terminate()
            pytest.fail(
                "No answer from the worker. Its output:\n" + worker.communicate(timeout=20)[0].decode()
            )
        assert answer["payload"] == "round trip"
        assert answer["seen_at"].endswith("+00:00")
        assert time.monotonic() - started < 60
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
