"""Service calendars through their services: windows, same-plan links, holidays, extra periods,
events, and the engine cache that every change must refresh."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from models_catalog.models import PartyKind
from operations import calendar_services as services
from operations.engine import engine_for
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    CalendarHoliday,
    ExtraOpenPeriod,
    Priority,
    ServiceCalendar,
    SlaMetric,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
)
from tests.operations.calendar_fixtures import (
    OFFICE_HOURS,
    build_contoso_hours,
    build_party,
    build_uk_hours,
    utc,
)

TUESDAY_NOON = utc(2027, 6, 1, 11)  # 12:00 in London (BST)


@pytest.fixture
def uk_hours(plan, location):
    return build_uk_hours(plan, locations=[location])


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Calendars ------------------------------------------------------------------------------
def test_a_calendar_stores_its_windows_with_text_weekday_keys(plan):
    calendar = services.calendar_create(
        plan=plan, name="Night desk", timezone="Europe/London", weekly_windows={0: [("22:00", "06:00")]}
    )
    calendar.refresh_from_db()
    assert calendar.weekly_windows == {"0": [["22:00", "06:00"]]}
    assert not calendar.is_24x7


def test_a_calendar_without_windows_is_closed_except_for_its_extra_periods(plan):
    calendar = services.calendar_create(plan=plan, name="Period-end cover", timezone="Europe/London")
    assert calendar.weekly_windows == {}
    assert not engine_for(calendar).is_open(TUESDAY_NOON)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"weekly_windows": {"0": [["09:00", "25:00"]]}}, "weekly_windows"),
        ({"weekly_windows": {"7": [["09:00", "17:00"]]}}, "weekly_windows"),
        ({"weekly_windows": ["09:00", "17:00"]}, "weekly_windows"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "GB", "holiday_subdivision": "BY"}, "holiday_subdivision"),
        ({"holiday_subdivision": "ENG"}, "holiday_country"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_calendar_fields_are_refused_with_their_name(plan, fields, field):
    arguments = {"name": "UK office hours", "timezone": "Europe/London", **fields}
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_create(plan=plan, **arguments)
    assert field in field_errors(excinfo)
    assert not ServiceCalendar.objects.exists()


def test_a_holiday_subdivision_is_matched_whatever_its_case(plan):
    calendar = services.calendar_create(
        plan=plan, name="Paris", timezone="Europe/Paris", holiday_country="fr", holiday_subdivision="zone a"
    )
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("FR", "Zone A")


def test_a_calendar_name_is_used_once_in_a_plan(plan, uk_hours):
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_create(plan=plan, name="UK office hours", timezone="Europe/London")
    assert "already has a calendar" in field_errors(excinfo)["name"][0]


def test_another_plan_may_use_the_same_name(other_plan, uk_hours):
    services.calendar_create(plan=other_plan, name="UK office hours", timezone="Europe/London")


def test_locations_and_parties_must_belong_to_the_calendars_plan(plan, other_plan, other_location, uk_hours):
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_create(
            plan=plan, name="Dublin", timezone="Europe/Dublin", locations=[other_location]
        )
    assert field_errors(excinfo) == {"locations": ["Choose only from this plan."]}
    stranger = build_party(other_plan, "Contoso desk")
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_update(calendar=uk_hours, parties=[stranger])
    assert "parties" in field_errors(excinfo)
    assert list(uk_hours.parties.all()) == []


def test_updating_links_and_fields_keeps_what_is_not_given(plan, uk_hours, location):
    desk = build_party(plan, "Service desk", kind=PartyKind.HELPDESK)
    services.calendar_update(calendar=uk_hours, parties=[desk], description="Head office hours")
    uk_hours.refresh_from_db()
    assert list(uk_hours.locations.all()) == [location]
    assert list(uk_hours.parties.all()) == [desk]
    assert uk_hours.weekly_windows == OFFICE_HOURS


def test_a_field_outside_the_calendars_own_is_refused(uk_hours, other_plan):
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_update(calendar=uk_hours, plan=other_plan)
    assert "plan" in field_errors(excinfo)


def test_a_calendar_that_sla_clocks_run_on_cannot_be_removed(plan, uk_hours):
    policy = SlaPolicy.objects.create(
        plan=plan, name="Steady state", phase=SlaPhase.STEADY_STATE, valid_from=date(2027, 1, 1)
    )
    priority = Priority.objects.create(plan=plan, code="P2", name="High")
    SlaTarget.objects.create(
        policy=policy, priority=priority, metric=SlaMetric.FIRST_RESPONSE, minutes=60, calendar=uk_hours
    )
    with pytest.raises(ValidationError, match="clock of 1 SLA target"):
        services.calendar_delete(calendar=uk_hours)
    assert ServiceCalendar.objects.filter(pk=uk_hours.pk).exists()


def test_removing_a_calendar_takes_its_holidays_and_periods_and_unlinks_its_events(plan, uk_hours):
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    services.extra_period_add(calendar=uk_hours, starts_at=utc(2027, 6, 5, 8), ends_at=utc(2027, 6, 5, 12))
    event = services.calendar_event_create(
        plan=plan,
        name="Year-end close",
        kind=CalendarEventKind.PERIOD_END,
        starts_at=utc(2027, 12, 30, 8),
        ends_at=utc(2027, 12, 31, 18),
        calendar=uk_hours,
    )
    services.calendar_delete(calendar=uk_hours)
    assert not CalendarHoliday.objects.exists()
    assert not ExtraOpenPeriod.objects.exists()
    event.refresh_from_db()
    assert event.calendar is None


# --- The engine cache -----------------------------------------------------------------------
def test_every_change_bumps_updated_at(uk_hours):
    stamps = [uk_hours.updated_at]

    def changed():
        stored = ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at
        assert stored == uk_hours.updated_at > stamps[-1]
        stamps.append(stored)

    services.calendar_update(calendar=uk_hours, description="Changed")
    changed()
    holiday = services.holiday_add(calendar=uk_hours, date=date(2027, 6, 1), name="Office move")
    changed()
    services.holiday_remove(holiday=holiday)
    changed()
    period = services.extra_period_add(
        calendar=uk_hours, starts_at=utc(2027, 6, 5, 8), ends_at=utc(2027, 6, 5, 9)
    )
    changed()
    services.extra_period_remove(period=period)
    changed()
    services.calendar_update(calendar=uk_hours, locations=[])
    changed()


def test_the_engine_sees_a_new_holiday_and_its_removal(uk_hours):
    assert engine_for(uk_hours).is_open(TUESDAY_NOON)
    holiday = services.holiday_add(calendar=uk_hours, date=date(2027, 6, 1), name="Office move")
    assert not engine_for(uk_hours).is_open(TUESDAY_NOON)
    services.holiday_remove(holiday=holiday)
    assert engine_for(uk_hours).is_open(TUESDAY_NOON)


def test_the_engine_sees_new_windows(uk_hours):
    evening = utc(2027, 6, 1, 18)  # 19:00 in London
    assert not engine_for(uk_hours).is_open(evening)
    services.calendar_update(calendar=uk_hours, weekly_windows={"1": [["09:00", "21:00"]]})
    assert engine_for(uk_hours).is_open(evening)
    assert not engine_for(uk_hours).is_open(utc(2027, 5, 31, 11))  # Monday is now closed


def test_the_engine_sees_an_extra_period(uk_hours):
    saturday_morning = utc(2027, 6, 5, 9)
    assert not engine_for(uk_hours).is_open(saturday_morning)
    period = services.extra_period_add(
        calendar=uk_hours, starts_at=utc(2027, 6, 5, 8), ends_at=utc(2027, 6, 5, 12), reason="Stock take"
    )
    assert engine_for(uk_hours).is_open(saturday_morning)
    assert engine_for(uk_hours).elapsed(utc(2027, 6, 5), utc(2027, 6, 6)) == timedelta(hours=4)
    services.extra_period_remove(period=period)
    assert not engine_for(uk_hours).is_open(saturday_morning)


def test_the_engine_sees_changes_made_while_the_clock_stands_still(uk_hours):
    with time_machine.travel(datetime(2027, 5, 1, 12, tzinfo=uk_hours.updated_at.tzinfo), tick=False):
        services.calendar_update(calendar=uk_hours, description="Frozen")
        assert engine_for(uk_hours).is_open(TUESDAY_NOON)
        services.holiday_add(calendar=uk_hours, date=date(2027, 6, 1), name="Office move")
        assert not engine_for(uk_hours).is_open(TUESDAY_NOON)
        services.extra_period_add(
            calendar=uk_hours, starts_at=utc(2027, 6, 1, 10), ends_at=utc(2027, 6, 1, 12)
        )
        assert engine_for(uk_hours).is_open(TUESDAY_NOON)


# --- Holidays and extra periods -------------------------------------------------------------
def test_a_custom_holiday_on_a_date_that_has_one_names_the_existing_holiday(uk_hours):
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    with pytest.raises(ValidationError) as excinfo:
        services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Again")
    assert "Christmas Eve closure" in field_errors(excinfo)["date"][0]
    assert CalendarHoliday.objects.count() == 1


def test_a_custom_holiday_needs_a_name_and_a_date(uk_hours):
    with pytest.raises(ValidationError) as excinfo:
        services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="  ")
    assert "name" in field_errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.holiday_add(calendar=uk_hours, date=utc(2027, 12, 24), name="A datetime")
    assert "date" in field_errors(excinfo)


def test_a_custom_holiday_is_stored_as_custom(uk_hours):
    holiday = services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    assert (holiday.source, holiday.source_detail) == ("custom", "")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        (datetime(2027, 6, 5, 8), utc(2027, 6, 5, 12), "starts_at"),
        (utc(2027, 6, 5, 8), datetime(2027, 6, 5, 12), "ends_at"),
        (utc(2027, 6, 5, 12), utc(2027, 6, 5, 12), "ends_at"),
        (utc(2027, 6, 5, 12), utc(2027, 6, 5, 8), "ends_at"),
        ("2027-06-05T08:00Z", utc(2027, 6, 5, 12), "starts_at"),
    ],
)
def test_an_extra_period_needs_aware_times_and_must_end_after_it_starts(uk_hours, starts_at, ends_at, field):
    before = uk_hours.updated_at
    with pytest.raises(ValidationError) as excinfo:
        services.extra_period_add(calendar=uk_hours, starts_at=starts_at, ends_at=ends_at)
    assert field in field_errors(excinfo)
    assert not ExtraOpenPeriod.objects.exists()
    assert ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at == before


def test_an_extra_period_in_any_zone_is_stored_as_the_same_instant(uk_hours):
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    period = services.extra_period_add(
        calendar=uk_hours,
        starts_at=datetime(2027, 6, 5, 10, tzinfo=berlin),
        ends_at=datetime(2027, 6, 5, 14, tzinfo=berlin),
    )
    period.refresh_from_db()
    assert period.starts_at == utc(2027, 6, 5, 8)


# --- Calendar events ------------------------------------------------------------------------
def test_an_event_is_stored_with_the_service_level_it_needs(plan, uk_hours):
    event = services.calendar_event_create(
        plan=plan,
        name="Go-live weekend",
        kind=CalendarEventKind.ONE_OFF,
        starts_at=utc(2027, 9, 3, 16),
        ends_at=utc(2027, 9, 6, 8),
        required_service_level="P1 24×7, P2 extended hours 07:00–22:00",
        calendar=uk_hours,
    )
    assert CalendarEvent.objects.get(pk=event.pk).required_service_level.startswith("P1 24×7")


def test_an_event_must_end_after_it_starts_and_have_aware_times(plan):
    arguments = {"plan": plan, "name": "Freeze", "kind": CalendarEventKind.FREEZE}
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_event_create(**arguments, starts_at=utc(2027, 9, 6), ends_at=utc(2027, 9, 3))
    assert "ends_at" in field_errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_event_create(**arguments, starts_at=datetime(2027, 9, 3), ends_at=utc(2027, 9, 6))
    assert "starts_at" in field_errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_event_create(
            **{**arguments, "kind": "party"}, starts_at=utc(2027, 9, 3), ends_at=utc(2027, 9, 6)
        )
    assert "kind" in field_errors(excinfo)
    assert not CalendarEvent.objects.exists()


def test_an_event_cannot_name_another_plans_calendar(plan, other_plan, other_location):
    dublin = build_contoso_hours(other_plan, locations=[other_location])
    with pytest.raises(ValidationError) as excinfo:
        services.calendar_event_create(
            plan=plan,
            name="Peak",
            kind=CalendarEventKind.SEASONAL_PEAK,
            starts_at=utc(2027, 11, 1),
            ends_at=utc(2027, 12, 24),
            calendar=dublin,
        )
    assert field_errors(excinfo) == {"calendar": ["Choose only from this plan."]}


def test_an_event_is_updated_and_removed(plan, uk_hours):
    event = services.calendar_event_create(
        plan=plan,
        name="Peak",
        kind=CalendarEventKind.SEASONAL_PEAK,
        starts_at=utc(2027, 11, 1),
        ends_at=utc(2027, 12, 24),
    )
    services.calendar_event_update(event=event, name="Christmas peak", calendar=uk_hours)
    event.refresh_from_db()
    assert (event.name, event.calendar) == ("Christmas peak", uk_hours)
    with pytest.raises(ValidationError):
        services.calendar_event_update(event=event, ends_at=utc(2027, 10, 1))
    services.calendar_event_delete(event=event)
    assert not CalendarEvent.objects.exists()
