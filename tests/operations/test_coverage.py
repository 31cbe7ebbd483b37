"""The coverage view's numbers: per location and local weekday, who is open, the out-of-hours cover
and what is uncovered, in the location's zone and right across the clock changes.

The UK calendar is Monday–Friday 09:00–17:30 London time; P1 cover is 24×7. Berlin is an hour ahead
of London all year, and both move their clocks on Sunday 28 March 2027.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from operations import calendar_services as services
from operations.calendar_selectors import coverage
from tests.factories import LocationFactory
from tests.operations.calendar_fixtures import (
    MODEL_BACKEND,
    OFFICE_HOURS,
    build_berlin,
    build_level,
    build_p1_cover,
    build_party,
    build_uk_hours,
    utc,
)

SPRING_FORWARD_WEEK = date(2027, 3, 22)  # Monday; the clocks go forward on Sunday 28 March
HOURS = timedelta(hours=1)


def labels(spans) -> list[str]:
    return [span.label for span in spans]


def cover_of(day, calendar):
    return next(cover for cover in day.calendars if cover.calendar == calendar)


@pytest.fixture
def berlin(plan):
    return build_berlin(plan)


@pytest.fixture
def uk_hours(plan, location):
    return build_uk_hours(plan, locations=[location])


@pytest.fixture
def p1_cover(plan):
    return build_p1_cover(plan)


@pytest.fixture
def service_desk(plan):
    return build_party(plan, "Northwind service desk")


@pytest.fixture
def partner_desk(plan):
    return build_party(plan, "Fabrikam 24×7 desk", kind="partner")


@pytest.fixture
def levels(plan, service_desk, partner_desk):
    """L1 is the service desk; L3 the partner's desk."""
    return {
        1: build_level(plan, 1, "Service desk", [service_desk]),
        3: build_level(plan, 3, "Partner support", [partner_desk]),
    }


@pytest.fixture
def berlin_covered(uk_hours, p1_cover, berlin, levels, service_desk, partner_desk):
    """Berlin is served by the UK service desk in office hours and the partner's 24×7 P1 cover."""
    services.calendar_update(calendar=uk_hours, locations=[berlin], parties=[service_desk])
    services.calendar_update(calendar=p1_cover, locations=[berlin], parties=[partner_desk])
    return berlin


def berlin_week(alice, plan, week_start=SPRING_FORWARD_WEEK):
    result = coverage(user=alice, plan=plan, week_start=week_start)
    return next(item for item in result.locations if item.location.name == "Berlin office")


def test_uk_office_hours_are_shown_in_berlin_time(alice, plan, berlin_covered, uk_hours):
    monday = berlin_week(alice, plan).days[0]
    uk = cover_of(monday, uk_hours)
    assert labels(uk.spans) == ["10:00–18:30"]
    assert uk.hours == 8.5 * HOURS
    assert (uk.spans[0].left, uk.spans[0].width) == pytest.approx((100 * 10 / 24, 100 * 8.5 / 24))


def test_the_24x7_cover_is_the_out_of_hours_cover_and_nothing_is_uncovered(alice, plan, berlin_covered):
    monday = berlin_week(alice, plan).days[0]
    assert labels(monday.out_of_hours) == ["00:00–10:00", "18:30–24:00"]
    assert monday.out_of_hours_hours == 15.5 * HOURS
    assert monday.uncovered == ()


def test_the_spring_forward_sunday_is_23_hours_long_and_covered_only_by_p1(
    alice, plan, berlin_covered, p1_cover
):
    sunday = berlin_week(alice, plan).days[6]
    assert sunday.date == date(2027, 3, 28)
    assert sunday.clocks_change
    assert sunday.length == 23 * HOURS
    p1 = cover_of(sunday, p1_cover)
    assert labels(p1.spans) == ["00:00–24:00"]
    assert p1.hours == 23 * HOURS
    assert (p1.spans[0].left, p1.spans[0].width) == (0, 100)
    assert sunday.out_of_hours_hours == 23 * HOURS


def test_office_hours_stay_at_10_in_berlin_after_both_countries_change_their_clocks(
    alice, plan, berlin_covered, uk_hours
):
    next_monday = berlin_week(alice, plan, SPRING_FORWARD_WEEK + timedelta(days=7)).days[0]
    assert labels(cover_of(next_monday, uk_hours).spans) == ["10:00–18:30"]


def test_without_the_24x7_cover_the_uncovered_hours_are_stated_day_by_day(alice, plan, uk_hours, berlin):
    services.calendar_update(calendar=uk_hours, locations=[berlin])
    week = berlin_week(alice, plan)
    monday, saturday, sunday = week.days[0], week.days[5], week.days[6]
    assert labels(monday.uncovered) == ["00:00–10:00", "18:30–24:00"]
    assert monday.uncovered_hours == 15.5 * HOURS
    assert labels(saturday.uncovered) == ["00:00–24:00"]
    assert sunday.uncovered_hours == 23 * HOURS
    assert week.uncovered_hours == (5 * 15.5 + 24 + 23) * HOURS
    assert monday.out_of_hours == ()


def test_a_new_york_office_sees_uk_hours_an_hour_earlier_while_only_the_us_has_sprung_forward(
    alice, plan, uk_hours
):
    new_york = LocationFactory(plan=plan, name="New York", country="US", timezone="America/New_York")
    services.calendar_update(calendar=uk_hours, locations=[new_york])

    def monday_hours(week_start):
        result = coverage(user=alice, plan=plan, week_start=week_start)
        (item,) = [entry for entry in result.locations if entry.location == new_york]
        return labels(item.days[0].calendars[0].spans)

    assert monday_hours(date(2027, 3, 8)) == ["04:00–12:30"]  # both on winter time: 5 h apart
    assert monday_hours(date(2027, 3, 15)) == ["05:00–13:30"]  # US on summer time since 14 March
    assert monday_hours(date(2027, 3, 29)) == ["04:00–12:30"]  # both on summer time


def test_a_holiday_closes_the_office_hours_of_that_day(alice, plan, uk_hours, berlin):
    services.calendar_update(calendar=uk_hours, locations=[berlin])
    services.holiday_add(calendar=uk_hours, date=date(2027, 3, 26), name="Good Friday")
    friday = berlin_week(alice, plan).days[4]
    assert friday.calendars[0].spans == ()
    assert friday.uncovered_hours == 24 * HOURS


def test_an_extra_period_is_out_of_hours_cover(alice, plan, uk_hours, berlin):
    services.calendar_update(calendar=uk_hours, locations=[berlin])
    services.extra_period_add(
        calendar=uk_hours, starts_at=utc(2027, 3, 27, 9), ends_at=utc(2027, 3, 27, 13), reason="Stock take"
    )
    saturday = berlin_week(alice, plan).days[5]
    assert labels(saturday.out_of_hours) == ["10:00–14:00"]
    assert labels(saturday.uncovered) == ["00:00–10:00", "14:00–24:00"]


def test_each_level_is_covered_by_the_calendars_of_its_parties(
    alice, plan, berlin_covered, levels, uk_hours, p1_cover
):
    week = berlin_week(alice, plan)
    rows = dict(week.level_rows())
    assert [cover.hours for cover in rows[levels[1]]] == [8.5 * HOURS] * 5 + [timedelta(0)] * 2
    assert [cover.hours for cover in rows[levels[3]]][5:] == [24 * HOURS, 23 * HOURS]
    monday = week.days[0]
    assert cover_of(monday, uk_hours).levels == (levels[1],)
    assert cover_of(monday, p1_cover).levels == (levels[3],)


def test_a_location_without_a_calendar_is_wholly_uncovered_and_unlinked_calendars_are_named(
    alice, plan, location, p1_cover
):
    result = coverage(user=alice, plan=plan, week_start=SPRING_FORWARD_WEEK)
    head_office = next(item for item in result.locations if item.location == location)
    assert head_office.calendars == ()
    assert head_office.days[0].uncovered_hours == 24 * HOURS
    assert result.unlinked_calendars == (p1_cover,)


def test_any_day_of_the_week_stands_for_its_monday(alice, plan, berlin_covered):
    assert coverage(user=alice, plan=plan, week_start=date(2027, 3, 25)).week_start == SPRING_FORWARD_WEEK


def test_coverage_costs_the_same_queries_however_many_calendars_and_locations(
    alice, plan, berlin_covered, django_assert_num_queries
):
    with django_assert_num_queries(8):
        coverage(user=alice, plan=plan, week_start=SPRING_FORWARD_WEEK)
    for number in range(4):
        office = LocationFactory(plan=plan, name=f"Office {number}", timezone="Europe/Paris", country="FR")
        services.calendar_create(
            plan=plan,
            name=f"Shift {number}",
            timezone="Asia/Kolkata",
            weekly_windows=OFFICE_HOURS,
            locations=[office],
        )
    with django_assert_num_queries(8):
        coverage(user=alice, plan=plan, week_start=SPRING_FORWARD_WEEK)


def test_the_coverage_page_states_the_uncovered_hours(client, alice, plan, uk_hours, berlin):
    services.calendar_update(calendar=uk_hours, locations=[berlin])
    client.force_login(alice, backend=MODEL_BACKEND)
    response = client.get(reverse("coverage", args=[plan.slug]), {"week": "2027-03-24"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Coverage, week of 22 Mar 2027" in body
    assert "clocks change: 23 h day" in body
    assert "18:30–24:00" in body
    assert "124 h 30 min uncovered this week" in body


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "next week", ""])
def test_an_odd_week_shows_this_week_instead_of_failing(client, alice, plan, week):
    client.force_login(alice, backend=MODEL_BACKEND)
    assert client.get(reverse("coverage", args=[plan.slug]), {"week": week}).status_code == 200


def test_a_partner_reads_the_coverage_page(client, carol, plan, berlin_covered):
    client.force_login(carol, backend=MODEL_BACKEND)
    assert client.get(reverse("coverage", args=[plan.slug])).status_code == 200
