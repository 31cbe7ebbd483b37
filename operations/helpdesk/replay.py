"""A support request's state and SLA clocks as a pure function of its events (no ORM, no clock reads).

``replay`` sorts the events by (``occurred_at``, ``sequence``) — never by arrival — and walks them once.
The services feed it plain facts (``EventFacts``, ``PolicyFacts``, ``TargetFacts``), the business-time
engines of the calendars involved and ``now``; they store what it returns. Sending the same events in
any order therefore gives the same request columns and the same clocks.

Semantics (the policy in force is the one of the request's creation: hypercare or steady state):

* **Clocks.** Each clock is one *slot* — a metric's cycle or one pass through a support level — measured
  against the target that applies at the slot's end (or now): when the priority changes, the slot keeps
  its start and its pauses and is measured against the new priority's target; the clock of the old
  target is stored as *cancelled* at the change (and a target that comes back is measured again).
  * first response: from creation to the first public update (a resolution also answers the request);
  * next update: a cycle starts at the first response and at every public update, and ends (met) at the
    next public update or the resolution; a reopen starts a new cycle;
  * resolution: from creation to resolved (or closed without a resolution); a reopen starts a new
    cycle, with the full target;
  * per level (a target with a support level; metrics first response and resolution): one clock per
    pass through the level, started by the hand-off to it (or the creation at it). Resolution = how
    long the level held the request (met when it hands over or the request is resolved); first
    response = until the holder first acts (a status change, a public update or a comment);
  * cancelling the request cancels every open clock.
* **Pauses.** A status event's ``clock_effect`` (from the integration's status mapping) pauses or runs
  the clocks until the next status event; without one, the policy's ``pause_statuses`` decide. While a
  request awaits a vendor and the policy keeps the vendor's clock running, the per-level clocks keep
  running (the level holding it is the vendor's). Paused intervals count neither towards elapsed time
  nor towards a deadline.
* **Business time.** Every clock runs on its target's calendar; elapsed, deadline, warning and ladder
  instants are business time on that calendar. Minutes after breach and repeat intervals are
  *business* minutes on the same calendar too: an office-hours ladder never chases anyone at night,
  and a pause after the breach postpones the after-breach steps by the paused time.
* **States.** running; paused; met (stopped within the target); breached (stopped late, or still
  running past the deadline: the after-breach steps still apply); cancelled. For a paused, met or
  cancelled clock ``warn_at``, ``breach_at`` and ``next_step_at`` are None, so the sweep never sees it.
* **Ladder.** The steps of a running clock fall due at a share of the target (percent), at the breach
  and at ``minutes_after_breach`` business minutes after it, each repeated every
  ``repeat_every_minutes`` up to ``max_repeats`` times. ``next_step`` is the earliest entry not done:
  done entries come from the caller: keys found in the outbox or the event log (a function of what
  happened, not of the order events arrived in) and, when the sweep advances a clock, the ``marker`` —
  the step it just acted on, before which everything counts as done (a notice without recipients
  leaves no outbox row). After downtime the overdue,
  not-done entries of one step collapse into one (its latest repeat): each missed step is sent once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from operations.business_time import BusinessCalendar

__all__ = [
    "DEFAULT_WARN_PERCENT",
    "ClockResult",
    "EventFacts",
    "Hold",
    "PolicyFacts",
    "ReplayResult",
    "StepEntry",
    "StepFacts",
    "TargetFacts",
    "replay",
    "step_entries",
]

#: ``warn_at`` (and the "at risk" state) when a clock's ladder has no percentage step.
DEFAULT_WARN_PERCENT = 75

FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION = "first_response", "next_update", "resolution"
LEVEL_METRICS = (FIRST_RESPONSE, RESOLUTION)
OPEN_STATUSES = frozenset({"new", "assigned", "in_progress", "awaiting_customer", "awaiting_vendor"})
FINAL_STATUSES = frozenset({"resolved", "closed", "cancelled"})
ZERO = timedelta()


# --- Facts in ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventFacts:
    """One stored event. ``status`` is ours (already mapped); ``clock_effect`` "pause"/"resume"/""."""

    sequence: int
    kind: str
    occurred_at: datetime
    status: str = ""
    clock_effect: str = ""
    priority_id: int | None = None
    level_id: int | None = None
    party_id: int | None = None
    id: int | None = None

    @property
    def order(self) -> tuple:
        return (self.occurred_at.astimezone(UTC), self.sequence, self.id or 0)


@dataclass(frozen=True)
class PolicyFacts:
    pause_statuses: frozenset[str] = frozenset()
    vendor_wait_keeps_vendor_clock: bool = True


@dataclass(frozen=True)
class StepFacts:
    id: int
    position: int
    trigger: str  # percent / breach / after_breach
    percent: int | None = None
    minutes_after_breach: int | None = None
    repeat_every_minutes: int | None = None
    max_repeats: int = 0


@dataclass(frozen=True)
class TargetFacts:
    id: int
    priority_id: int
    metric: str
    seconds: int
    calendar_id: int
    request_type: str = ""
    level_id: int | None = None
    steps: tuple[StepFacts, ...] = ()


# --- Results out ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepEntry:
    """One ladder entry of one clock: step × repeat, due after ``threshold`` business seconds."""

    step_id: int
    repeat: int
    position: int
    threshold: timedelta
    at: datetime | None  # aware UTC; None when the clock does not run towards it (paused/stopped)

    @property
    def key(self) -> tuple[int, int]:
        return (self.step_id, self.repeat)


@dataclass
class ClockResult:
    target_id: int
    metric: str
    level_id: int | None
    party_id: int | None
    cycle: int
    calendar_id: int
    target_seconds: int
    started_at: datetime
    stopped_at: datetime | None
    state: str
    elapsed_seconds: int
    paused_seconds: int
    paused_since: datetime | None
    warn_at: datetime | None
    breach_at: datetime | None
    breached_at: datetime | None
    next_step_at: datetime | None
    next_step_id: int | None
    next_step_repeat: int
    #: The business instant the clock would breach at, whatever its state (for figures).
    deadline: datetime | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.target_id, self.cycle)

    @property
    def is_live(self) -> bool:
        """Running towards (or past) its deadline: the sweep's business."""
        return self.stopped_at is None and self.state in ("running", "breached")


@dataclass(frozen=True)
class Hold:
    """Who held the request from ``start`` to ``end`` (None = still holding), in UTC."""

    level_id: int | None
    party_id: int | None
    start: datetime
    end: datetime | None


@dataclass
class ReplayResult:
    status: str
    priority_id: int | None
    level_id: int | None
    party_id: int | None
    first_response_at: datetime | None
    last_public_update_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_state: str
    next_breach_at: datetime | None
    event_count: int
    clocks: list[ClockResult]
    holds: list[Hold]


# --- The walk ------------------------------------------------------------------------------------
@dataclass
class _Slot:
    metric: str
    cycle: int
    start: datetime
    level_id: int | None = None
    party_id: int | None = None
    stop: datetime | None = None
    reason: str = ""  # met / cancelled
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)
    paused_since: datetime | None = None
    #: (target id or None, from instant): the target in force over the slot's life.
    targets: list[tuple[int | None, datetime]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.stop is None


def _target_index(
    targets: Sequence[TargetFacts], request_type: str
) -> dict[tuple[str, int, int | None], TargetFacts]:
    """The target in force per (metric, priority, level) for the request type: the first one for
    this request type, else the first one for any type."""
    for_type: dict[tuple[str, int, int | None], TargetFacts] = {}
    for_any: dict[tuple[str, int, int | None], TargetFacts] = {}
    for target in targets:
        key = (target.metric, target.priority_id, target.level_id)
        if target.request_type == "":
            for_any.setdefault(key, target)
        elif target.request_type == request_type:
            for_type.setdefault(key, target)
    return {**for_any, **for_type}


class _Walk:
    def __init__(self, *, request_type: str, policy: PolicyFacts | None, targets: Sequence[TargetFacts]):
        self.request_type = request_type
        self.policy = policy or PolicyFacts()
        self.targets = targets
        self.status = "new"
        self.effect = ""
        self.priority_id: int | None = None
        self.level_id: int | None = None
        self.party_id: int | None = None
        self.first_response_at: datetime | None = None
        self.last_public_update_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.created = False
        self.slots: list[_Slot] = []
        #: The slots not stopped yet, in start order: every event visits these, not the whole history.
        self.open_slots: list[_Slot] = []
        #: The target per (metric, priority, level): asked at every slot start and priority change.
        self._target_index = _target_index(targets, request_type)
        self.next_update_cycle = -1
        self.resolution_cycle = -1
        self.level_passes: dict[int, int] = {}
        self.holds: list[list] = []  # [level, party, start, end]

    # -- targets ----------------------------------------------------------------------------------
    def target_for(self, metric: str, level_id: int | None) -> TargetFacts | None:
        return self._target_index.get((metric, self.priority_id, level_id))

    def _retarget(self, slot: _Slot, at: datetime) -> None:
        target = self.target_for(slot.metric, slot.level_id)
        target_id = target.id if target else None
        if not slot.targets or slot.targets[-1][0] != target_id:
            slot.targets.append((target_id, at))

    # -- pauses -----------------------------------------------------------------------------------
    def _pausing(self) -> tuple[bool, bool]:
        """Whether the current status and clock effect pause (the request's clocks, the per-level
        clocks): the same for every slot of a kind, so worked out once per event."""
        if self.effect == "pause":
            general = True
        elif self.effect == "resume":
            general = False
        else:
            general = self.status in self.policy.pause_statuses
        if general:
            return True, not (self.status == "awaiting_vendor" and self.policy.vendor_wait_keeps_vendor_clock)
        return False, False

    def _paused(self, slot: _Slot) -> bool:
        general, level = self._pausing()
        return level if slot.level_id is not None else general

    def _apply_pauses(self, at: datetime) -> None:
        general, level = self._pausing()
        for slot in self.open_slots:
            paused = level if slot.level_id is not None else general
            if paused:
                if slot.paused_since is None:
                    slot.paused_since = at
            elif slot.paused_since is not None:
                slot.pauses.append((slot.paused_since, at))
                slot.paused_since = None

    # -- slots ------------------------------------------------------------------------------------
    def _start(self, metric: str, cycle: int, at: datetime, level_id: int | None = None) -> None:
        # A level's clock belongs to the party holding the request at that level (the vendor's own).
        party_id = self.party_id if level_id is not None else None
        slot = _Slot(metric=metric, cycle=cycle, start=at, level_id=level_id, party_id=party_id)
        self._retarget(slot, at)
        if self._paused(slot):
            slot.paused_since = at
        self.slots.append(slot)
        self.open_slots.append(slot)

    def _stop(self, slot: _Slot, at: datetime, reason: str) -> None:
        if not slot.is_open:
            return
        slot.stop, slot.reason = at, reason
        if slot.paused_since is not None:
            slot.pauses.append((slot.paused_since, at))
            slot.paused_since = None
        # By identity: two slots may hold equal values.
        self.open_slots = [other for other in self.open_slots if other is not slot]

    def _open(self, metric: str, *, level: bool = False) -> list[_Slot]:
        return [
            slot for slot in self.open_slots if slot.metric == metric and (slot.level_id is not None) == level
        ]

    def _start_level_pass(self, at: datetime) -> None:
        if self.level_id is None:
            return
        cycle = self.level_passes.get(self.level_id, -1) + 1
        self.level_passes[self.level_id] = cycle
        for metric in LEVEL_METRICS:
            self._start(metric, cycle, at, level_id=self.level_id)

    def _end_level_pass(self, at: datetime, reason: str = "met") -> None:
        for slot in [slot for slot in self.open_slots if slot.level_id is not None]:
            self._stop(slot, at, reason)

    def _level_acted(self, at: datetime) -> None:
        for slot in self._open(FIRST_RESPONSE, level=True):
            self._stop(slot, at, "met")

    def _hold(self, at: datetime) -> None:
        if self.holds and self.holds[-1][3] is None:
            if self.holds[-1][0] == self.level_id and self.holds[-1][1] == self.party_id:
                return
            self.holds[-1][3] = at
        self.holds.append([self.level_id, self.party_id, at, None])

    # -- transitions ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status not in FINAL_STATUSES

    def created_at(self, event: EventFacts) -> None:
        at = event.occurred_at
        self.created = True
        self.status = event.status or self.status
        self.effect = event.clock_effect
        self.priority_id = event.priority_id if event.priority_id is not None else self.priority_id
        self.level_id = event.level_id if event.level_id is not None else self.level_id
        self.party_id = event.party_id if event.party_id is not None else self.party_id
        self.resolution_cycle = 0
        self._start(FIRST_RESPONSE, 0, at)
        self._start(RESOLUTION, 0, at)
        self._start_level_pass(at)
        self._hold(at)
        if self.status in FINAL_STATUSES:
            self._finish(event)

    def resolve(self, at: datetime) -> None:
        self.resolved_at = self.resolved_at or at
        if self.first_response_at is None:
            self.first_response_at = at
        for metric in (FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION):
            for slot in self._open(metric):
                self._stop(slot, at, "met")
        self._end_level_pass(at)

    def cancel(self, at: datetime) -> None:
        for slot in list(self.open_slots):
            self._stop(slot, at, "cancelled")

    def reopen(self, at: datetime, status: str) -> None:
        self.status = status if status in OPEN_STATUSES else "in_progress"
        self.resolved_at = self.closed_at = None
        if not self.created:
            return
        self.resolution_cycle += 1
        self._start(RESOLUTION, self.resolution_cycle, at)
        if self.first_response_at is not None:
            self.next_update_cycle += 1
            self._start(NEXT_UPDATE, self.next_update_cycle, at)
        elif not self._open(FIRST_RESPONSE):
            self._start(FIRST_RESPONSE, 0, at)
        self._start_level_pass(at)

    def _finish(self, event: EventFacts) -> None:
        at = event.occurred_at
        if event.status == "resolved" or (event.status == "closed" and self.resolved_at is None):
            self.resolve(at)
        if event.status == "closed":
            self.closed_at = at
        if event.status == "cancelled":
            self.cancel(at)

    def apply(self, event: EventFacts) -> None:
        at, kind = event.occurred_at, event.kind
        if kind == "created":
            self.created_at(event)
        elif kind in ("status_changed", "reopened"):
            was_open = self.is_open
            self.effect = event.clock_effect
            if kind == "reopened" or (not was_open and event.status in OPEN_STATUSES):
                if not was_open:
                    self.reopen(at, event.status)
                elif event.status in OPEN_STATUSES:
                    self.status = event.status
            elif event.status:
                self.status = event.status
                if event.status in FINAL_STATUSES:
                    self._finish(event)
                self._level_acted(at)
        if kind in ("priority_changed", "escalated") and event.priority_id is not None:
            self.priority_id = event.priority_id
            for slot in self.open_slots:
                self._retarget(slot, at)
        if kind in ("handed_off", "escalated") and (event.level_id is not None or event.party_id is not None):
            if event.level_id is not None and event.level_id != self.level_id:
                self._end_level_pass(at)
                self.level_id = event.level_id
                self.party_id = event.party_id
                if self.is_open and self.created:
                    self._start_level_pass(at)
            elif event.party_id is not None:
                self.party_id = event.party_id
                for slot in self.open_slots:
                    if slot.level_id is not None and slot.party_id is None:
                        slot.party_id = event.party_id
            self._hold(at)
        if kind == "public_update":
            self.last_public_update_at = at
            if self.is_open and self.created:
                if self.first_response_at is None:
                    self.first_response_at = at
                    for slot in self._open(FIRST_RESPONSE):
                        self._stop(slot, at, "met")
                for slot in self._open(NEXT_UPDATE):
                    self._stop(slot, at, "met")
                self.next_update_cycle += 1
                self._start(NEXT_UPDATE, self.next_update_cycle, at)
            self._level_acted(at)
        if kind == "comment":
            self._level_acted(at)
        self._apply_pauses(at)


# --- Clock arithmetic ----------------------------------------------------------------------------
def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _segments(
    start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]], open_end: bool
) -> list[tuple[datetime, datetime | None]]:
    """The running stretches of [start, end) without the pauses; the last one open-ended when the
    clock still runs (``open_end``)."""
    segments: list[tuple[datetime, datetime | None]] = []
    cursor = start
    for pause_start, pause_end in sorted(pauses):
        pause_start, pause_end = max(pause_start, start), min(pause_end, end)
        if pause_end <= pause_start:
            continue
        if pause_start > cursor:
            segments.append((cursor, pause_start))
        cursor = max(cursor, pause_end)
    if open_end:
        segments.append((cursor, None))
    elif end > cursor:
        segments.append((cursor, end))
    return segments


class _Measure:
    """Business time along a clock's running stretches on one calendar."""

    def __init__(self, engine: BusinessCalendar, segments: list[tuple[datetime, datetime | None]]):
        self.engine = engine
        self.segments = segments
        self._closed = [engine.elapsed(a, b) if b is not None else None for a, b in segments]

    def elapsed(self, until: datetime) -> timedelta:
        total = ZERO
        for (a, b), length in zip(self.segments, self._closed, strict=True):
            if a >= until:
                break
            if b is None or b > until:
                total += self.engine.elapsed(a, until)
                break
            total += length
        return total

    def instant(self, threshold: timedelta) -> datetime | None:
        """When ``threshold`` business time has run (aware UTC), or None if it never does."""
        counted = ZERO
        for (a, b), length in zip(self.segments, self._closed, strict=True):
            if b is None or threshold <= counted + length:
                return _utc(self.engine.add(a, max(threshold - counted, ZERO)))
            counted += length
        return None


def step_entries(
    steps: Sequence[StepFacts], target_seconds: int, measure: _Measure | None
) -> list[StepEntry]:
    """Every step × repeat of a ladder with its threshold (business time) and instant, in due order."""
    return [
        StepEntry(
            step_id, repeat, position, threshold, None if measure is None else measure.instant(threshold)
        )
        for step_id, repeat, position, threshold in _ladder(tuple(steps), target_seconds)
    ]


@functools.lru_cache(maxsize=1024)
def _ladder(steps: tuple[StepFacts, ...], target_seconds: int) -> tuple[tuple[int, int, int, timedelta], ...]:
    """(step id, repeat, position, threshold) of every step × repeat, in due order: fixed per target,
    so worked out once rather than for every running clock at every event."""
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
    return tuple(entries)


@functools.lru_cache(maxsize=1024)
def _warn_threshold(steps: tuple[StepFacts, ...], target_seconds: int) -> timedelta:
    """When a clock is at risk: the ladder's first percentage step, else ``DEFAULT_WARN_PERCENT``."""
    percents = [step.percent for step in steps if step.trigger == "percent" and step.percent]
    return timedelta(seconds=target_seconds) * min(percents or [DEFAULT_WARN_PERCENT]) / 100


def next_entry(
    entries: Sequence[StepEntry], *, done: set[tuple[int, int]], marker: tuple[int, int] | None, now: datetime
) -> StepEntry | None:
    """The earliest entry still to act on (see the module docstring: done, marker, missed steps)."""
    done = set(done)
    if marker is not None and any(entry.key == marker for entry in entries):
        for entry in entries:
            if entry.key == marker:
                break
            done.add(entry.key)
    # A repeat never goes back behind a later one that was done.
    latest_done: dict[int, int] = {}
    for step_id, repeat in done:
        latest_done[step_id] = max(latest_done.get(step_id, -1), repeat)
    pending = [
        entry
        for entry in entries
        if entry.key not in done
        and entry.repeat > latest_done.get(entry.step_id, -1)
        and entry.at is not None
    ]
    # After downtime: of one step's overdue entries only the latest is sent.
    overdue_latest: dict[int, int] = {}
    for entry in pending:
        if entry.at <= now:
            overdue_latest[entry.step_id] = max(overdue_latest.get(entry.step_id, -1), entry.repeat)
    pending = [
        entry
        for entry in pending
        if not (entry.at <= now and entry.repeat < overdue_latest.get(entry.step_id, -1))
    ]
    return min(pending, key=lambda e: (e.at, e.position, e.repeat), default=None)


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())


def _clock(
    slot: _Slot,
    target: TargetFacts,
    *,
    stop: datetime | None,
    reason: str,
    engine: BusinessCalendar,
    now: datetime,
    done: set[tuple[int, int]],
    marker: tuple[int, int] | None,
) -> ClockResult:
    running = stop is None
    end = stop if stop is not None else max(now, slot.start)
    pauses = [(a, min(b, end)) for a, b in slot.pauses if a < end]
    paused_since = None
    if running and slot.paused_since is not None:
        paused_since = slot.paused_since
        pauses.append((paused_since, end))
    elif not running and slot.paused_since is not None and slot.paused_since < end:
        pauses.append((slot.paused_since, end))
    live = running and paused_since is None
    measure = _Measure(engine, _segments(slot.start, end, pauses, open_end=live))
    elapsed = measure.elapsed(end)
    paused_seconds = sum((_seconds(b - a) for a, b in pauses if b > a), 0)
    target_span = timedelta(seconds=target.seconds)
    deadline = measure.instant(target_span)
    breached_at = None
    if reason == "cancelled":
        state = "cancelled"
        if elapsed > target_span:
            breached_at = deadline
    elif not running:
        state = "breached" if elapsed > target_span else "met"
        breached_at = deadline if state == "breached" else None
    elif paused_since is not None:
        state = "paused"
        breached_at = deadline if elapsed > target_span else None
    else:
        breached = deadline is not None and deadline < now
        state = "breached" if breached else "running"
        breached_at = deadline if breached else None
    warn_at = breach_at = next_at = None
    next_step_id, next_repeat = None, 0
    if live:
        breach_at = deadline
        warn_at = measure.instant(_warn_threshold(target.steps, target.seconds))
        entry = next_entry(
            step_entries(target.steps, target.seconds, measure), done=done, marker=marker, now=now
        )
        if entry is not None:
            next_at, next_step_id, next_repeat = entry.at, entry.step_id, entry.repeat
    return ClockResult(
        target_id=target.id,
        metric=slot.metric,
        level_id=slot.level_id,
        party_id=slot.party_id,
        cycle=slot.cycle,
        calendar_id=target.calendar_id,
        target_seconds=target.seconds,
        started_at=_utc(slot.start),
        stopped_at=_utc(stop) if stop is not None else None,
        state=state,
        elapsed_seconds=_seconds(elapsed),
        paused_seconds=paused_seconds,
        paused_since=_utc(paused_since) if paused_since is not None else None,
        warn_at=warn_at,
        breach_at=breach_at,
        breached_at=breached_at,
        next_step_at=next_at,
        next_step_id=next_step_id,
        next_step_repeat=next_repeat,
        deadline=deadline,
    )


#: ``_stopped_clock``'s results by their inputs (emptied when full: a process serves a bounded set
#: of open requests, and a result is cheap to compute again).
_STOPPED_CLOCKS: dict[tuple, ClockResult] = {}
_STOPPED_CLOCKS_MAX = 4096


def _stopped_clock(
    slot: _Slot, target: TargetFacts, *, stop: datetime, reason: str, engine: BusinessCalendar
) -> ClockResult:
    """``_clock`` of a stopped slot. It is a function of the slot, its target and the calendar's
    engine only (not of now, nor of the ladder: a stopped clock has no next step), so it is
    computed once per process: a request's met clocks come back on every event it receives."""
    key = (
        slot.metric,
        slot.cycle,
        slot.start,
        slot.level_id,
        slot.party_id,
        tuple(slot.pauses),
        slot.paused_since,
        target,
        stop,
        reason,
        engine,  # a changed calendar has a new engine (``engine_for``), so a new key
    )
    result = _STOPPED_CLOCKS.get(key)
    if result is None:
        result = _clock(
            slot, target, stop=stop, reason=reason, engine=engine, now=stop, done=set(), marker=None
        )
        if len(_STOPPED_CLOCKS) >= _STOPPED_CLOCKS_MAX:
            _STOPPED_CLOCKS.clear()
        _STOPPED_CLOCKS[key] = result
    return replace(result)  # each caller gets its own


# --- Entry point ---------------------------------------------------------------------------------
def replay(
    events: Iterable[EventFacts],
    *,
    request_type: str,
    policy: PolicyFacts | None,
    targets: Sequence[TargetFacts],
    engines: Mapping[int, BusinessCalendar],
    now: datetime,
    done: Mapping[tuple[int, int], set[tuple[int, int]]] | None = None,
    markers: Mapping[tuple[int, int], tuple[int, int]] | None = None,
    done_for: Callable[[list[tuple[int, int]]], Mapping[tuple[int, int], set[tuple[int, int]]]] | None = None,
) -> ReplayResult:
    """The request's derived columns and clocks from its events (any order in, sorted here).

    ``engines`` maps calendar ids to business-time engines (every target's calendar); ``done`` and
    ``markers`` are keyed by (target id, cycle) — the ladder entries (step id, repeat) already acted
    on, and the stored next step. ``done_for``, instead of ``done``: called once with the keys of the
    clocks running towards their deadline (the only ones whose ladder is looked at), it returns
    ``done`` for them. Instants out are aware UTC.
    """
    ordered = sorted(events, key=lambda event: event.order)
    walk = _Walk(request_type=request_type, policy=policy, targets=targets)
    for event in ordered:
        walk.apply(event)
    by_id = {target.id: target for target in targets}
    # One clock per (target, cycle): a later slot's replaces an earlier one's (in the earlier one's
    # place), so only the last is measured.
    spans: dict[tuple[int, int], tuple[_Slot, TargetFacts, datetime | None, str]] = {}
    for slot in walk.slots:
        for index, (target_id, _since) in enumerate(slot.targets):
            if target_id is None:
                continue
            if index + 1 < len(slot.targets):
                stop, reason = slot.targets[index + 1][1], "cancelled"
            else:
                stop, reason = slot.stop, slot.reason
            spans[(target_id, slot.cycle)] = (slot, by_id[target_id], stop, reason)
    if done_for is not None:
        done = done_for(
            [key for key, (slot, _, stop, _) in spans.items() if stop is None and slot.paused_since is None]
        )
    done, markers = done or {}, markers or {}
    clocks: dict[tuple[int, int], ClockResult] = {}
    for key, (slot, target, stop, reason) in spans.items():
        engine = engines[target.calendar_id]
        if stop is not None:
            clocks[key] = _stopped_clock(slot, target, stop=stop, reason=reason, engine=engine)
            continue
        clocks[key] = _clock(
            slot,
            target,
            stop=stop,
            reason=reason,
            engine=engine,
            now=now,
            done=done.get(key, set()),
            marker=markers.get(key),
        )
    results = sorted(clocks.values(), key=lambda c: (c.started_at, c.metric, c.level_id or 0, c.cycle))
    counted = [clock for clock in results if clock.state != "cancelled"]
    if any(clock.breached_at is not None for clock in counted):
        sla_state = "breached"
    elif any(clock.is_live and clock.warn_at is not None and clock.warn_at <= now for clock in counted):
        sla_state = "at_risk"
    else:
        sla_state = "ok"
    upcoming = [clock.breach_at for clock in counted if clock.state == "running" and clock.breach_at]
    return ReplayResult(
        status=walk.status,
        priority_id=walk.priority_id,
        level_id=walk.level_id,
        party_id=walk.party_id,
        first_response_at=_utc(walk.first_response_at) if walk.first_response_at else None,
        last_public_update_at=_utc(walk.last_public_update_at) if walk.last_public_update_at else None,
        resolved_at=_utc(walk.resolved_at) if walk.resolved_at else None,
        closed_at=_utc(walk.closed_at) if walk.closed_at else None,
        sla_state=sla_state,
        next_breach_at=min(upcoming, default=None),
        event_count=len(ordered),
        clocks=results,
        holds=[
            Hold(level, party, _utc(start), _utc(end) if end else None)
            for level, party, start, end in walk.holds
        ],
    )
