"""Service calendars: when support is open, per plan, in a named time zone."""

from __future__ import annotations

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned, validate_timezone

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_weekly_windows(value) -> None:
    """``{"0": [["09:00", "17:00"]], …}``: weekday (Monday = 0) → local wall-clock windows.

    A window whose end is not after its start runs past midnight; ["00:00", "00:00"] is the whole day.
    """
    if not isinstance(value, dict):
        raise ValidationError("Weekly windows map weekdays 0–6 to lists of [start, end] times.")
    for day, windows in value.items():
        if str(day) not in {"0", "1", "2", "3", "4", "5", "6"}:
            raise ValidationError(f"“{day}” is not a weekday number (0 = Monday … 6 = Sunday).")
        if not isinstance(windows, list) or len(windows) > 12:
            raise ValidationError(f"Weekday {day}: give a list of at most 12 [start, end] pairs.")
        for window in windows:
            if (
                not isinstance(window, list | tuple)
                or len(window) != 2
                or not all(isinstance(t, str) and _HHMM.match(t) for t in window)
            ):
                raise ValidationError(f'Weekday {day}: {window!r} is not a valid ["HH:MM", "HH:MM"] window.')


def weekly_to_times(value: dict) -> dict[int, list[tuple[time, time]]]:
    """The stored JSON as the business-time engine's ``weekly`` mapping."""
    return {
        int(day): [(time.fromisoformat(start), time.fromisoformat(end)) for start, end in windows]
        for day, windows in value.items()
    }


class ServiceCalendarQuerySet(PlanScopedQuerySet):
    # Partners need to know when the service is open.
    partner_sees_all = True


class ServiceCalendar(PlanOwned):
    """Named opening hours (e.g. “UK office hours”, “EU P1 24×7 cover”) with holidays and extra periods."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="service_calendars"
    )
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, validators=[validate_timezone], help_text="IANA name.")
    weekly_windows = models.JSONField(default=dict, blank=True, validators=[validate_weekly_windows])
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 code for holiday imports."
    )
    holiday_subdivision = models.CharField(max_length=6, blank=True)
    locations = models.ManyToManyField("supportplan.Location", blank=True, related_name="service_calendars")
    parties = models.ManyToManyField(
        "models_catalog.Party",
        blank=True,
        related_name="service_calendars",
        help_text="Parties working these hours.",
    )
    description = models.TextField(blank=True)
    #: Bumped by every change to the calendar, its holidays or extra periods: the engine cache key.
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceCalendarQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "name"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="calendar_name_unique_in_plan")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_24x7(self) -> bool:
        return all(["00:00", "00:00"] in self.weekly_windows.get(str(day), []) for day in range(7))


class HolidaySource(models.TextChoices):
    IMPORTED = "imported", "Imported from the holidays package"
    CUSTOM = "custom", "Custom holiday or closure"


class CalendarHoliday(models.Model):
    """A stored closed day: imported (with the package version it came from) or entered by hand."""

    calendar = models.ForeignKey(ServiceCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=160)
    source = models.CharField(max_length=10, choices=HolidaySource.choices, default=HolidaySource.CUSTOM)
    source_detail = models.CharField(max_length=80, blank=True, help_text="e.g. holidays 0.109 GB-ENG.")

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_calendar_day")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"

    def get_additional_data(self) -> dict:
        return {"plan_id": self.calendar.plan_id}


class ExtraOpenPeriod(models.Model):
    """Extra open time (period-end extended hours, out-of-hours cover), aware UTC instants."""

    calendar = models.ForeignKey(ServiceCalendar, on_delete=models.CASCADE, related_name="extra_periods")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["calendar", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="extra_period_ends_after_it_starts",
                violation_error_message="An extra period must end after it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} UTC {self.reason}"

    def get_additional_data(self) -> dict:
        return {"plan_id": self.calendar.plan_id}


class CalendarEventKind(models.TextChoices):
    PERIOD_END = "period_end", "Period-end"
    SEASONAL_PEAK = "peak", "Seasonal peak"
    ONE_OFF = "one_off", "One-off event"
    FREEZE = "freeze", "Freeze window"
    SERVICE_UPDATE = "service_update", "Microsoft service update window"
    RELEASE_WAVE = "release_wave", "Microsoft release wave"
    ISV_RELEASE = "isv_release", "ISV release"
    CUSTOM_RELEASE = "custom_release", "Custom release"


#: Kinds during which maintenance work is frozen unless a person says otherwise.
FREEZING_KINDS = frozenset(
    {CalendarEventKind.PERIOD_END, CalendarEventKind.SEASONAL_PEAK, CalendarEventKind.FREEZE}
)
#: Kinds that are update or release windows (a peak colliding with one is a readiness warning).
UPDATE_KINDS = frozenset(
    {
        CalendarEventKind.SERVICE_UPDATE,
        CalendarEventKind.RELEASE_WAVE,
        CalendarEventKind.ISV_RELEASE,
        CalendarEventKind.CUSTOM_RELEASE,
    }
)


class CalendarEvent(PlanOwned):
    """Period-ends, peaks, one-off events and freeze windows, with the service level each needs."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="calendar_events"
    )
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=20, choices=CalendarEventKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    required_service_level = models.CharField(
        max_length=200, blank=True, help_text="e.g. “P1 24×7, P2 extended hours 07:00–22:00”."
    )
    calendar = models.ForeignKey(
        ServiceCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        help_text="The calendar whose extended hours cover this event, if any.",
    )
    notes = models.TextField(blank=True)
    blocks_maintenance = models.BooleanField(
        default=False,
        help_text="A freeze: a maintenance occurrence inside this window is a conflict.",
    )
    party = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calendar_events",
        help_text="For an ISV or partner release: whose release it is.",
    )

    objects = ServiceCalendarQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="calendar_event_ends_after_it_starts",
                violation_error_message="An event must end after it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
