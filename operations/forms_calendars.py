"""Forms of the service-calendar pages, with the week grid: 7 days × 48 half-hours of checkboxes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from models_catalog.forms import PlanChoiceMixin
from models_catalog.models import Party
from operations.calendar_services import normalise_windows, supported_holiday_countries
from operations.models import CalendarEvent, CalendarHoliday, ServiceCalendar
from operations.models.calendars import validate_weekly_windows
from supportplan.forms import DateInput
from supportplan.models import Location, validate_timezone

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLOTS = 48  # half-hours in a day
SLOT_MINUTES = 30
MINUTES_PER_DAY = 24 * 60
#: A new calendar starts as office hours, Monday to Friday; the grid changes it in a few strokes.
DEFAULT_WINDOWS = {str(day): [["09:00", "17:00"]] for day in range(5)}

Cell = tuple[int, int]  # (weekday 0 = Monday, half-hour slot 0 = 00:00–00:30)


# --- Week grid conversions ------------------------------------------------------------------
def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def slot_range_label(slot: int) -> str:
    """``"09:00–09:30"``; the last slot of the day ends at 24:00."""
    end = (slot + 1) * SLOT_MINUTES
    return f"{_hhmm(slot * SLOT_MINUTES)}–{'24:00' if end == MINUTES_PER_DAY else _hhmm(end)}"


def windows_to_cells(windows: Mapping[str, Iterable]) -> set[Cell]:
    """The half-hour cells a calendar's weekly windows touch.

    A window whose end is not after its start runs into the next day (``["22:00", "06:00"]`` fills
    Monday 22:00–24:00 and Tuesday 00:00–06:00); ``["00:00", "00:00"]`` is the whole day. A window off
    the half-hour grid fills every cell it overlaps.
    """
    cells: set[Cell] = set()

    def fill(day: int, start: int, end: int) -> None:
        first, last = start // SLOT_MINUTES, -(-end // SLOT_MINUTES)  # ceiling
        cells.update((day % 7, slot) for slot in range(first, last))

    for day, day_windows in windows.items():
        for opens, closes in day_windows:
            day_number, start, end = int(day), _minutes(opens), _minutes(closes)
            if end > start:
                fill(day_number, start, end)
            else:
                fill(day_number, start, MINUTES_PER_DAY)
                fill(day_number + 1, 0, end)
    return cells


def cells_to_windows(cells: Iterable[Cell]) -> dict[str, list[list[str]]]:
    """Weekly windows from checked cells: each run of a day becomes one window.

    A run to 24:00 ends at "00:00" (it runs up to midnight); a fully checked day is
    ``["00:00", "00:00"]``. A run to midnight and one from the next midnight stay two windows.
    """
    by_day: dict[int, list[int]] = {}
    for day, slot in sorted(set(cells)):
        by_day.setdefault(day, []).append(slot)
    windows: dict[str, list[list[str]]] = {}
    for day, slots in by_day.items():
        runs: list[list[int]] = []
        for slot in slots:
            if runs and slot == runs[-1][1] + 1:
                runs[-1][1] = slot
            else:
                runs.append([slot, slot])
        windows[str(day)] = [
            [_hhmm(first * SLOT_MINUTES), _hhmm(((last + 1) * SLOT_MINUTES) % MINUTES_PER_DAY)]
            for first, last in runs
        ]
    return windows


CELL_CHOICES = [
    (f"{day}-{slot}", f"{DAYS[day]} {slot_range_label(slot)}") for day in range(7) for slot in range(SLOTS)
]


_CELL_VALUES = frozenset(value for value, _label in CELL_CHOICES)


def _parse_cell(value: str) -> Cell:
    day, slot = value.split("-")
    return int(day), int(slot)


def grid_rows(cells: set[Cell], *, prefix: str = "cell") -> list[dict]:
    """Rows of the grid template: one per weekday, one cell per half-hour."""
    return [
        {
            "day": DAYS[day],
            "cells": [
                {
                    "value": f"{day}-{slot}",
                    "id": f"{prefix}-{day}-{slot}",
                    "label": f"{DAYS[day]} {slot_range_label(slot)}",
                    "checked": (day, slot) in cells,
                    "hour_start": slot % 2 == 0,
                }
                for slot in range(SLOTS)
            ],
        }
        for day in range(7)
    ]


def grid_columns() -> list[dict]:
    """Column headings: every half-hour, its start time; the hours are shown, half-hours hidden."""
    return [
        {"label": _hhmm(slot * SLOT_MINUTES), "hour": slot % 2 == 0, "short": f"{slot // 2:02d}"}
        for slot in range(SLOTS)
    ]


def windows_as_text(windows: Mapping[str, list]) -> str:
    """The windows as indented JSON, one weekday a line."""
    lines = [
        f'  "{day}": {json.dumps(day_windows)}' for day, day_windows in normalise_windows(windows).items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}" if lines else "{}"


# --- Calendar -------------------------------------------------------------------------------
def _country_choices() -> list[tuple[str, str]]:
    choices = []
    for code in supported_holiday_countries():
        country = pycountry.countries.get(alpha_2=code)
        choices.append((code, f"{country.name if country else code} ({code})"))
    return [("", "— no holiday imports —"), *sorted(choices, key=lambda choice: choice[1])]


class CalendarForm(PlanChoiceMixin, forms.ModelForm):
    """A calendar with its weekly windows, edited on the week grid or, for experts, as JSON.

    The grid and the JSON start from the stored windows; whichever was changed is saved (if both
    were, they must agree). Untouched, the stored windows are kept exactly, including windows off
    the half-hour grid and night shifts (which the grid shows split at midnight).
    """

    plan_querysets = {"locations": Location, "parties": Party}

    holiday_country = forms.ChoiceField(
        required=False, label="Holiday country", help_text="Public holidays are imported for this country."
    )
    cells = forms.MultipleChoiceField(
        choices=CELL_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    windows_json = forms.CharField(
        required=False,
        label="Weekly windows as JSON",
        widget=forms.Textarea(attrs={"rows": 9, "spellcheck": "false", "class": "code"}),
        help_text='Weekday (0 = Monday) → ["HH:MM", "HH:MM"] windows in the calendar\'s time zone; an end '
        'not after the start runs past midnight, ["00:00", "00:00"] is the whole day.',
    )

    class Meta:
        model = ServiceCalendar
        fields = [
            "name",
            "timezone",
            "holiday_country",
            "holiday_subdivision",
            "locations",
            "parties",
            "description",
        ]
        labels = {
            "timezone": "Time zone",
            "holiday_subdivision": "Holiday subdivision",
            "parties": "Parties working these hours",
        }
        help_texts = {
            "parties": "Their support levels are covered by these hours on the coverage page.",
            "timezone": "IANA name, e.g. Europe/London or Europe/Berlin.",
            "holiday_subdivision": "Optional: e.g. ENG (England) or BY (Bavaria).",
        }
        widgets = {
            "locations": forms.CheckboxSelectMultiple,
            "parties": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holiday_country"].choices = _country_choices()
        self.base_windows = normalise_windows(
            self.instance.weekly_windows if self.instance.pk else DEFAULT_WINDOWS
        )
        self.base_cells = windows_to_cells(self.base_windows)
        self.fields["cells"].initial = [f"{day}-{slot}" for day, slot in sorted(self.base_cells)]
        self.fields["windows_json"].initial = windows_as_text(self.base_windows)
        #: The grid cannot show these windows exactly; untouched, they are kept as they are.
        self.grid_is_approximate = cells_to_windows(self.base_cells) != self.base_windows

    def clean_holiday_subdivision(self) -> str:
        return self.cleaned_data["holiday_subdivision"].strip()

    def checked_cells(self) -> set[Cell]:
        if self.is_bound and "cells" in getattr(self, "cleaned_data", {}):
            return {_parse_cell(value) for value in self.cleaned_data["cells"]}
        if self.is_bound:
            submitted = self.data.getlist(self.add_prefix("cells"))
            return {_parse_cell(value) for value in submitted if value in _CELL_VALUES}
        return self.base_cells

    def grid(self) -> list[dict]:
        return grid_rows(self.checked_cells())

    def columns(self) -> list[dict]:
        return grid_columns()

    def clean(self):
        cleaned = super().clean()
        cells = {_parse_cell(value) for value in cleaned.get("cells", [])}
        grid_changed = cells != self.base_cells
        text = cleaned.get("windows_json", "").strip()
        try:
            # An emptied text box is not an edit: a calendar closed all week is typed as {}.
            typed = normalise_windows(json.loads(text)) if text else self.base_windows
        except json.JSONDecodeError as error:
            self.add_error("windows_json", f"This is not valid JSON: {error.msg} (line {error.lineno}).")
            return cleaned
        json_changed = typed != self.base_windows
        from_grid = cells_to_windows(cells)
        if grid_changed and json_changed and typed != from_grid:
            self.add_error(
                "windows_json", "You changed both the grid and the JSON: keep one of the two changes."
            )
            return cleaned
        windows = typed if json_changed else from_grid if grid_changed else self.base_windows
        try:
            validate_weekly_windows(windows)
        except ValidationError as error:
            self.add_error("windows_json", error)
            return cleaned
        cleaned["weekly_windows"] = windows
        return cleaned

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "timezone": data["timezone"],
            "weekly_windows": data["weekly_windows"],
            "holiday_country": data["holiday_country"],
            "holiday_subdivision": data["holiday_subdivision"],
            "description": data["description"],
            "locations": list(data["locations"]),
            "parties": list(data["parties"]),
        }


# --- Holidays and extra periods -------------------------------------------------------------
class HolidayForm(forms.ModelForm):
    class Meta:
        model = CalendarHoliday
        fields = ["date", "name"]
        widgets = {"date": DateInput}
        labels = {"name": "Holiday or closure"}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def wall_clock_to_aware(value: datetime, zone: str, field_name: str) -> datetime:
    """A form's date and time (parsed in the current zone) read as wall-clock time in ``zone``.

    Refuses a time the clocks skip (spring forward); an ambiguous one is its first occurrence.
    """
    naive = timezone.make_naive(value, timezone.get_current_timezone()) if timezone.is_aware(value) else value
    tz = ZoneInfo(zone)
    aware = naive.replace(tzinfo=tz)
    try:
        round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    except OverflowError:
        raise ValidationError({field_name: "Give a date between the years 1 and 9999."}) from None
    if round_trip != naive:
        raise ValidationError(
            {field_name: f"{naive:%d %b %Y %H:%M} does not exist in {zone} (the clocks skip it)."}
        )
    return aware


def _local_initial(value: datetime | None, zone: str) -> str | None:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if value else None


class _ZonedTimesMixin:
    """``starts_at``/``ends_at`` typed as wall-clock times in a zone, cleaned to aware datetimes."""

    def _zone(self) -> str:
        raise NotImplementedError

    def _clean_zoned(self, cleaned: dict) -> dict:
        zone = self._zone()
        if not zone:
            return cleaned
        for name in ("starts_at", "ends_at"):
            if cleaned.get(name) is not None:
                try:
                    cleaned[name] = wall_clock_to_aware(cleaned[name], zone, name)
                except ValidationError as error:
                    self.add_error(None, error)
                    cleaned.pop(name, None)
        start, end = cleaned.get("starts_at"), cleaned.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", "The end must come after the start.")
        return cleaned


class ExtraPeriodForm(_ZonedTimesMixin, forms.Form):
    starts_at = forms.DateTimeField(label="Opens", widget=DateTimeLocalInput)
    ends_at = forms.DateTimeField(label="Closes", widget=DateTimeLocalInput)
    reason = forms.CharField(max_length=160, required=False, help_text="e.g. Year-end close: extended hours.")

    def __init__(self, *args, calendar: ServiceCalendar, **kwargs):
        self.calendar = calendar
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = f"In the calendar's time zone, {calendar.timezone}."

    def _zone(self) -> str:
        return self.calendar.timezone

    def clean(self):
        return self._clean_zoned(super().clean())


# --- Holiday import -------------------------------------------------------------------------
_YEAR_RANGE = re.compile(r"^(\d{4})–(\d{4})$")


class YearsField(forms.CharField):
    """``2027``, ``2027, 2028`` or ``2027–2029`` → a sorted list of years."""

    def to_python(self, value):
        text = re.sub(r"\s*[-–]\s*", "–", super().to_python(value))
        years: set[int] = set()
        for part in filter(None, re.split(r"[,;\s]+", text)):
            match = _YEAR_RANGE.match(part)
            if match:
                first, last = int(match[1]), int(match[2])
                if last < first or last - first > 100:
                    raise ValidationError(f"“{part}” is not a range of years (first year first).")
                years.update(range(first, last + 1))
            elif part.isdigit() and len(part) == 4:
                years.add(int(part))
            else:
                raise ValidationError(f"“{part}” is not a year (e.g. 2027, or 2027–2029).")
        return sorted(years)


class HolidayImportForm(forms.Form):
    years = YearsField(help_text="e.g. 2027, or 2027–2029 (at most ten years).")
    country = forms.ChoiceField(label="Country")
    subdivision = forms.CharField(max_length=6, required=False, help_text="Optional: e.g. ENG or BY.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Choose a country"), *_country_choices()[1:]]


# --- Calendar events ------------------------------------------------------------------------
def _blocks_choice(value: str):
    return {"yes": True, "no": False}.get(value)


class CalendarEventForm(_ZonedTimesMixin, PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"calendar": ServiceCalendar, "party": Party}

    blocks_maintenance = forms.TypedChoiceField(
        label="Freeze maintenance",
        choices=[
            ("", "As the kind suggests (period-end, peak and freeze windows freeze)"),
            ("yes", "Yes: maintenance inside this window is a conflict"),
            ("no", "No"),
        ],
        coerce=_blocks_choice,
        empty_value=None,
        required=False,
    )

    time_zone = forms.CharField(
        max_length=64,
        initial="UTC",
        validators=[validate_timezone],
        help_text="The start and end are in this IANA time zone, e.g. Europe/London.",
    )

    class Meta:
        model = CalendarEvent
        fields = [
            "name",
            "kind",
            "starts_at",
            "ends_at",
            "time_zone",
            "required_service_level",
            "calendar",
            "party",
            "blocks_maintenance",
            "notes",
        ]
        widgets = {
            "starts_at": DateTimeLocalInput,
            "ends_at": DateTimeLocalInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"calendar": "Calendar with the extended hours", "party": "Whose release (ISV, partner)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        event = self.instance
        if event.pk:
            zone = event.calendar.timezone if event.calendar_id else "UTC"
            self.initial.update(
                time_zone=zone,
                starts_at=_local_initial(event.starts_at, zone),
                ends_at=_local_initial(event.ends_at, zone),
                blocks_maintenance="yes" if event.blocks_maintenance else "no",
            )

    def _zone(self) -> str:
        return self.cleaned_data.get("time_zone", "")

    def clean(self):
        return self._clean_zoned(super().clean())

    def _post_clean(self):
        # The service validates the event (with the times in their zone); skip the model pass here.
        pass

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "name",
                "kind",
                "starts_at",
                "ends_at",
                "required_service_level",
                "calendar",
                "party",
                "blocks_maintenance",
                "notes",
            )
            if name in data
        }
