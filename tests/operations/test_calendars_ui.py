"""The service-calendar pages through the Django test client: the week grid editor, holidays with
the import preview, extra periods, events, and who may see or change what."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from operations import calendar_services as services
from operations.forms_calendars import cells_to_windows, windows_as_text, windows_to_cells
from operations.models import (
    CalendarEvent,
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
    MODEL_BACKEND,
    OFFICE_HOURS,
    build_contoso_hours,
    build_p1_cover,
    build_uk_hours,
    utc,
)


@pytest.fixture
def uk_hours(plan, location):
    return build_uk_hours(plan, locations=[location])


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name, plan, *args):
    return reverse(name, args=[plan.slug, *args])


def cells(*ranges) -> list[str]:
    """``(day, first_slot, last_slot)`` ranges as the grid's checkbox values."""
    return [f"{day}-{slot}" for day, first, last in ranges for slot in range(first, last + 1)]


def form_data(calendar=None, **overrides) -> dict:
    """What the edit page posts when nothing is changed (the grid and JSON as rendered)."""
    windows = calendar.weekly_windows if calendar else {}
    data = {
        "name": calendar.name if calendar else "Night desk",
        "timezone": calendar.timezone if calendar else "Europe/London",
        "holiday_country": calendar.holiday_country if calendar else "",
        "holiday_subdivision": calendar.holiday_subdivision if calendar else "",
        "description": "",
        "cells": [f"{day}-{slot}" for day, slot in sorted(windows_to_cells(windows))],
        "windows_json": "",
    }
    if calendar:
        data["windows_json"] = windows_as_text(windows)
        data["locations"] = [location.pk for location in calendar.locations.all()]
    data.update(overrides)
    return data


# --- The grid conversions -------------------------------------------------------------------
def test_a_run_of_checked_cells_becomes_one_window():
    assert cells_to_windows({(0, 18), (0, 19), (0, 20), (0, 34)}) == {
        "0": [["09:00", "10:30"], ["17:00", "17:30"]]
    }


def test_a_fully_checked_day_is_the_whole_day():
    assert cells_to_windows({(6, slot) for slot in range(48)}) == {"6": [["00:00", "00:00"]]}


def test_a_run_to_midnight_and_one_from_the_next_midnight_stay_two_windows():
    windows = cells_to_windows({(0, 44), (0, 45), (0, 46), (0, 47), (1, 0), (1, 1)})
    assert windows == {"0": [["22:00", "00:00"]], "1": [["00:00", "01:00"]]}


def test_an_overnight_window_fills_the_cells_of_both_days():
    assert windows_to_cells({"6": [["22:00", "02:00"]]}) == {
        (6, 44),
        (6, 45),
        (6, 46),
        (6, 47),
        (0, 0),
        (0, 1),
        (0, 2),
        (0, 3),
    }


def test_a_window_off_the_half_hour_grid_fills_the_cells_it_touches():
    assert windows_to_cells({"2": [["09:15", "10:00"]]}) == {(2, 18), (2, 19)}


def test_cells_survive_a_round_trip_through_windows():
    checked = {(day, slot) for day in range(7) for slot in range(48) if (day * 7 + slot) % 5 < 3}
    assert windows_to_cells(cells_to_windows(checked)) == checked


# --- The editor page ------------------------------------------------------------------------
def test_the_editor_is_a_table_of_labelled_checkboxes(client, alice, plan, uk_hours):
    body = login(client, alice).get(url("calendar-edit", plan, uk_hours.pk)).content.decode()
    assert '<th scope="row">Monday</th>' in body
    assert '<th scope="col"' in body
    assert '<label for="cell-0-18" class="visually-hidden">Monday 09:00–09:30</label>' in body
    assert re.search(r'value="0-18" id="cell-0-18" checked', body)
    assert not re.search(r'value="5-18" id="cell-5-18" checked', body)  # closed on Saturday
    assert "Sunday 23:30–24:00" in body
    assert "js/week_grid.js" in body


def test_creating_a_calendar_from_the_grid(client, alice, plan, location):
    data = form_data(
        name="Night desk",
        cells=cells((0, 44, 47), (1, 0, 11), (5, 0, 47)),
        locations=[location.pk],
    )
    response = login(client, alice).post(url("calendar-create", plan), data)
    calendar = ServiceCalendar.objects.get(name="Night desk")
    assert response.status_code == 302
    assert response["Location"] == url("calendar-detail", plan, calendar.pk)
    assert calendar.weekly_windows == {
        "0": [["22:00", "00:00"]],
        "1": [["00:00", "06:00"]],
        "5": [["00:00", "00:00"]],
    }
    assert list(calendar.locations.all()) == [location]


def test_a_new_calendar_starts_with_office_hours_on_the_grid(client, alice, plan):
    login(client, alice).post(
        url("calendar-create", plan), form_data(name="Desk", cells=cells(*((d, 18, 33) for d in range(5))))
    )
    assert ServiceCalendar.objects.get(name="Desk").weekly_windows == {
        str(d): [["09:00", "17:00"]] for d in range(5)
    }


def test_saving_without_touching_the_grid_keeps_overnight_and_whole_day_windows_exactly(client, alice, plan):
    windows = {"0": [["22:00", "06:00"]], "5": [["00:00", "00:00"]], "6": [["09:15", "12:45"]]}
    calendar = services.calendar_create(
        plan=plan, name="Night desk", timezone="Europe/London", weekly_windows=windows
    )
    page = login(client, alice).get(url("calendar-edit", plan, calendar.pk)).content.decode()
    assert "not on the half-hour grid" in page
    response = client.post(
        url("calendar-edit", plan, calendar.pk), form_data(calendar, description="Renamed")
    )
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert calendar.weekly_windows == windows
    assert calendar.description == "Renamed"


def test_changing_the_grid_replaces_the_windows(client, alice, plan, uk_hours):
    data = form_data(uk_hours, cells=cells((0, 16, 33), (2, 0, 47)))
    login(client, alice).post(url("calendar-edit", plan, uk_hours.pk), data)
    uk_hours.refresh_from_db()
    assert uk_hours.weekly_windows == {"0": [["08:00", "17:00"]], "2": [["00:00", "00:00"]]}


def test_experts_type_the_windows_as_json(client, alice, plan, uk_hours):
    data = form_data(uk_hours, windows_json='{"0": [["07:45", "19:15"]], "4": [["22:00", "06:00"]]}')
    response = login(client, alice).post(url("calendar-edit", plan, uk_hours.pk), data)
    assert response.status_code == 302
    uk_hours.refresh_from_db()
    assert uk_hours.weekly_windows == {"0": [["07:45", "19:15"]], "4": [["22:00", "06:00"]]}


def test_typing_an_empty_mapping_closes_every_day_but_emptying_the_box_changes_nothing(
    client, alice, plan, uk_hours
):
    login(client, alice).post(url("calendar-edit", plan, uk_hours.pk), form_data(uk_hours, windows_json=""))
    uk_hours.refresh_from_db()
    assert uk_hours.weekly_windows == OFFICE_HOURS
    client.post(url("calendar-edit", plan, uk_hours.pk), form_data(uk_hours, windows_json="{}"))
    uk_hours.refresh_from_db()
    assert uk_hours.weekly_windows == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "is not an IANA time zone"),
        ({"windows_json": '{"0": [["09:00", "25:00"]]}'}, "is not a valid"),
        ({"windows_json": '{"0": [["09:00", '}, "This is not valid JSON"),
        ({"windows_json": '{"0": []}', "cells": ["3-20"]}, "changed both the grid and the JSON"),
        ({"holiday_country": "GB", "holiday_subdivision": "BY"}, "is not a subdivision of GB"),
        ({"name": "EU P1 24×7 cover"}, "already has a calendar"),
        ({"cells": ["9-99"]}, "Select a valid choice"),
    ],
)
def test_invalid_input_is_shown_on_the_form_and_nothing_is_stored(
    client, alice, plan, uk_hours, overrides, message
):
    build_p1_cover(plan)
    before = ServiceCalendar.objects.get(pk=uk_hours.pk)
    response = login(client, alice).post(
        url("calendar-edit", plan, uk_hours.pk), form_data(uk_hours, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    after = ServiceCalendar.objects.get(pk=uk_hours.pk)
    assert (after.name, after.timezone, after.weekly_windows, after.updated_at) == (
        before.name,
        before.timezone,
        before.weekly_windows,
        before.updated_at,
    )


def test_an_invalid_form_keeps_the_cells_the_user_checked(client, alice, plan, uk_hours):
    data = form_data(uk_hours, timezone="Nowhere", cells=cells((6, 40, 41)))
    body = login(client, alice).post(url("calendar-edit", plan, uk_hours.pk), data).content.decode()
    assert re.search(r'value="6-40" id="cell-6-40" checked', body)
    assert not re.search(r'value="0-18" id="cell-0-18" checked', body)


def test_the_form_offers_only_this_plans_locations(client, alice, plan, other_plan, other_location, uk_hours):
    body = login(client, alice).get(url("calendar-create", plan)).content.decode()
    assert "Head office" in body
    assert "Dublin" not in body


# --- Reading --------------------------------------------------------------------------------
def test_the_list_shows_the_plans_calendars(client, victor, plan, uk_hours, other_plan, other_location):
    build_contoso_hours(other_plan, locations=[other_location])
    body = login(client, victor).get(url("calendar-list-page", plan)).content.decode()
    assert "UK office hours" in body
    assert "Dublin office hours" not in body
    assert "Add calendar" not in body


def test_the_list_costs_a_fixed_number_of_queries(
    client, alice, plan, location, django_assert_max_num_queries
):
    for number in range(6):
        services.calendar_create(
            plan=plan,
            name=f"Cover {number}",
            timezone="UTC",
            weekly_windows=OFFICE_HOURS,
            locations=[location],
        )
    login(client, alice)
    with django_assert_max_num_queries(12):
        assert client.get(url("calendar-list-page", plan)).status_code == 200


def test_the_calendar_page_shows_hours_holidays_and_periods(client, bob, plan, uk_hours):
    services.holiday_import_apply(calendar=uk_hours, years=[2027])
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    services.extra_period_add(
        calendar=uk_hours,
        starts_at=utc(2027, 6, 30, 17),
        ends_at=utc(2027, 6, 30, 21),
        reason="Half-year close",
    )
    body = login(client, bob).get(url("calendar-detail", plan, uk_hours.pk)).content.decode()
    assert "09:00–17:30" in body
    assert "Christmas Day (observed)" in body
    assert "Christmas Eve closure" in body
    assert "holidays " in body and "GB-ENG" in body
    assert "Wed 30 Jun 2027 18:00 BST" in body  # the period, in the calendar's zone
    assert "Half-year close" in body


def test_a_partner_reads_calendars_but_cannot_change_them(client, carol, plan, uk_hours):
    login(client, carol)
    assert client.get(url("calendar-list-page", plan)).status_code == 200
    detail = client.get(url("calendar-detail", plan, uk_hours.pk))
    assert detail.status_code == 200
    assert "Edit calendar" not in detail.content.decode()
    assert client.get(url("calendar-events", plan)).status_code == 200
    assert client.get(url("calendar-edit", plan, uk_hours.pk)).status_code == 403
    assert client.get(url("calendar-create", plan)).status_code == 403
    assert (
        client.post(url("calendar-edit", plan, uk_hours.pk), form_data(uk_hours, name="Hijacked")).status_code
        == 403
    )
    assert (
        client.post(url("holiday-add", plan, uk_hours.pk), {"date": "2027-06-01", "name": "x"}).status_code
        == 403
    )
    assert client.get(url("holiday-import", plan, uk_hours.pk)).status_code == 403
    assert client.post(url("calendar-delete", plan, uk_hours.pk)).status_code == 403
    assert ServiceCalendar.objects.get(pk=uk_hours.pk).name == "UK office hours"
    assert not CalendarHoliday.objects.exists()


@pytest.mark.parametrize("user", ["tina", "victor"])
def test_team_members_and_viewers_cannot_change_calendars(client, request, plan, uk_hours, user):
    login(client, request.getfixturevalue(user))
    assert client.get(url("calendar-edit", plan, uk_hours.pk)).status_code == 403
    assert client.post(url("calendar-events", plan), {"name": "x"}).status_code == 403


def test_another_plans_calendar_is_not_found(client, alice, dave, plan, other_plan, other_location, uk_hours):
    dublin = build_contoso_hours(other_plan, locations=[other_location])
    login(client, dave)
    assert client.get(url("calendar-detail", plan, uk_hours.pk)).status_code == 404
    assert client.get(url("calendar-list-page", plan)).status_code == 404
    login(client, alice)
    # Northwind's address with Contoso's calendar: not found either.
    assert client.get(url("calendar-detail", plan, dublin.pk)).status_code == 404
    assert client.get(url("calendar-edit", plan, dublin.pk)).status_code == 404
    assert (
        client.post(url("holiday-add", plan, dublin.pk), {"date": "2027-06-01", "name": "x"}).status_code
        == 404
    )


# --- Holidays and periods -------------------------------------------------------------------
def test_a_lead_adds_and_removes_a_custom_holiday(client, bob, plan, uk_hours):
    login(client, bob)
    response = client.post(
        url("holiday-add", plan, uk_hours.pk), {"date": "2027-12-24", "name": "Christmas Eve closure"}
    )
    assert response.status_code == 302
    holiday = CalendarHoliday.objects.get()
    assert (holiday.date, holiday.source) == (date(2027, 12, 24), "custom")
    client.post(url("holiday-remove", plan, uk_hours.pk, holiday.pk))
    assert not CalendarHoliday.objects.exists()


def test_an_invalid_holiday_is_shown_on_the_calendar_page(client, bob, plan, uk_hours):
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    login(client, bob)
    response = client.post(url("holiday-add", plan, uk_hours.pk), {"date": "2027-12-24", "name": "Again"})
    assert response.status_code == 200
    assert "is already a holiday" in response.content.decode()
    response = client.post(url("holiday-add", plan, uk_hours.pk), {"date": "24/12/2027", "name": ""})
    assert response.status_code == 200
    assert CalendarHoliday.objects.count() == 1


def test_an_extra_period_is_typed_in_the_calendars_zone(client, bob, plan, uk_hours):
    login(client, bob)
    data = {"starts_at": "2027-06-30T18:00", "ends_at": "2027-06-30T22:00", "reason": "Half-year close"}
    assert client.post(url("extra-period-add", plan, uk_hours.pk), data).status_code == 302
    period = ExtraOpenPeriod.objects.get()
    assert (period.starts_at, period.ends_at) == (utc(2027, 6, 30, 17), utc(2027, 6, 30, 21))
    client.post(url("extra-period-remove", plan, uk_hours.pk, period.pk))
    assert not ExtraOpenPeriod.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        ("2027-03-28T01:30", "2027-03-28T04:00", "does not exist in Europe/London"),
        ("2027-06-30T22:00", "2027-06-30T18:00", "The end must come after the start"),
        ("soon", "2027-06-30T18:00", "Enter a valid date/time"),
    ],
)
def test_an_invalid_extra_period_is_shown_and_nothing_is_stored(
    client, bob, plan, uk_hours, starts_at, ends_at, message
):
    login(client, bob)
    response = client.post(
        url("extra-period-add", plan, uk_hours.pk), {"starts_at": starts_at, "ends_at": ends_at}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExtraOpenPeriod.objects.exists()


def test_a_calendar_in_use_by_sla_targets_is_not_removed(client, alice, plan, uk_hours):
    policy = SlaPolicy.objects.create(
        plan=plan, name="Steady state", phase=SlaPhase.STEADY_STATE, valid_from=date(2027, 1, 1)
    )
    priority = Priority.objects.create(plan=plan, code="P1", name="Critical")
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        SlaTarget.objects.create(
            policy=policy, priority=priority, metric=metric, minutes=60, calendar=uk_hours
        )
    response = login(client, alice).post(url("calendar-delete", plan, uk_hours.pk), follow=True)
    assert "is the clock of 2 SLA targets" in response.content.decode()
    assert ServiceCalendar.objects.filter(pk=uk_hours.pk).exists()


def test_a_lead_removes_a_calendar(client, alice, plan, uk_hours):
    response = login(client, alice).post(url("calendar-delete", plan, uk_hours.pk))
    assert response["Location"] == url("calendar-list-page", plan)
    assert not ServiceCalendar.objects.exists()


# --- Holiday import -------------------------------------------------------------------------
def test_the_import_page_previews_then_applies_the_changes(client, bob, plan, uk_hours):
    login(client, bob)
    form = client.get(url("holiday-import", plan, uk_hours.pk)).content.decode()
    assert 'value="ENG"' in form
    response = client.get(
        url("holiday-import", plan, uk_hours.pk), {"years": "2027", "country": "GB", "subdivision": "ENG"}
    )
    body = response.content.decode()
    assert "Apply these changes" in body
    assert "Mon 27 Dec 2027 — Christmas Day (observed)" in body
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', body)[1]
    assert not CalendarHoliday.objects.exists()
    data = {"years": "2027", "country": "GB", "subdivision": "ENG", "fingerprint": fingerprint}
    response = client.post(url("holiday-import", plan, uk_hours.pk), data)
    assert response.status_code == 302
    assert CalendarHoliday.objects.filter(calendar=uk_hours, source="imported").count() == 10


def test_the_import_is_refused_and_previewed_again_when_the_data_changed(client, bob, plan, uk_hours):
    login(client, bob)
    body = client.get(
        url("holiday-import", plan, uk_hours.pk), {"years": "2027", "country": "GB", "subdivision": "ENG"}
    ).content.decode()
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', body)[1]
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 27), name="Staff day")
    data = {"years": "2027", "country": "GB", "subdivision": "ENG", "fingerprint": fingerprint}
    response = client.post(url("holiday-import", plan, uk_hours.pk), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "The holiday data changed since the preview; review it again." in body
    assert "“Staff day” stays" in body
    assert CalendarHoliday.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"years": "2027", "country": "GB", "subdivision": "XYZ"}, "is not a subdivision of GB"),
        ({"years": "soon", "country": "GB"}, "is not a year"),
        ({"years": "2027–2040", "country": "GB"}, "at most 10 years"),
        ({"years": "2027", "country": "XX"}, "Select a valid choice"),
    ],
)
def test_bad_import_input_is_shown_on_the_form(client, bob, plan, uk_hours, query, message):
    response = login(client, bob).get(url("holiday-import", plan, uk_hours.pk), query)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "Apply these changes" not in body


# --- Events ---------------------------------------------------------------------------------
def test_a_lead_adds_an_event_in_a_named_zone_and_edits_it(client, alice, plan, uk_hours):
    login(client, alice)
    data = {
        "name": "Year-end close",
        "kind": "period_end",
        "starts_at": "2027-12-30T08:00",
        "ends_at": "2027-12-31T20:00",
        "time_zone": "Europe/Berlin",
        "required_service_level": "P1 24×7, P2 07:00–22:00",
        "calendar": uk_hours.pk,
    }
    assert client.post(url("calendar-events", plan), data).status_code == 302
    event = CalendarEvent.objects.get()
    assert (event.starts_at, event.calendar) == (utc(2027, 12, 30, 7), uk_hours)
    page = client.get(url("calendar-event-edit", plan, event.pk)).content.decode()
    assert 'value="2027-12-30T07:00"' in page  # shown in the calendar's zone, London
    data.update(time_zone="Europe/London", starts_at="2027-12-30T07:00", name="Year-end close FY27")
    assert client.post(url("calendar-event-edit", plan, event.pk), data).status_code == 302
    event.refresh_from_db()
    assert (event.name, event.starts_at) == ("Year-end close FY27", utc(2027, 12, 30, 7))
    assert "Year-end close FY27" in client.get(url("calendar-events", plan)).content.decode()
    client.post(url("calendar-event-delete", plan, event.pk))
    assert not CalendarEvent.objects.exists()


def test_an_event_at_the_edge_of_the_calendar_is_a_form_error_not_a_crash(client, alice, plan):
    data = {"name": "Old", "kind": "one_off", "starts_at": "0001-01-01T00:30", "ends_at": "2027-12-01T08:00"}
    response = login(client, alice).post(url("calendar-events", plan), {**data, "time_zone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert "between the years 1 and 9999" in response.content.decode()
    assert not CalendarEvent.objects.exists()


def test_an_event_ending_before_it_starts_is_shown_on_the_form(client, alice, plan):
    data = {
        "name": "Freeze",
        "kind": "freeze",
        "starts_at": "2027-12-30T08:00",
        "ends_at": "2027-12-01T08:00",
        "time_zone": "UTC",
    }
    response = login(client, alice).post(url("calendar-events", plan), data)
    assert response.status_code == 200
    assert "The end must come after the start" in response.content.decode()
    assert not CalendarEvent.objects.exists()


def test_the_grid_script_is_served_from_our_own_static_files(client, alice, plan, uk_hours):
    body = login(client, alice).get(url("calendar-edit", plan, uk_hours.pk)).content.decode()
    assert '<script src="/static/js/week_grid.js" defer></script>' in body
    assert "https://" not in body
