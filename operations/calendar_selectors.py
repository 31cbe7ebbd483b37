"""Reads for service calendars, scoped to the requester: lists, one calendar, events, and the
coverage view (per location and weekday: who is open, out-of-hours cover, what is uncovered)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from models_catalog.models import Party, SupportLevel
from operations.business_time import BusinessCalendar
from operations.models import CalendarEvent, CalendarHoliday, ExtraOpenPeriod, ServiceCalendar
from operations.models.calendars import weekly_to_times
from supportplan.models import Location, SupportPlan

Interval = tuple[datetime, datetime]  # aware UTC, [start, end)
ZERO = timedelta()
ONE_DAY = timedelta(days=1)
#: Windows of the days around a week can reach into it (a night shift, a zone a day apart).
MARGIN = timedelta(days=3)


# --- Lists ----------------------------------------------------------------------------------
def plan_calendars(*, user: Any, plan: SupportPlan) -> QuerySet[ServiceCalendar]:
    """The plan's calendars with their locations and parties, and counts of holidays and periods."""
    return (
        ServiceCalendar.objects.for_user(user)
        .filter(plan=plan)
        .annotate(
            holiday_count=Count("holidays", distinct=True),
            extra_period_count=Count("extra_periods", distinct=True),
        )
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.for_user(user).order_by("name")),
            Prefetch("parties", queryset=Party.objects.for_user(user).order_by("name")),
        )
        .order_by("name")
    )


def plan_calendar(*, user: Any, plan: SupportPlan, calendar_id: int) -> ServiceCalendar:
    """One calendar of the plan the requester may see, or 404."""
    return get_object_or_404(
        ServiceCalendar.objects.for_user(user)
        .filter(plan=plan)
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.for_user(user).order_by("name")),
            Prefetch("parties", queryset=Party.objects.for_user(user).order_by("name")),
        ),
        pk=calendar_id,
    )


def calendar_holidays(*, calendar: ServiceCalendar) -> QuerySet[CalendarHoliday]:
    """The calendar's holidays by date (the caller has fetched ``calendar`` through a scoped read)."""
    return CalendarHoliday.objects.filter(calendar=calendar).order_by("date")


def calendar_extra_periods(*, calendar: ServiceCalendar) -> QuerySet[ExtraOpenPeriod]:
    return ExtraOpenPeriod.objects.filter(calendar=calendar).order_by("starts_at")


def plan_calendar_events(*, user: Any, plan: SupportPlan) -> QuerySet[CalendarEvent]:
    return (
        CalendarEvent.objects.for_user(user)
        .filter(plan=plan)
        .select_related("calendar")
        .order_by("starts_at")
    )


# --- Interval arithmetic (aware UTC, half-open) ---------------------------------------------
def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``cut``; both merged (sorted, disjoint)."""
    result = []
    for start, end in base:
        cursor = start
        for cut_start, cut_end in cut:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def _clip(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if e > start and s < end]


# --- Coverage -------------------------------------------------------------------------------
def hours_text(value: timedelta) -> str:
    """``"8 h 30 min"``, ``"23 h"``, ``"0 h"``."""
    minutes = round(value.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True)
class Span:
    """A stretch of one local day: aware datetimes in the location's zone."""

    starts_at: datetime
    ends_at: datetime
    #: The span runs to the end of the local day (shown as 24:00).
    to_midnight: bool = False
    #: Where the span lies in its day, in percent of the day's real length (for timeline bars).
    left: float = 0.0
    width: float = 0.0

    @property
    def duration(self) -> timedelta:
        """Real elapsed time (a span across a daylight-saving change is an hour shorter or longer)."""
        return self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)

    @property
    def label(self) -> str:
        end = "24:00" if self.to_midnight else f"{self.ends_at:%H:%M}"
        return f"{self.starts_at:%H:%M}–{end}"

    @property
    def hours_label(self) -> str:
        return hours_text(self.duration)

    def __str__(self) -> str:
        return self.label


def _total(spans: Iterable[Span]) -> timedelta:
    return sum((span.duration for span in spans), ZERO)


class _SpansTotal:
    """Open time of ``self.spans`` in one local day, and its label."""

    spans: tuple[Span, ...]

    @property
    def hours(self) -> timedelta:
        return _total(self.spans)

    @property
    def hours_label(self) -> str:
        return hours_text(self.hours)


@dataclass(frozen=True)
class CalendarCover(_SpansTotal):
    """One calendar's open time in one local day of a location."""

    calendar: ServiceCalendar
    spans: tuple[Span, ...]
    is_24x7: bool
    parties: tuple[Party, ...]
    levels: tuple[SupportLevel, ...]


@dataclass(frozen=True)
class LevelCover(_SpansTotal):
    """A support level's open time in one local day: the union of the calendars of its parties."""

    level: SupportLevel
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class CoverageDay:
    date: date
    starts_at: datetime  # local midnight, aware in the location's zone
    ends_at: datetime  # the next local midnight
    calendars: tuple[CalendarCover, ...]
    levels: tuple[LevelCover, ...]
    #: Cover outside the regular (not 24×7) calendars' weekly hours: 24×7 calendars, extra periods.
    out_of_hours: tuple[Span, ...]
    #: Time no linked calendar covers.
    uncovered: tuple[Span, ...]

    @property
    def length(self) -> timedelta:
        """23, 24 or 25 hours: the real length of the local day."""
        return self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)

    @property
    def clocks_change(self) -> bool:
        return self.length != ONE_DAY

    @property
    def weekday_name(self) -> str:
        return f"{self.date:%A}"

    @property
    def out_of_hours_hours(self) -> timedelta:
        return _total(self.out_of_hours)

    @property
    def uncovered_hours(self) -> timedelta:
        return _total(self.uncovered)

    @property
    def covered_hours(self) -> timedelta:
        return self.length - self.uncovered_hours

    @property
    def length_label(self) -> str:
        return hours_text(self.length)

    @property
    def out_of_hours_label(self) -> str:
        return hours_text(self.out_of_hours_hours)

    @property
    def uncovered_label(self) -> str:
        return hours_text(self.uncovered_hours)


@dataclass(frozen=True)
class LocationCoverage:
    location: Location
    calendars: tuple[ServiceCalendar, ...]
    days: tuple[CoverageDay, ...]

    @property
    def uncovered_hours(self) -> timedelta:
        return sum((day.uncovered_hours for day in self.days), ZERO)

    @property
    def uncovered_label(self) -> str:
        return hours_text(self.uncovered_hours)

    def level_rows(self) -> list[tuple[SupportLevel, list[LevelCover]]]:
        """Per support level, its cover on each day of the week (rows of the per-level table)."""
        if not self.days:
            return []
        return [
            (cover.level, [day.levels[i] for day in self.days]) for i, cover in enumerate(self.days[0].levels)
        ]


@dataclass(frozen=True)
class Coverage:
    week_start: date  # a Monday
    locations: tuple[LocationCoverage, ...]
    #: Calendars linked to no location: they cover nobody in this view.
    unlinked_calendars: tuple[ServiceCalendar, ...]
    #: The plan's support levels the requester may see (rows of the per-level table).
    levels: tuple[SupportLevel, ...]

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


@dataclass
class _CalendarTime:
    """A calendar's open time around the week, as aware UTC intervals."""

    calendar: ServiceCalendar
    regular: list[Interval]  # weekly windows minus holidays
    extra: list[Interval]  # extra open periods
    covered: list[Interval]  # both, merged
    parties: tuple[Party, ...]
    levels: tuple[SupportLevel, ...]


def _unique(objects: Iterable) -> list:
    seen, result = set(), []
    for obj in objects:
        if obj.pk not in seen:
            seen.add(obj.pk)
            result.append(obj)
    return result


def _calendar_time(calendar: ServiceCalendar, start: datetime, end: datetime) -> _CalendarTime:
    # The business-time engine, built from the rows prefetched for this week (holidays and
    # periods around it) rather than through engine_for, whose cache would cost three queries
    # per calendar on a miss: the page stays at a fixed number of queries.
    engine = BusinessCalendar(
        timezone=calendar.timezone,
        weekly=weekly_to_times(calendar.weekly_windows),
        holidays=[holiday.date for holiday in calendar.week_holidays],
    )
    regular = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in engine.open_intervals(start, end)]
    extra = _merge(_clip([(p.starts_at, p.ends_at) for p in calendar.week_periods], start, end))
    parties = tuple(sorted(_unique(calendar.parties.all()), key=lambda party: party.name))
    levels = tuple(
        sorted(_unique(level for party in parties for level in party.levels.all()), key=lambda lv: lv.number)
    )
    return _CalendarTime(calendar, regular, extra, _merge(regular + extra), parties, levels)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _spans(
    intervals: Sequence[Interval], day_start: datetime, day_end: datetime, tz: ZoneInfo
) -> tuple[Span, ...]:
    length = day_end - day_start
    return tuple(
        Span(
            starts_at=s.astimezone(tz),
            ends_at=e.astimezone(tz),
            to_midnight=e == day_end,
            left=100 * ((s - day_start) / length),
            width=100 * ((e - s) / length),
        )
        for s, e in _clip(intervals, day_start, day_end)
    )


def _location_day(
    day: date, tz: ZoneInfo, linked: Sequence[_CalendarTime], levels: Sequence[SupportLevel]
) -> CoverageDay:
    local_start, local_end = _local_midnight(day, tz), _local_midnight(day + ONE_DAY, tz)
    start, end = local_start.astimezone(UTC), local_end.astimezone(UTC)
    calendars = tuple(
        CalendarCover(
            calendar=item.calendar,
            spans=_spans(item.covered, start, end, tz),
            is_24x7=item.calendar.is_24x7,
            parties=item.parties,
            levels=item.levels,
        )
        for item in linked
    )
    level_covers = tuple(
        LevelCover(
            level=level,
            spans=_spans(
                _merge(i for item in linked if level in item.levels for i in item.covered), start, end, tz
            ),
        )
        for level in levels
    )
    regular_hours = _merge(i for item in linked if not item.calendar.is_24x7 for i in item.regular)
    special_cover = _merge(
        [i for item in linked if item.calendar.is_24x7 for i in item.covered]
        + [i for item in linked for i in item.extra]
    )
    covered = _merge(i for item in linked for i in item.covered)
    return CoverageDay(
        date=day,
        starts_at=local_start,
        ends_at=local_end,
        calendars=calendars,
        levels=level_covers,
        out_of_hours=_spans(_subtract(special_cover, regular_hours), start, end, tz),
        uncovered=_spans(_subtract([(start, end)], covered), start, end, tz),
    )


def coverage(*, user: Any, plan: SupportPlan, week_start: date) -> Coverage:
    """Per location and local weekday of the week of ``week_start`` (rolled back to its Monday):
    the hours each linked calendar and each support level covers, the out-of-hours cover, and
    what is uncovered, in the location's zone and correct across daylight-saving changes.

    A fixed number of queries (eight), however many locations and calendars the plan has.
    """
    week_start -= timedelta(days=week_start.weekday())
    week_end = week_start + timedelta(days=7)
    # Every zone's week lies inside these UTC bounds (offsets are within ±14 h).
    start = datetime.combine(week_start, time(0), tzinfo=UTC) - ONE_DAY
    end = datetime.combine(week_end, time(0), tzinfo=UTC) + ONE_DAY
    levels = list(SupportLevel.objects.for_user(user).filter(plan=plan).order_by("number"))
    calendars = list(
        ServiceCalendar.objects.for_user(user)
        .filter(plan=plan)
        .order_by("name")
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.only("pk", "plan_id")),
            Prefetch(
                "holidays",
                queryset=CalendarHoliday.objects.filter(
                    date__gte=week_start - MARGIN, date__lt=week_end + MARGIN
                ),
                to_attr="week_holidays",
            ),
            Prefetch(
                "extra_periods",
                queryset=ExtraOpenPeriod.objects.filter(starts_at__lt=end, ends_at__gt=start),
                to_attr="week_periods",
            ),
            Prefetch(
                "parties",
                queryset=Party.objects.for_user(user).prefetch_related(
                    Prefetch("levels", queryset=SupportLevel.objects.for_user(user))
                ),
            ),
        )
    )
    times = [_calendar_time(calendar, start, end) for calendar in calendars]
    locations = []
    for location in Location.objects.for_user(user).filter(plan=plan).order_by("name"):
        linked = [
            item
            for item in times
            if any(linked_location.pk == location.pk for linked_location in item.calendar.locations.all())
        ]
        tz = ZoneInfo(location.timezone)
        days = tuple(
            _location_day(week_start + timedelta(days=offset), tz, linked, levels) for offset in range(7)
        )
        locations.append(
            LocationCoverage(location=location, calendars=tuple(item.calendar for item in linked), days=days)
        )
    unlinked = tuple(calendar for calendar in calendars if not calendar.locations.all())
    return Coverage(
        week_start=week_start, locations=tuple(locations), unlinked_calendars=unlinked, levels=tuple(levels)
    )
