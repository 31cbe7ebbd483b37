"""Due-task reminders: the beat's sweep writes each stage once per recipient, before due, on due and
late (bounded), nothing for closed work, re-arms after a move, and after downtime sends only the
latest stage, collapsed per recipient into one e-mail."""

from __future__ import annotations

import logging

import pytest
import time_machine
from django.core import mail

from operations.models import Notification, TaskOccurrence
from operations.models.maintenance import OccurrenceStatus, ReminderKind
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify import reminders
from operations.notify.outbox import outbox_sweep
from operations.notify.reminders import reminders_sweep
from operations.reminder_schedule import initial_stage
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import occurrence, person, task, utc

# Monday 6 July 2026, 09:00 in Berlin (CEST) is 07:00 UTC. Lead time one day, grace two hours.
DUE = utc(2026, 7, 6, 7, 0)
BEFORE_DUE = utc(2026, 7, 5, 7, 0)
LATE_1 = utc(2026, 7, 6, 9, 0)


@pytest.fixture
def owner(plan, tina):
    return person(plan, name="Tina Team", user=tina)


@pytest.fixture
def backup(plan):
    return person(plan, name="Bram Backup", email="bram@example.com")


@pytest.fixture
def cert_task(plan, owner, backup):
    return task(plan, owner=owner, backup=backup)


@pytest.fixture
def armed(cert_task):
    return occurrence(cert_task, due_at=DUE, now=utc(2026, 7, 1))


def sweep(at):
    with time_machine.travel(at, tick=False):
        return reminders_sweep(now=at)


def kinds(occurrence_):
    return sorted(
        (n.event_type, n.recipient_email)
        for n in Notification.objects.filter(context__occurrence_id=occurrence_.pk)
    )


def test_nothing_is_written_before_the_lead_time(armed):
    assert sweep(utc(2026, 7, 5, 6, 59)) == 0
    assert Notification.objects.count() == 0


def test_the_owner_and_the_backup_are_reminded_once_when_the_lead_time_starts(armed, tina):
    assert sweep(BEFORE_DUE) == 1
    assert kinds(armed) == [
        (EventType.TASK_DUE_SOON, "bram@example.com"),
        (EventType.TASK_DUE_SOON, tina.email),
    ]
    armed.refresh_from_db()
    assert (armed.next_remind_at, armed.next_remind_kind) == (DUE, ReminderKind.ON_DUE)
    assert sweep(BEFORE_DUE) == 0  # the second beat in the same minute finds nothing
    assert Notification.objects.count() == 2


def test_the_inbox_item_belongs_to_the_owners_user_and_the_backup_gets_only_an_email(armed, tina):
    sweep(BEFORE_DUE)
    owners = Notification.objects.get(recipient_user=tina)
    backups = Notification.objects.get(recipient_email="bram@example.com")
    assert owners.subject == "Due soon: Rotate the SSL certificate"
    assert backups.recipient_user is None and backups.recipient_person.name == "Bram Backup"
    # The notice leads to the task's page, where its occurrences are completed, skipped or moved.
    assert owners.link == f"/plans/{armed.plan.slug}/maintenance/tasks/{armed.task_id}/"


def test_on_due_and_then_late_reminders_follow_and_the_late_ones_stop_after_three(armed):
    sweep(BEFORE_DUE)
    sweep(DUE)
    sweep(LATE_1)
    sweep(utc(2026, 7, 7, 9, 0))
    sweep(utc(2026, 7, 8, 9, 0))
    armed.refresh_from_db()
    assert armed.next_remind_at is None and armed.late_reminders_sent == 3
    assert sweep(utc(2026, 7, 20)) == 0
    late = Notification.objects.filter(event_type=EventType.TASK_LATE)
    assert late.count() == 3 * 2
    assert Notification.objects.filter(event_type=EventType.TASK_DUE).count() == 2


def test_a_done_or_skipped_occurrence_gets_no_reminder_and_leaves_the_index(armed, cert_task):
    skipped = occurrence(
        cert_task, due_at=utc(2026, 7, 13, 7), now=utc(2026, 7, 1), status=OccurrenceStatus.SKIPPED
    )
    TaskOccurrence.objects.filter(pk=armed.pk).update(status=OccurrenceStatus.DONE)
    assert sweep(utc(2026, 7, 13, 8)) == 2
    assert Notification.objects.count() == 0
    assert TaskOccurrence.objects.filter(next_remind_at__isnull=False).count() == 0
    assert skipped.pk


def test_a_moved_occurrence_is_reminded_again_for_its_new_date(armed, cert_task):
    sweep(DUE)
    assert Notification.objects.filter(event_type=EventType.TASK_DUE).count() == 2
    moved_to = utc(2026, 7, 8, 7, 0)
    stage = initial_stage(due_at=moved_to, lead_minutes=1440, grace_minutes=120, now=utc(2026, 7, 6, 8))
    TaskOccurrence.objects.filter(pk=armed.pk).update(
        due_at=moved_to,
        moved=True,
        next_remind_at=stage.at,
        next_remind_kind=stage.kind,
        late_reminders_sent=0,
    )
    sweep(moved_to)
    assert Notification.objects.filter(event_type=EventType.TASK_DUE).count() == 4
    keys = set(Notification.objects.filter(event_type=EventType.TASK_DUE).values_list("event_key", flat=True))
    assert len(keys) == 2  # the event key carries the due instant


def test_after_downtime_only_the_latest_passed_stage_is_sent_once(armed):
    sweep(utc(2026, 7, 6, 12, 0))  # the beat was down from before "due soon" until after "late #1"
    assert [n.event_type for n in Notification.objects.all()] == [EventType.TASK_LATE] * 2
    armed.refresh_from_db()
    assert armed.next_remind_at == utc(2026, 7, 7, 9, 0)
    assert armed.late_reminders_sent == 1


def test_after_downtime_several_missed_reminders_reach_a_recipient_as_one_email(
    plan, owner, eager_celery, django_capture_on_commit_callbacks
):
    for number in range(3):
        occurrence(
            task(plan, owner=owner, title=f"Check batch job {number}"), due_at=DUE, now=utc(2026, 7, 1)
        )
    back_up_at = utc(2026, 7, 6, 12, 0)
    with time_machine.travel(back_up_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        reminders_sweep(now=back_up_at)
        outbox_sweep(now=back_up_at)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "3 reminders you missed for Northwind Distribution"
    for number in range(3):
        assert f"Late: Check batch job {number}" in message.body
    folded = Notification.objects.filter(event_type=EventType.TASK_LATE)
    assert folded.count() == 3
    assert {n.email_status for n in folded} == {DeliveryStatus.NOT_NEEDED}
    assert len({n.sent_in_digest_id for n in folded}) == 1


def test_a_single_missed_reminder_goes_out_on_its_own(
    armed, eager_celery, django_capture_on_commit_callbacks, tina
):
    back_up_at = utc(2026, 7, 6, 12, 0)
    with time_machine.travel(back_up_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        reminders_sweep(now=back_up_at)
        outbox_sweep(now=back_up_at)
    assert sorted(m.to[0] for m in mail.outbox) == ["bram@example.com", tina.email]
    assert all(m.subject.startswith("Late: Rotate the SSL certificate") for m in mail.outbox)


def test_without_owner_or_backup_the_plans_support_leads_are_reminded(plan, alice, bob):
    occurrence(task(plan, title="Review licences"), due_at=DUE, now=utc(2026, 7, 1))
    sweep(DUE)
    assert set(Notification.objects.values_list("recipient_user__username", flat=True)) == {"bob"}


def test_without_owner_backup_or_support_lead_the_project_leads_are_reminded(plan, alice):
    occurrence(task(plan, title="Review licences"), due_at=DUE, now=utc(2026, 7, 1))
    sweep(DUE)
    assert set(Notification.objects.values_list("recipient_user__username", flat=True)) == {"alice"}


def test_a_bad_row_is_logged_pushed_back_an_hour_and_does_not_block_the_others(
    plan, owner, monkeypatch, caplog
):
    broken = occurrence(task(plan, owner=owner, title="Broken"), due_at=DUE, now=utc(2026, 7, 1))
    fine = occurrence(task(plan, owner=owner, title="Fine"), due_at=DUE, now=utc(2026, 7, 1))
    real = reminders._reminder_event

    def event_or_fail(*, occurrence, stage, leads):
        if occurrence.pk == broken.pk:
            raise RuntimeError("corrupt row")
        return real(occurrence=occurrence, stage=stage, leads=leads)

    monkeypatch.setattr(reminders, "_reminder_event", event_or_fail)
    with caplog.at_level(logging.ERROR):
        assert sweep(DUE) == 2
    assert "failed; retrying in an hour" in caplog.text
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.next_remind_at == utc(2026, 7, 6, 8, 0)
    assert fine.next_remind_kind == ReminderKind.LATE
    assert Notification.objects.filter(subject="Due now: Fine").count() == 1
    assert not Notification.objects.filter(subject="Due now: Broken").exists()


def test_when_the_batch_cannot_be_written_at_once_each_reminder_is_written_on_its_own(
    plan, owner, monkeypatch, caplog
):
    first = occurrence(task(plan, owner=owner, title="First"), due_at=DUE, now=utc(2026, 7, 1))
    second = occurrence(task(plan, owner=owner, title="Second"), due_at=DUE, now=utc(2026, 7, 1))
    real = reminders.write_events

    def refuse_batches(events, **kwargs):
        events = list(events)
        if len(events) > 1:
            raise RuntimeError("the batch insert failed")
        return real(events, **kwargs)

    monkeypatch.setattr(reminders, "write_events", refuse_batches)
    with caplog.at_level(logging.ERROR):
        assert sweep(DUE) == 2
    assert "writing them one by one" in caplog.text
    assert sorted(Notification.objects.values_list("subject", flat=True)) == [
        "Due now: First",
        "Due now: Second",
    ]
    for row in (first, second):
        row.refresh_from_db()
        assert row.next_remind_kind == ReminderKind.LATE
