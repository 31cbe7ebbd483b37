"""The request's state and clocks as a pure function of its events (operations/helpdesk/replay.py).

No database: facts in, results out. Monday 1 March 2027 in London is UTC+0 (summer time starts on
28 March), so local office hours 09:00–17:00 are 09:00–17:00 UTC.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from operations.business_time import BusinessCalendar
from operations.helpdesk.replay import EventFacts, PolicyFacts, StepFacts, TargetFacts, replay

OFFICE, ALWAYS = 1, 2
ENGINES = {
    OFFICE: BusinessCalendar(timezone="Europe/London", weekly={d: [(time(9), time(17))] for d in range(5)}),
    ALWAYS: BusinessCalendar(timezone="Europe/London", weekly={d: [(time(0), time(0))] for d in range(7)}),
}
P1, P2 = 10, 20
L2, L3 = 2, 3
HELPDESK, PARTNER = 7, 8
WARN = StepFacts(id=1, position=0, trigger="percent", percent=75)
AT_BREACH = StepFacts(id=2, position=1, trigger="breach", repeat_every_minutes=60, max_repeats=2)
AFTER = StepFacts(id=3, position=2, trigger="after_breach", minutes_after_breach=60)
FIRST_RESPONSE = TargetFacts(
    id=101, priority_id=P2, metric="first_response", seconds=3600, calendar_id=OFFICE
)
NEXT_UPDATE = TargetFacts(id=102, priority_id=P2, metric="next_update", seconds=4 * 3600, calendar_id=OFFICE)
RESOLUTION = TargetFacts(
    id=103,
    priority_id=P2,
    metric="resolution",
    seconds=16 * 3600,
    calendar_id=OFFICE,
    steps=(WARN, AT_BREACH, AFTER),
)
P1_RESOLUTION = TargetFacts(id=201, priority_id=P1, metric="resolution", seconds=4 * 3600, calendar_id=ALWAYS)
L2_HOLD = TargetFacts(
    id=301, priority_id=P2, metric="resolution", seconds=4 * 3600, calendar_id=OFFICE, level_id=L2
)
L3_HOLD = TargetFacts(
    id=302, priority_id=P2, metric="resolution", seconds=8 * 3600, calendar_id=OFFICE, level_id=L3
)
TARGETS = [FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION, P1_RESOLUTION, L2_HOLD, L3_HOLD]
POLICY = PolicyFacts(pause_statuses=frozenset({"awaiting_customer", "awaiting_vendor"}))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


def event(sequence: int, kind: str, when: datetime, **facts) -> EventFacts:
    return EventFacts(sequence=sequence, kind=kind, occurred_at=when, id=sequence, **facts)


def created(when=None, **facts) -> EventFacts:
    return event(1, "created", when or at(1, 9), status="new", priority_id=P2, **facts)


def run(events, *, now, policy=POLICY, targets=TARGETS, **kwargs):
    return replay(
        events, request_type="incident", policy=policy, targets=targets, engines=ENGINES, now=now, **kwargs
    )


def clock(result, target: TargetFacts, cycle: int = 0):
    found = [c for c in result.clocks if c.target_id == target.id and c.cycle == cycle]
    assert found, (
        f"no clock for target {target.id} cycle {cycle}: {[(c.target_id, c.cycle) for c in result.clocks]}"
    )
    return found[0]


def test_a_new_request_runs_its_clocks_on_office_hours_with_the_warning_at_the_first_percent_step():
    result = run([created()], now=at(1, 10))
    resolution = clock(result, RESOLUTION)
    assert resolution.state == "running"
    assert resolution.breach_at == at(2, 17)  # 16 business hours: Monday and Tuesday
    assert resolution.warn_at == at(2, 13)  # 75 % = 12 business hours
    assert resolution.elapsed_seconds == 3600
    assert clock(result, FIRST_RESPONSE).breach_at == at(1, 10)
    assert result.status == "new" and result.sla_state == "at_risk"  # first response: 75 % passed
    assert result.next_breach_at == at(1, 10)


def test_a_request_created_out_of_hours_starts_counting_at_the_next_opening():
    result = run([created(at(6, 12))], now=at(6, 13))  # a Saturday
    assert clock(result, FIRST_RESPONSE).breach_at == at(8, 10)
    assert clock(result, RESOLUTION).elapsed_seconds == 0


def test_it_pauses_the_clock_while_waiting_for_the_customer():
    events = [
        created(),
        event(2, "status_changed", at(1, 10), status="awaiting_customer"),
        event(3, "status_changed", at(1, 12), status="in_progress"),
    ]
    paused = run(events[:2], now=at(1, 11))
    resolution = clock(paused, RESOLUTION)
    assert resolution.state == "paused"
    assert (resolution.warn_at, resolution.breach_at, resolution.next_step_at) == (None, None, None)
    assert resolution.paused_since == at(1, 10) and resolution.elapsed_seconds == 3600

    resumed = clock(run(events, now=at(1, 13)), RESOLUTION)
    assert resumed.state == "running" and resumed.breach_at == at(3, 11)  # two hours later
    assert resumed.paused_seconds == 7200 and resumed.elapsed_seconds == 2 * 3600


def test_the_mapping_effect_pauses_a_status_the_policy_would_not_pause_and_resumes_one_it_would():
    paused = run(
        [created(), event(2, "status_changed", at(1, 10), status="in_progress", clock_effect="pause")],
        now=at(1, 11),
    )
    assert clock(paused, RESOLUTION).state == "paused"
    running = run(
        [created(), event(2, "status_changed", at(1, 10), status="awaiting_customer", clock_effect="resume")],
        now=at(1, 11),
    )
    assert clock(running, RESOLUTION).state == "running"


def test_awaiting_a_vendor_pauses_our_clock_but_keeps_the_vendors_own_level_clock_running():
    events = [
        created(level_id=L2, party_id=HELPDESK),
        event(2, "handed_off", at(1, 10), level_id=L3, party_id=PARTNER),
        event(3, "status_changed", at(1, 11), status="awaiting_vendor"),
    ]
    result = run(events, now=at(1, 15))
    assert clock(result, RESOLUTION).state == "paused"
    vendor = clock(result, L3_HOLD)
    assert vendor.state == "running" and vendor.party_id == PARTNER
    assert vendor.elapsed_seconds == 5 * 3600 and vendor.breach_at == at(2, 10)  # 7 h Monday + 1 h
    strict = run(events, now=at(1, 15), policy=replace(POLICY, vendor_wait_keeps_vendor_clock=False))
    assert clock(strict, L3_HOLD).state == "paused"
    assert clock(strict, L3_HOLD).elapsed_seconds == 3600


def test_each_pass_through_a_level_has_its_own_clock():
    events = [
        created(level_id=L2, party_id=HELPDESK),
        event(2, "handed_off", at(1, 10), level_id=L3, party_id=PARTNER),
        event(3, "handed_off", at(1, 12), level_id=L2, party_id=HELPDESK),
    ]
    result = run(events, now=at(1, 13))
    first_pass, vendor, second_pass = (
        clock(result, L2_HOLD, 0),
        clock(result, L3_HOLD, 0),
        clock(result, L2_HOLD, 1),
    )
    assert (first_pass.state, first_pass.stopped_at, first_pass.elapsed_seconds) == ("met", at(1, 10), 3600)
    assert (vendor.state, vendor.elapsed_seconds) == ("met", 7200)
    assert second_pass.state == "running" and second_pass.started_at == at(1, 12)
    assert second_pass.breach_at == at(1, 16)
    assert result.level_id == L2 and result.party_id == HELPDESK
    assert [(hold.level_id, hold.start, hold.end) for hold in result.holds] == [
        (L2, at(1, 9), at(1, 10)),
        (L3, at(1, 10), at(1, 12)),
        (L2, at(1, 12), None),
    ]


def test_next_update_cycles_restart_at_each_public_update():
    events = [
        created(),
        event(2, "public_update", at(1, 10)),
        event(3, "public_update", at(1, 12)),
    ]
    result = run(events, now=at(1, 13))
    assert clock(result, FIRST_RESPONSE).state == "met"
    assert result.first_response_at == at(1, 10) and result.last_public_update_at == at(1, 12)
    assert clock(result, NEXT_UPDATE, 0).state == "met"
    current = clock(result, NEXT_UPDATE, 1)
    assert current.state == "running" and current.breach_at == at(1, 16)


def test_a_late_first_response_is_met_late_and_marks_the_request_breached():
    result = run([created(), event(2, "public_update", at(1, 11))], now=at(1, 12))
    first = clock(result, FIRST_RESPONSE)
    assert first.state == "breached" and first.breached_at == at(1, 10) and first.stopped_at == at(1, 11)
    assert first.next_step_at is None and first.breach_at is None
    assert result.sla_state == "breached"


def test_a_reopen_restarts_the_resolution_clock_with_the_full_target():
    events = [
        created(),
        event(2, "status_changed", at(1, 12), status="resolved"),
        event(3, "reopened", at(2, 9), status="in_progress"),
    ]
    result = run(events, now=at(2, 10))
    assert clock(result, RESOLUTION, 0).state == "met"
    again = clock(result, RESOLUTION, 1)
    assert again.state == "running" and again.started_at == at(2, 9) and again.breach_at == at(3, 17)
    assert result.status == "in_progress" and result.resolved_at is None
    assert clock(result, NEXT_UPDATE, 0).started_at == at(2, 9)  # answered before: updates are due


def test_a_status_change_out_of_resolved_counts_as_a_reopen():
    events = [
        created(),
        event(2, "status_changed", at(1, 12), status="resolved"),
        event(3, "status_changed", at(2, 9), status="assigned"),
    ]
    result = run(events, now=at(2, 10))
    assert result.status == "assigned"
    assert clock(result, RESOLUTION, 1).state == "running"


def test_cancelling_the_request_cancels_every_open_clock():
    events = [created(level_id=L2), event(2, "status_changed", at(1, 11), status="cancelled")]
    result = run(events, now=at(1, 12))
    assert {c.state for c in result.clocks} == {"cancelled"}
    assert all(c.next_step_at is None and c.warn_at is None for c in result.clocks)
    assert result.sla_state == "ok" and result.next_breach_at is None


def test_resolution_after_the_deadline_is_breached_with_its_breach_instant():
    result = run([created(), event(2, "status_changed", at(3, 10), status="resolved")], now=at(3, 11))
    resolution = clock(result, RESOLUTION)
    assert (resolution.state, resolution.breached_at, resolution.stopped_at) == (
        "breached",
        at(2, 17),
        at(3, 10),
    )
    assert result.resolved_at == at(3, 10)
    assert result.first_response_at == at(3, 10)  # the resolution answered the request


def test_closing_without_resolving_meets_the_resolution_clock():
    result = run([created(), event(2, "status_changed", at(1, 11), status="closed")], now=at(1, 12))
    assert clock(result, RESOLUTION).state == "met"
    assert result.resolved_at == at(1, 11) and result.closed_at == at(1, 11)


def test_a_priority_change_measures_the_same_clock_against_the_new_target_and_cancels_the_old_one():
    events = [created(), event(2, "priority_changed", at(1, 10), priority_id=P1)]
    result = run(events, now=at(1, 11))
    old, new = clock(result, RESOLUTION), clock(result, P1_RESOLUTION)
    assert old.state == "cancelled" and old.stopped_at == at(1, 10)
    assert new.started_at == at(1, 9) and new.breach_at == at(1, 13)  # 24×7, from the original start
    assert result.priority_id == P1


def test_the_ladder_schedules_the_earliest_step_not_done():
    events = [created()]
    result = run(events, now=at(1, 10))
    first = clock(result, RESOLUTION)
    assert (first.next_step_id, first.next_step_repeat, first.next_step_at) == (WARN.id, 0, at(2, 13))
    warned = run(events, now=at(2, 14), done={(RESOLUTION.id, 0): {(WARN.id, 0)}})
    assert (clock(warned, RESOLUTION).next_step_id, clock(warned, RESOLUTION).next_step_at) == (
        AT_BREACH.id,
        at(2, 17),
    )
    by_marker = run(events, now=at(2, 14), markers={(RESOLUTION.id, 0): (AT_BREACH.id, 0)})
    assert clock(by_marker, RESOLUTION).next_step_id == AT_BREACH.id
    repeats = run(events, now=at(3, 9, 30), markers={(RESOLUTION.id, 0): (AT_BREACH.id, 1)})
    # The breach notice's first repeat is one business hour after the breach: Wednesday 10:00.
    assert (clock(repeats, RESOLUTION).next_step_repeat, clock(repeats, RESOLUTION).next_step_at) == (
        1,
        at(3, 10),
    )


def test_after_downtime_each_missed_step_falls_due_once():
    events = [created()]
    done: set = {(WARN.id, 0)}
    now = at(4, 12)  # Thursday noon: the breach, its two repeats and the after-breach step are all overdue
    due = []
    for _ in range(6):
        result = run(events, now=now, done={(RESOLUTION.id, 0): done})
        resolution = clock(result, RESOLUTION)
        if resolution.next_step_id is None:
            break
        due.append((resolution.next_step_id, resolution.next_step_repeat))
        done.add(due[-1])
    assert due == [(AFTER.id, 0), (AT_BREACH.id, 2)]  # in due order: Wednesday 10:00, then 11:00


def test_a_pause_after_the_breach_postpones_the_after_breach_step_by_the_paused_time():
    events = [
        created(),
        event(2, "status_changed", at(3, 9), status="awaiting_customer"),
        event(3, "status_changed", at(3, 11), status="in_progress"),
    ]
    result = run(events, now=at(3, 11, 30), done={(RESOLUTION.id, 0): {(WARN.id, 0), (AT_BREACH.id, 0)}})
    resolution = clock(result, RESOLUTION)
    assert resolution.state == "breached" and resolution.breached_at == at(2, 17)
    # One business hour after the breach would be Wednesday 10:00; two paused hours move it to 12:00.
    assert (resolution.next_step_id, resolution.next_step_at) == (AT_BREACH.id, at(3, 12))


def test_nothing_is_scheduled_for_met_paused_or_cancelled_clocks():
    met = run([created(), event(2, "public_update", at(1, 9, 30))], now=at(1, 10))
    assert clock(met, FIRST_RESPONSE).next_step_at is None
    paused = run(
        [created(), event(2, "status_changed", at(1, 10), status="awaiting_customer")], now=at(1, 11)
    )
    assert clock(paused, RESOLUTION).next_step_at is None
    cancelled = run([created(), event(2, "status_changed", at(1, 10), status="cancelled")], now=at(1, 11))
    assert all(c.next_step_at is None for c in cancelled.clocks)


def _story() -> list[EventFacts]:
    return [
        created(level_id=L2, party_id=HELPDESK),
        event(2, "public_update", at(1, 9, 40)),
        event(3, "handed_off", at(1, 10), level_id=L3, party_id=PARTNER),
        event(4, "status_changed", at(1, 10, 30), status="awaiting_vendor"),
        event(5, "comment", at(1, 11)),
        event(6, "status_changed", at(1, 14), status="in_progress"),
        event(7, "public_update", at(1, 15)),
        event(8, "priority_changed", at(1, 16), priority_id=P1),
        event(9, "priority_changed", at(2, 9), priority_id=P2),
        event(10, "handed_off", at(2, 10), level_id=L2, party_id=HELPDESK),
        event(11, "status_changed", at(2, 12), status="resolved"),
        event(12, "reopened", at(2, 15), status="in_progress"),
        event(13, "status_changed", at(2, 16), status="awaiting_customer"),
        event(14, "public_update", at(3, 10)),
    ]


@pytest.mark.parametrize("seed", range(5))
def test_the_same_events_in_any_arrival_order_give_the_same_state_and_clocks(seed):
    story = _story()
    in_order = run(story, now=at(3, 12))
    shuffled = story[:]
    random.Random(seed).shuffle(shuffled)
    # Arrival order is irrelevant: the sequence only breaks ties between equal occurred_at.
    assert run(shuffled, now=at(3, 12)) == in_order
    assert in_order.status == "awaiting_customer" and in_order.event_count == len(story)
    assert {c.target_id for c in in_order.clocks} >= {RESOLUTION.id, P1_RESOLUTION.id, L2_HOLD.id, L3_HOLD.id}


def test_the_policy_in_force_at_creation_decides_what_pauses_the_clocks():
    events = [created(), event(2, "status_changed", at(1, 10), status="awaiting_vendor")]
    steady = run(events, now=at(1, 11))
    hypercare = run(
        events, now=at(1, 11), policy=PolicyFacts(pause_statuses=frozenset({"awaiting_customer"}))
    )
    assert clock(steady, RESOLUTION).state == "paused"
    assert clock(hypercare, RESOLUTION).state == "running"


def test_without_a_policy_the_request_state_is_still_derived_but_no_clock_runs():
    result = run(
        [created(), event(2, "status_changed", at(1, 10), status="in_progress")],
        now=at(1, 11),
        policy=None,
        targets=[],
    )
    assert result.status == "in_progress" and result.clocks == [] and result.sla_state == "ok"
