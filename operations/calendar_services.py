"""Writes for service calendars: the calendars, their holidays (custom and imported), extra open
periods, and calendar events. Views, API, admin and commands call these.

Every change to a calendar, its holidays or its extra periods bumps ``ServiceCalendar.updated_at``:
``operations.engine.engine_for`` caches the business-time engine by it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import holidays as holidays_package
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from models_catalog.models import Party
from operations.calendar_selectors import Coverage, coverage  # noqa: F401 -- the coverage read lives there
from operations.helpdesk.services import clocks_repair_later
from operations.models import (
    FREEZING_KINDS,
    CalendarEvent,
    CalendarHoliday,
    ExtraOpenPeriod,
    HolidaySource,
    ServiceCalendar,
)
from supportplan.lib.services import apply_fields
from supportplan.models import Location, SupportPlan

ONE_MICROSECOND = timedelta(microseconds=1)
IMPORT_YEARS = range(1990, 2101)
MAX_IMPORT_YEARS = 10


# --- Helpers --------------------------------------------------------------------------------
def _same_plan(plan_id: int, objects: Iterable, field_name: str) -> None:
    if any(obj.plan_id != plan_id for obj in objects):
        raise ValidationError({field_name: "Choose only from this plan."})


def _save_calendar(calendar: ServiceCalendar, fields: Iterable[str] = ()) -> None:
    """Saves ``fields`` and bumps ``updated_at``, strictly later than the stored value.

    The row is locked first, so concurrent changes to one calendar (an import and a custom holiday)
    run one after the other. A frozen or coarse clock could give the same ``updated_at`` twice,
    and the engine cache would then serve a stale calendar: such a bump adds a microsecond.
    """
    previous = (
        ServiceCalendar.objects.select_for_update().values_list("updated_at", flat=True).get(pk=calendar.pk)
    )
    calendar.save(update_fields=[*fields, "updated_at"])
    clocks_repair_later(plan_id=calendar.plan_id, calendar_id=calendar.pk)  # issue 7: stored SLA clocks
    if calendar.updated_at <= previous:
        calendar.updated_at = previous + ONE_MICROSECOND
        ServiceCalendar.objects.filter(pk=calendar.pk).update(updated_at=calendar.updated_at)


def _require_aware(value: Any, field_name: str) -> None:
    if not isinstance(value, datetime):
        raise ValidationError({field_name: "Give a date and time."})
    if timezone.is_naive(value):
        raise ValidationError({field_name: "Give a date and time with its time zone (aware)."})


def normalise_windows(value: Any) -> Any:
    """Weekly windows with string weekday keys, lists as pairs, sorted, and no empty days.

    Anything not shaped like windows is returned as given, for the model's validator to explain.
    """
    if not isinstance(value, dict):
        return value
    result = {}
    for day, windows in value.items():
        if not isinstance(windows, list | tuple) or not all(
            isinstance(window, list | tuple) for window in windows
        ):
            return value
        if windows:
            result[str(day)] = sorted(
                [list(window) for window in windows], key=lambda pair: [*map(str, pair)]
            )
    return dict(sorted(result.items()))


@cache
def supported_holiday_countries() -> dict[str, tuple[str, ...]]:
    """Country code → subdivision codes the installed ``holidays`` package knows."""
    return {
        country: tuple(subdivisions)
        for country, subdivisions in holidays_package.list_supported_countries(include_aliases=False).items()
    }


def _holiday_region(country: str, subdivision: str, *, fields: tuple[str, str]) -> tuple[str, str]:
    """The canonical (country, subdivision) codes, or a ValidationError naming ``fields``."""
    country_field, subdivision_field = fields
    country, subdivision = (country or "").strip().upper(), (subdivision or "").strip()
    if not country:
        if subdivision:
            raise ValidationError({country_field: "Choose the country of this subdivision."})
        return "", ""
    known = supported_holiday_countries()
    if country not in known:
        raise ValidationError(
            {country_field: f"“{country}” is not a country the holidays package knows (e.g. GB, DE)."}
        )
    if not subdivision:
        return country, ""
    by_upper = {code.upper(): code for code in known[country]}
    if subdivision.upper() not in by_upper:
        examples = ", ".join(known[country][:6]) or "none"
        raise ValidationError(
            {subdivision_field: f"“{subdivision}” is not a subdivision of {country} (known: {examples}…)."}
        )
    return country, by_upper[subdivision.upper()]


# --- Calendars ------------------------------------------------------------------------------
CALENDAR_FIELDS = {
    "name",
    "timezone",
    "weekly_windows",
    "holiday_country",
    "holiday_subdivision",
    "description",
}


def _check_name_free(calendar: ServiceCalendar) -> None:
    others = ServiceCalendar.objects.filter(plan_id=calendar.plan_id, name=calendar.name)
    if calendar.pk:
        others = others.exclude(pk=calendar.pk)
    if others.exists():
        raise ValidationError({"name": f"This plan already has a calendar named “{calendar.name}”."})


def _clean_calendar(calendar: ServiceCalendar) -> None:
    calendar.weekly_windows = normalise_windows(calendar.weekly_windows)
    calendar.holiday_country, calendar.holiday_subdivision = _holiday_region(
        calendar.holiday_country,
        calendar.holiday_subdivision,
        fields=("holiday_country", "holiday_subdivision"),
    )
    calendar.full_clean(validate_constraints=False)
    _check_name_free(calendar)


@transaction.atomic
def calendar_create(
    *,
    plan: SupportPlan,
    name: str,
    timezone: str,
    weekly_windows: dict | None = None,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    description: str = "",
    locations: Iterable[Location] = (),
    parties: Iterable[Party] = (),
) -> ServiceCalendar:
    """A calendar of ``plan``; ``weekly_windows`` maps weekdays ("0" = Monday) to local windows."""
    calendar = ServiceCalendar(
        plan=plan,
        name=name,
        timezone=timezone,
        weekly_windows=weekly_windows if weekly_windows is not None else {},
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        description=description,
    )
    locations, parties = list(locations), list(parties)
    _same_plan(plan.pk, locations, "locations")
    _same_plan(plan.pk, parties, "parties")
    _clean_calendar(calendar)
    calendar.save()
    calendar.locations.set(locations)
    calendar.parties.set(parties)
    return calendar


@transaction.atomic
def calendar_update(
    *,
    calendar: ServiceCalendar,
    locations: Iterable[Location] | None = None,
    parties: Iterable[Party] | None = None,
    **fields: Any,
) -> ServiceCalendar:
    """Changes ``fields`` (and, when given, the linked locations and parties); bumps ``updated_at``."""
    changed = apply_fields(calendar, fields, CALENDAR_FIELDS)
    if locations is not None:
        locations = list(locations)
        _same_plan(calendar.plan_id, locations, "locations")
    if parties is not None:
        parties = list(parties)
        _same_plan(calendar.plan_id, parties, "parties")
    _clean_calendar(calendar)
    _save_calendar(calendar, changed)
    if locations is not None:
        calendar.locations.set(locations)
    if parties is not None:
        calendar.parties.set(parties)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: ServiceCalendar) -> None:
    """Removes the calendar with its holidays and extra periods; refused while SLA clocks run on it."""
    targets = calendar.sla_targets.count()
    if targets:
        raise ValidationError(
            f"“{calendar}” is the clock of {targets} SLA target{'s' if targets != 1 else ''}: "
            "move them to another calendar first."
        )
    calendar.delete()


# --- Holidays -------------------------------------------------------------------------------
@transaction.atomic
def holiday_add(*, calendar: ServiceCalendar, date: date, name: str) -> CalendarHoliday:
    """A custom holiday or closure: imports never touch it."""
    if not isinstance(date, dt.date) or isinstance(date, datetime):
        raise ValidationError({"date": "Give a date."})
    existing = CalendarHoliday.objects.filter(calendar=calendar, date=date).first()
    if existing is not None:
        raise ValidationError({"date": f"{date:%d %b %Y} is already a holiday: “{existing.name}”."})
    holiday = CalendarHoliday(
        calendar=calendar, date=date, name=(name or "").strip(), source=HolidaySource.CUSTOM
    )
    holiday.full_clean(validate_constraints=False)
    holiday.save()
    _save_calendar(calendar)
    return holiday


@transaction.atomic
def holiday_remove(*, holiday: CalendarHoliday) -> None:
    calendar = holiday.calendar
    holiday.delete()
    _save_calendar(calendar)


# --- Extra open periods ---------------------------------------------------------------------
@transaction.atomic
def extra_period_add(
    *, calendar: ServiceCalendar, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> ExtraOpenPeriod:
    """Extra open time ``[starts_at, ends_at)``; both aware (any zone), stored in UTC."""
    _require_aware(starts_at, "starts_at")
    _require_aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "An extra period must end after it starts."})
    period = ExtraOpenPeriod(calendar=calendar, starts_at=starts_at, ends_at=ends_at, reason=reason or "")
    period.full_clean(validate_constraints=False)
    period.save()
    _save_calendar(calendar)
    return period


@transaction.atomic
def extra_period_remove(*, period: ExtraOpenPeriod) -> None:
    calendar = period.calendar
    period.delete()
    _save_calendar(calendar)


# --- Holiday import -------------------------------------------------------------------------
@dataclass(frozen=True)
class HolidayImportPreview:
    """What importing ``years`` from the holidays package would change in a calendar.

    ``removed`` are rows imported earlier for those years that the package no longer gives;
    ``kept_custom`` are package holidays on dates that hold a custom holiday, which wins.
    """

    calendar_id: int
    country: str
    subdivision: str
    years: tuple[int, ...]
    source_detail: str
    added: tuple[tuple[date, str], ...] = ()
    removed: tuple[tuple[date, str], ...] = ()
    renamed: tuple[tuple[date, str, str], ...] = ()
    unchanged: int = 0
    kept_custom: tuple[tuple[date, str, str], ...] = field(default=())

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.renamed)

    @property
    def fingerprint(self) -> str:
        """A digest of exactly this preview: applying checks the package still gives the same."""
        payload = {
            "calendar": self.calendar_id,
            "country": self.country,
            "subdivision": self.subdivision,
            "years": list(self.years),
            "source": self.source_detail,
            "added": [[day.isoformat(), name] for day, name in self.added],
            "removed": [[day.isoformat(), name] for day, name in self.removed],
            "renamed": [[day.isoformat(), old, new] for day, old, new in self.renamed],
            "unchanged": self.unchanged,
            "kept_custom": [[day.isoformat(), ours, theirs] for day, ours, theirs in self.kept_custom],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _import_years(years: Iterable[Any]) -> tuple[int, ...]:
    try:
        values = sorted({int(year) for year in years})
    except (TypeError, ValueError):
        raise ValidationError({"years": "Give years as whole numbers, e.g. 2027."}) from None
    if not values:
        raise ValidationError({"years": "Choose at least one year."})
    if len(values) > MAX_IMPORT_YEARS:
        raise ValidationError({"years": f"Import at most {MAX_IMPORT_YEARS} years at a time."})
    outside = [year for year in values if year not in IMPORT_YEARS]
    if outside:
        first, last = IMPORT_YEARS[0], IMPORT_YEARS[-1]
        raise ValidationError(
            {"years": f"Years must lie between {first} and {last} ({outside[0]} does not)."}
        )
    return tuple(values)


def _import_region(
    calendar: ServiceCalendar, country: str | None, subdivision: str | None
) -> tuple[str, str]:
    """The region to import: the arguments, else the calendar's own holiday country and subdivision."""
    if country is None:
        country = calendar.holiday_country
        if subdivision is None:
            subdivision = calendar.holiday_subdivision
    elif subdivision is None:
        same_country = country.strip().upper() == calendar.holiday_country
        subdivision = calendar.holiday_subdivision if same_country else ""
    region = _holiday_region(country, subdivision or "", fields=("country", "subdivision"))
    if not region[0]:
        raise ValidationError({"country": "Choose a country (or set the calendar's holiday country)."})
    return region


def _package_holidays(country: str, subdivision: str, years: tuple[int, ...]) -> dict[date, str]:
    name_length = CalendarHoliday._meta.get_field("name").max_length
    found = holidays_package.country_holidays(country, subdiv=subdivision or None, years=list(years))
    return {day: name[:name_length] for day, name in sorted(found.items()) if day.year in years}


def _source_detail(country: str, subdivision: str) -> str:
    region = f"{country}-{subdivision}" if subdivision else country
    return f"holidays {holidays_package.__version__} {region}"


def holiday_import_preview(
    *,
    calendar: ServiceCalendar,
    years: list[int],
    country: str | None = None,
    subdivision: str | None = None,
) -> HolidayImportPreview:
    """What importing ``years`` would add, remove and rename; nothing is stored.

    ``country``/``subdivision`` default to the calendar's holiday country and subdivision.
    Custom holidays are never changed; a package holiday on a custom holiday's date is listed in
    ``kept_custom`` and not added.
    """
    years = _import_years(years)
    country, subdivision = _import_region(calendar, country, subdivision)
    package = _package_holidays(country, subdivision, years)
    stored = {
        holiday.date: holiday
        for holiday in CalendarHoliday.objects.filter(
            calendar=calendar, date__gte=date(years[0], 1, 1), date__lte=date(years[-1], 12, 31)
        )
        if holiday.date.year in years
    }
    added, renamed, kept_custom, unchanged = [], [], [], 0
    for day, name in package.items():
        holiday = stored.get(day)
        if holiday is None:
            added.append((day, name))
        elif holiday.source == HolidaySource.CUSTOM:
            kept_custom.append((day, name, holiday.name))
        elif holiday.name != name:
            renamed.append((day, holiday.name, name))
        else:
            unchanged += 1
    removed = [
        (day, holiday.name)
        for day, holiday in sorted(stored.items())
        if holiday.source == HolidaySource.IMPORTED and day not in package
    ]
    return HolidayImportPreview(
        calendar_id=calendar.pk,
        country=country,
        subdivision=subdivision,
        years=years,
        source_detail=_source_detail(country, subdivision),
        added=tuple(added),
        removed=tuple(removed),
        renamed=tuple(renamed),
        unchanged=unchanged,
        kept_custom=tuple(kept_custom),
    )


@transaction.atomic
def holiday_import_apply(
    *,
    calendar: ServiceCalendar,
    years: list[int],
    country: str | None = None,
    subdivision: str | None = None,
    expected: HolidayImportPreview | str | None = None,
) -> HolidayImportPreview:
    """Applies the import preview of ``years`` and returns it.

    ``expected`` is the preview the user reviewed (or its fingerprint): if the package or the stored
    holidays would now give a different preview, nothing changes and a ValidationError says so.
    """
    # Lock the calendar first: the preview must not change between computing and applying it.
    ServiceCalendar.objects.select_for_update().values_list("pk", flat=True).get(pk=calendar.pk)
    preview = holiday_import_preview(calendar=calendar, years=years, country=country, subdivision=subdivision)
    if expected is not None:
        fingerprint = expected.fingerprint if isinstance(expected, HolidayImportPreview) else str(expected)
        if fingerprint != preview.fingerprint:
            raise ValidationError("the holiday data changed since the preview; review it again")
    if not preview.has_changes:
        return preview
    if preview.removed:
        # Deleted one by one (not in bulk) so the audit trail records each removal.
        for holiday in CalendarHoliday.objects.filter(
            calendar=calendar,
            source=HolidaySource.IMPORTED,
            date__in=[day for day, _name in preview.removed],
        ):
            holiday.delete()
    renamed = {day: new for day, _old, new in preview.renamed}
    for holiday in CalendarHoliday.objects.filter(calendar=calendar, date__in=list(renamed)):
        holiday.name, holiday.source_detail = renamed[holiday.date], preview.source_detail
        holiday.full_clean(validate_constraints=False)
        holiday.save(update_fields=["name", "source_detail"])
    for day, name in preview.added:
        holiday = CalendarHoliday(
            calendar=calendar,
            date=day,
            name=name,
            source=HolidaySource.IMPORTED,
            source_detail=preview.source_detail,
        )
        holiday.full_clean(validate_constraints=False)
        holiday.save()
    _save_calendar(calendar)
    return preview


# --- Calendar events ------------------------------------------------------------------------
EVENT_FIELDS = {
    "name",
    "kind",
    "starts_at",
    "ends_at",
    "required_service_level",
    "calendar",
    "notes",
    "blocks_maintenance",
    "party",
}


def _clean_event(event: CalendarEvent) -> None:
    _require_aware(event.starts_at, "starts_at")
    _require_aware(event.ends_at, "ends_at")
    if event.ends_at <= event.starts_at:
        raise ValidationError({"ends_at": "An event must end after it starts."})
    if event.calendar is not None and event.calendar.plan_id != event.plan_id:
        raise ValidationError({"calendar": "Choose only from this plan."})
    if event.party is not None and event.party.plan_id != event.plan_id:
        raise ValidationError({"party": "Choose only from this plan."})
    event.full_clean(validate_constraints=False)


@transaction.atomic
def calendar_event_create(*, plan: SupportPlan, **fields: Any) -> CalendarEvent:
    """A period-end, peak, one-off event, freeze, update or release window; ``starts_at``/``ends_at``
    aware. Period-ends, peaks and freezes block maintenance unless ``blocks_maintenance`` says not."""
    event = CalendarEvent(plan=plan)
    apply_fields(event, fields, EVENT_FIELDS)
    if fields.get("blocks_maintenance") is None:
        event.blocks_maintenance = event.kind in FREEZING_KINDS
    _clean_event(event)
    event.save()
    return event


@transaction.atomic
def calendar_event_update(*, event: CalendarEvent, **fields: Any) -> CalendarEvent:
    changed = apply_fields(event, fields, EVENT_FIELDS)
    if "blocks_maintenance" in fields and fields["blocks_maintenance"] is None:
        event.blocks_maintenance = event.kind in FREEZING_KINDS
    _clean_event(event)
    event.save(update_fields=changed)
    return event


@transaction.atomic
def calendar_event_delete(*, event: CalendarEvent) -> None:
    event.delete()
