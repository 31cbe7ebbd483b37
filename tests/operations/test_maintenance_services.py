"""Maintenance services and selectors: the rolling horizon, rebuilds that keep history, counting from
completion, working-day moves, conflicts with freezes, who may complete, evidence, and the reminder
columns the sweep reads."""

from __future__ import annotations

import logging
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from operations import calendar_services
from operations import maintenance_services as services
from operations.maintenance_selectors import (
    can_complete,
    conflicts_for,
    conflicts_for_task,
    occurrence_state,
    occurrences_for,
    task_history,
)
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    MaintenanceTask,
    OccurrenceState,
    OccurrenceStatus,
    ReminderKind,
    TaskOccurrence,
)
from supportplan.access import ApiKeyPrincipal
from supportplan.models import ApiKeyScope
from supportplan.services import api_key_create
from tests.operations.maintenance_fixtures import (
    build_partner_party,
    build_person,
    build_task,
    build_uk_calendar,
    utc,
)

NEW_YEAR = "2027-01-01 10:00Z"


@pytest.fixture
def frozen():
    with time_machine.travel(NEW_YEAR, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tina_person(plan, tina):
    return build_person(plan, "Tina", user=tina)


@pytest.fixture
def weekly(plan, frozen, tina_person):
    return build_task(plan, owner=tina_person)


def mondays(task):
    return list(task.occurrences.order_by("due_at").values_list("due_at", flat=True))


# --- Horizon --------------------------------------------------------------------------------
def test_creating_a_task_materialises_about_400_days_of_occurrences(weekly):
    dues = mondays(weekly)
    assert dues[0] == utc(2027, 1, 4, 9, 0)
    assert dues[-1] == utc(2028, 1, 31, 9, 0)  # the last Monday before 1 Jan 2027 + 400 days (5 Feb 2028)
    assert len(dues) == 57
    assert all(due.weekday() == 0 for due in dues)


def test_materialising_twice_changes_nothing(weekly):
    before = list(weekly.occurrences.order_by("id").values_list("id", "original_due_at", "due_at"))
    assert services.task_materialise(task=weekly) == 0
    assert services.plan_materialise(plan=weekly.plan) == 0
    after = list(weekly.occurrences.order_by("id").values_list("id", "original_due_at", "due_at"))
    assert after == before


def test_the_daily_run_extends_the_horizon_a_week_later(weekly, frozen):
    frozen.shift(timedelta(days=7))
    assert services.materialise_all() == 1
    assert mondays(weekly)[-1] == utc(2028, 2, 7, 9, 0)


def test_the_beat_task_runs_the_daily_materialisation(weekly, frozen):
    from operations.tasks_maintenance import materialise_horizon

    frozen.shift(timedelta(days=14))
    assert materialise_horizon.name == "operations.tasks_maintenance.materialise_horizon"
    assert materialise_horizon() == 2
    assert materialise_horizon() == 0


def test_the_daily_run_logs_and_skips_a_broken_task(plan, weekly, frozen, caplog):
    broken = build_task(plan, title="Broken")
    MaintenanceTask.objects.filter(pk=broken.pk).update(timezone="Mars/Olympus")
    frozen.shift(timedelta(days=7))
    with caplog.at_level(logging.ERROR):
        created = services.materialise_all()
    assert created == 1  # the healthy task still moved on
    assert f"Could not materialise maintenance task {broken.pk}" in caplog.text


def test_a_deactivated_task_loses_its_future_open_occurrences_but_keeps_history(weekly, tina, frozen):
    first = weekly.occurrences.order_by("due_at").first()
    frozen.move_to("2027-01-04 10:00Z")
    services.occurrence_complete(occurrence=first, actor=tina, notes="Fine")
    services.task_update(task=weekly, active=False)
    assert list(weekly.occurrences.values_list("status", flat=True)) == [OccurrenceStatus.DONE]


# --- Rebuilds -------------------------------------------------------------------------------
def test_editing_the_rule_rebuilds_future_open_ones_and_keeps_done_skipped_and_moved(weekly, alice, frozen):
    occurrences = list(weekly.occurrences.order_by("due_at")[:4])
    frozen.move_to("2027-01-11 12:00Z")
    services.occurrence_complete(occurrence=occurrences[0], actor=alice, notes="Done on time")
    services.occurrence_skip(occurrence=occurrences[1], actor=alice, reason="Office closed")
    moved = services.occurrence_move(
        occurrence=occurrences[3], actor=alice, due_at=utc(2027, 1, 27, 14, 0), reason="Clashes with audit"
    )
    stale_open_id = occurrences[2].pk

    services.task_update(task=weekly, actor=alice, pattern={"kind": "weekly", "days": ["TU"]})

    kept = {row.pk: row for row in weekly.occurrences.all()}
    assert kept[occurrences[0].pk].status == OccurrenceStatus.DONE
    assert kept[occurrences[1].pk].status == OccurrenceStatus.SKIPPED
    assert kept[moved.pk].due_at == utc(2027, 1, 27, 14, 0) and kept[moved.pk].moved
    assert stale_open_id not in kept
    future_open = weekly.occurrences.filter(status=OccurrenceStatus.OPEN, moved=False).order_by("due_at")
    assert future_open.first().due_at == utc(2027, 1, 12, 9, 0)
    assert all(row.due_at.weekday() == 1 for row in future_open)
    assert weekly.rrule == "FREQ=WEEKLY;BYDAY=TU"
    assert [row.pk for row in task_history(weekly)] == [moved.pk, occurrences[1].pk, occurrences[0].pk]


def test_changing_only_the_time_keeps_nothing_stale(weekly, frozen):
    services.task_update(task=weekly, local_time=time(14, 30))
    london = ZoneInfo("Europe/London")
    local_times = {row.due_at.astimezone(london).time() for row in weekly.occurrences.all()}
    assert local_times == {time(14, 30)}  # 14:30Z in winter, 13:30Z in summer
    assert weekly.occurrences.count() == 57


def test_changing_the_lead_time_rearms_the_reminders(weekly):
    services.task_update(task=weekly, reminder_lead_minutes=60)
    first = weekly.occurrences.order_by("due_at").first()
    assert first.next_remind_at == utc(2027, 1, 4, 8, 0)
    assert first.next_remind_kind == ReminderKind.BEFORE_DUE


# --- Counting from completion ---------------------------------------------------------------
def test_with_schedule_from_completion_the_next_due_counts_from_the_completion(plan, alice, frozen):
    task = build_task(
        plan,
        title="Password renewal",
        rrule="FREQ=MONTHLY;INTERVAL=3",
        starts_on=date(2027, 1, 4),
        schedule_from_completion=True,
    )
    assert mondays(task)[:2] == [utc(2027, 1, 4, 9, 0), utc(2027, 4, 4, 8, 0)]
    frozen.move_to("2027-01-20 15:00Z")
    services.occurrence_complete(occurrence=task.occurrences.order_by("due_at").first(), actor=alice)
    open_dues = list(task.occurrences.filter(status=OccurrenceStatus.OPEN).values_list("due_at", flat=True))
    assert open_dues[:3] == [utc(2027, 4, 20, 8, 0), utc(2027, 7, 20, 8, 0), utc(2027, 10, 20, 8, 0)]


# --- Working-day moves ----------------------------------------------------------------------
def test_the_last_working_day_pattern_moves_back_over_the_spring_bank_holiday(plan, frozen):
    calendar = build_uk_calendar(plan)
    task = build_task(
        plan,
        title="Month-end batch review",
        pattern={"kind": "last_working_day"},
        local_time=time(16, 0),
        working_calendar=calendar,
    )
    assert task.non_working_day_shift == "previous"
    may = task.occurrences.get(original_due_at=utc(2027, 5, 31, 15, 0))
    assert may.due_at == utc(2027, 5, 28, 15, 0)  # Monday 31 May 2027 is a bank holiday
    march_2027 = task.occurrences.get(original_due_at=utc(2027, 3, 31, 15, 0))
    assert march_2027.due_at == march_2027.original_due_at  # a Wednesday: unchanged


def test_an_occurrence_on_a_non_working_day_moves_to_the_next_working_day(plan, frozen):
    calendar = build_uk_calendar(plan)
    task = build_task(
        plan,
        title="Clean-up jobs",
        pattern={"kind": "monthly_day", "day": 1},
        non_working_day_shift="next",
        working_calendar=calendar,
    )
    dues = {row.original_due_at.date(): row.due_at.date() for row in task.occurrences.all()}
    assert dues[date(2027, 5, 1)] == date(2027, 5, 4)  # Sat → Mon 3 May is a bank holiday → Tue
    assert dues[date(2027, 6, 1)] == date(2027, 6, 1)


def test_a_new_holiday_moves_an_occurrence_on_the_next_run(plan, frozen):
    calendar = build_uk_calendar(plan)
    task = build_task(
        plan,
        pattern={"kind": "monthly_day", "day": 15},
        non_working_day_shift="previous",
        working_calendar=calendar,
    )
    calendar_services.holiday_add(calendar=calendar, date=date(2027, 3, 15), name="Office move")
    services.task_materialise(task=task)
    assert task.occurrences.get(original_due_at=utc(2027, 3, 15, 9, 0)).due_at == utc(2027, 3, 12, 9, 0)


# --- Conflicts ------------------------------------------------------------------------------
def test_an_occurrence_inside_a_freeze_window_is_a_conflict(plan, weekly, alice, frozen):
    freeze = calendar_services.calendar_event_create(
        plan=plan,
        name="Period-end close January 2027",
        kind=CalendarEventKind.PERIOD_END,
        starts_at=utc(2027, 1, 29, 18, 0),
        ends_at=utc(2027, 2, 1, 9, 30),  # overlaps the Monday 09:00–10:00 occurrence by half an hour
    )
    calendar_services.calendar_event_create(
        plan=plan,
        name="F&O service update",
        kind=CalendarEventKind.SERVICE_UPDATE,
        starts_at=utc(2027, 1, 4, 0, 0),
        ends_at=utc(2027, 1, 5, 0, 0),
    )
    assert freeze.blocks_maintenance is True
    found = conflicts_for(plan=plan)
    assert [(c.occurrence.due_at, c.event.name) for c in found] == [
        (utc(2027, 2, 1, 9, 0), "Period-end close January 2027")
    ]
    assert [c.occurrence.pk for c in conflicts_for_task(weekly)] == [found[0].occurrence.pk]
    services.occurrence_move(occurrence=found[0].occurrence, actor=alice, due_at=utc(2027, 2, 1, 10, 0))
    assert conflicts_for(plan=plan) == []


def test_a_conflicting_occurrence_moves_to_the_end_of_chained_freezes(plan, weekly, alice):
    for name, starts, ends in [
        ("Period-end", utc(2027, 1, 29, 18, 0), utc(2027, 2, 1, 9, 30)),
        ("Audit freeze", utc(2027, 2, 1, 9, 30), utc(2027, 2, 1, 12, 0)),
    ]:
        calendar_services.calendar_event_create(
            plan=plan, name=name, kind=CalendarEventKind.FREEZE, starts_at=starts, ends_at=ends
        )
    occurrence = conflicts_for(plan=plan)[0].occurrence
    moved = services.occurrence_move_out_of_freeze(occurrence=occurrence, actor=alice)
    assert (moved.due_at, moved.moved) == (utc(2027, 2, 1, 12, 0), True)
    assert moved.move_reason == "Moved out of freeze: Period-end, Audit freeze"
    assert conflicts_for(plan=plan) == []


def test_a_closed_occurrence_or_a_window_that_does_not_freeze_is_no_conflict(plan, weekly, alice, frozen):
    calendar_services.calendar_event_create(
        plan=plan,
        name="Peak, but maintenance allowed",
        kind=CalendarEventKind.SEASONAL_PEAK,
        starts_at=utc(2027, 1, 1),
        ends_at=utc(2027, 3, 1),
        blocks_maintenance=False,
    )
    calendar_services.calendar_event_create(
        plan=plan,
        name="Freeze",
        kind=CalendarEventKind.FREEZE,
        starts_at=utc(2027, 1, 4),
        ends_at=utc(2027, 1, 5),
    )
    assert len(conflicts_for(plan=plan)) == 1
    services.occurrence_skip(
        occurrence=weekly.occurrences.order_by("due_at").first(), actor=alice, reason="Frozen"
    )
    assert conflicts_for(plan=plan) == []


# --- Who may complete -----------------------------------------------------------------------
def test_the_owner_completes_and_a_team_member_who_is_not_the_owner_may_not(plan, weekly, tina, frozen):
    other = build_task(plan, title="Someone else's", owner=build_person(plan, "Olga"))
    mine, theirs = weekly.occurrences.first(), other.occurrences.first()
    assert can_complete(tina, mine) and not can_complete(tina, theirs)
    with pytest.raises(PermissionDenied):
        services.occurrence_complete(occurrence=theirs, actor=tina)
    theirs.refresh_from_db()
    assert theirs.status == OccurrenceStatus.OPEN


def test_the_backup_and_leads_may_complete_viewers_never(plan, weekly, tina, bob, victor, frozen):
    backup_task = build_task(
        plan,
        title="Backed up",
        owner=build_person(plan, "Olga"),
        backup=build_person(plan, "Tina B", user=tina),
    )
    assert can_complete(tina, backup_task.occurrences.first())
    assert can_complete(bob, weekly.occurrences.first())
    assert not can_complete(victor, weekly.occurrences.first())
    with pytest.raises(PermissionDenied):
        services.occurrence_skip(occurrence=weekly.occurrences.first(), actor=victor, reason="No")


def test_a_partner_completes_the_tasks_its_organisation_is_responsible_for(plan, carol, weekly, frozen):
    party = build_partner_party(plan, carol)
    refresh = build_task(plan, title="Refresh UAT", responsible_party=party)
    assert can_complete(carol, refresh.occurrences.first())
    assert not can_complete(carol, weekly.occurrences.first())


def test_api_keys_complete_only_with_write_scope_in_their_plan(plan, alice, weekly, dave, other_plan):
    read, _ = api_key_create(plan=plan, name="r", scope=ApiKeyScope.READ, created_by=alice)
    write, _ = api_key_create(plan=plan, name="w", scope=ApiKeyScope.READ_WRITE, created_by=alice)
    elsewhere, _ = api_key_create(plan=other_plan, name="x", scope=ApiKeyScope.READ_WRITE, created_by=dave)
    occurrence = weekly.occurrences.first()
    assert not can_complete(ApiKeyPrincipal(read), occurrence)
    assert can_complete(ApiKeyPrincipal(write), occurrence)
    assert not can_complete(ApiKeyPrincipal(elsewhere), occurrence)
    done = services.occurrence_complete(
        occurrence=occurrence, actor=ApiKeyPrincipal(write), notes="From the helpdesk"
    )
    assert done.status == OccurrenceStatus.DONE and done.closed_by is None


# --- Completing, skipping, moving -----------------------------------------------------------
def test_completion_needs_evidence_when_the_task_requires_it_and_stores_nothing_without(plan, alice, frozen):
    task = build_task(
        plan, title="Anonymised copy", category="anonymised_copy_refresh", evidence_required=True
    )
    occurrence = task.occurrences.first()
    with pytest.raises(ValidationError) as caught:
        services.occurrence_complete(occurrence=occurrence, actor=alice, notes="done")
    assert "evidence" in caught.value.message_dict["evidence_url"][0]
    assert TaskOccurrence.objects.get(pk=occurrence.pk).status == OccurrenceStatus.OPEN
    with pytest.raises(ValidationError) as caught:
        services.occurrence_complete(occurrence=occurrence, actor=alice, evidence_url="not a link")
    assert "evidence_url" in caught.value.message_dict
    done = services.occurrence_complete(
        occurrence=occurrence, actor=alice, evidence_url="https://evidence.example.com/run/42", notes="Masked"
    )
    assert (done.status, done.closed_by, done.closed_at) == (
        OccurrenceStatus.DONE,
        alice,
        utc(2027, 1, 1, 10, 0),
    )


def test_skipping_needs_a_reason(weekly, alice):
    with pytest.raises(ValidationError) as caught:
        services.occurrence_skip(occurrence=weekly.occurrences.first(), actor=alice, reason="  ")
    assert "reason" in caught.value.message_dict


def test_a_move_needs_an_aware_time_and_completing_twice_is_refused(weekly, alice):
    from datetime import datetime

    occurrence = weekly.occurrences.first()
    with pytest.raises(ValidationError) as caught:
        services.occurrence_move(occurrence=occurrence, actor=alice, due_at=datetime(2027, 1, 5, 9, 0))
    assert "aware" in caught.value.message_dict["due_at"][0]
    services.occurrence_complete(occurrence=occurrence, actor=alice)
    with pytest.raises(ValidationError, match="already done"):
        services.occurrence_complete(occurrence=occurrence, actor=alice)


# --- Reminder columns -----------------------------------------------------------------------
def test_open_occurrences_carry_their_next_reminder_and_closing_clears_it(weekly, alice, frozen):
    first, second, third = weekly.occurrences.order_by("due_at")[:3]
    assert (first.next_remind_at, first.next_remind_kind, first.late_reminders_sent) == (
        utc(2027, 1, 3, 9, 0),
        ReminderKind.BEFORE_DUE,
        0,
    )
    done = services.occurrence_complete(occurrence=first, actor=alice)
    assert (done.next_remind_at, done.next_remind_kind, done.late_reminders_sent) == (None, "", 0)
    skipped = services.occurrence_skip(occurrence=second, actor=alice, reason="Holiday")
    assert skipped.next_remind_at is None
    moved = services.occurrence_move(occurrence=third, actor=alice, due_at=utc(2027, 1, 20, 9, 0))
    assert (moved.next_remind_at, moved.next_remind_kind) == (utc(2027, 1, 19, 9, 0), ReminderKind.BEFORE_DUE)
    frozen.move_to("2027-01-05 12:00Z")  # first is now past due + grace
    reopened = services.occurrence_reopen(occurrence=done, actor=alice)
    assert (reopened.status, reopened.next_remind_kind, reopened.late_reminders_sent) == (
        OccurrenceStatus.OPEN,
        ReminderKind.LATE,
        2,  # the first late notice fell due at 11:00 on the 4th, the second at 11:00 on the 5th
    )


# --- States and lists -----------------------------------------------------------------------
def test_states_follow_lead_time_and_grace(weekly):
    occurrence = weekly.occurrences.order_by("due_at").first()  # due Mon 4 Jan 09:00, lead 1 day, grace 2 h
    assert occurrence_state(occurrence, now=utc(2027, 1, 3, 8, 59)) == OccurrenceState.UPCOMING
    assert occurrence_state(occurrence, now=utc(2027, 1, 3, 9, 0)) == OccurrenceState.DUE
    assert occurrence_state(occurrence, now=utc(2027, 1, 4, 10, 59)) == OccurrenceState.DUE
    assert occurrence_state(occurrence, now=utc(2027, 1, 4, 11, 0)) == OccurrenceState.LATE


def test_lists_filter_by_state_owner_and_mine(plan, weekly, tina, tina_person, alice, frozen):
    build_task(plan, title="Olga's", owner=build_person(plan, "Olga"))
    frozen.move_to("2027-01-04 12:00Z")
    late = occurrences_for(user=alice, plan=plan, state=OccurrenceState.LATE)
    assert {row.task.title for row in late} == {"Storage and licence review", "Olga's"}
    assert occurrences_for(user=tina, plan=plan, mine=True).count() == 57
    assert occurrences_for(user=alice, plan=plan, owner=tina_person, state="late").count() == 1
    assert occurrences_for(user=alice, plan=plan, start=utc(2027, 1, 10), end=utc(2027, 1, 12)).count() == 2


# --- Bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"rrule": "FREQ=HOURLY"}, "rrule"),
        ({"pattern": {"kind": "weekly", "days": []}}, "days"),
        ({"category": "astrology"}, "category"),
        ({"ends_on": date(2026, 12, 1)}, "ends_on"),
    ],
)
def test_bad_task_input_is_refused_and_nothing_is_stored(plan, frozen, fields, field):
    with pytest.raises(ValidationError) as caught:
        build_task(plan, **fields)
    assert field in caught.value.message_dict
    assert not MaintenanceTask.objects.exists() and not TaskOccurrence.objects.exists()


def test_people_of_another_plan_are_refused(plan, other_plan, frozen):
    with pytest.raises(ValidationError) as caught:
        build_task(plan, owner=build_person(other_plan, "Stranger"))
    assert caught.value.message_dict["owner"] == ["Choose one from this plan."]


def test_only_leads_create_tasks(plan, tina, frozen):
    with pytest.raises(PermissionDenied):
        services.task_create(
            plan=plan,
            actor=tina,
            title="x",
            rrule="FREQ=DAILY",
            starts_on=date(2027, 1, 1),
            local_time=time(9),
            timezone="UTC",
        )


# --- Update windows -------------------------------------------------------------------------
def test_update_window_presets_cover_fo_updates_and_release_waves_once(plan, alice):
    created = services.update_window_presets_apply(
        plan=plan, year=2027, actor=alice, products=["finance_operations", "customer_engagement"]
    )
    names = [event.name for event in created]
    assert [name for name in names if name.startswith("F&O")] == [
        "F&O service update — February 2027",
        "F&O service update — April 2027",
        "F&O service update — July 2027",
        "F&O service update — October 2027",
    ]
    assert (
        "2027 release wave 1 — early access" in names
        and "2027 release wave 2 — general availability" in names
    )
    wave1 = next(event for event in created if event.name == "2027 release wave 1 — early access")
    assert (wave1.starts_at, wave1.ends_at) == (utc(2027, 2, 1), utc(2027, 4, 1))
    assert not any(event.blocks_maintenance for event in created)
    assert (
        services.update_window_presets_apply(
            plan=plan, year=2027, actor=alice, products=["finance_operations"]
        )
        == []
    )
    assert CalendarEvent.objects.filter(plan=plan).count() == 8
