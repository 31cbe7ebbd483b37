"""“When does it breach?”: each SLA target's deadline for a start instant, with the business time that
was counted, the holidays skipped and the daylight-saving changes on the way.

Everything is computed on aware datetimes and returned twice: in UTC and in the *display zone* (the
location's zone, else the chosen calendar's). Each target's clock runs on its own calendar unless the
caller forces one. The arithmetic is the business-time engine's (``operations.engine.engine_for``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from models_catalog.models import SupportLevel
from operations.engine import engine_for
from operations.models import (
    CalendarHoliday,
    Impact,
    Priority,
    RequestType,
    ServiceCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from operations.selectors import policy_in_force, priority_for
from supportplan.models import Location, SupportPlan

#: The order targets are listed in: the clock that runs out first comes first in a ticket's life.
METRIC_ORDER = [SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_UPDATE, SlaMetric.RESOLUTION]
#: Most counted segments returned per target (a year-long target on office hours has ~250); the
#: count of the ones left out is reported, so a client never mistakes a cut list for the whole.
MAX_SEGMENTS = 1000
#: Starts outside these years are refused: a year-long target must still end before the engine's
#: year 9999, and converting year 1 to UTC can overflow.
FIRST_YEAR, LAST_YEAR = 1900, 2999


# --- Daylight-saving changes ----------------------------------------------------------------
@dataclass(frozen=True)
class DstChange:
    """A change of a zone's UTC offset at ``at`` (aware UTC); wall clocks jump from ``wall_before``
    to ``wall_after`` (naive local times)."""

    zone: str
    at: datetime
    offset_before: timedelta
    offset_after: timedelta

    @property
    def wall_before(self) -> datetime:
        return (self.at + self.offset_before).replace(tzinfo=None)

    @property
    def wall_after(self) -> datetime:
        return (self.at + self.offset_after).replace(tzinfo=None)

    @property
    def direction(self) -> str:
        return "forward" if self.offset_after > self.offset_before else "back"

    @property
    def description(self) -> str:
        """E.g. "2027-03-28 01:00 UTC: clocks go forward 01:00 → 02:00 Europe/London"."""
        return (
            f"{self.at:%Y-%m-%d %H:%M} UTC: clocks go {self.direction} "
            f"{self.wall_before:%H:%M} → {self.wall_after:%H:%M} {self.zone}"
        )


def dst_changes(zone: str, start: datetime, end: datetime) -> list[DstChange]:
    """The UTC-offset changes of ``zone`` in ``(start, end]`` (aware datetimes), to the second.

    Steps a day at a time (zones change their offset at most once in a day) and bisects the day
    in which the offset differs.
    """
    tz = ZoneInfo(zone)
    first, last = int(start.timestamp()), int(end.timestamp())

    def offset(seconds: int) -> timedelta:
        return datetime.fromtimestamp(seconds, tz).utcoffset()

    changes: list[DstChange] = []
    low, current = first, offset(first)
    while low < last:
        high = min(low + 86_400, last)
        new = offset(high)
        if new != current:
            a, b = low, high  # offset(a) == current, offset(b) == new
            while b - a > 1:
                middle = (a + b) // 2
                if offset(middle) == current:
                    a = middle
                else:
                    b = middle
            changes.append(
                DstChange(
                    zone=zone, at=datetime.fromtimestamp(b, UTC), offset_before=current, offset_after=new
                )
            )
            current = new
        low = high
    return changes


def wall_clock_to_aware(wall: datetime, zone: str, occurrence: str = "") -> datetime:
    """A local wall-clock time (naive) in ``zone`` as an aware UTC datetime; never a silent guess.

    A time the clocks jump past (spring forward) raises a ValidationError saying when the clocks
    change. A time that happens twice (fall back) needs ``occurrence`` "first" or "second"; without
    it a ValidationError (code "ambiguous") names both offsets.
    """
    tz = ZoneInfo(zone)
    earlier, later = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    exists = earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    if not exists:
        as_utc = wall.replace(tzinfo=UTC)  # the jump lies between the wall time read at either offset
        change = dst_changes(zone, as_utc - later.utcoffset(), as_utc - earlier.utcoffset())
        detail = ""
        if change:
            jump = change[0]
            detail = (
                f": the clocks go forward from {jump.wall_before:%H:%M} to {jump.wall_after:%H:%M}. "
                f"Choose a time before {jump.wall_before:%H:%M} or from {jump.wall_after:%H:%M}"
            )
        raise ValidationError(
            f"{wall:%H:%M} on {_day(wall)} does not exist in {zone}{detail}.", code="nonexistent"
        )
    # Returned in UTC: a datetime in a repeated hour compares unequal to every other zone's (PEP 495).
    if earlier.utcoffset() == later.utcoffset() or occurrence == "first":
        return earlier.astimezone(UTC)
    if occurrence == "second":
        return later.astimezone(UTC)
    raise ValidationError(
        f"{wall:%H:%M} on {_day(wall)} happens twice in {zone}: first at UTC{_offset(earlier)}, then, "
        f"after the clocks go back, at UTC{_offset(later)}. Say which one you mean.",
        code="ambiguous",
    )


def _offset(value: datetime) -> str:
    """An aware datetime's UTC offset as ±HH:MM, e.g. +01:00."""
    minutes = int(value.utcoffset() / timedelta(minutes=1))
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _day(value: date) -> str:
    """E.g. 28 March 2027 (no platform-specific strftime flags)."""
    return f"{value.day} {value:%B %Y}"


# --- Results --------------------------------------------------------------------------------
def duration_label(value: timedelta) -> str:
    """E.g. "2 h 30 min", "45 min", "1 h"; seconds are rounded down."""
    minutes = int(value.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours:,} h" + (f" {rest} min" if rest else "")


@dataclass(frozen=True)
class Segment:
    """Open time that was counted: ``[start, end)``, aware UTC, and the same in the display zone."""

    start: datetime
    end: datetime
    start_local: datetime
    end_local: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def duration_label(self) -> str:
        return duration_label(self.duration)


@dataclass(frozen=True)
class SkippedHoliday:
    """A holiday of the target's calendar between start and deadline that closed its usual hours."""

    date: date
    name: str
    calendar: str


@dataclass(frozen=True)
class TargetDeadline:
    target: SlaTarget
    calendar: ServiceCalendar
    deadline: datetime  # aware UTC
    deadline_local: datetime  # aware, display zone
    segments: list[Segment]
    segments_omitted: int
    holidays: list[SkippedHoliday]
    dst_changes: list[DstChange]

    @property
    def metric(self) -> str:
        return self.target.metric

    @property
    def metric_label(self) -> str:
        return self.target.get_metric_display()

    @property
    def minutes(self) -> int:
        return self.target.minutes

    @property
    def allowed_label(self) -> str:
        return duration_label(timedelta(minutes=self.target.minutes))

    @property
    def timeline(self) -> list[tuple[str, Any]]:
        """Segments, holidays and DST changes in time order: ("segment" | "holiday" | "dst", item)."""
        entries: list[tuple[datetime, int, str, Any]] = []
        for segment in self.segments:
            entries.append((segment.start, 1, "segment", segment))
        for holiday in self.holidays:
            midnight = datetime.combine(
                holiday.date, datetime.min.time(), tzinfo=ZoneInfo(self.calendar.timezone)
            )
            entries.append((midnight.astimezone(UTC), 0, "holiday", holiday))
        for change in self.dst_changes:
            entries.append((change.at, 0, "dst", change))
        return [(kind, item) for _at, _rank, kind, item in sorted(entries, key=lambda entry: entry[:2])]


@dataclass(frozen=True)
class BreachResult:
    plan: SupportPlan
    start: datetime  # aware UTC
    start_local: datetime  # aware, display zone
    display_zone: str
    priority: Priority
    policy: SlaPolicy
    location: Location | None
    calendar: ServiceCalendar | None  # forced for every target, else None
    request_type: str
    support_level: SupportLevel | None
    targets: list[TargetDeadline] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: instants as ISO 8601 strings with offsets (``…Z``-free, ``+00:00`` for UTC)."""
        return {
            "plan": self.plan.slug,
            "start_utc": self.start.isoformat(),
            "start_local": self.start_local.isoformat(),
            "display_zone": self.display_zone,
            "priority": {"code": self.priority.code, "name": self.priority.name},
            "policy": {
                "id": self.policy.pk,
                "name": self.policy.name,
                "phase": self.policy.phase,
                "valid_from": self.policy.valid_from.isoformat(),
                "valid_to": self.policy.valid_to.isoformat() if self.policy.valid_to else None,
            },
            "location": self.location.pk if self.location else None,
            "calendar": self.calendar.pk if self.calendar else None,
            "request_type": self.request_type,
            "support_level": self.support_level.number if self.support_level else None,
            "targets": [_target_dict(target) for target in self.targets],
        }


def _target_dict(result: TargetDeadline) -> dict[str, Any]:
    target = result.target
    return {
        "target": target.pk,
        "metric": target.metric,
        "minutes": target.minutes,
        "request_type": target.request_type,
        "support_level": target.support_level.number if target.support_level_id else None,
        "calendar": {
            "id": result.calendar.pk,
            "name": result.calendar.name,
            "timezone": result.calendar.timezone,
        },
        "deadline_utc": result.deadline.isoformat(),
        "deadline_local": result.deadline_local.isoformat(),
        "segments": [
            {
                "start_utc": segment.start.isoformat(),
                "end_utc": segment.end.isoformat(),
                "start_local": segment.start_local.isoformat(),
                "end_local": segment.end_local.isoformat(),
                "minutes": segment.duration / timedelta(minutes=1),
            }
            for segment in result.segments
        ],
        "segments_omitted": result.segments_omitted,
        "holidays": [
            {"date": holiday.date.isoformat(), "name": holiday.name, "calendar": holiday.calendar}
            for holiday in result.holidays
        ],
        "dst_changes": [
            {
                "at_utc": change.at.isoformat(),
                "zone": change.zone,
                "direction": change.direction,
                "wall_clock_before": change.wall_before.isoformat(timespec="minutes"),
                "wall_clock_after": change.wall_after.isoformat(timespec="minutes"),
                "description": change.description,
            }
            for change in result.dst_changes
        ],
    }


# --- The calculation ------------------------------------------------------------------------
def _same_plan(plan: SupportPlan, obj: Any, name: str, label: str) -> None:
    if obj is not None and obj.plan_id != plan.pk:
        raise ValidationError({name: f"This {label} belongs to another plan."})


def _resolve_priority(
    *, plan: SupportPlan, priority: Priority | str | None, impact: str | None, urgency: str | None
) -> Priority:
    if priority not in (None, "") and (impact or urgency):
        raise ValidationError({"priority": "Give a priority, or an impact and an urgency — not both."})
    if isinstance(priority, Priority):
        _same_plan(plan, priority, "priority", "priority")
        return priority
    if priority not in (None, ""):
        found = Priority.objects.filter(plan=plan, code=priority).first()
        if found is None:
            raise ValidationError({"priority": f"This plan has no priority “{priority}”."})
        return found
    errors = {}
    if not impact:
        errors["impact"] = "Choose a priority, or an impact and an urgency."
    elif impact not in Impact.values:
        errors["impact"] = f"“{impact}” is not an impact ({', '.join(Impact.values)})."
    if not urgency:
        errors["urgency"] = "Choose a priority, or an impact and an urgency."
    elif urgency not in Urgency.values:
        errors["urgency"] = f"“{urgency}” is not an urgency ({', '.join(Urgency.values)})."
    if errors:
        raise ValidationError(errors)
    found = priority_for(plan=plan, impact=impact, urgency=urgency)
    if found is None:
        raise ValidationError(
            {
                "impact": f"The priority matrix has no cell for impact {impact} × urgency {urgency}: "
                "add it first."
            }
        )
    return found


def _resolve_level(plan: SupportPlan, support_level: SupportLevel | int | None) -> SupportLevel | None:
    if support_level is None or isinstance(support_level, SupportLevel):
        _same_plan(plan, support_level, "support_level", "support level")
        return support_level
    level = SupportLevel.objects.filter(plan=plan, number=support_level).first()
    if level is None:
        raise ValidationError({"support_level": f"This plan has no support level {support_level}."})
    return level


def _pick_targets(targets: list[SlaTarget], request_type: str, level: SupportLevel | None) -> list[SlaTarget]:
    """Per metric, the most specific target that applies: one naming the request type and/or the
    support level beats a generic one (support level first when two are equally specific)."""
    best: dict[str, tuple[tuple[int, bool], SlaTarget]] = {}
    for target in targets:
        if target.request_type and target.request_type != request_type:
            continue
        if target.support_level_id and (level is None or target.support_level_id != level.pk):
            continue
        rank = (bool(target.request_type) + bool(target.support_level_id), bool(target.support_level_id))
        if target.metric not in best or rank > best[target.metric][0]:
            best[target.metric] = (rank, target)
    return [best[metric][1] for metric in METRIC_ORDER if metric in best]


def _open_weekdays(calendar: ServiceCalendar) -> set[int]:
    return {int(day) for day, windows in (calendar.weekly_windows or {}).items() if windows}


def _skipped_holidays(
    calendar: ServiceCalendar, holidays: list[CalendarHoliday], start: datetime, end: datetime
) -> list[SkippedHoliday]:
    tz = ZoneInfo(calendar.timezone)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    weekdays = _open_weekdays(calendar)
    return [
        SkippedHoliday(date=holiday.date, name=holiday.name, calendar=calendar.name)
        for holiday in holidays
        if first <= holiday.date <= last and holiday.date.weekday() in weekdays
    ]


def breach_calculate(
    *,
    plan: SupportPlan,
    start: datetime,
    priority: Priority | str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    location: Location | None = None,
    calendar: ServiceCalendar | None = None,
    request_type: str = "",
    support_level: SupportLevel | int | None = None,
) -> BreachResult:
    """Each applicable SLA target's deadline for a request that starts at ``start`` (aware).

    Priority: ``priority`` (a Priority or its code) or the matrix cell ``impact`` × ``urgency``.
    Policy: the one in force on the start's date in the display zone. Each target's clock runs on
    its own calendar unless ``calendar`` is given; the display zone is the location's, else the
    calendar's. Raises ValidationError naming the field for anything it cannot answer.
    """
    if not isinstance(start, datetime):
        raise ValidationError({"start": "Give the start as a date and time."})
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationError(
            {
                "start": "Give the start with its UTC offset (e.g. 2027-03-26T15:00:00+00:00); a time "
                "without one could be any of several instants."
            }
        )
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        raise ValidationError({"start": f"Give a start between the years {FIRST_YEAR} and {LAST_YEAR}."})
    _same_plan(plan, location, "location", "location")
    _same_plan(plan, calendar, "calendar", "calendar")
    if location is None and calendar is None:
        raise ValidationError(
            {"location": "Choose a location (its time zone shows the deadlines) or a calendar."}
        )
    if request_type and request_type not in RequestType.values:
        raise ValidationError({"request_type": f"“{request_type}” is not a request type."})
    chosen = _resolve_priority(plan=plan, priority=priority, impact=impact, urgency=urgency)
    level = _resolve_level(plan, support_level)

    display_zone = location.timezone if location is not None else calendar.timezone
    display_tz = ZoneInfo(display_zone)
    start_utc = start.astimezone(UTC)
    start_local = start.astimezone(display_tz)
    policy = policy_in_force(plan=plan, day=start_local.date())
    if policy is None:
        raise ValidationError({"start": _no_policy_message(plan, start_local.date(), display_zone)})

    targets = list(
        SlaTarget.objects.filter(policy=policy, priority=chosen)
        .select_related("calendar", "support_level")
        .prefetch_related(Prefetch("calendar__holidays", queryset=CalendarHoliday.objects.order_by("date")))
        .order_by("metric", "pk")
    )
    if not targets:
        raise ValidationError({"priority": f"“{policy.name}” has no targets for {chosen.code}."})
    picked = _pick_targets(targets, request_type, level)
    if not picked:
        what = (
            " and ".join(
                part
                for part in (
                    f"{RequestType(request_type).label.lower()} requests" if request_type else "",
                    f"level {level.number}" if level else "",
                )
                if part
            )
            or "requests of no particular type or level"
        )
        raise ValidationError(
            {"priority": f"No target of {chosen.code} in “{policy.name}” applies to {what}."}
        )

    forced_holidays = list(calendar.holidays.order_by("date")) if calendar is not None else None
    results = []
    for target in picked:
        clock = calendar if calendar is not None else target.calendar
        holidays = forced_holidays if calendar is not None else list(clock.holidays.all())
        engine = engine_for(clock)
        try:
            deadline = engine.add(start_utc, timedelta(minutes=target.minutes)).astimezone(UTC)
        except ValueError as error:
            raise ValidationError({"calendar": f"“{clock.name}”: {error}."}) from None
        intervals = engine.open_intervals(start_utc, deadline)
        segments = [
            Segment(start=a, end=b, start_local=a.astimezone(display_tz), end_local=b.astimezone(display_tz))
            for a, b in intervals[:MAX_SEGMENTS]
        ]
        zones = [display_zone] + ([clock.timezone] if clock.timezone != display_zone else [])
        changes = sorted(
            (change for zone in zones for change in dst_changes(zone, start_utc, deadline)),
            key=lambda change: (change.at, change.zone),
        )
        results.append(
            TargetDeadline(
                target=target,
                calendar=clock,
                deadline=deadline,
                deadline_local=deadline.astimezone(display_tz),
                segments=segments,
                segments_omitted=max(len(intervals) - MAX_SEGMENTS, 0),
                holidays=_skipped_holidays(clock, holidays, start_utc, deadline),
                dst_changes=changes,
            )
        )
    return BreachResult(
        plan=plan,
        start=start_utc,
        start_local=start_local,
        display_zone=display_zone,
        priority=chosen,
        policy=policy,
        location=location,
        calendar=calendar,
        request_type=request_type,
        support_level=level,
        targets=results,
    )


def _no_policy_message(plan: SupportPlan, day: date, zone: str) -> str:
    message = f"No SLA policy is in force on {_day(day)} ({zone})."
    following = SlaPolicy.objects.filter(plan=plan, valid_from__gt=day).order_by("valid_from").first()
    if following is not None:
        message += f" The next, “{following.name}”, starts on {_day(following.valid_from)}."
    return message
