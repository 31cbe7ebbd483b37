"""Forms of the maintenance calendar: the task form with its pattern builder, the occurrence actions
(complete, skip, move), list filters, freeze/update windows and feed tokens.

The pattern builder: a pattern kind and the fields that kind needs (the others hidden by
static/js/maintenance.js, all present without JavaScript); the form turns them into the structured
pattern and asks ``operations.recurrence.rrule_from_pattern`` for the RRULE. "Expert" takes a typed
RRULE instead, checked by ``operations.recurrence.validate_rrule``.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from models_catalog.forms import PlanChoiceMixin
from models_catalog.models import Party, Person, Role
from operations import maintenance_catalogue, recurrence
from operations.forms_calendars import DateTimeLocalInput, _local_initial, _ZonedTimesMixin
from operations.models import (
    FREEZING_KINDS,
    UPDATE_KINDS,
    CalendarEvent,
    CalendarEventKind,
    MaintenanceTask,
    OccurrenceState,
    ServiceCalendar,
)
from scope.models import ScopeItem
from supportplan.models import validate_timezone

WEEKDAYS = [
    ("MO", "Mon"),
    ("TU", "Tue"),
    ("WE", "Wed"),
    ("TH", "Thu"),
    ("FR", "Fri"),
    ("SA", "Sat"),
    ("SU", "Sun"),
]
WEEKDAY_NAMES = dict(
    zip(
        (code for code, _ in WEEKDAYS),
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
MONTHS = [
    (str(number), name)
    for number, name in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
]
PATTERN_KINDS = [
    ("daily", "Every day (or every N days)"),
    ("weekdays", "Every working weekday (Mon–Fri)"),
    ("weekly", "Weekly on chosen days"),
    ("monthly_day", "Monthly on day N"),
    ("monthly_nth_weekday", "Monthly on the Nth / last weekday"),
    ("last_working_day", "On the last working day of the month"),
    ("every_n_months", "Every N months"),
    ("quarterly", "Quarterly"),
    ("yearly", "Yearly"),
    ("expert", "Expert: type an RRULE"),
]
#: Which builder fields each kind uses (the page shows only those; the form reads only those).
PATTERN_FIELDS = {
    "daily": ["interval"],
    "weekdays": [],
    "weekly": ["days", "interval"],
    "monthly_day": ["month_day", "interval"],
    "monthly_nth_weekday": ["nth", "weekday"],
    "last_working_day": [],
    "every_n_months": ["interval", "month_day"],
    "quarterly": ["month_day"],
    "yearly": ["month", "month_day"],
    "expert": ["rrule"],
}
#: ``rrule_from_pattern``'s error keys → the builder's fields.
PATTERN_ERROR_FIELDS = {
    "interval": "interval",
    "days": "days",
    "day": "month_day",
    "n": "nth",
    "weekday": "weekday",
    "month": "month",
}
MONTH_DAYS = [(str(day), str(day)) for day in range(1, 32)] + [("last", "Last day")]
NTH = [("1", "First"), ("2", "Second"), ("3", "Third"), ("4", "Fourth"), ("-1", "Last")]


class DateInput(forms.DateInput):
    """A native date picker; its value must be ISO (a localised en-GB 25/11/2026 renders empty)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


TIME_ZONE_HELP = "IANA name, e.g. Europe/Berlin: the task keeps this wall-clock time across daylight saving."


def time_zone_choices() -> list[tuple[str, str]]:
    import zoneinfo

    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


def pattern_from_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The structured pattern (``operations.recurrence`` vocabulary) for the builder's cleaned fields."""
    interval = data.get("interval") or 1
    day = data.get("month_day") or "1"
    day_value: int | str = day if day == "last" else int(day)
    if kind == "daily":
        return {"kind": "daily", "interval": interval}
    if kind == "weekdays":
        return {"kind": "weekdays"}
    if kind == "weekly":
        return {"kind": "weekly", "days": list(data.get("days") or []), "interval": interval}
    if kind == "monthly_day":
        return {"kind": "monthly_day", "day": day_value, "interval": interval}
    if kind == "monthly_nth_weekday":
        return {"kind": "monthly_nth_weekday", "n": int(data.get("nth") or 1), "weekday": data.get("weekday")}
    if kind == "last_working_day":
        return {"kind": "last_working_day"}
    if kind == "every_n_months":
        return {"kind": "every_n_months", "n": interval, "day": day_value}
    if kind == "quarterly":
        return {"kind": "quarterly", "day": day_value}
    if kind == "yearly":
        return {"kind": "yearly", "month": int(data.get("month") or 1), "day": day_value}
    raise ValueError(kind)


def builder_initial(pattern: dict[str, Any], rrule: str) -> dict[str, Any]:
    """Form initial values for a stored task: its pattern's fields, else the expert RRULE."""
    kind = pattern.get("kind") if isinstance(pattern, dict) else None
    if kind not in PATTERN_FIELDS or kind == "expert":
        return {"pattern_kind": "expert", "rrule": rrule}
    initial: dict[str, Any] = {"pattern_kind": kind, "rrule": rrule}
    if "interval" in pattern:
        initial["interval"] = pattern["interval"]
    if kind == "every_n_months":
        initial["interval"] = pattern.get("n", 1)
    if "days" in pattern:
        initial["days"] = pattern["days"]
    if "day" in pattern:
        initial["month_day"] = str(pattern["day"])
    if "n" in pattern and kind == "monthly_nth_weekday":
        initial["nth"] = str(pattern["n"])
    if "weekday" in pattern:
        initial["weekday"] = pattern["weekday"]
    if "month" in pattern:
        initial["month"] = str(pattern["month"])
    return initial


def clean_pattern(form: forms.Form, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The builder's fields → ``cleaned["rrule"]`` (normal form) and ``cleaned["pattern"]`` ({} for
    an expert RRULE); problems become errors on the builder's fields."""
    kind = cleaned.get("pattern_kind")
    if not kind:
        return cleaned
    if kind == "expert":
        text = (cleaned.get("rrule") or "").strip()
        if text.upper().startswith("RRULE:"):
            text = text[6:]
        if not text:
            form.add_error("rrule", "Type an RRULE, or choose a pattern.")
            return cleaned
        try:
            text = recurrence.validate_rrule(text)
        except ValidationError as error:
            form.add_error("rrule", error.messages)
            return cleaned
        cleaned["rrule"], cleaned["pattern"] = text, {}
        return cleaned
    if kind == "weekly" and not cleaned.get("days"):
        form.add_error("days", "Choose at least one day of the week.")
        return cleaned
    if kind == "monthly_nth_weekday" and not cleaned.get("weekday"):
        form.add_error("weekday", "Choose the weekday.")
        return cleaned
    pattern = pattern_from_data(kind, cleaned)
    try:
        cleaned["rrule"] = recurrence.rrule_from_pattern(pattern)
    except ValidationError as error:
        for key, messages in getattr(error, "message_dict", {"pattern": error.messages}).items():
            form.add_error(PATTERN_ERROR_FIELDS.get(key, "pattern_kind"), messages)
        return cleaned
    except (ValueError, TypeError, KeyError) as error:
        form.add_error("pattern_kind", f"This pattern is not complete: {error}.")
        return cleaned
    cleaned["pattern"] = pattern
    return cleaned


class TaskForm(PlanChoiceMixin, forms.ModelForm):
    """A recurring task; the pattern builder makes its RRULE. Saving goes through the services."""

    plan_querysets = {
        "owner": Person,
        "backup": Person,
        "responsible_role": Role,
        "responsible_party": Party,
        "scope_item": ScopeItem,
        "working_calendar": ServiceCalendar,
    }

    category = forms.ChoiceField(choices=(), required=True)
    pattern_kind = forms.ChoiceField(
        label="Repeats",
        choices=PATTERN_KINDS,
        initial="weekly",
        widget=forms.Select(attrs={"data-pattern-kind": ""}),
    )
    interval = forms.IntegerField(
        label="Every",
        min_value=1,
        max_value=366,
        required=False,
        initial=1,
        help_text="1 = every time; 2 = every other…",
    )
    days = forms.MultipleChoiceField(
        label="On", choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    month_day = forms.ChoiceField(label="Day of the month", choices=MONTH_DAYS, required=False, initial="1")
    nth = forms.ChoiceField(label="Which", choices=NTH, required=False, initial="1")
    weekday = forms.ChoiceField(
        label="Weekday", choices=list(WEEKDAY_NAMES.items()), required=False, initial="MO"
    )
    month = forms.ChoiceField(label="Month", choices=MONTHS, required=False, initial="1")
    rrule = forms.CharField(
        label="RRULE",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "code", "spellcheck": "false", "autocomplete": "off"}),
        help_text="RFC 5545 without DTSTART, e.g. FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1.",
    )
    timezone = forms.CharField(
        label="Time zone", max_length=64, validators=[validate_timezone], help_text=TIME_ZONE_HELP
    )

    BUILDER_FIELDS = ("pattern_kind", "interval", "days", "month_day", "nth", "weekday", "month", "rrule")

    class Meta:
        model = MaintenanceTask
        fields = [
            "title",
            "category",
            "description",
            "owner",
            "backup",
            "responsible_role",
            "responsible_party",
            "environment",
            "scope_item",
            "starts_on",
            "local_time",
            "timezone",
            "ends_on",
            "working_calendar",
            "non_working_day_shift",
            "schedule_from_completion",
            "duration_minutes",
            "reminder_lead_minutes",
            "grace_minutes",
            "evidence_required",
            "active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DateInput,
            "ends_on": DateInput,
            "local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "local_time": "Local time",
            "duration_minutes": "Duration (minutes)",
            "reminder_lead_minutes": "Remind (minutes before due)",
            "grace_minutes": "Grace (minutes after due before it is late)",
            "non_working_day_shift": "On a non-working day",
            "evidence_required": "Completion needs evidence (a link)",
            "scope_item": "Linked scope item",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = list(maintenance_catalogue.category_choices())
        self.fields["timezone"].widget = forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"})
        self.fields["duration_minutes"].min_value = 1
        self.fields["duration_minutes"].widget.attrs["min"] = 1
        task = self.instance
        if task.pk:
            self.initial.update(builder_initial(task.pattern or {}, task.rrule))
        self.fields["scope_item"].label_from_instance = lambda item: str(item)

    def field_groups(self) -> dict[str, list]:
        """Bound fields grouped for the template: what, who, when (builder), how."""
        names = {
            "what": ["title", "category", "description", "environment", "scope_item"],
            "who": ["owner", "backup", "responsible_role", "responsible_party"],
            "schedule": ["starts_on", "local_time", "timezone", "ends_on"],
            "working": ["working_calendar", "non_working_day_shift", "schedule_from_completion"],
            "how": [
                "duration_minutes",
                "reminder_lead_minutes",
                "grace_minutes",
                "evidence_required",
                "active",
            ],
        }
        return {
            group: [self[name] for name in fields if name in self.fields] for group, fields in names.items()
        }

    def builder_fields(self) -> list:
        return [self[name] for name in self.BUILDER_FIELDS if name != "pattern_kind"]

    def clean(self):
        return clean_pattern(self, super().clean())

    def _post_clean(self):
        # The services validate the task (and rebuild its occurrences); skip the model pass here.
        pass

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields if name in data}
        fields["rrule"], fields["pattern"] = data["rrule"], data.get("pattern", {})
        return fields


class OccurrenceCompleteForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    evidence_url = forms.URLField(
        label="Evidence link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="A link to the ticket, log or report that proves it was done.",
    )

    def __init__(self, *args, evidence_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if evidence_required:
            self.fields["evidence_url"].required = True
            self.fields["evidence_url"].help_text = (
                "Required for this task. " + self.fields["evidence_url"].help_text
            )


class OccurrenceSkipForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2_000)


class OccurrenceMoveForm(forms.Form):
    due_at = forms.DateTimeField(label="New due date and time", widget=DateTimeLocalInput)
    reason = forms.CharField(max_length=300)

    def __init__(self, *args, zone: str, **kwargs):
        self.zone = zone
        super().__init__(*args, **kwargs)
        self.fields["due_at"].help_text = f"In the task's time zone, {zone}."

    def clean_due_at(self):
        from operations.forms_calendars import wall_clock_to_aware

        value = self.cleaned_data["due_at"]
        try:
            return wall_clock_to_aware(value, self.zone, "due_at")
        except ValidationError as error:
            raise ValidationError(error.message_dict["due_at"]) from None


class OccurrenceFilterForm(forms.Form):
    """The list's filters (GET); invalid values are ignored, not errors."""

    owner = forms.ModelChoiceField(queryset=Person.objects.none(), required=False, empty_label="Anyone")
    category = forms.ChoiceField(choices=(), required=False)
    state = forms.ChoiceField(choices=[("", "Any state"), *OccurrenceState.choices], required=False)
    start = forms.DateField(label="From", required=False, widget=DateInput)
    end = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Person.objects.filter(plan=plan).order_by("name")
        self.fields["category"].choices = [("", "Any category"), *maintenance_catalogue.category_choices()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end comes before the start.")
        return cleaned


WINDOW_KINDS = [
    (value, label)
    for value, label in CalendarEventKind.choices
    if value in FREEZING_KINDS or value in UPDATE_KINDS
]


class WindowForm(_ZonedTimesMixin, PlanChoiceMixin, forms.ModelForm):
    """A freeze or update window (a ``CalendarEvent``); times typed in a zone."""

    plan_querysets = {"party": Party}
    kind = forms.ChoiceField(choices=WINDOW_KINDS)
    time_zone = forms.CharField(
        max_length=64, initial="UTC", validators=[validate_timezone], help_text="IANA name."
    )

    class Meta:
        model = CalendarEvent
        fields = ["name", "kind", "starts_at", "ends_at", "time_zone", "blocks_maintenance", "party", "notes"]
        widgets = {
            "starts_at": DateTimeLocalInput,
            "ends_at": DateTimeLocalInput,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"blocks_maintenance": "Freeze: maintenance inside it is a conflict"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.attrs["list"] = "time-zones"
        if self.instance.pk:
            self.initial.update(
                time_zone="UTC",
                starts_at=_local_initial(self.instance.starts_at, "UTC"),
                ends_at=_local_initial(self.instance.ends_at, "UTC"),
            )
        elif not self.is_bound:
            self.initial.setdefault("blocks_maintenance", True)
            self.initial.setdefault("kind", CalendarEventKind.FREEZE)

    def _zone(self) -> str:
        return self.cleaned_data.get("time_zone", "")

    def clean(self):
        return self._clean_zoned(super().clean())

    def _post_clean(self):
        pass

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("name", "kind", "starts_at", "ends_at", "blocks_maintenance", "party", "notes")
        }


class PresetYearForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)


class FeedTokenForm(forms.Form):
    scope = forms.ChoiceField(choices=[("plan", "Whole plan"), ("person", "One person")])
    person = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.filter(plan=plan)


class PatternPreviewForm(forms.Form):
    """The task form's schedule fields alone, for the builder's live preview (htmx GET)."""

    FIELDS = (
        *TaskForm.BUILDER_FIELDS,
        "starts_on",
        "local_time",
        "timezone",
        "ends_on",
        "non_working_day_shift",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.FIELDS:
            self.fields[name] = copy.deepcopy(TaskForm.base_fields[name])
        self.fields["working_calendar"] = forms.ModelChoiceField(
            queryset=ServiceCalendar.objects.none(), required=False
        )

    def limit_to_plan(self, plan) -> None:
        self.fields["working_calendar"].queryset = ServiceCalendar.objects.filter(plan=plan)

    def clean(self):
        return clean_pattern(self, super().clean())
