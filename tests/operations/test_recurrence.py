"""Recurrence rules: built from form patterns, validated with clear messages, described in words,
and expanded in local wall-clock time (DST both ways), with working-day moves. Pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from operations.recurrence import describe, expand, rrule_from_pattern, validate_rrule, weekday_checker
from tests.operations.maintenance_fixtures import england_holidays, utc

WEEKDAYS = {0, 1, 2, 3, 4}


def occurrences(rule, *, start, end, starts_on=date(2026, 1, 1), at=time(9, 0), tz="Europe/London", **kwargs):
    """The due instants (after any shift) in [start, end)."""
    pairs = expand(
        rrule=rule,
        starts_on=starts_on,
        local_time=at,
        tz=tz,
        window_start=start,
        window_end=end,
        **kwargs,
    )
    return [due for _original, due in pairs]


def local_dates(rule, *, start, end, tz="Europe/London", **kwargs):
    from zoneinfo import ZoneInfo

    return [
        due.astimezone(ZoneInfo(tz)).date()
        for due in occurrences(rule, start=start, end=end, tz=tz, **kwargs)
    ]


# --- Patterns -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "rule"),
    [
        ({"kind": "daily"}, "FREQ=DAILY"),
        ({"kind": "daily", "interval": 2}, "FREQ=DAILY;INTERVAL=2"),
        ({"kind": "weekdays"}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ({"kind": "weekly", "days": ["TH", 0]}, "FREQ=WEEKLY;BYDAY=MO,TH"),
        ({"kind": "weekly", "days": ["FR"], "interval": 2}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        ({"kind": "monthly_day", "day": 31}, "FREQ=MONTHLY;BYMONTHDAY=31"),
        ({"kind": "monthly_day", "day": "last"}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ({"kind": "monthly_nth_weekday", "n": 2, "weekday": "TU"}, "FREQ=MONTHLY;BYDAY=2TU"),
        ({"kind": "monthly_nth_weekday", "n": -1, "weekday": 4}, "FREQ=MONTHLY;BYDAY=-1FR"),
        ({"kind": "last_working_day"}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ({"kind": "every_n_months", "n": 2, "day": 15}, "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15"),
        ({"kind": "quarterly", "day": 1}, "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1"),
        ({"kind": "yearly", "month": 2, "day": 29}, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
    ],
)
def test_each_form_pattern_builds_its_rrule(pattern, rule):
    assert rrule_from_pattern(pattern) == rule
    assert validate_rrule(rule) == rule


@pytest.mark.parametrize(
    ("pattern", "field", "message"),
    [
        ({"kind": "fortnightly"}, "pattern", "is not a pattern"),
        ({"kind": "weekly", "days": []}, "days", "at least one weekday"),
        ({"kind": "weekly", "days": ["XX"]}, "days", "is not a weekday"),
        ({"kind": "monthly_day", "day": 32}, "day", "from 1 to 31"),
        ({"kind": "monthly_nth_weekday", "n": 0, "weekday": "MO"}, "n", "-1 for the last"),
        ({"kind": "yearly", "month": 2, "day": 30}, "day", "February has no day 30"),
        ({"kind": "daily", "interval": 0}, "interval", "from 1 to"),
    ],
)
def test_a_bad_pattern_names_the_field_and_the_problem(pattern, field, message):
    with pytest.raises(ValidationError) as caught:
        rrule_from_pattern(pattern)
    assert message in " ".join(caught.value.message_dict[field])


# --- Validation -----------------------------------------------------------------------------
def test_validation_normalises_case_prefix_and_order():
    assert validate_rrule(" rrule:byday=mo;freq=weekly; ") == "FREQ=WEEKLY;BYDAY=MO"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give a recurrence rule"),
        ("FREQ=HOURLY", "too frequent"),
        ("FREQ=MINUTELY;INTERVAL=5", "too frequent"),
        ("FREQ=SECONDLY", "too frequent"),
        ("DTSTART:20270101T090000\nRRULE:FREQ=DAILY", "no DTSTART"),
        ("DTSTART=20270101;FREQ=DAILY", "no DTSTART"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20271231", "COUNT or UNTIL, not both"),
        ("BYDAY=MO", "FREQ is required"),
        ("FREQ=FORTNIGHTLY", "is not a frequency"),
        ("FREQ=WEEKLY;BYDAY=XY", "is not a weekday"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "out of range"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "out of range"),
        ("FREQ=YEARLY;BYMONTH=13", "out of range"),
        ("FREQ=DAILY;INTERVAL=0", "out of range"),
        ("FREQ=DAILY;BYHOUR=9", "task's local time"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL must be a date"),
        ("FREQ=MONTHLY;BYDAY=6MO", "±1…±5"),
        ("FREQ=WEEKLY;BYDAY=2MO", "needs MONTHLY or YEARLY"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("FREQ=DAILY;FREQ=WEEKLY", "appears twice"),
        ("not a rule", "NAME=VALUE"),
    ],
)
def test_an_invalid_rrule_gets_a_clear_message(text, message):
    with pytest.raises(ValidationError) as caught:
        validate_rrule(text)
    assert message in " ".join(caught.value.message_dict["rrule"])


# --- Descriptions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "shift", "text"),
    [
        ("FREQ=DAILY", "none", "Every day"),
        ("FREQ=DAILY;INTERVAL=3", "none", "Every 3 days"),
        ("FREQ=WEEKLY;BYDAY=MO", "none", "Every Monday"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "none", "Every Monday and Thursday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "none", "Every 2 weeks on Friday"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "none", "Every weekday (Monday to Friday)"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "none", "Monthly on day 15"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "none", "Monthly on the last day"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "previous", "Monthly on the last working day"),
        ("FREQ=MONTHLY;BYDAY=2TU", "none", "Monthly on the second Tuesday"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "none", "Monthly on the last Friday"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", "none", "Quarterly on day 1"),
        ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15", "none", "Every 2 months on day 15"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "none", "Every year on 29 February"),
        ("FREQ=DAILY;COUNT=5", "none", "Every day, 5 times"),
        ("FREQ=WEEKLY;BYDAY=SA", "next", "Every Saturday (on a non-working day: the next working day)"),
        ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "none", "Custom rule: FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"),
    ],
)
def test_rules_are_described_in_words(rule, shift, text):
    assert describe(rule, shift=shift) == text


# --- Daylight saving ------------------------------------------------------------------------
def test_every_monday_at_nine_in_berlin_is_nine_local_in_winter_and_in_summer():
    rule = "FREQ=WEEKLY;BYDAY=MO"
    winter = occurrences(rule, start=utc(2027, 1, 4), end=utc(2027, 1, 5), tz="Europe/Berlin")
    summer = occurrences(rule, start=utc(2027, 7, 5), end=utc(2027, 7, 6), tz="Europe/Berlin")
    assert winter == [utc(2027, 1, 4, 8, 0)]
    assert summer == [utc(2027, 7, 5, 7, 0)]


def test_the_week_berlin_springs_forward_keeps_nine_oclock_local():
    # Summer time starts on Sunday 28 March 2027 in the EU.
    got = occurrences("FREQ=DAILY", start=utc(2027, 3, 27), end=utc(2027, 3, 30), tz="Europe/Berlin")
    assert got == [utc(2027, 3, 27, 8, 0), utc(2027, 3, 28, 7, 0), utc(2027, 3, 29, 7, 0)]


def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap():
    # 02:30 does not exist in Berlin on 28 March 2027 (02:00 → 03:00): it is due at 03:30 local.
    got = occurrences(
        "FREQ=DAILY", start=utc(2027, 3, 27), end=utc(2027, 3, 30), at=time(2, 30), tz="Europe/Berlin"
    )
    assert got == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30)]


def test_a_time_in_the_repeated_autumn_hour_takes_the_first_one():
    # 02:30 happens twice in Berlin on 31 October 2027: the first (summer time, 00:30Z) is used.
    got = occurrences(
        "FREQ=DAILY", start=utc(2027, 10, 30), end=utc(2027, 11, 2), at=time(2, 30), tz="Europe/Berlin"
    )
    assert got == [utc(2027, 10, 30, 0, 30), utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)]


def test_new_york_follows_its_own_dst_dates():
    # The US springs forward on 14 March 2027, two weeks before Europe.
    got = occurrences(
        "FREQ=WEEKLY;BYDAY=MO", start=utc(2027, 3, 8), end=utc(2027, 3, 16), tz="America/New_York"
    )
    assert got == [utc(2027, 3, 8, 14, 0), utc(2027, 3, 15, 13, 0)]


# --- Calendar edge cases --------------------------------------------------------------------
def test_29_february_occurs_only_in_leap_years():
    got = local_dates(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        start=utc(2026, 1, 1),
        end=utc(2034, 1, 1),
        starts_on=date(2026, 1, 1),
    )
    assert got == [date(2028, 2, 29), date(2032, 2, 29)]


def test_day_31_skips_short_months_as_rfc_5545_says():
    got = local_dates("FREQ=MONTHLY;BYMONTHDAY=31", start=utc(2027, 1, 1), end=utc(2028, 1, 1))
    assert got == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
        date(2027, 8, 31),
        date(2027, 10, 31),
        date(2027, 12, 31),
    ]


def test_the_last_day_option_gives_every_month_end():
    got = local_dates("FREQ=MONTHLY;BYMONTHDAY=-1", start=utc(2028, 1, 1), end=utc(2028, 5, 1))
    assert got == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]


def test_nth_and_last_weekday_of_the_month():
    second_tuesday = local_dates("FREQ=MONTHLY;BYDAY=2TU", start=utc(2027, 1, 1), end=utc(2027, 4, 1))
    last_friday = local_dates("FREQ=MONTHLY;BYDAY=-1FR", start=utc(2027, 1, 1), end=utc(2027, 4, 1))
    assert second_tuesday == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9)]
    assert last_friday == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26)]


def test_every_n_months_counts_from_the_start_date():
    got = local_dates(
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15",
        start=utc(2027, 1, 1),
        end=utc(2027, 8, 1),
        starts_on=date(2027, 1, 10),
    )
    assert got == [date(2027, 1, 15), date(2027, 3, 15), date(2027, 5, 15), date(2027, 7, 15)]


def test_quarterly_from_february():
    got = local_dates(
        "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
        start=utc(2027, 1, 1),
        end=utc(2028, 1, 1),
        starts_on=date(2027, 2, 1),
    )
    assert got == [date(2027, 2, 1), date(2027, 5, 1), date(2027, 8, 1), date(2027, 11, 1)]


def test_weekdays_skip_the_weekend():
    got = local_dates("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", start=utc(2027, 1, 1), end=utc(2027, 1, 9))
    assert got == [
        date(2027, 1, 1),
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 6),
        date(2027, 1, 7),
        date(2027, 1, 8),
    ]


def test_nothing_before_the_start_date_and_nothing_after_ends_on():
    got = local_dates(
        "FREQ=WEEKLY;BYDAY=MO",
        start=utc(2026, 1, 1),
        end=utc(2028, 1, 1),
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 22),
    )
    assert got == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22)]


def test_count_counts_from_the_start_not_from_the_window():
    got = local_dates(
        "FREQ=DAILY;COUNT=3", start=utc(2027, 1, 2), end=utc(2027, 2, 1), starts_on=date(2027, 1, 1)
    )
    assert got == [date(2027, 1, 2), date(2027, 1, 3)]


def test_a_utc_until_is_read_in_the_tasks_zone():
    # UNTIL 08:30Z on 5 July is 10:30 in Berlin: the 09:00 local occurrence that day is included.
    got = local_dates(
        "FREQ=DAILY;UNTIL=20270705T083000Z", start=utc(2027, 7, 3), end=utc(2027, 8, 1), tz="Europe/Berlin"
    )
    assert got == [date(2027, 7, 3), date(2027, 7, 4), date(2027, 7, 5)]


def test_the_window_bounds_the_rule_instant_half_open():
    got = occurrences("FREQ=DAILY", start=utc(2027, 1, 5, 9, 0), end=utc(2027, 1, 7, 9, 0))
    assert got == [utc(2027, 1, 5, 9, 0), utc(2027, 1, 6, 9, 0)]


# --- Working days ---------------------------------------------------------------------------
ENGLAND = weekday_checker(open_weekdays=WEEKDAYS, holidays=england_holidays(2026, 2027, 2028, 2029))


def test_the_last_working_day_skips_a_bank_holiday_monday():
    # 31 August 2026 is the summer bank holiday (a Monday); 31 May 2027 the spring one.
    got = local_dates(
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        start=utc(2026, 8, 1),
        end=utc(2026, 9, 1),
        shift="previous",
        is_working_day=ENGLAND,
    ) + local_dates(
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        start=utc(2027, 5, 1),
        end=utc(2027, 6, 1),
        shift="previous",
        is_working_day=ENGLAND,
    )
    assert got == [date(2026, 8, 28), date(2027, 5, 28)]


def test_the_last_working_day_of_march_2029_skips_the_weekend_and_good_friday():
    # 31 March 2029 is a Saturday; Friday 30 March is Good Friday: Thursday 29th it is.
    pairs = expand(
        rrule="FREQ=MONTHLY;BYMONTHDAY=-1",
        starts_on=date(2029, 1, 1),
        local_time=time(16, 0),
        tz="Europe/London",
        window_start=utc(2029, 3, 1),
        window_end=utc(2029, 4, 1),
        shift="previous",
        is_working_day=ENGLAND,
    )
    assert pairs == [(datetime(2029, 3, 31, 15, 0, tzinfo=UTC), datetime(2029, 3, 29, 15, 0, tzinfo=UTC))]


def test_christmas_moves_to_the_next_working_day_after_the_substitute_boxing_day():
    # 25 Dec 2026 is a Friday; Boxing Day (Sat) is observed on Monday 28th: Tuesday 29th.
    got = local_dates(
        "FREQ=MONTHLY;BYMONTHDAY=25",
        start=utc(2026, 12, 1),
        end=utc(2027, 1, 1),
        shift="next",
        is_working_day=ENGLAND,
    )
    assert got == [date(2026, 12, 29)]


def test_a_move_across_a_dst_change_keeps_the_wall_clock_time():
    # Easter Sunday 28 March 2027 (clocks change in London that night) moves past Easter Monday to
    # Tuesday 30th, still 09:00 local.
    pairs = expand(
        rrule="FREQ=MONTHLY;BYMONTHDAY=28",
        starts_on=date(2027, 1, 1),
        local_time=time(9, 0),
        tz="Europe/London",
        window_start=utc(2027, 3, 1),
        window_end=utc(2027, 4, 1),
        shift="next",
        is_working_day=ENGLAND,
    )
    assert pairs == [(utc(2027, 3, 28, 8, 0), utc(2027, 3, 30, 8, 0))]


def test_without_a_calendar_monday_to_friday_are_the_working_days():
    got = local_dates("FREQ=WEEKLY;BYDAY=SA", start=utc(2027, 1, 1), end=utc(2027, 1, 17), shift="previous")
    assert got == [date(2027, 1, 1), date(2027, 1, 8), date(2027, 1, 15)]


def test_a_calendar_without_working_days_leaves_the_date_alone():
    never = weekday_checker(open_weekdays=set())
    got = local_dates(
        "FREQ=WEEKLY;BYDAY=SA",
        start=utc(2027, 1, 1),
        end=utc(2027, 1, 10),
        shift="previous",
        is_working_day=never,
    )
    assert got == [date(2027, 1, 2), date(2027, 1, 9)]
