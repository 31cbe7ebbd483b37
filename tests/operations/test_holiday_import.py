"""Public holidays imported from the holidays package: a preview of what changes, then exactly that.

The dates are the package's own for 2027: in England Christmas Day and Boxing Day fall on a weekend,
so the substitute days are Monday 27 and Tuesday 28 December; in Bavaria Whit Monday is 17 May and
Corpus Christi 27 May.
"""

from __future__ import annotations

from datetime import date

import holidays
import pytest
from django.core.exceptions import ValidationError

from operations import calendar_services as services
from operations.engine import engine_for
from operations.models import CalendarHoliday, HolidaySource, ServiceCalendar
from tests.operations.calendar_fixtures import build_uk_hours, utc

VERSION = holidays.__version__


@pytest.fixture
def uk_hours(plan, location):
    return build_uk_hours(plan, locations=[location])


@pytest.fixture
def bavaria(plan):
    return services.calendar_create(
        plan=plan,
        name="Munich office hours",
        timezone="Europe/Berlin",
        weekly_windows={str(day): [["08:00", "17:00"]] for day in range(5)},
        holiday_country="DE",
        holiday_subdivision="BY",
    )


def stored(calendar) -> dict[date, str]:
    return dict(CalendarHoliday.objects.filter(calendar=calendar).values_list("date", "name"))


def preview_2027(calendar, **kwargs):
    return services.holiday_import_preview(calendar=calendar, years=[2027], **kwargs)


def apply_2027(calendar, **kwargs):
    return services.holiday_import_apply(calendar=calendar, years=[2027], **kwargs)


# --- Preview --------------------------------------------------------------------------------
def test_the_preview_lists_englands_2027_holidays_with_the_christmas_substitute_days(uk_hours):
    preview = preview_2027(uk_hours)
    added = dict(preview.added)
    assert preview.source_detail == f"holidays {VERSION} GB-ENG"
    assert added[date(2027, 12, 27)] == "Christmas Day (observed)"
    assert added[date(2027, 12, 28)] == "Boxing Day (observed)"
    assert added[date(2027, 5, 31)] == "Spring Bank Holiday"
    assert date(2027, 3, 17) not in added  # St Patrick's Day is Northern Ireland's
    assert (preview.removed, preview.renamed, preview.unchanged) == ((), (), 0)


def test_a_preview_stores_nothing(uk_hours):
    updated_at = uk_hours.updated_at
    preview_2027(uk_hours)
    assert not CalendarHoliday.objects.exists()
    assert ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at == updated_at


def test_the_preview_for_bavaria_has_whit_monday_and_corpus_christi_as_the_package_gives_them(bavaria):
    package = holidays.country_holidays("DE", subdiv="BY", years=2027)
    added = dict(preview_2027(bavaria).added)
    assert added[date(2027, 5, 17)] == package[date(2027, 5, 17)]  # Whit Monday
    assert added[date(2027, 5, 27)] == package[date(2027, 5, 27)]  # Corpus Christi, Bavaria only
    assert added.keys() == package.keys()


def test_the_country_and_subdivision_may_differ_from_the_calendars(uk_hours):
    preview = preview_2027(uk_hours, country="DE", subdivision="BY")
    assert preview.source_detail == f"holidays {VERSION} DE-BY"
    assert date(2027, 5, 27) in dict(preview.added)


def test_another_country_without_a_subdivision_does_not_inherit_the_calendars(uk_hours):
    preview = preview_2027(uk_hours, country="FR")
    assert preview.source_detail == f"holidays {VERSION} FR"


# --- Apply ----------------------------------------------------------------------------------
def test_applying_stores_the_holidays_with_their_source(uk_hours):
    applied = apply_2027(uk_hours)
    holiday = CalendarHoliday.objects.get(calendar=uk_hours, date=date(2027, 12, 27))
    assert (holiday.name, holiday.source) == ("Christmas Day (observed)", HolidaySource.IMPORTED)
    assert holiday.source_detail == f"holidays {VERSION} GB-ENG"
    assert len(stored(uk_hours)) == len(applied.added) == 10


def test_applying_closes_the_calendar_on_the_substitute_day(uk_hours):
    monday_noon = utc(2027, 12, 27, 12)
    assert engine_for(uk_hours).is_open(monday_noon)
    apply_2027(uk_hours)
    assert not engine_for(uk_hours).is_open(monday_noon)


def test_importing_again_changes_nothing(uk_hours):
    apply_2027(uk_hours)
    updated_at = ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at
    again = preview_2027(uk_hours)
    assert not again.has_changes
    assert again.unchanged == 10
    apply_2027(uk_hours, expected=again)
    assert ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at == updated_at


def test_a_holiday_the_package_no_longer_gives_is_removed(uk_hours):
    apply_2027(uk_hours)
    CalendarHoliday.objects.create(
        calendar=uk_hours,
        date=date(2027, 6, 7),
        name="Platinum Jubilee holiday",
        source=HolidaySource.IMPORTED,
        source_detail="holidays 0.70 GB-ENG",
    )
    preview = preview_2027(uk_hours)
    assert preview.removed == ((date(2027, 6, 7), "Platinum Jubilee holiday"),)
    assert preview.added == ()
    apply_2027(uk_hours, expected=preview.fingerprint)
    assert date(2027, 6, 7) not in stored(uk_hours)


def test_a_holiday_the_package_renamed_is_renamed(uk_hours):
    apply_2027(uk_hours)
    CalendarHoliday.objects.filter(date=date(2027, 5, 3)).update(
        name="Early May bank holiday", source_detail="old"
    )
    preview = preview_2027(uk_hours)
    assert preview.renamed == ((date(2027, 5, 3), "Early May bank holiday", "May Day"),)
    assert preview.unchanged == 9
    apply_2027(uk_hours, expected=preview)
    holiday = CalendarHoliday.objects.get(date=date(2027, 5, 3))
    assert (holiday.name, holiday.source_detail) == ("May Day", f"holidays {VERSION} GB-ENG")


def test_only_the_imported_years_are_compared(uk_hours):
    services.holiday_import_apply(calendar=uk_hours, years=[2026, 2027])
    preview = services.holiday_import_preview(calendar=uk_hours, years=[2028])
    assert preview.removed == ()
    assert all(day.year == 2028 for day, _name in preview.added)


def test_applying_bumps_the_calendar_version(uk_hours):
    before = uk_hours.updated_at
    apply_2027(uk_hours)
    assert ServiceCalendar.objects.get(pk=uk_hours.pk).updated_at > before


# --- Custom holidays ------------------------------------------------------------------------
def test_custom_holidays_are_never_touched_by_an_import(uk_hours):
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 25), name="Office closed")
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 24), name="Christmas Eve closure")
    preview = preview_2027(uk_hours)
    assert preview.kept_custom == ((date(2027, 12, 25), "Christmas Day", "Office closed"),)
    assert date(2027, 12, 25) not in dict(preview.added)
    assert preview.removed == ()
    apply_2027(uk_hours, expected=preview.fingerprint)
    assert stored(uk_hours)[date(2027, 12, 25)] == "Office closed"
    assert stored(uk_hours)[date(2027, 12, 24)] == "Christmas Eve closure"
    assert CalendarHoliday.objects.filter(source=HolidaySource.CUSTOM).count() == 2


# --- The preview the user saw ---------------------------------------------------------------
def test_applying_refuses_when_the_stored_holidays_changed_since_the_preview(uk_hours):
    preview = preview_2027(uk_hours)
    services.holiday_add(calendar=uk_hours, date=date(2027, 12, 27), name="Staff day")
    with pytest.raises(ValidationError, match="the holiday data changed since the preview; review it again"):
        apply_2027(uk_hours, expected=preview.fingerprint)
    assert stored(uk_hours) == {date(2027, 12, 27): "Staff day"}


def test_applying_refuses_when_a_new_package_release_gives_other_dates(uk_hours, monkeypatch):
    preview = preview_2027(uk_hours)
    real = services._package_holidays

    def next_release(country, subdivision, years):
        return {**real(country, subdivision, years), date(2027, 6, 7): "Coronation holiday"}

    monkeypatch.setattr(services, "_package_holidays", next_release)
    with pytest.raises(ValidationError, match="changed since the preview"):
        apply_2027(uk_hours, expected=preview)
    assert not CalendarHoliday.objects.exists()


def test_the_fingerprint_depends_on_what_would_change(uk_hours, bavaria):
    assert preview_2027(uk_hours).fingerprint == preview_2027(uk_hours).fingerprint
    assert preview_2027(uk_hours).fingerprint != preview_2027(bavaria).fingerprint
    assert (
        preview_2027(uk_hours).fingerprint
        != services.holiday_import_preview(calendar=uk_hours, years=[2028]).fingerprint
    )


# --- Bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "GB", "subdivision": "ZZZ"}, "subdivision"),
        ({"country": "", "subdivision": "ENG"}, "country"),
        ({"years": []}, "years"),
        ({"years": [1989]}, "years"),
        ({"years": [2101]}, "years"),
        ({"years": list(range(2027, 2038))}, "years"),
        ({"years": ["next year"]}, "years"),
    ],
)
def test_bad_import_input_is_a_field_error_and_stores_nothing(uk_hours, arguments, field):
    arguments = {"years": [2027], **arguments}
    for service in (services.holiday_import_preview, services.holiday_import_apply):
        with pytest.raises(ValidationError) as excinfo:
            service(calendar=uk_hours, **arguments)
        assert field in excinfo.value.message_dict
    assert not CalendarHoliday.objects.exists()


def test_a_calendar_without_a_holiday_country_must_be_given_one(plan):
    calendar = services.calendar_create(plan=plan, name="Global desk", timezone="UTC")
    with pytest.raises(ValidationError) as excinfo:
        preview_2027(calendar)
    assert "country" in excinfo.value.message_dict
    assert preview_2027(calendar, country="NL").added


def test_ten_years_may_be_imported_at_once(uk_hours):
    preview = services.holiday_import_preview(calendar=uk_hours, years=range(2027, 2037))
    assert preview.years == tuple(range(2027, 2037))
