"""The breach and escalation sweep: ladder steps of SLA clocks become outbox rows (one per clock, step,
repeat and recipient), raises go through the helpdesk services once, silent clocks stay silent, a
backlog after downtime sends each missed step once, and two sweeps in parallel never double a step.

Northwind, Monday 8 March 2027 (steady state; London is on UTC): a P2 reported at 09:00 at level 2.
Its first-response clock (60 business minutes on office hours 09:00–17:00) warns at 09:45, breaches at
10:00 (then reminds at 11:00 and 12:00) and is raised a level at 11:00."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from celery import Celery
from django.db import connection

from models_catalog.models import Person
from operations.helpdesk import services
from operations.helpdesk.sweep import sla_sweep
from operations.models import (
    ClockState,
    EscalationTrigger,
    Notification,
    RequestEvent,
    RequestEventKind,
    SlaClock,
    SupportRequest,
)
from operations.models.notifications import DeliveryStatus, EventType
from operations.tasks_requests import sweep_sla_clocks
from supportplan.celery import app
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import FR, HelpdeskWorld, utc
from tests.operations.notify_fixtures import eager_celery  # noqa: F401

MONDAY_9 = utc(2027, 3, 8, 9, 0)


@pytest.fixture
def world(helpdesk_world: HelpdeskWorld, alice) -> HelpdeskWorld:
    """Two support managers (the warning's role) and Priya (told at breach) with addresses."""
    for name in ("Maya Support", "Omar Support"):
        person = Person.objects.create(
            plan=helpdesk_world.plan, name=name, email=f"{name.split()[0].lower()}@northwind.example"
        )
        person.roles.add(helpdesk_world.sla.support_manager)
    priya = helpdesk_world.sla.service_desk_lead
    priya.email = "priya@northwind.example"
    priya.save(update_fields=["email"])
    return helpdesk_world


def report(
    world: HelpdeskWorld, user, *, title: str = "Invoices stuck in workflow", at: datetime = MONDAY_9, **data
):
    with time_machine.travel(at, tick=False):
        request, _created = services.request_upsert(
            plan=world.plan,
            principal=user,
            data={"title": title, "priority": "P2", "level": 2, "reported_at": at.isoformat(), **data},
        )
    return request


def first_response(request: SupportRequest) -> SlaClock:
    return SlaClock.objects.get(request=request, metric=FR, level__isnull=True, cycle=0)


def sweep(at: datetime, *, until_idle: bool = False) -> int:
    """One sweep at ``at`` (or sweeps until nothing is due, as the task's batches would)."""
    with time_machine.travel(at, tick=False):
        total = processed = sla_sweep(now=at)
        while until_idle and processed and total < 1000:
            processed = sla_sweep(now=at)
            total += processed
    return total


def sweep_every(minutes: int, start: datetime, end: datetime) -> None:
    at = start
    while at <= end:
        sweep(at)
        at += timedelta(minutes=minutes)


def notices(clock: SlaClock, trigger: str | None = None):
    found = Notification.objects.filter(event_key__startswith=f"clock:{clock.pk}:step:")
    if trigger is not None:
        step_ids = [s.pk for s in clock.target.escalation_steps.filter(trigger=trigger)]
        found = found.filter(event_key__regex=rf"^clock:{clock.pk}:step:({'|'.join(map(str, step_ids))}):")
    return found


def test_the_warning_at_75_percent_sends_one_notice_per_recipient_of_the_role(world, alice):
    request = report(world, alice)
    clock = first_response(request)
    warn_step = world.ladder("P2", FR)[0]
    assert clock.next_step_id == warn_step.pk
    assert clock.next_step_at == utc(2027, 3, 8, 9, 45)

    assert sweep(utc(2027, 3, 8, 9, 44)) == 0
    assert sweep(utc(2027, 3, 8, 9, 46)) == 1

    sent = Notification.objects.filter(event_type=EventType.SLA_WARNING)
    assert sorted(sent.values_list("recipient_email", flat=True)) == [
        "maya@northwind.example",
        "omar@northwind.example",
    ]
    assert set(sent.values_list("event_key", flat=True)) == {f"clock:{clock.pk}:step:{warn_step.pk}:0"}
    notice = sent.first()
    assert notice.subject == "[P2] Invoices stuck in workflow: 75 % of the first response time used"
    assert notice.link == f"/plans/{world.plan.slug}/requests/{request.pk}/"
    assert notice.context["breach_at"] == "2027-03-08T10:00:00+00:00"
    # P2 is urgent: no waiting for quiet hours or a digest.
    assert {n.deliver_after for n in sent} == {utc(2027, 3, 8, 9, 46)}

    clock.refresh_from_db()
    assert clock.next_step.trigger == EscalationTrigger.AT_BREACH
    assert clock.next_step_at == utc(2027, 3, 8, 10, 0)
    assert sweep(utc(2027, 3, 8, 9, 50)) == 0
    assert Notification.objects.filter(event_type=EventType.SLA_WARNING).count() == 2


def test_the_breach_is_announced_to_the_person_and_repeats_stop_at_the_ladders_bound(world, alice):
    request = report(world, alice)
    clock = first_response(request)

    sweep_every(10, utc(2027, 3, 8, 9, 40), utc(2027, 3, 8, 17, 0))
    sweep_every(30, utc(2027, 3, 9, 9, 0), utc(2027, 3, 9, 12, 0))

    breach_notices = notices(clock, EscalationTrigger.AT_BREACH).order_by("event_key")
    assert [n.event_key.rsplit(":", 1)[1] for n in breach_notices] == ["0", "1", "2"]  # max_repeats = 2
    assert {n.recipient_email for n in breach_notices} == {"priya@northwind.example"}
    assert {n.event_type for n in breach_notices} == {EventType.SLA_BREACHED}
    assert breach_notices[0].subject == "[P2] Invoices stuck in workflow: first response target breached"
    assert notices(clock, EscalationTrigger.PERCENT_ELAPSED).count() == 2
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED
    assert clock.breached_at == utc(2027, 3, 8, 10, 0)


def test_raising_the_level_happens_once_and_tells_the_leads(world, alice):
    request = report(world, alice)
    clock = first_response(request)

    sweep_every(10, utc(2027, 3, 8, 9, 40), utc(2027, 3, 8, 16, 0))

    escalations = RequestEvent.objects.filter(request=request, kind=RequestEventKind.ESCALATED)
    assert escalations.count() == 1
    assert escalations.get().occurred_at == utc(2027, 3, 8, 11, 0)
    request.refresh_from_db()
    assert request.current_level == world.levels[3]
    assert request.current_party == world.partner
    raised = notices(clock, EscalationTrigger.AFTER_BREACH)
    assert {n.event_type for n in raised} == {EventType.SLA_ESCALATED}
    assert "alice@example.com" in {n.recipient_email for n in raised}
    assert raised.first().subject == (
        "[P2] Invoices stuck in workflow: first response breached: raised to the next support level"
    )


def test_raising_the_priority_happens_once(world, alice):
    from operations.sla_services import escalation_ladder_replace

    escalation_ladder_replace(
        target=world.target("P2", FR),
        steps=[
            {"trigger": "breach", "action": "raise_priority", "repeat_every_minutes": 30, "max_repeats": 2}
        ],
    )
    request = report(world, alice)

    sweep_every(10, utc(2027, 3, 8, 9, 50), utc(2027, 3, 8, 12, 0))

    assert RequestEvent.objects.filter(request=request, kind=RequestEventKind.ESCALATED).count() == 1
    request.refresh_from_db()
    assert request.priority.code == "P1"


@pytest.mark.parametrize(
    ("event", "expected_state"),
    [
        ({"kind": "public_update", "body": "We are looking into it."}, ClockState.MET),
        ({"kind": "status_changed", "status": "awaiting_customer"}, ClockState.PAUSED),
        ({"kind": "status_changed", "status": "cancelled"}, ClockState.CANCELLED),
    ],
    ids=["met", "paused", "cancelled"],
)
def test_nothing_is_sent_for_a_met_paused_or_cancelled_clock(world, alice, event, expected_state):
    request = report(world, alice)
    with time_machine.travel(utc(2027, 3, 8, 9, 30), tick=False):
        services.event_record(
            request=request, principal=alice, data={**event, "occurred_at": "2027-03-08T09:30:00Z"}
        )
    clock = first_response(request)
    assert clock.state == expected_state

    sweep_every(10, utc(2027, 3, 8, 9, 40), utc(2027, 3, 8, 16, 0))

    assert not notices(clock).exists()
    assert not RequestEvent.objects.filter(request=request, kind=RequestEventKind.ESCALATED).exists()


def test_a_clock_that_paused_after_its_step_was_stored_stays_silent_under_the_lock(world, alice):
    request = report(world, alice)
    clock = first_response(request)
    # As if the pause landed between the step being stored and the sweep's claim.
    SlaClock.objects.filter(pk=clock.pk).update(state=ClockState.PAUSED)

    assert sweep(utc(2027, 3, 8, 9, 46)) == 1

    assert not Notification.objects.exists()
    clock.refresh_from_db()
    assert clock.next_step_at is None


def test_a_bad_clock_is_pushed_back_and_the_others_are_still_served(world, alice, monkeypatch):
    first = report(world, alice, title="First")
    second = report(world, alice, title="Second")
    broken_id = first_response(first).pk
    real_advance = services.clock_step_advance

    def advance(*, clock, now):
        if clock.pk == broken_id:
            raise RuntimeError("corrupt clock")
        return real_advance(clock=clock, now=now)

    monkeypatch.setattr(services, "clock_step_advance", advance)

    assert sweep(utc(2027, 3, 8, 9, 46)) == 2

    assert notices(first_response(second)).count() == 2
    assert not notices(first_response(first)).exists()  # rolled back with the failed step
    assert first_response(first).next_step_at == utc(2027, 3, 8, 9, 46) + timedelta(minutes=15)


def test_after_downtime_each_missed_step_is_sent_once(world, alice):
    request = report(world, alice)
    clock = first_response(request)

    # The workers were down all Monday; the first sweep runs on Tuesday at 10:00.
    sweep(utc(2027, 3, 9, 10, 0), until_idle=True)
    sweep(utc(2027, 3, 9, 10, 1), until_idle=True)

    keys = sorted(set(notices(clock).values_list("event_key", flat=True)))
    steps = world.ladder("P2", FR)
    sent_steps = [int(key.split(":")[3]) for key in keys]
    assert sorted(sent_steps) == sorted(step.pk for step in steps)  # each step once, no repeat storm
    assert notices(clock, EscalationTrigger.PERCENT_ELAPSED).count() == 2
    assert notices(clock, EscalationTrigger.AT_BREACH).count() == 1
    assert RequestEvent.objects.filter(request=request, kind=RequestEventKind.ESCALATED).count() == 1


def test_the_beat_task_sweeps_the_clocks(world, alice, settings):
    report(world, alice)
    with time_machine.travel(utc(2027, 3, 8, 9, 46), tick=False):
        result = sweep_sla_clocks.apply().get()
    assert result["clocks"] == 1
    assert Notification.objects.filter(event_type=EventType.SLA_WARNING).count() == 2
    assert app.conf.beat_schedule["sweep-sla-clocks-every-minute"]["task"] == sweep_sla_clocks.name


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_in_parallel_send_each_step_once(needs_postgres, world, alice, eager_celery):  # noqa: F811
    requests = [report(world, alice, title=f"Request {n}") for n in range(12)]
    at = utc(2027, 3, 8, 9, 46)
    barrier = threading.Barrier(2)
    processed: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            processed.append(sla_sweep(now=at, limit=500))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert sum(processed) == len(requests)
    warnings = Notification.objects.filter(event_type=EventType.SLA_WARNING)
    assert warnings.count() == 2 * len(requests)
    assert warnings.values("event_key").distinct().count() == len(requests)
    assert set(warnings.values_list("email_status", flat=True)) == {DeliveryStatus.SENT}


def test_the_sweep_asks_one_question_when_nothing_is_due(world, alice, django_assert_max_num_queries):
    report(world, alice)
    with django_assert_max_num_queries(3) as captured:  # the question inside its savepoint
        assert sweep(utc(2027, 3, 8, 9, 44)) == 0
    selects = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
    assert len(selects) == 1
    assert '"next_step_at" <=' in selects[0]
    assert "sla_clock_step_due" in {index.name for index in SlaClock._meta.indexes}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_beats_sweep_and_emails_the_warning(
    needs_redis, needs_postgres, world, alice, tmp_path, monkeypatch
):
    """The beat's task sent through Redis to a real ``celery worker``: the due warning becomes a notice
    row and the same worker delivers its e-mail into the file backend."""
    from datetime import date

    from django.utils import timezone

    from operations.models import SlaPolicy
    from operations.sla_services import escalation_ladder_replace
    from tests.operations.worker_process import start_worker

    broker = needs_redis.rsplit("/", 1)[0] + "/7"
    SlaPolicy.objects.filter(pk=world.steady_state.pk).update(valid_from=date(2020, 1, 1))
    priya = world.sla.service_desk_lead
    escalation_ladder_replace(
        target=world.target("P1", FR),
        steps=[{"trigger": "percent", "percent": 50, "action": "notify_person", "person": priya}],
    )
    now = timezone.now()
    request, _ = services.request_upsert(
        plan=world.plan,
        principal=alice,
        data={
            "title": "Warehouse cannot ship",
            "priority": "P1",
            "reported_at": (now - timedelta(minutes=20)).isoformat(),
        },
    )
    clock = first_response(request)
    assert clock.next_step_at <= now  # 50 % of 30 minutes on the 24×7 calendar: 5 minutes ago

    hostname = f"sweep-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    # Celery reads CELERY_BROKER_URL from the environment before any broker it is given (CI sets it):
    # the probe must talk to this test's broker database.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    client = Celery("sweep-probe", broker=broker, backend=broker)
    # Messages a previous run left on this broker database would act on this test's rows.
    client.control.purge()
    worker = start_worker(broker=broker, var_dir=tmp_path, hostname=hostname)
    try:
        deadline = time.monotonic() + 60
        while not client.control.ping(destination=[hostname], timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.terminate()
                pytest.fail("The worker did not start:\n" + worker.communicate(timeout=20)[0].decode())
        client.send_task("operations.tasks_requests.sweep_sla_clocks")
        mail_dir = tmp_path / "mail"
        deadline = time.monotonic() + 60
        while not (mail_dir.exists() and any(mail_dir.iterdir())):
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.terminate()
                pytest.fail("No e-mail was written:\n" + worker.communicate(timeout=20)[0].decode())
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while Notification.objects.get().email_status != DeliveryStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.2)
        notice = Notification.objects.get()
        assert notice.event_type == EventType.SLA_WARNING
        assert notice.event_key == f"clock:{clock.pk}:step:{world.ladder('P1', FR)[0].pk}:0"
        assert notice.email_status == DeliveryStatus.SENT
        written = "".join(path.read_text() for path in mail_dir.iterdir())
        assert "To: priya@northwind.example" in written
        assert "Warehouse cannot ship" in written
        clock.refresh_from_db()
        assert clock.next_step_at is None  # the ladder had one step: done
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
