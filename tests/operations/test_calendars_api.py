"""The calendar endpoints against the whole cast, and their answers to bad input.

alice and bob lead Northwind; tina is a team member, carol a partner, victor a viewer; dave leads
Contoso. Keys are Northwind's read and read-write API keys. Calendars are configuration: leads
change them, everyone in the plan (partners too) and every key reads them.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from operations import calendar_services as services
from operations.models import CalendarEvent, CalendarHoliday, ExtraOpenPeriod, ServiceCalendar
from tests.conftest import api_as
from tests.operations.calendar_fixtures import OFFICE_HOURS, build_contoso_hours, build_uk_hours, utc

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]
READERS = {"alice", "bob", "tina", "carol", "victor", "read_key", "write_key"}
CONFIGURE = {"alice": "ok", "bob": "ok", "dave": 404, "anonymous": 401, "*": 403}
CREATE_IN_NORTHWIND = {"alice": "ok", "bob": "ok", "dave": 400, "anonymous": 401, "*": 403}


@pytest.fixture
def world(
    plan, other_plan, alice, bob, tina, carol, victor, dave, location, other_location, read_key, write_key
):
    uk = build_uk_hours(plan, locations=[location])
    dublin = build_contoso_hours(other_plan, locations=[other_location])
    for calendar in (uk, dublin):
        services.holiday_add(calendar=calendar, date=date(2027, 12, 24), name="Christmas Eve closure")
        services.extra_period_add(
            calendar=calendar, starts_at=utc(2027, 6, 30, 17), ends_at=utc(2027, 6, 30, 21)
        )
        services.calendar_event_create(
            plan=calendar.plan,
            name="Year-end close",
            kind="period_end",
            starts_at=utc(2027, 12, 30, 8),
            ends_at=utc(2027, 12, 31, 18),
            calendar=calendar,
        )
    return {"uk": uk, "dublin": dublin}


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def expected(actor: str, table: dict, ok_status: int) -> int:
    outcome = table.get(actor, table.get("*"))
    return ok_status if outcome == "ok" else outcome


# --- Reads ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint", ["servicecalendar", "calendarholiday", "extraopenperiod", "calendarevent"]
)
@pytest.mark.parametrize("actor", ACTORS)
def test_lists_hold_only_the_rows_of_the_actors_plans(endpoint, actor, world, request):
    response = client_for(actor, request).get(reverse(f"{endpoint}-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    plans = {item["plan"] for item in response.json()["results"]}
    assert ("northwind" in plans) is (actor in READERS)
    assert ("contoso" in plans) is (actor == "dave")


@pytest.mark.parametrize("actor", ACTORS)
def test_another_plans_calendar_is_not_found(actor, world, request):
    response = client_for(actor, request).get(reverse("servicecalendar-detail", args=[world["uk"].pk]))
    assert response.status_code == {"dave": 404, "anonymous": 401}.get(actor, 200)


def test_holidays_filter_by_calendar_and_year(alice, world):
    uk = world["uk"]
    services.holiday_add(calendar=uk, date=date(2028, 1, 3), name="Stock take")
    response = api_as(user=alice).get(
        reverse("calendarholiday-list"),
        {"calendar": uk.pk, "date_from": "2028-01-01", "date_to": "2028-12-31"},
    )
    assert [item["name"] for item in response.json()["results"]] == ["Stock take"]


def test_a_calendar_reads_back_with_its_windows_and_links(alice, world, location):
    body = api_as(user=alice).get(reverse("servicecalendar-detail", args=[world["uk"].pk])).json()
    assert body["weekly_windows"] == OFFICE_HOURS
    assert body["locations"] == [location.pk]
    assert (body["timezone"], body["holiday_country"], body["is_24x7"]) == ("Europe/London", "GB", False)


def test_the_calendar_list_costs_the_same_queries_however_many_calendars(
    alice, world, location, django_assert_num_queries
):
    client = api_as(user=alice)
    client.get(reverse("servicecalendar-list"))  # the session and role lookups settle
    with django_assert_num_queries(6):
        client.get(reverse("servicecalendar-list"))
    for number in range(5):
        services.calendar_create(
            plan=location.plan, name=f"Shift {number}", timezone="UTC", locations=[location]
        )
    with django_assert_num_queries(6):
        assert len(client.get(reverse("servicecalendar-list")).json()["results"]) == 6


# --- Writes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_create_calendars(actor, world, request):
    body = {
        "plan": "northwind",
        "name": f"Cover by {actor}",
        "timezone": "Europe/Berlin",
        "weekly_windows": {},
    }
    response = client_for(actor, request).post(reverse("servicecalendar-list"), body, format="json")
    assert response.status_code == expected(actor, CREATE_IN_NORTHWIND, 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_calendars(actor, world, request):
    url = reverse("servicecalendar-detail", args=[world["uk"].pk])
    response = client_for(actor, request).patch(url, {"description": "Changed"}, format="json")
    assert response.status_code == expected(actor, CONFIGURE, 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_calendars(actor, world, request):
    response = client_for(actor, request).delete(reverse("servicecalendar-detail", args=[world["uk"].pk]))
    assert response.status_code == expected(actor, CONFIGURE, 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_holidays(actor, world, request):
    body = {"calendar": world["uk"].pk, "date": "2027-06-01", "name": "Office move"}
    response = client_for(actor, request).post(reverse("calendarholiday-list"), body, format="json")
    assert response.status_code == expected(actor, CREATE_IN_NORTHWIND, 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_holidays(actor, world, request):
    holiday = CalendarHoliday.objects.get(calendar=world["uk"])
    response = client_for(actor, request).delete(reverse("calendarholiday-detail", args=[holiday.pk]))
    assert response.status_code == expected(actor, CONFIGURE, 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_extra_periods(actor, world, request):
    body = {
        "calendar": world["uk"].pk,
        "starts_at": "2027-07-03T08:00:00Z",
        "ends_at": "2027-07-03T12:00:00Z",
    }
    response = client_for(actor, request).post(reverse("extraopenperiod-list"), body, format="json")
    assert response.status_code == expected(actor, CREATE_IN_NORTHWIND, 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_extra_periods(actor, world, request):
    period = ExtraOpenPeriod.objects.get(calendar=world["uk"])
    response = client_for(actor, request).delete(reverse("extraopenperiod-detail", args=[period.pk]))
    assert response.status_code == expected(actor, CONFIGURE, 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_events(actor, world, request):
    body = {
        "plan": "northwind",
        "name": "Go-live weekend",
        "kind": "one_off",
        "starts_at": "2027-09-03T16:00:00Z",
        "ends_at": "2027-09-06T08:00:00Z",
    }
    response = client_for(actor, request).post(reverse("calendarevent-list"), body, format="json")
    assert response.status_code == expected(actor, CREATE_IN_NORTHWIND, 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_events(actor, world, request):
    event = CalendarEvent.objects.get(plan=world["uk"].plan)
    url = reverse("calendarevent-detail", args=[event.pk])
    response = client_for(actor, request).patch(url, {"required_service_level": "P1 24×7"}, format="json")
    assert response.status_code == expected(actor, CONFIGURE, 200)


@pytest.mark.parametrize("action", ["holiday-import-preview", "holiday-import"])
@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_preview_and_import_holidays(action, actor, world, request):
    url = reverse(f"servicecalendar-{action}", args=[world["uk"].pk])
    response = client_for(actor, request).post(url, {"years": [2027]}, format="json")
    assert response.status_code == expected(actor, CONFIGURE, 200)


# --- Behaviour ------------------------------------------------------------------------------
def test_creating_a_calendar_links_locations_and_parties_of_the_plan(alice, world, location):
    body = {
        "plan": "northwind",
        "name": "EU P1 24×7 cover",
        "timezone": "Europe/Berlin",
        "weekly_windows": {str(day): [["00:00", "00:00"]] for day in range(7)},
        "locations": [location.pk],
    }
    response = api_as(user=alice).post(reverse("servicecalendar-list"), body, format="json")
    assert response.status_code == 201
    assert response.json()["is_24x7"] is True
    assert list(ServiceCalendar.objects.get(name="EU P1 24×7 cover").locations.all()) == [location]


def test_the_import_preview_then_apply_with_its_fingerprint(bob, world):
    uk, client = world["uk"], api_as(user=bob)
    preview = client.post(
        reverse("servicecalendar-holiday-import-preview", args=[uk.pk]), {"years": [2027]}, format="json"
    )
    body = preview.json()
    assert {"date": "2027-12-27", "name": "Christmas Day (observed)"} in body["added"]
    assert body["kept_custom"] == []
    assert not CalendarHoliday.objects.filter(source="imported").exists()
    applied = client.post(
        reverse("servicecalendar-holiday-import", args=[uk.pk]),
        {"years": [2027], "fingerprint": body["fingerprint"]},
        format="json",
    )
    assert applied.status_code == 200
    assert applied.json()["fingerprint"] == body["fingerprint"]
    assert CalendarHoliday.objects.filter(calendar=uk, source="imported").count() == len(body["added"])


def test_an_import_with_a_stale_fingerprint_is_refused(bob, world):
    uk, client = world["uk"], api_as(user=bob)
    preview = client.post(
        reverse("servicecalendar-holiday-import-preview", args=[uk.pk]), {"years": [2027]}, format="json"
    )
    services.holiday_add(calendar=uk, date=date(2027, 12, 27), name="Staff day")
    response = client.post(
        reverse("servicecalendar-holiday-import", args=[uk.pk]),
        {"years": [2027], "fingerprint": preview.json()["fingerprint"]},
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["non_field_errors"][0]
    assert message == "the holiday data changed since the preview; review it again"
    assert not CalendarHoliday.objects.filter(source="imported").exists()


def test_a_calendar_cannot_move_to_another_plan(alice, world, other_plan, dave):
    from supportplan.models import Membership

    Membership.objects.create(plan=other_plan, user=alice, role="project_lead")
    url = reverse("servicecalendar-detail", args=[world["uk"].pk])
    response = api_as(user=alice).patch(url, {"plan": "contoso"}, format="json")
    assert response.status_code == 400
    assert "plan" in response.json()["error"]["fields"]


def test_a_holiday_cannot_be_added_to_another_plans_calendar(alice, world):
    body = {"calendar": world["dublin"].pk, "date": "2027-06-01", "name": "Sneaky"}
    response = api_as(user=alice).post(reverse("calendarholiday-list"), body, format="json")
    assert response.status_code == 400
    assert "calendar" in response.json()["error"]["fields"]


def test_holidays_and_periods_are_not_changed_in_place(alice, world):
    holiday = CalendarHoliday.objects.get(calendar=world["uk"])
    response = api_as(user=alice).patch(
        reverse("calendarholiday-detail", args=[holiday.pk]), {"name": "x"}, format="json"
    )
    assert response.status_code == 405


# --- Bad input ------------------------------------------------------------------------------
def assert_refused(response, field: str, text: str = "") -> None:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert text in " ".join(error["fields"][field])


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "IANA time zone"),
        ({"weekly_windows": {"0": [["09:00", "25:00"]]}}, "weekly_windows", "not a valid"),
        ({"weekly_windows": {"0": [["9am", "5pm"]]}}, "weekly_windows", "not a valid"),
        ({"weekly_windows": {"8": [["09:00", "17:00"]]}}, "weekly_windows", "not a weekday"),
        ({"weekly_windows": "office hours"}, "weekly_windows", ""),
        ({"holiday_country": "XX"}, "holiday_country", "holidays package"),
        ({"holiday_country": "GB", "holiday_subdivision": "BY"}, "holiday_subdivision", "not a subdivision"),
        ({"locations": [999999]}, "locations", ""),
        ({"name": ""}, "name", ""),
    ],
)
def test_a_bad_calendar_is_a_400_naming_the_field_and_nothing_is_stored(alice, plan, changes, field, text):
    body = {"plan": "northwind", "name": "Mars base hours", "timezone": "Europe/London", **changes}
    response = api_as(user=alice).post(reverse("servicecalendar-list"), body, format="json")
    assert_refused(response, field, text)
    assert not ServiceCalendar.objects.exists()


def test_a_bad_change_leaves_the_calendar_as_it_was(alice, world):
    uk = world["uk"]
    url = reverse("servicecalendar-detail", args=[uk.pk])
    response = api_as(user=alice).patch(
        url, {"timezone": "Nowhere/Special", "description": "x"}, format="json"
    )
    assert_refused(response, "timezone")
    stored = ServiceCalendar.objects.get(pk=uk.pk)
    assert (stored.timezone, stored.description, stored.updated_at) == ("Europe/London", "", uk.updated_at)


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"years": [2027], "country": "XX"}, "country", "holidays package"),
        ({"years": [2027], "country": "GB", "subdivision": "ZZZ"}, "subdivision", "not a subdivision of GB"),
        ({"years": [1900]}, "years", ""),
        ({"years": list(range(2027, 2040))}, "years", ""),
        ({"years": []}, "years", ""),
        ({"years": "2027"}, "years", ""),
    ],
)
@pytest.mark.parametrize("action", ["holiday-import-preview", "holiday-import"])
def test_a_bad_import_is_a_400_naming_the_field_and_nothing_is_stored(
    alice, world, action, body, field, text
):
    response = api_as(user=alice).post(
        reverse(f"servicecalendar-{action}", args=[world["uk"].pk]), body, format="json"
    )
    assert_refused(response, field, text)
    assert not CalendarHoliday.objects.filter(source="imported").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2027-07-03T07:00:00Z"}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"calendar": 999999}, "calendar"),
    ],
)
def test_a_bad_extra_period_is_a_400(alice, world, changes, field):
    body = {
        "calendar": world["uk"].pk,
        "starts_at": "2027-07-03T08:00:00Z",
        "ends_at": "2027-07-03T12:00:00Z",
        **changes,
    }
    response = api_as(user=alice).post(reverse("extraopenperiod-list"), body, format="json")
    assert_refused(response, field)
    assert ExtraOpenPeriod.objects.count() == 2


def test_a_duplicate_holiday_is_a_400_naming_the_existing_one(alice, world):
    body = {"calendar": world["uk"].pk, "date": "2027-12-24", "name": "Again"}
    response = api_as(user=alice).post(reverse("calendarholiday-list"), body, format="json")
    assert_refused(response, "date", "Christmas Eve closure")


def test_an_event_with_another_plans_calendar_or_backwards_times_is_a_400(alice, world):
    body = {
        "plan": "northwind",
        "name": "Freeze",
        "kind": "freeze",
        "starts_at": "2027-12-01T00:00:00Z",
        "ends_at": "2027-11-01T00:00:00Z",
    }
    assert_refused(api_as(user=alice).post(reverse("calendarevent-list"), body, format="json"), "ends_at")
    body.update(ends_at="2028-01-01T00:00:00Z", calendar=world["dublin"].pk)
    assert_refused(api_as(user=alice).post(reverse("calendarevent-list"), body, format="json"), "calendar")
    assert not CalendarEvent.objects.filter(name="Freeze").exists()
