"""The business-time engine against a slow, obviously-correct day-by-day reference.

Pure Python: no database, no Django. The reference below walks the local dates one by one, turns
each window into UTC instants with zoneinfo (first occurrence of an ambiguous time; a time the
clocks jump past becomes the instant of the jump, found by walking back a minute at a time), clips,
merges and sums. Hypothesis then compares it with the engine around every DST change of 2025-2026
in Berlin, New York and Sydney (and in Kolkata, which has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operations import business_time
from operations.business_time import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
US = timedelta(microseconds=1)
MIDNIGHT = time(0)
ALL_DAY = ((MIDNIGHT, MIDNIGHT),)
WEEKDAYS, EVERY_DAY = range(5), range(7)


def at(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def utc(moment: datetime) -> datetime:
    """For comparing instants: ``==`` between zones is False for any time in a repeated hour (PEP 495),
    and ``==``, ``<`` and ``-`` within one zone use the wall clock and ignore ``fold``; UTC has
    neither problem."""
    return moment.astimezone(UTC)


def shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta`` in real elapsed time (``+`` on a zoneinfo datetime moves the wall clock)."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def office(**kwargs) -> BusinessCalendar:
    """Berlin, Monday to Friday 09:00-17:00."""
    return BusinessCalendar(
        timezone="Europe/Berlin", weekly={d: [(time(9), time(17))] for d in WEEKDAYS}, **kwargs
    )


# -- the reference ------------------------------------------------------------------------------


def exists(local: datetime, zone: ZoneInfo) -> bool:
    return local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def reference_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as a UTC instant under the engine's rules."""
    if exists(local, zone):
        return local.replace(tzinfo=zone, fold=0).astimezone(UTC)  # fold=0: the first occurrence
    probe = local.replace(second=0, microsecond=0)
    while not exists(probe, zone):  # the last wall-clock minute before the jump
        probe -= timedelta(minutes=1)
    return probe.replace(tzinfo=zone).astimezone(UTC) + timedelta(minutes=1)


@dataclass(frozen=True)
class Spec:
    name: str
    zone: ZoneInfo
    weekly: dict
    holidays: frozenset = frozenset()
    extra: tuple = ()
    calendar: BusinessCalendar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        calendar = BusinessCalendar(
            timezone=self.zone.key, weekly=self.weekly, holidays=self.holidays, extra=self.extra
        )
        object.__setattr__(self, "calendar", calendar)


def reference_periods(spec: Spec, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Open time in [start, end): merged, clipped UTC periods, found by walking the local dates."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    periods = [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in spec.extra]
    day = start.astimezone(spec.zone).date() - timedelta(days=2)
    while day <= end.astimezone(spec.zone).date():
        if day not in spec.holidays:
            for opens, closes in spec.weekly.get(day.weekday(), ()):
                closing_day = day if closes > opens else day + timedelta(days=1)
                periods.append(
                    (
                        reference_instant(datetime.combine(day, opens), spec.zone),
                        reference_instant(datetime.combine(closing_day, closes), spec.zone),
                    )
                )
        day += timedelta(days=1)
    clipped = sorted((max(a, start), min(b, end)) for a, b in periods if min(b, end) > max(a, start))
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def reference_elapsed(spec: Spec, start: datetime, end: datetime) -> timedelta:
    return sum((b - a for a, b in reference_periods(spec, start, end)), timedelta())


def reference_add(spec: Spec, start: datetime, duration: timedelta) -> datetime:
    if not duration:
        return start
    start = start.astimezone(UTC)
    horizon = start + timedelta(days=8)
    while True:
        left = duration
        for a, b in reference_periods(spec, start, horizon):
            if b - a >= left:
                return a + left
            left -= b - a
        horizon += timedelta(days=8)


# -- the calendars under test -------------------------------------------------------------------

SPLIT = ((time(8), time(12)), (time(13), time(17)))
NIGHT = ((time(22), time(6)),)
SPECS = [
    Spec(
        "berlin office with holidays and a sunday 02:30-05:00",
        BERLIN,
        {**{d: [(time(9), time(17))] for d in WEEKDAYS}, 6: [(time(2, 30), time(5))]},
        frozenset(
            {date(2025, 4, 18), date(2025, 4, 21), date(2025, 10, 3), date(2026, 4, 3), date(2026, 10, 26)}
        ),
    ),
    Spec("berlin 01:00-04:00 daily", BERLIN, {d: [(time(1), time(4))] for d in EVERY_DAY}),
    Spec(
        "berlin night shift with holidays on nights",
        BERLIN,
        dict.fromkeys(EVERY_DAY, NIGHT),
        frozenset({date(2025, 3, 31), date(2025, 10, 25), date(2026, 3, 30), date(2026, 10, 24)}),
    ),
    Spec(
        "berlin office with extended hours and cover",
        BERLIN,
        {d: [(time(9), time(17))] for d in WEEKDAYS},
        frozenset({date(2026, 3, 30)}),
        (
            (at(BERLIN, 2026, 3, 27, 16), at(BERLIN, 2026, 3, 27, 23)),  # overlaps Friday's closing
            (at(BERLIN, 2026, 3, 28, 20), at(BERLIN, 2026, 3, 29, 12)),  # across the spring gap
            (at(BERLIN, 2026, 3, 30, 10), at(BERLIN, 2026, 3, 30, 14)),  # cover on a holiday
            (at(BERLIN, 2026, 3, 30, 12), at(BERLIN, 2026, 3, 31, 10)),  # overlaps two periods
            (at(BERLIN, 2026, 10, 24, 23), at(BERLIN, 2026, 10, 25, 6)),  # across the fall-back hour
            (at(BERLIN, 2025, 10, 24, 15), at(BERLIN, 2025, 10, 24, 20)),
        ),
    ),
    Spec("berlin 24x7", BERLIN, dict.fromkeys(EVERY_DAY, ALL_DAY)),
    Spec(
        "new york split shifts and a sunday 01:30-02:30",
        NEW_YORK,
        {**dict.fromkeys(WEEKDAYS, SPLIT), 6: [(time(1, 30), time(2, 30))]},
        frozenset({date(2026, 11, 2)}),
    ),
    Spec(
        "new york nights",
        NEW_YORK,
        dict.fromkeys(EVERY_DAY, NIGHT),
        frozenset({date(2025, 3, 10), date(2026, 3, 9)}),
    ),
    Spec(
        "sydney 24x7 with a holiday",
        SYDNEY,
        dict.fromkeys(EVERY_DAY, ALL_DAY),
        frozenset({date(2026, 4, 5)}),
    ),
    Spec(
        "sydney weeknights 23:00-07:00 and a sunday 02:30-06:00",
        SYDNEY,
        {**{d: [(time(23), time(7))] for d in WEEKDAYS}, 6: [(time(2, 30), time(6))]},
    ),
    Spec(
        "kolkata weekends only",
        KOLKATA,
        {5: [(time(10), time(18))], 6: [(time(10), time(18)), (time(20), time(2))]},
        frozenset({date(2026, 3, 28)}),
        ((at(KOLKATA, 2026, 3, 30, 9), at(KOLKATA, 2026, 3, 30, 11)),),
    ),
]


def offset_changes(zone: ZoneInfo) -> list[datetime]:
    """The instants in 2025-2026 at which the zone's UTC offset changes (to the hour)."""
    changes, moment = [], datetime(2025, 1, 1, tzinfo=UTC)
    while moment.year < 2027:
        following = moment + timedelta(hours=1)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            changes.append(following)
        moment = following
    return changes or [datetime(2026, 3, 28, 18, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)]


ANCHORS = {zone.key: offset_changes(zone) for zone in (BERLIN, NEW_YORK, SYDNEY, KOLKATA)}
FOUR_DAYS_US = 4 * 24 * 3600 * 1_000_000

# Offsets from an anchor: any microsecond, or whole quarter hours to land on window boundaries.
offsets = st.one_of(
    st.integers(-FOUR_DAYS_US, FOUR_DAYS_US).map(lambda n: n * US),
    st.integers(-4 * 96, 4 * 96).map(lambda n: n * timedelta(minutes=15)),
)
durations = st.one_of(
    st.integers(0, 3 * 24 * 3600 * 1_000_000).map(lambda n: n * US),
    st.integers(0, 3 * 96).map(lambda n: n * timedelta(minutes=15)),
    st.sampled_from([US, hours(1), hours(8)]),
)
input_zones = st.sampled_from(
    [UTC, BERLIN, NEW_YORK, SYDNEY, KOLKATA, timezone(timedelta(hours=-3, minutes=-30))]
)


@st.composite
def instants(draw: st.DrawFn, spec: Spec) -> datetime:
    """An aware instant near one of the zone's DST changes, expressed in an arbitrary zone."""
    moment = draw(st.sampled_from(ANCHORS[spec.zone.key])) + draw(offsets)
    return moment.astimezone(draw(input_zones))


@st.composite
def spans(draw: st.DrawFn) -> tuple[Spec, datetime, datetime]:
    spec = draw(st.sampled_from(SPECS))
    start = draw(instants(spec))
    return spec, start, shift(start, draw(durations))


@st.composite
def starts_and_durations(draw: st.DrawFn) -> tuple[Spec, datetime, timedelta]:
    spec = draw(st.sampled_from(SPECS))
    return spec, draw(instants(spec)), draw(durations)


FAST = settings(max_examples=250, deadline=None)


# -- properties ---------------------------------------------------------------------------------


@FAST
@given(spans())
def test_elapsed_matches_the_day_by_day_reference(case):
    spec, start, end = case
    assert spec.calendar.elapsed(start, end) == reference_elapsed(spec, start, end), spec.name


@FAST
@given(starts_and_durations())
def test_add_matches_the_day_by_day_reference(case):
    spec, start, duration = case
    assert utc(spec.calendar.add(start, duration)) == utc(reference_add(spec, start, duration)), spec.name


@FAST
@given(spans())
def test_open_intervals_are_exactly_the_reference_periods(case):
    spec, start, end = case
    assert spec.calendar.open_intervals(start, end) == reference_periods(spec, start, end), spec.name


@FAST
@given(starts_and_durations())
def test_add_returns_the_earliest_instant_at_which_elapsed_reaches_the_duration(case):
    spec, start, duration = case
    due = spec.calendar.add(start, duration)
    assert utc(due) >= utc(start)
    assert spec.calendar.elapsed(start, due) == duration
    if utc(due) > utc(start):
        assert spec.calendar.elapsed(start, shift(due, -US)) < duration


@FAST
@given(starts_and_durations(), durations, offsets)
def test_add_never_moves_backwards_when_the_start_or_the_duration_grows(case, more, later):
    spec, start, duration = case
    later = abs(later)
    calendar = spec.calendar
    assert utc(calendar.add(start, duration)) <= utc(calendar.add(start, duration + more))
    assert utc(calendar.add(start, duration)) <= utc(calendar.add(shift(start, later), duration))


@FAST
@given(spans(), durations)
def test_elapsed_adds_up_over_consecutive_spans(case, extra):
    spec, start, middle = case
    end = shift(middle, extra)
    calendar = spec.calendar
    assert calendar.elapsed(start, end) == calendar.elapsed(start, middle) + calendar.elapsed(middle, end)
    assert timedelta() <= calendar.elapsed(start, end) <= utc(end) - utc(start)


@FAST
@given(st.sampled_from(SPECS).flatmap(lambda spec: st.tuples(st.just(spec), instants(spec))))
def test_is_open_agrees_with_elapsed_over_one_microsecond(case):
    spec, moment = case
    assert spec.calendar.is_open(moment) == (spec.calendar.elapsed(moment, shift(moment, US)) == US)


@FAST
@given(st.sampled_from(SPECS).flatmap(lambda spec: st.tuples(st.just(spec), instants(spec))))
def test_next_open_is_open_and_skips_only_closed_time(case):
    spec, moment = case
    opening = spec.calendar.next_open(moment)
    assert utc(opening) >= utc(moment)
    assert spec.calendar.is_open(opening)
    assert spec.calendar.elapsed(moment, opening) == timedelta()
    assert opening.tzinfo is spec.zone


@FAST
@given(st.data(), offsets, durations)
def test_a_24x7_calendar_counts_real_elapsed_time_across_dst(data, offset, duration):
    spec = next(s for s in SPECS if s.name == "berlin 24x7")
    start = data.draw(st.sampled_from(ANCHORS["Europe/Berlin"])) + offset
    assert spec.calendar.elapsed(start, start + duration) == duration
    assert utc(spec.calendar.add(start, duration)) == start + duration


@FAST
@given(spans(), st.integers(0, 4 * 96).map(lambda n: n * timedelta(minutes=15)), durations)
def test_answers_do_not_depend_on_how_the_lazy_horizon_grew(case, step, duration):
    spec, start, end = case
    with mock.patch.object(business_time, "CHUNK_DAYS", 0):  # grow by the bare minimum: edges everywhere
        fresh = BusinessCalendar(
            timezone=spec.zone.key, weekly=spec.weekly, holidays=spec.holidays, extra=spec.extra
        )
        assert fresh.elapsed(start, end) == reference_elapsed(spec, start, end)
        earlier, later = shift(start, -step), shift(end, step)
        assert fresh.elapsed(earlier, start) == reference_elapsed(spec, earlier, start)
        assert fresh.elapsed(end, later) == reference_elapsed(spec, end, later)
        assert utc(fresh.add(later, duration)) == utc(reference_add(spec, later, duration))


# -- examples -----------------------------------------------------------------------------------


def one_to_four_in_berlin() -> BusinessCalendar:
    return BusinessCalendar(timezone="Europe/Berlin", weekly={d: [(time(1), time(4))] for d in EVERY_DAY})


def test_a_one_to_four_window_lasts_two_hours_on_the_spring_forward_night_in_berlin():
    calendar = one_to_four_in_berlin()
    night = at(BERLIN, 2026, 3, 29)
    assert calendar.elapsed(night, night + hours(6)) == hours(2)
    assert calendar.open_intervals(night, night + hours(6)) == [
        (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC))
    ]


def test_a_one_to_four_window_lasts_four_hours_on_the_fall_back_night_in_berlin():
    calendar = one_to_four_in_berlin()
    night = at(BERLIN, 2026, 10, 25)
    assert calendar.elapsed(night, night + hours(6)) == hours(4)
    assert calendar.add(at(BERLIN, 2026, 10, 25, 1), hours(4)) == datetime(2026, 10, 25, 3, tzinfo=UTC)


def test_a_night_shift_lasts_seven_hours_in_spring_and_nine_in_autumn():
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekly={5: NIGHT})  # Saturday nights
    assert calendar.elapsed(at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 3, 29, 12)) == hours(7)
    assert calendar.elapsed(at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 25, 12)) == hours(9)


def test_a_deadline_that_runs_out_at_closing_time_is_the_closing_time():
    assert office().add(at(BERLIN, 2026, 5, 4, 7, 30), hours(8)) == at(BERLIN, 2026, 5, 4, 17)


def test_a_deadline_carries_over_the_weekend():
    assert office().add(at(BERLIN, 2026, 5, 8, 16), hours(2)) == at(BERLIN, 2026, 5, 11, 10)


def test_adding_nothing_returns_the_start_even_when_closed():
    saturday = at(BERLIN, 2026, 5, 9, 12)
    assert office().add(saturday, timedelta()) == saturday


def test_the_deadline_is_in_the_calendars_time_zone_whatever_zone_the_start_is_in():
    due = office().add(datetime(2026, 5, 4, 7, tzinfo=UTC), hours(1))
    assert due.tzinfo is BERLIN
    assert due == datetime(2026, 5, 4, 8, tzinfo=UTC)


def test_a_monday_night_shift_runs_to_its_end_into_a_tuesday_holiday():
    holiday = date(2026, 5, 5)  # a Tuesday
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", weekly=dict.fromkeys(EVERY_DAY, NIGHT), holidays=[holiday]
    )
    assert calendar.elapsed(at(BERLIN, 2026, 5, 4, 12), at(BERLIN, 2026, 5, 5, 12)) == hours(8)
    assert calendar.is_open(at(BERLIN, 2026, 5, 5, 5, 59))


def test_a_holiday_closes_the_night_shift_that_starts_on_it():
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", weekly=dict.fromkeys(EVERY_DAY, NIGHT), holidays=[date(2026, 5, 5)]
    )
    assert calendar.elapsed(at(BERLIN, 2026, 5, 5, 12), at(BERLIN, 2026, 5, 6, 12)) == timedelta()
    assert calendar.next_open(at(BERLIN, 2026, 5, 5, 6)) == at(BERLIN, 2026, 5, 6, 22)


def test_a_boundary_inside_the_spring_gap_is_the_instant_of_the_jump():
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekly={6: [(time(2, 30), time(5))]})
    sunday = at(BERLIN, 2026, 3, 29)
    jump = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 02:00 CET becomes 03:00 CEST
    assert calendar.open_intervals(sunday, sunday + hours(12)) == [
        (jump, datetime(2026, 3, 29, 3, tzinfo=UTC))
    ]
    assert calendar.next_open(sunday) == jump
    closing_in_the_gap = BusinessCalendar(timezone="Europe/Berlin", weekly={6: [(time(0), time(2, 30))]})
    assert closing_in_the_gap.elapsed(sunday, sunday + hours(12)) == hours(2)  # 00:00 CET to the jump


def test_an_ambiguous_boundary_is_its_first_occurrence():
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekly={6: [(time(2, 30), time(5))]})
    sunday = at(BERLIN, 2026, 10, 25)
    assert calendar.open_intervals(sunday, sunday + hours(12)) == [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 4, tzinfo=UTC))
    ]


def test_extra_periods_merge_with_the_weekly_windows_instead_of_counting_twice():
    monday = at(BERLIN, 2026, 5, 4)
    calendar = office(
        extra=[(monday + hours(16), monday + hours(19)), (monday + hours(18), monday + hours(20))]
    )
    assert calendar.elapsed(monday, monday + hours(24)) == hours(11)
    assert calendar.add(monday + hours(16), hours(4)) == monday + hours(20)


def test_extra_cover_counts_on_a_holiday():
    calendar = office(
        holidays=[date(2026, 5, 1)], extra=[(at(BERLIN, 2026, 5, 1, 10), at(BERLIN, 2026, 5, 1, 12))]
    )
    assert calendar.elapsed(at(BERLIN, 2026, 5, 1), at(BERLIN, 2026, 5, 2)) == hours(2)


def test_it_keeps_microsecond_precision():
    start = at(BERLIN, 2026, 5, 4, 16, 59, 59, 999_998)
    assert office().add(start, 3 * US) == at(BERLIN, 2026, 5, 5, 9, 0, 0, 1)
    assert office().elapsed(start, at(BERLIN, 2026, 5, 5, 9, 0, 0, 1)) == 3 * US


def test_it_works_in_2090_with_the_zones_future_rules():
    assert one_to_four_in_berlin().elapsed(at(BERLIN, 2090, 3, 26), at(BERLIN, 2090, 3, 26, 6)) == hours(2)
    assert office().add(at(BERLIN, 2090, 3, 24, 16), hours(2)) == at(BERLIN, 2090, 3, 27, 10)  # Friday


def test_it_works_in_1990_when_berlin_fell_back_in_september():
    calendar = one_to_four_in_berlin()
    assert calendar.elapsed(at(BERLIN, 1990, 9, 30), at(BERLIN, 1990, 9, 30, 6)) == hours(4)
    assert calendar.elapsed(at(BERLIN, 1990, 3, 25), at(BERLIN, 1990, 3, 25, 6)) == hours(2)
    assert office().add(at(BERLIN, 1990, 1, 5, 16), hours(2)) == at(BERLIN, 1990, 1, 8, 10)


def test_a_24x7_calendar_counts_a_century_of_real_time():
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekly=dict.fromkeys(EVERY_DAY, ALL_DAY))
    start, end = at(BERLIN, 1990, 1, 1), at(BERLIN, 2090, 1, 1)
    assert calendar.elapsed(start, end) == utc(end) - utc(start)


def test_a_deadline_in_the_repeated_autumn_hour_is_its_second_occurrence_when_that_is_the_instant():
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekly=dict.fromkeys(EVERY_DAY, ALL_DAY))
    due = calendar.add(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), hours(1))  # 02:30 CEST + 1 h
    assert (due.hour, due.minute, due.fold) == (2, 30, 1)  # 02:30 CET, the second 02:30 of the night
    assert utc(due) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add(datetime(2026, 5, 4, 9), hours(1)),
        lambda c: c.elapsed(datetime(2026, 5, 4, 9), at(BERLIN, 2026, 5, 5)),
        lambda c: c.elapsed(at(BERLIN, 2026, 5, 4), datetime(2026, 5, 5, 9)),
        lambda c: c.is_open(datetime(2026, 5, 4, 9)),
        lambda c: c.next_open(datetime(2026, 5, 4, 9)),
        lambda c: c.open_intervals(datetime(2026, 5, 4, 9), at(BERLIN, 2026, 5, 5)),
        lambda c: office(extra=[(datetime(2026, 5, 4, 9), at(BERLIN, 2026, 5, 5))]),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="aware"):
        call(office())


def test_an_end_before_the_start_is_refused():
    with pytest.raises(ValueError, match="before"):
        office().elapsed(at(BERLIN, 2026, 5, 5), at(BERLIN, 2026, 5, 4))
    with pytest.raises(ValueError, match="before"):
        office().open_intervals(at(BERLIN, 2026, 5, 5), at(BERLIN, 2026, 5, 4))


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        office().add(at(BERLIN, 2026, 5, 4), -US)


def test_a_calendar_without_open_time_refuses_to_add_instead_of_looping_forever():
    closed = BusinessCalendar(timezone="Europe/Berlin", weekly={})
    start = at(BERLIN, 2026, 5, 4)
    with pytest.raises(ValueError, match="no open time"):
        closed.add(start, hours(1))
    with pytest.raises(ValueError, match="no open time"):
        closed.next_open(start)
    assert closed.add(start, timedelta()) == start
    assert closed.elapsed(start, start + timedelta(days=400)) == timedelta()


def test_an_unknown_time_zone_is_refused_by_name():
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        BusinessCalendar(timezone="Mars/Olympus_Mons", weekly={})


@pytest.mark.parametrize("weekday", [7, -1, "1", True])
def test_a_weekday_outside_monday_to_sunday_is_refused(weekday):
    with pytest.raises(ValueError, match="weekday"):
        BusinessCalendar(timezone="UTC", weekly={weekday: [(time(9), time(17))]})
