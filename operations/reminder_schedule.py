"""When an open maintenance occurrence's reminders fall due: pure functions, no ORM.

An occurrence passes through these stages, each one notice per recipient:
  before_due  at due − lead time (skipped when the lead time is 0)
  on_due      at due
  late #1..N  at due + grace (or one repeat interval after due when there is no grace), then every
              ``LATE_REPEAT`` while it stays open, at most ``MAX_LATE_REMINDERS`` in all.

The occurrence stores only its *next* stage (``next_remind_at`` / ``next_remind_kind`` /
``late_reminders_sent``) so the sweep asks one indexed question. After downtime the sweep sends only
the latest stage that has passed (a "late" notice supersedes a missed "due soon"), then stores the
stage after it, which lies in the future: missed reminders never arrive as a storm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from operations.models.maintenance import ReminderKind

LATE_REPEAT = timedelta(hours=24)
MAX_LATE_REMINDERS = 3


@dataclass(frozen=True)
class ReminderStage:
    kind: str
    at: datetime  # aware UTC
    #: 0 for before/on due; 1..MAX_LATE_REMINDERS for the late repeats.
    sequence: int = 0

    def event_key(self, *, occurrence_id: int, due_at: datetime) -> str:
        """The outbox event key. It holds the due instant, so moving an occurrence re-arms its reminders."""
        return f"occurrence:{occurrence_id}:{int(due_at.timestamp())}:{self.kind}:{self.sequence}"


def reminder_stages(*, due_at: datetime, lead_minutes: int, grace_minutes: int) -> list[ReminderStage]:
    """Every stage of one occurrence, in time order (``due_at`` aware, returned instants aware)."""
    stages: list[ReminderStage] = []
    if lead_minutes > 0:
        stages.append(ReminderStage(ReminderKind.BEFORE_DUE, due_at - timedelta(minutes=lead_minutes)))
    stages.append(ReminderStage(ReminderKind.ON_DUE, due_at))
    first_late = due_at + (timedelta(minutes=grace_minutes) if grace_minutes > 0 else LATE_REPEAT)
    for sequence in range(1, MAX_LATE_REMINDERS + 1):
        stages.append(ReminderStage(ReminderKind.LATE, first_late + LATE_REPEAT * (sequence - 1), sequence))
    return stages


def stage_to_send(
    *, due_at: datetime, lead_minutes: int, grace_minutes: int, now: datetime
) -> ReminderStage | None:
    """The latest stage whose instant has passed (what a sweep at ``now`` sends), or None."""
    passed = [
        stage
        for stage in reminder_stages(due_at=due_at, lead_minutes=lead_minutes, grace_minutes=grace_minutes)
        if stage.at <= now
    ]
    return passed[-1] if passed else None


def stage_after(
    *, due_at: datetime, lead_minutes: int, grace_minutes: int, now: datetime
) -> ReminderStage | None:
    """The first stage strictly after ``now``: what to store as the next reminder (None = no more)."""
    for stage in reminder_stages(due_at=due_at, lead_minutes=lead_minutes, grace_minutes=grace_minutes):
        if stage.at > now:
            return stage
    return None


def initial_stage(
    *, due_at: datetime, lead_minutes: int, grace_minutes: int, now: datetime
) -> ReminderStage | None:
    """The stage to store on an occurrence that was just (re)scheduled: the one to send now if some
    stage has passed already, else the first future one."""
    return stage_to_send(
        due_at=due_at, lead_minutes=lead_minutes, grace_minutes=grace_minutes, now=now
    ) or stage_after(due_at=due_at, lead_minutes=lead_minutes, grace_minutes=grace_minutes, now=now)
