"""The replay's shortcuts give what the straightforward computation gives (operations/helpdesk/replay.py).

No database: random event logs (out of order, several zones, every kind of event) against random
targets and ladders; each shortcut is compared with the plain computation it replaces.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from operations.business_time import BusinessCalendar
from operations.helpdesk import replay as replay_module
from operations.helpdesk.replay import (
    DEFAULT_WARN_PERCENT,
    EventFacts,
    PolicyFacts,
    StepFacts,
    TargetFacts,
    replay,
    step_entries,
)

OFFICE, ALWAYS, SHIFTS = 1, 2, 3
ENGINES = {
    OFFICE: BusinessCalendar(timezone="Europe/London", weekly={d: [(time(9), time(17))] for d in range(5)}),
    ALWAYS: BusinessCalendar(timezone="Europe/London", weekly={d: [(time(0), time(0))] for d in range(7)}),
    SHIFTS: BusinessCalendar(
        timezone="America/New_York", weekly={d: [(time(8), time(12)), (time(13), time(18))] for d in range(6)}
    ),
}
PRIORITIES = (10, 20, 30)
LEVELS = (2, 3, 4)
STEPS = (
    StepFacts(id=1, position=0, trigger="percent", percent=75),
    StepFacts(id=2, position=1, trigger="breach", repeat_every_minutes=60, max_repeats=2),
    StepFacts(id=3, position=2, trigger="after_breach", minutes_after_breach=60),
    StepFacts(id=4, position=0, trigger="percent", percent=50, repeat_every_minutes=30, max_repeats=3),
    StepFacts(
        id=5,
        position=3,
        trigger="after_breach",
        minutes_after_breach=30,
        repeat_every_minutes=45,
        max_repeats=4,
    ),
)
STATUSES = (
    "new",
    "assigned",
    "in_progress",
    "awaiting_customer",
    "awaiting_vendor",
    "resolved",
    "closed",
    "cancelled",
    "",
)
KINDS = (
    "created",
    "status_changed",
    "status_changed",
    "reopened",
    "priority_changed",
    "escalated",
    "handed_off",
    "public_update",
    "public_update",
    "comment",
    "comment",
)
ZONES = (UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"))
START = datetime(2027, 3, 1, 8, tzinfo=UTC)


def random_targets(rng: random.Random) -> list[TargetFacts]:
    targets = []
    for priority in PRIORITIES:
        for metric in ("first_response", "next_update", "resolution"):
            for level in (None, 2, 3):
                if level is not None and metric == "next_update":
                    continue
                for request_type in ("", "incident"):
                    if rng.random() < 0.45:
                        targets.append(
                            TargetFacts(
                                id=100 + len(targets),
                                priority_id=priority,
                                metric=metric,
                                seconds=rng.choice([1800, 3600, 4 * 3600, 16 * 3600]),
                                calendar_id=rng.choice(list(ENGINES)),
                                request_type=request_type,
                                level_id=level,
                                steps=tuple(step for step in STEPS if rng.random() < 0.4),
                            )
                        )
    rng.shuffle(targets)
    return targets


def random_events(rng: random.Random) -> list[EventFacts]:
    count = rng.randint(0, 40)
    first = START + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
    sequences = list(range(1, count + 1))
    rng.shuffle(sequences)
    events = []
    for index in range(count):
        kind = rng.choice(KINDS)
        when = first + timedelta(minutes=rng.choice([0, 0, rng.randint(0, 60 * 24 * 4)]))
        if index == 0 and rng.random() < 0.85:
            kind, when = "created", first
        facts = {}
        if kind in ("created", "status_changed", "reopened"):
            facts["status"] = rng.choice(STATUSES)
            facts["clock_effect"] = rng.choice(["", "", "pause", "resume"])
        if kind in ("created", "priority_changed", "escalated") and rng.random() < 0.8:
            facts["priority_id"] = rng.choice(PRIORITIES)
        if kind in ("created", "handed_off", "escalated"):
            if rng.random() < 0.7:
                facts["level_id"] = rng.choice(LEVELS)
            if rng.random() < 0.6:
                facts["party_id"] = rng.choice([7, 8])
        events.append(
            EventFacts(
                sequence=sequences[index],
                kind=kind,
                occurred_at=when.astimezone(rng.choice(ZONES)),
                id=rng.choice([None, index + 1]),
                **facts,
            )
        )
    return events


def random_policy(rng: random.Random) -> PolicyFacts | None:
    return rng.choice(
        [
            None,
            PolicyFacts(),
            PolicyFacts(frozenset({"awaiting_customer", "awaiting_vendor"}), True),
            PolicyFacts(frozenset({"awaiting_customer", "awaiting_vendor"}), False),
            PolicyFacts(frozenset({"assigned"}), False),
        ]
    )


def random_done(rng: random.Random, result, targets) -> dict:
    by_id = {target.id: target for target in targets}
    done = {}
    for clock in result.clocks:
        steps = by_id[clock.target_id].steps
        keys = [(s.id, r) for s in steps for r in range((s.max_repeats if s.repeat_every_minutes else 0) + 1)]
        if keys and rng.random() < 0.6:
            done[clock.key] = set(rng.sample(keys, rng.randint(0, len(keys))))
    return done


@pytest.mark.parametrize("seed", range(6))
def test_asking_for_the_running_clocks_ladders_only_gives_what_every_clocks_ladder_gives(seed):
    rng = random.Random(seed)
    for _ in range(60):
        targets, events, policy = random_targets(rng), random_events(rng), random_policy(rng)
        now = START + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        common = {
            "request_type": "incident",
            "policy": policy,
            "targets": targets,
            "engines": ENGINES,
            "now": now,
        }
        done = random_done(rng, replay(events, **common), targets)
        asked = []

        def done_for(keys, done=done, asked=asked):
            asked.extend(keys)
            return {key: entries for key, entries in done.items() if key in keys}

        everything = replay(events, done=done, **common)
        running_only = replay(events, done_for=done_for, **common)
        assert asdict(running_only) == asdict(everything)
        assert sorted(asked) == sorted(clock.key for clock in everything.clocks if clock.is_live)


def random_walk_steps(seed: int):
    """60 random logs' walks, each yielded after every event it applies, in order."""
    rng = random.Random(seed)
    for _ in range(60):
        targets, events, policy = random_targets(rng), random_events(rng), random_policy(rng)
        walk = replay_module._Walk(request_type="incident", policy=policy, targets=targets)
        for event in sorted(events, key=lambda event: event.order):
            walk.apply(event)
            yield walk


@pytest.mark.parametrize("seed", range(6))
def test_the_walk_visits_exactly_the_open_slots_and_pauses_each_as_its_own_rule_says(seed):
    for walk in random_walk_steps(seed):
        open_slots = [slot for slot in walk.slots if slot.is_open]
        assert [id(slot) for slot in walk.open_slots] == [id(slot) for slot in open_slots]
        for slot in open_slots:
            assert (slot.paused_since is not None) == walk._paused(slot)


def plain_pausing(walk, slot) -> bool:
    """The pause rule, slot by slot (what ``_Walk._pausing`` works out once per event)."""
    if walk.effect == "pause":
        general = True
    elif walk.effect == "resume":
        general = False
    else:
        general = walk.status in walk.policy.pause_statuses
    if slot.level_id is not None and general:
        return not (walk.status == "awaiting_vendor" and walk.policy.vendor_wait_keeps_vendor_clock)
    return general


@pytest.mark.parametrize("seed", range(3))
def test_the_pause_rule_worked_out_once_per_event_is_the_rule_per_slot(seed):
    for walk in random_walk_steps(seed):
        for slot in walk.slots:
            assert walk._paused(slot) == plain_pausing(walk, slot)


def plain_target_for(targets, metric, priority_id, level_id, request_type):
    """The target in force, by a scan of every target (what ``_target_index`` answers by lookup)."""
    best = None
    for target in targets:
        if (
            target.metric == metric
            and target.priority_id == priority_id
            and target.level_id == level_id
            and target.request_type in ("", request_type)
        ):
            if target.request_type:
                return target
            best = best or target
    return best


@pytest.mark.parametrize("request_type", ["incident", "service_request", ""])
def test_the_target_index_answers_what_a_scan_of_the_targets_answers(request_type):
    rng = random.Random(request_type)
    for _ in range(100):
        targets = random_targets(rng)
        # Duplicates too: the first one found wins.
        targets += [TargetFacts(**{**asdict(target), "id": target.id + 1000}) for target in targets[:3]]
        rng.shuffle(targets)
        index = replay_module._target_index(targets, request_type)
        for metric in ("first_response", "next_update", "resolution", "other"):
            for priority in (*PRIORITIES, None):
                for level in (None, *LEVELS):
                    assert index.get((metric, priority, level)) == plain_target_for(
                        targets, metric, priority, level, request_type
                    )


def plain_step_entries(steps, target_seconds):
    """(step id, repeat, position, threshold) of a ladder, worked out afresh."""
    target = timedelta(seconds=target_seconds)
    entries = []
    for step in steps:
        if step.trigger == "percent":
            base = target * (step.percent or 100) / 100
        elif step.trigger == "breach":
            base = target
        else:
            base = target + timedelta(minutes=step.minutes_after_breach or 0)
        repeats = step.max_repeats if step.repeat_every_minutes else 0
        for repeat in range(repeats + 1):
            threshold = base + timedelta(minutes=(step.repeat_every_minutes or 0) * repeat)
            entries.append((step.id, repeat, step.position, threshold))
    entries.sort(key=lambda entry: (entry[3], entry[2], entry[1]))
    return entries


def test_a_ladders_thresholds_kept_per_target_are_the_ones_worked_out_afresh():
    rng = random.Random(7)
    for _ in range(200):
        steps = [step for step in STEPS if rng.random() < 0.5]
        rng.shuffle(steps)
        seconds = rng.choice([60, 1800, 3600, 4 * 3600, 16 * 3600, 7 * 3600 + 13])
        for _ in range(2):  # worked out, then kept
            entries = step_entries(steps, seconds, None)
            assert [(e.step_id, e.repeat, e.position, e.threshold) for e in entries] == plain_step_entries(
                steps, seconds
            )
            assert all(entry.at is None for entry in entries)
            percents = [step.percent for step in steps if step.trigger == "percent" and step.percent]
            assert (
                replay_module._warn_threshold(tuple(steps), seconds)
                == timedelta(seconds=seconds) * min(percents or [DEFAULT_WARN_PERCENT]) / 100
            )


def _plain_clock(slot, target, *, stop, reason, engine):
    return replay_module._clock(
        slot, target, stop=stop, reason=reason, engine=engine, now=stop, done=set(), marker=None
    )


@pytest.mark.parametrize("seed", range(6))
def test_stopped_clocks_kept_per_process_are_the_ones_computed_afresh(seed, monkeypatch):
    rng = random.Random(seed)
    logs = [(random_targets(rng), random_events(rng), random_policy(rng)) for _ in range(60)]
    nows = [START + timedelta(minutes=rng.randint(0, 60 * 24 * 30)) for _ in logs]

    def run_all(shift: timedelta):
        return [
            asdict(
                replay(
                    events,
                    request_type="incident",
                    policy=policy,
                    targets=targets,
                    engines=ENGINES,
                    now=now + shift,
                )
            )
            for (targets, events, policy), now in zip(logs, nows, strict=True)
        ]

    replay_module._STOPPED_CLOCKS.clear()
    cold = run_all(timedelta(0))
    assert replay_module._STOPPED_CLOCKS  # stopped clocks were kept…
    warm = run_all(timedelta(0))
    later_warm = run_all(timedelta(days=3))  # …and serve a later now too (it does not change them)
    monkeypatch.setattr(replay_module, "_stopped_clock", _plain_clock)
    assert warm == cold == run_all(timedelta(0))
    assert later_warm == run_all(timedelta(days=3))


def test_a_kept_clock_is_handed_out_as_a_copy_and_a_new_calendar_is_a_new_key():
    replay_module._STOPPED_CLOCKS.clear()
    target = TargetFacts(id=1, priority_id=10, metric="resolution", seconds=3600, calendar_id=OFFICE)
    slot = replay_module._Slot(metric="resolution", cycle=0, start=START)
    stop = START + timedelta(hours=30)
    first = replay_module._stopped_clock(slot, target, stop=stop, reason="met", engine=ENGINES[OFFICE])
    first.state = "changed by a caller"
    again = replay_module._stopped_clock(slot, target, stop=stop, reason="met", engine=ENGINES[OFFICE])
    assert again.state == "breached" and again.elapsed_seconds == 13 * 3600  # Mon 9–17, Tue 9–14
    longer_days = BusinessCalendar(
        timezone="Europe/London", weekly={d: [(time(8), time(18))] for d in range(5)}
    )
    changed = replay_module._stopped_clock(slot, target, stop=stop, reason="met", engine=longer_days)
    assert changed.elapsed_seconds == 16 * 3600  # Mon 8–18, Tue 8–14


@pytest.mark.parametrize(
    "change",
    [
        {"slot": {"pauses": [(START + timedelta(hours=25), START + timedelta(hours=27))]}},
        {"slot": {"paused_since": START + timedelta(hours=28)}},
        {"slot": {"start": START + timedelta(hours=1)}},
        {"slot": {"metric": "first_response"}},
        {"slot": {"cycle": 1}},
        {"slot": {"level_id": 2}},
        {"slot": {"party_id": 7}},
        {"target": {"seconds": 7200}},
        {"stop": START + timedelta(hours=31)},
        {"reason": "cancelled"},
        {"engine": ENGINES[ALWAYS]},
    ],
)
def test_every_input_of_a_stopped_clock_is_part_of_its_key(change):
    base_target = TargetFacts(id=1, priority_id=10, metric="resolution", seconds=3600, calendar_id=OFFICE)
    base = {"stop": START + timedelta(hours=30), "reason": "met", "engine": ENGINES[OFFICE]}
    base_slot = {"metric": "resolution", "cycle": 0, "start": START}
    replay_module._STOPPED_CLOCKS.clear()
    replay_module._stopped_clock(replay_module._Slot(**base_slot), base_target, **base)  # kept
    slot = replay_module._Slot(**{**base_slot, **change.get("slot", {})})
    target = TargetFacts(**{**asdict(base_target), **change.get("target", {})})
    arguments = {**base, **{name: value for name, value in change.items() if name in base}}
    fresh = _plain_clock(slot, target, **arguments)
    assert fresh != _plain_clock(replay_module._Slot(**base_slot), base_target, **base)  # it matters…
    assert replay_module._stopped_clock(slot, target, **arguments) == fresh  # …and is not mistaken for it
