"""The “When does it breach?” form: a start as a local wall-clock time in the chosen location's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from models_catalog.models import SupportLevel
from operations.breach import wall_clock_to_aware
from operations.models import Impact, Priority, RequestType, ServiceCalendar, Urgency
from supportplan.models import Location, SupportPlan

OCCURRENCE_CHOICES = [
    ("", "Ask me"),
    ("first", "The first (before the clocks go back)"),
    ("second", "The second (after the clocks go back)"),
]


class WallClockField(forms.DateTimeField):
    """A local date and time, kept naive: the form reads it in the location's (or calendar's) zone.

    Django's DateTimeField would read it in the server's zone instead, and quietly pick an offset.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            result = value
        else:
            try:
                result = datetime.fromisoformat(str(value).strip())
            except ValueError:
                raise ValidationError(
                    "Give a date and time, e.g. 2027-03-26 15:00.", code="invalid"
                ) from None
        if result.tzinfo is not None:
            raise ValidationError(
                "Give the local time without an offset: the location's time zone says which instant it is.",
                code="offset",
            )
        return result.replace(microsecond=0)


class BreachForm(forms.Form):
    priority = forms.ModelChoiceField(
        queryset=Priority.objects.none(),
        required=False,
        to_field_name="code",
        empty_label="From impact × urgency",
        help_text="Or leave it and choose impact and urgency: the priority matrix decides.",
    )
    impact = forms.ChoiceField(choices=[("", "—"), *Impact.choices], required=False)
    urgency = forms.ChoiceField(choices=[("", "—"), *Urgency.choices], required=False)
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        empty_label="—",
        help_text="Deadlines are shown in its time zone, and the start is read in it.",
    )
    calendar = forms.ModelChoiceField(
        queryset=ServiceCalendar.objects.none(),
        required=False,
        empty_label="Each target's own calendar",
        help_text="Force one calendar for every clock (without a location, its zone is used).",
    )
    start = WallClockField(label="Start (local time)", help_text="When the request was logged, local time.")
    occurrence = forms.ChoiceField(
        choices=OCCURRENCE_CHOICES,
        required=False,
        label="If the time happens twice",
        help_text="When the clocks go back, an hour repeats: say which one you mean.",
    )
    request_type = forms.ChoiceField(choices=[("", "Any"), *RequestType.choices], required=False)
    support_level = forms.ModelChoiceField(
        queryset=SupportLevel.objects.none(),
        required=False,
        to_field_name="number",
        empty_label="Any",
        help_text="For per-level clocks: how long this level may hold the request.",
    )

    def __init__(self, *args: Any, plan: SupportPlan, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["priority"].queryset = Priority.objects.for_user(user).filter(plan=plan)
        self.fields["location"].queryset = Location.objects.for_user(user).filter(plan=plan)
        self.fields["calendar"].queryset = ServiceCalendar.objects.for_user(user).filter(plan=plan)
        self.fields["support_level"].queryset = SupportLevel.objects.for_user(user).filter(plan=plan)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        location, calendar, wall = data.get("location"), data.get("calendar"), data.get("start")
        if location is None and calendar is None:
            if "location" not in self.errors and "calendar" not in self.errors:
                self.add_error("location", "Choose a location (its time zone reads the start) or a calendar.")
            return data
        if wall is None:
            return data
        zone = location.timezone if location is not None else calendar.timezone
        try:
            data["start_at"] = wall_clock_to_aware(wall, zone, data.get("occurrence", ""))
        except ValidationError as error:
            self.add_error("start", error)
            if error.code == "ambiguous":
                self.add_error("occurrence", f"Choose the first or the second {wall:%H:%M}.")
        return data

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as ``breach_calculate``'s keyword arguments."""
        data = self.cleaned_data
        return {
            "start": data["start_at"],
            "priority": data.get("priority"),
            "impact": data.get("impact") or None,
            "urgency": data.get("urgency") or None,
            "location": data.get("location"),
            "calendar": data.get("calendar"),
            "request_type": data.get("request_type") or "",
            "support_level": data.get("support_level"),
        }
