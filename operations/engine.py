"""The bridge from stored calendars to the pure business-time engine, cached per calendar version."""

from __future__ import annotations

from functools import lru_cache

from operations.business_time import BusinessCalendar
from operations.models import ServiceCalendar
from operations.models.calendars import weekly_to_times


def engine_for(calendar: ServiceCalendar) -> BusinessCalendar:
    """The calendar's ``BusinessCalendar`` (holidays and extra periods included).

    Cached by (id, updated_at): services bump ``updated_at`` whenever the calendar, its holidays
    or its extra periods change, so a stale engine is never used.
    """
    return _build(calendar.pk, calendar.updated_at)


@lru_cache(maxsize=256)
def _build(calendar_id: int, _version) -> BusinessCalendar:
    calendar = ServiceCalendar.objects.prefetch_related("holidays", "extra_periods").get(pk=calendar_id)
    return BusinessCalendar(
        timezone=calendar.timezone,
        weekly=weekly_to_times(calendar.weekly_windows),
        holidays=[holiday.date for holiday in calendar.holidays.all()],
        extra=[(period.starts_at, period.ends_at) for period in calendar.extra_periods.all()],
    )
