"""The staffing plan: weekly demand → agents per hour (Erlang C) → FTE → people on duty → gaps.

A ``StaffingProfile`` describes the demand on one support level (optionally one location or one
language) as requests per hour for the 168 wall-clock hours of a week, Monday 00:00 … Sunday 23:00
in the profile's time zone: entered, or derived as ``users × requests per user per month`` spread
over the week by an hourly shape. A month is ``52 / 12`` weeks (≈ 4.33), so the weekly volume is
``users × requests_per_user_per_month × 12 / 52``.

For a reference week (a Monday, local to the profile's zone) every wall-clock hour becomes a real
UTC interval: one hour long, except across a daylight-saving change, where the skipped hour lasts
0 hours and the repeated one 2 hours. People are put on duty from their ``working_hours`` in their
location's zone (the profile's if they have none) through the business-time engine, so a Berlin
person's 09:00 lands at the right London hour in every week of the year. Each person counts as
``allocation_percent / 100`` of an agent.

Units and conventions:

* ``needed[h]``: agents taking requests in hour ``h`` (Erlang C, before shrinkage);
  ``scheduled[h]``: people on duty on average over that hour, weighted by allocation.
  The hourly view compares the two: shrinkage (absence, training, breaks) is a share of paid
  time, so it is accounted for in the FTE figures, not hour by hour.
* ``fte_needed = Σ needed[h] × hours[h] ÷ (1 − shrinkage) ÷ weekly_contract_hours``;
  ``fte_available = Σ scheduled[h] × hours[h] ÷ weekly_contract_hours`` (the profile's contract
  hours on both sides, so the figures compare).
* A person serving several profiles (two languages, say) counts fully in each of them.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from django.db.models import Prefetch
from django.utils import timezone as django_timezone

from models_catalog.models import Person, StaffingProfile, SupportLevel
from models_catalog.staffing import StaffingResult, required_agents_for_week
from operations.business_time import BusinessCalendar
from supportplan.models import SupportPlan

HOURS_PER_WEEK = 168
WEEKS_PER_MONTH = 52 / 12
#: Busiest-hour traffic a stored profile may reach (Erlangs: agents busy at once). Keeps one page
#: view's Erlang C searches to a fraction of a second; a real helpdesk is far below it.
MAX_PROFILE_ERLANGS = 10_000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- Hourly shapes --------------------------------------------------------------------------
def _normalised(weights_by_day: dict[int, dict[int, float]]) -> tuple[float, ...]:
    weights = [0.0] * HOURS_PER_WEEK
    for day, hours in weights_by_day.items():
        for hour, weight in hours.items():
            weights[day * 24 + hour] = weight
    total = math.fsum(weights)
    return tuple(weight / total for weight in weights)


_OFFICE_DAY = {8: 0.5, 9: 1.0, 10: 1.0, 11: 0.9, 12: 0.6, 13: 0.8, 14: 0.9, 15: 0.8, 16: 0.6, 17: 0.4}
_EXTENDED_DAY = {7: 0.3, **_OFFICE_DAY, 8: 0.6, 17: 0.5, 18: 0.3, 19: 0.2}
_EXTENDED_SATURDAY = dict.fromkeys(range(8, 14), 0.2)

#: Share of a week's requests arriving in each of its 168 hours (each shape sums to 1).
HOURLY_SHAPES: dict[str, tuple[float, ...]] = {
    # Weekdays 08:00–18:00 with a late-morning peak and a lunch dip; nothing at night or weekends.
    "office": _normalised(dict.fromkeys(range(5), _OFFICE_DAY)),
    # Weekdays 07:00–20:00 (the office peak plus early and late shoulders), Saturday 08:00–14:00.
    "extended": _normalised({**dict.fromkeys(range(5), _EXTENDED_DAY), 5: _EXTENDED_SATURDAY}),
    # Round the clock, every hour alike.
    "flat": _normalised(dict.fromkeys(range(7), dict.fromkeys(range(24), 1.0))),
}
SHAPE_CHOICES = [
    ("office", "Office hours: weekdays 08:00–18:00"),
    ("extended", "Extended: weekdays 07:00–20:00, Saturday morning"),
    ("flat", "Flat: 24 × 7"),
]


def requests_per_hour_problem(value: Any) -> str | None:
    """Why ``value`` is not 168 non-negative finite numbers, or None when it is."""
    if not isinstance(value, list | tuple):
        return "Give 168 numbers: requests per hour from Monday 00:00 to Sunday 23:00."
    if len(value) != HOURS_PER_WEEK:
        return f"Give exactly 168 numbers (7 days × 24 hours), not {len(value)}."
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float | Decimal):
            return f"{hour_label(index)}: “{item}” is not a number."
        try:
            finite = math.isfinite(item)
        except OverflowError:  # an int beyond any float
            finite = False
        if not finite or item < 0:
            return f"{hour_label(index)}: requests per hour must be a finite number of at least 0."
    return None


def profile_arrivals(profile: StaffingProfile) -> list[float]:
    """Expected requests per hour for the 168 local hours of the profile's week (Monday 00:00 first).

    Raises ``ValueError`` naming the field when stored figures cannot be used.
    """
    if profile.source == StaffingProfile.Source.ENTERED:
        problem = requests_per_hour_problem(profile.requests_per_hour)
        if problem:
            raise ValueError(f"requests_per_hour: {problem}")
        return [float(value) for value in profile.requests_per_hour]
    shape = HOURLY_SHAPES.get(profile.hourly_shape)
    if shape is None:
        raise ValueError(f"hourly_shape: “{profile.hourly_shape}” is not one of {', '.join(HOURLY_SHAPES)}.")
    weekly = float(profile.users) * float(profile.requests_per_user_per_month) / WEEKS_PER_MONTH
    return [weekly * weight for weight in shape]


# --- The plan of one profile ----------------------------------------------------------------
@dataclass
class ProfilePlan:
    """One profile's week. Lists have 168 entries, Monday 00:00 … Sunday 23:00 in ``timezone``.

    ``hour_starts`` are aware UTC datetimes; ``hour_lengths`` are real hours (0 for the hour the
    clocks skip, 2 for the one they repeat). ``error`` is set, and the figures are zero, when the
    stored profile cannot be computed (it was written around the services' validation).
    """

    profile: StaffingProfile
    week_start: date
    timezone: str
    hour_starts: list[datetime]
    hour_lengths: list[float]
    arrivals: list[float]
    results: list[StaffingResult]
    needed: list[int]
    scheduled: list[float]
    people: list[Person]
    fte_needed: float
    fte_available: float
    gaps: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def fte_short(self) -> float:
        return round(max(0.0, round(self.fte_needed, 1) - round(self.fte_available, 1)), 1)

    @property
    def peak_needed(self) -> int:
        return max(self.needed, default=0)

    def shortfall(self, hour: int) -> float:
        """Agents missing in ``hour`` (0 when covered)."""
        return max(0.0, self.needed[hour] - self.scheduled[hour])

    def hour_label(self, hour: int) -> str:
        return hour_label(hour)


def hour_label(hour: int) -> str:
    return f"{WEEKDAYS_SHORT[hour // 24]} {hour % 24:02d}:00"


#: Reference weeks the plan computes: time zone rules are only meaningful in this range, and it keeps
#: week arithmetic clear of the ends of ``datetime``.
EARLIEST_WEEK, LATEST_WEEK = date(1970, 1, 1), date(2199, 12, 31)


def week_start_problem(day: date) -> str | None:
    """Why ``day`` cannot be a reference week, or None."""
    if not EARLIEST_WEEK <= day <= LATEST_WEEK:
        return f"Choose a week between {EARLIEST_WEEK.year} and {LATEST_WEEK.year}."
    return None


def default_week_start(tz_name: str) -> date:
    """The Monday of the next full week in ``tz_name`` (next week's, also when today is a Monday)."""
    today = django_timezone.now().astimezone(ZoneInfo(tz_name)).date()
    return today + timedelta(days=7 - today.weekday())


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _wall_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time, by the business-time engine's rules.

    An ambiguous time (clocks fall back) is its first occurrence; a time the clocks jump past is
    the instant of the jump, so the skipped hour has length zero.
    """
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local:
        return first
    low = local.replace(tzinfo=tz, fold=1).astimezone(UTC)  # before the jump
    high = first  # after it
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _hour_boundaries(week_start: date, tz_name: str) -> list[datetime]:
    """169 UTC instants: the start of every local hour of the week, then the next Monday 00:00."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(week_start, time())  # local wall clock, converted below
    return [_wall_to_utc(start + timedelta(hours=hour), tz) for hour in range(HOURS_PER_WEEK + 1)]


def _parse_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=512)
def _calendar(tz_name: str, weekly: tuple[tuple[int, tuple[tuple[str, str], ...]], ...]) -> BusinessCalendar:
    # Immutable and thread-safe; people share a handful of patterns, so one is built per pattern.
    return BusinessCalendar(
        timezone=tz_name,
        weekly={day: [(_parse_time(a), _parse_time(b)) for a, b in windows] for day, windows in weekly},
    )


def _person_calendar(person: Person, default_tz: str) -> BusinessCalendar | None:
    """The person's working hours as a calendar in their location's zone; None if they have none.

    Raises ``ValueError`` for stored hours that cannot be read.
    """
    tz_name = person.location.timezone if person.location_id else default_tz
    hours = person.working_hours or {}
    if not isinstance(hours, dict):
        raise ValueError("working hours are not a weekday map")
    weekly = tuple(
        sorted(
            (int(day), tuple((str(window[0]), str(window[1])) for window in windows))
            for day, windows in hours.items()
            if windows
        )
    )
    if not weekly:
        return None
    return _calendar(tz_name, weekly)


def _matches(profile: StaffingProfile, person: Person, level_ids: set[int]) -> bool:
    if profile.level_id not in level_ids:
        return False
    if profile.language and profile.language not in (person.languages or []):
        return False
    return not profile.location_id or person.location_id == profile.location_id


def language_name(code: str) -> str:
    """English name of an ISO 639-1 code ("de" → "German"); the code itself if unknown."""
    language = pycountry.languages.get(alpha_2=code)
    if language is None:
        return code
    return language.name.split(";")[0].split(" (")[0]


def format_number(value: float) -> str:
    """1 → "1", 1.5 → "1.5", 0.333 → "0.3"."""
    return f"{value:.1f}".removesuffix(".0")


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


def _who(profile: StaffingProfile) -> tuple[str, str]:
    """How gap lines name the people of a profile: ("German speaker", "German speakers")."""
    if profile.language:
        name = language_name(profile.language)
        return f"{name} speaker", f"{name} speakers"
    return "one", "people"


def _gaps(plan: ProfilePlan, unscheduled: list[str], unreadable: list[str]) -> list[str]:
    profile = plan.profile
    level = f"level {profile.level.number}"
    where = f" ({profile.location.name})" if profile.location_id else ""
    one, many = _who(profile)
    gaps = []
    if plan.fte_short > 0:
        gaps.append(
            f"Level {profile.level.number} short by {plan.fte_short:.1f} FTE "
            f"(needs {plan.fte_needed:.1f}, has {plan.fte_available:.1f})"
        )
    for day in range(7):
        for kind, first, end, worst in _runs(plan, day):
            span = f"{WEEKDAYS[day]} {_clock(first)}–{_clock(end)} ({plan.timezone})"
            if kind == "uncovered":
                gaps.append(f"No {one} at {level}{where}, {span}")
            else:
                gaps.append(
                    f"Too few {many} at {level}{where}, {span}: short by up to {format_number(worst)}"
                )
    gaps += [
        f"{name} is assigned to {level} but has no working hours, so is never on duty" for name in unscheduled
    ]
    gaps += [f"{name}'s working hours cannot be read; fix them on the team page" for name in unreadable]
    return gaps


def _runs(plan: ProfilePlan, day: int) -> list[tuple[str, int, int, float]]:
    """Consecutive short hours of one weekday as (kind, first hour, end hour, worst shortfall).

    ``kind`` is "uncovered" (nobody on duty) or "short". An hour the clocks skip neither starts nor
    breaks a run.
    """
    runs: list[list] = []
    current: list | None = None
    for hour in range(24):
        index = day * 24 + hour
        if plan.hour_lengths[index] == 0:
            continue
        shortfall = plan.shortfall(index)
        kind = None if shortfall < 0.05 else "uncovered" if plan.scheduled[index] < 0.05 else "short"
        if current is not None and kind == current[0]:
            current[2], current[3] = hour + 1, max(current[3], shortfall)
            continue
        current = [kind, hour, hour + 1, shortfall] if kind else None
        if current:
            runs.append(current)
    return [tuple(run) for run in runs]


def _compute(profile: StaffingProfile, people: list[Person], week_start: date | None) -> ProfilePlan:
    """The plan of one profile from already matched ``people`` (no queries)."""
    tz_name, zone_error = profile.timezone, None
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        tz_name, zone_error = "UTC", f"timezone: “{profile.timezone}” is not an IANA time zone"
    if week_start and week_start_problem(week_start):
        raise ValueError(f"week_start: {week_start_problem(week_start)}")
    week_start = _monday_of(week_start) if week_start else default_week_start(tz_name)
    bounds = _hour_boundaries(week_start, tz_name)
    lengths = [(bounds[i + 1] - bounds[i]).total_seconds() for i in range(HOURS_PER_WEEK)]
    agent_seconds = [0.0] * HOURS_PER_WEEK
    unscheduled, unreadable = [], []
    for person in people:
        try:
            calendar = _person_calendar(person, tz_name)
        except (ValueError, TypeError, IndexError, KeyError):
            unreadable.append(person.name)
            continue
        if calendar is None:
            unscheduled.append(person.name)
            continue
        weight = person.allocation_percent / 100
        for starts, ends in calendar.open_intervals(bounds[0], bounds[-1]):
            index = bisect_right(bounds, starts) - 1
            while index < HOURS_PER_WEEK and bounds[index] < ends:
                overlap = (min(ends, bounds[index + 1]) - max(starts, bounds[index])).total_seconds()
                if overlap > 0:
                    agent_seconds[index] += overlap * weight
                index += 1
    scheduled = [
        round(agent_seconds[i] / lengths[i], 3) if lengths[i] else 0.0 for i in range(HOURS_PER_WEEK)
    ]
    plan = ProfilePlan(
        profile=profile,
        week_start=week_start,
        timezone=tz_name,
        hour_starts=bounds[:-1],
        hour_lengths=[seconds / 3600 for seconds in lengths],
        arrivals=[0.0] * HOURS_PER_WEEK,
        results=[],
        needed=[0] * HOURS_PER_WEEK,
        scheduled=scheduled,
        people=people,
        fte_needed=0.0,
        fte_available=0.0,
    )
    try:
        if zone_error:
            raise ValueError(zone_error)
        arrivals = profile_arrivals(profile)
        shrinkage = float(profile.shrinkage)
        results = required_agents_for_week(
            arrivals,
            handle_time_seconds=profile.handle_time_seconds,
            service_level=float(profile.service_level),
            answer_within_seconds=profile.answer_within_seconds,
            max_occupancy=None if profile.max_occupancy is None else float(profile.max_occupancy),
            shrinkage=shrinkage,
        )
        contract_hours = float(profile.weekly_contract_hours)
        needed_hours = math.fsum(
            r.agents * hours for r, hours in zip(results, plan.hour_lengths, strict=True)
        )
        plan.fte_needed = needed_hours / (1 - shrinkage) / contract_hours
        plan.fte_available = math.fsum(agent_seconds) / 3600 / contract_hours
    except (ValueError, TypeError, ZeroDivisionError, InvalidOperation) as error:
        plan.error = f"This profile cannot be computed: {error}"
        plan.gaps = [plan.error]
        return plan
    plan.arrivals, plan.results, plan.needed = arrivals, results, [r.agents for r in results]
    plan.gaps = _gaps(plan, unscheduled, unreadable)
    return plan


def staffing_plan_for_profile(*, profile: StaffingProfile, week_start: date | None = None) -> ProfilePlan:
    """The plan of one (already visible) profile for the week starting on ``week_start``.

    ``week_start`` is a local date in the profile's zone; any day stands for its week's Monday.
    None means the next full week; a week outside 1970–2199 is a ``ValueError``. One query: the
    level's people with their locations.
    """
    people = Person.objects.filter(plan_id=profile.plan_id, levels=profile.level_id).select_related(
        "location"
    )
    level_ids = {profile.level_id}
    return _compute(profile, [p for p in people if _matches(profile, p, level_ids)], week_start)


def staffing_plan(*, user, plan: SupportPlan, week_start: date | None = None) -> list[ProfilePlan]:
    """Every profile of ``plan`` the user may see, each with its plan. Three queries in all."""
    profiles = list(
        StaffingProfile.objects.for_user(user).filter(plan=plan).select_related("level", "location")
    )
    if not profiles:
        return []
    people = list(
        Person.objects.for_user(user)
        .filter(plan=plan, levels__in={profile.level_id for profile in profiles})
        .distinct()
        .select_related("location")
        .prefetch_related(Prefetch("levels", queryset=SupportLevel.objects.only("id")))
        .order_by("name", "pk")
    )
    level_ids = {person.pk: {level.pk for level in person.levels.all()} for person in people}
    return [
        _compute(profile, [p for p in people if _matches(profile, p, level_ids[p.pk])], week_start)
        for profile in profiles
    ]
