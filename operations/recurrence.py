"""Recurrence of maintenance tasks: RFC 5545 RRULEs built from form patterns, validated, described
and expanded. Pure functions (dateutil + zoneinfo), no ORM.

How a rule becomes instants
  The rule is expanded with dateutil in *naive local wall-clock time*, from ``starts_on`` at
  ``local_time``; each local occurrence is then localised in the task's IANA zone and converted to
  UTC. So "every Monday 09:00 Europe/Berlin" is 09:00 in Berlin in January and in July (07:00Z in
  summer, 08:00Z in winter).

  * Ambiguous local times (the autumn hour that happens twice) take the first one (``fold=0``).
  * Nonexistent local times (the spring-forward gap) move forward by the gap: 02:30 on the day
    Berlin jumps from 02:00 to 03:00 is due at 03:30 local (01:30Z). This is what zoneinfo does for
    ``fold=0`` inside a gap, and what most calendar clients show.

Edge cases, decided
  * ``monthly_day`` with day 31 follows RFC 5545: months without that day are skipped (a task "on
    the 31st" runs seven times a year). Use ``day="last"`` (``BYMONTHDAY=-1``) for the last day of
    every month.
  * ``yearly`` on 29 February follows RFC 5545: it occurs in leap years only.
  * ``last_working_day`` is ``FREQ=MONTHLY;BYMONTHDAY=-1`` expanded with ``shift="previous"``: the
    last calendar day, moved back to the nearest working day of the task's working calendar
    (weekly opening days minus holidays; Monday to Friday when the task has no calendar).
  * The working-day shift keeps the wall-clock time and never moves further than
    ``MAX_SHIFT_DAYS`` (a calendar without working days leaves the date alone).

Patterns (what the form builds; ``kind`` names the pattern, weekdays are "MO".."SU" or 0..6):
  {"kind": "daily", "interval": 1}
  {"kind": "weekdays"}
  {"kind": "weekly", "days": ["MO", "TH"], "interval": 1}
  {"kind": "monthly_day", "day": 15 | "last", "interval": 1}
  {"kind": "monthly_nth_weekday", "n": 1..4 | -1, "weekday": "TU", "interval": 1}
  {"kind": "last_working_day"}
  {"kind": "every_n_months", "n": 2, "day": 1 | "last"}
  {"kind": "quarterly", "day": 1 | "last"}
  {"kind": "yearly", "month": 2, "day": 29}
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second-to-last"}
MONTH_NAMES = tuple(calendar.month_name)
PATTERN_KINDS = (
    "daily",
    "weekdays",
    "weekly",
    "monthly_day",
    "monthly_nth_weekday",
    "last_working_day",
    "every_n_months",
    "quarterly",
    "yearly",
)
#: Patterns whose expansion must move non-working days back (the rule alone is "last day").
PATTERNS_FORCING_PREVIOUS_SHIFT = frozenset({"last_working_day"})
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYSETPOS",
    "WKST",
}
MAX_INTERVAL = 1000
MAX_SHIFT_DAYS = 31
_BYDAY_ITEM = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z)?)?$")
_MONTH_LENGTH_MAX = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


# --- Building rules from patterns -----------------------------------------------------------
def _weekday(value, field: str) -> str:
    if isinstance(value, bool):
        raise ValidationError({field: f"{value!r} is not a weekday."})
    if isinstance(value, int) and 0 <= value <= 6:
        return WEEKDAY_CODES[value]
    code = str(value).strip().upper()[:2]
    if code in WEEKDAY_CODES:
        return code
    raise ValidationError({field: f"“{value}” is not a weekday (MO … SU or 0 = Monday … 6 = Sunday)."})


def _whole(value, field: str, low: int, high: int, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise ValidationError({field: "This field is required."})
        return default
    if isinstance(value, bool):
        raise ValidationError({field: f"Give a whole number from {low} to {high}."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"“{value}” is not a whole number."}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"Give a whole number from {low} to {high}."})
    return number


def _month_day(value, field: str = "day") -> str:
    if isinstance(value, str) and value.strip().lower() == "last":
        return "-1"
    return str(_whole(value, field, 1, 31))


def rrule_from_pattern(pattern: dict) -> str:
    """The RRULE (without DTSTART) for a form pattern; see the module docstring for the shapes.

    Raises ``ValidationError`` with field messages (``pattern``, ``day``, ``days``, …) for bad input.
    """
    if not isinstance(pattern, dict):
        raise ValidationError({"pattern": "Give the pattern as an object with a “kind”."})
    kind = pattern.get("kind", pattern.get("type"))
    if kind not in PATTERN_KINDS:
        raise ValidationError({"pattern": f"“{kind}” is not a pattern ({', '.join(PATTERN_KINDS)})."})

    def interval_part(default: int = 1) -> str:
        interval = _whole(pattern.get("interval"), "interval", 1, MAX_INTERVAL, default)
        return f";INTERVAL={interval}" if interval != 1 else ""

    if kind == "daily":
        return f"FREQ=DAILY{interval_part()}"
    if kind == "weekdays":
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if kind == "weekly":
        days = pattern.get("days")
        if days in (None, "", []):
            raise ValidationError({"days": "Choose at least one weekday."})
        if not isinstance(days, list | tuple):
            days = [days]
        codes = sorted({_weekday(day, "days") for day in days}, key=WEEKDAY_CODES.index)
        return f"FREQ=WEEKLY{interval_part()};BYDAY={','.join(codes)}"
    if kind == "monthly_day":
        return f"FREQ=MONTHLY{interval_part()};BYMONTHDAY={_month_day(pattern.get('day'))}"
    if kind == "monthly_nth_weekday":
        n = _whole(pattern.get("n"), "n", -1, 4)
        if n == 0:
            raise ValidationError({"n": "Give 1 to 4, or -1 for the last one."})
        weekday = _weekday(pattern.get("weekday"), "weekday")
        return f"FREQ=MONTHLY{interval_part()};BYDAY={n}{weekday}"
    if kind == "last_working_day":
        return f"FREQ=MONTHLY{interval_part()};BYMONTHDAY=-1"
    if kind == "every_n_months":
        n = _whole(pattern.get("n", pattern.get("interval")), "n", 1, 120)
        day = _month_day(pattern.get("day"))
        return f"FREQ=MONTHLY;INTERVAL={n};BYMONTHDAY={day}" if n != 1 else f"FREQ=MONTHLY;BYMONTHDAY={day}"
    if kind == "quarterly":
        return f"FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY={_month_day(pattern.get('day'))}"
    # yearly
    month = _whole(pattern.get("month"), "month", 1, 12)
    day = _whole(pattern.get("day"), "day", 1, 31)
    if day > _MONTH_LENGTH_MAX[month]:
        raise ValidationError({"day": f"{MONTH_NAMES[month]} has no day {day}."})
    return f"FREQ=YEARLY{interval_part()};BYMONTH={month};BYMONTHDAY={day}"


def pattern_shift(pattern: dict | None) -> str | None:
    """The working-day shift a pattern forces ("previous" for the last working day), else None."""
    if (
        isinstance(pattern, dict)
        and pattern.get("kind", pattern.get("type")) in PATTERNS_FORCING_PREVIOUS_SHIFT
    ):
        return "previous"
    return None


# --- Validating typed rules -----------------------------------------------------------------
def _parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in text.split(";"):
        if not chunk:
            continue
        if "=" not in chunk:
            raise ValidationError({"rrule": f"“{chunk}” is not a NAME=VALUE part."})
        name, value = chunk.split("=", 1)
        if name in parts:
            raise ValidationError({"rrule": f"{name} appears twice."})
        parts[name] = value
    return parts


def _check_numbers(name: str, value: str, low: int, high: int, *, signed: bool) -> list[int]:
    numbers = []
    for item in value.split(","):
        try:
            number = int(item)
        except ValueError:
            raise ValidationError({"rrule": f"{name}: “{item}” is not a whole number."}) from None
        if not (low <= abs(number) <= high if signed else low <= number <= high) or (signed and number == 0):
            bound = f"±{low}…±{high}" if signed else f"{low}…{high}"
            raise ValidationError({"rrule": f"{name}: {number} is out of range ({bound})."})
        numbers.append(number)
    return numbers


def validate_rrule(text: str) -> str:
    """The rule in normal form (upper case, no "RRULE:" prefix, FREQ first), or a ValidationError
    ``{"rrule": message}`` that says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"rrule": "Give a recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO."})
    cleaned = text.strip()
    if "\n" in cleaned or "DTSTART" in cleaned.upper():
        raise ValidationError(
            {"rrule": "Give only the RRULE (no DTSTART): the task's start date and time are separate fields."}
        )
    cleaned = re.sub(r"^RRULE:", "", cleaned.upper()).replace(" ", "").strip(";")
    parts = _parts(cleaned)
    unknown = sorted(set(parts) - ALLOWED_PARTS)
    if unknown:
        extra = (
            " (set the time with the task's local time)"
            if {"BYHOUR", "BYMINUTE", "BYSECOND"} & set(unknown)
            else ""
        )
        raise ValidationError({"rrule": f"Unsupported part {unknown[0]}{extra}."})
    freq = parts.get("FREQ")
    if not freq:
        raise ValidationError({"rrule": "FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)."})
    if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise ValidationError({"rrule": f"FREQ={freq} is too frequent: the shortest is DAILY."})
    if freq not in ALLOWED_FREQUENCIES:
        raise ValidationError({"rrule": f"“{freq}” is not a frequency (DAILY, WEEKLY, MONTHLY or YEARLY)."})
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationError({"rrule": "Give COUNT or UNTIL, not both (RFC 5545)."})
    if "INTERVAL" in parts:
        _check_numbers("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL, signed=False)
    if "COUNT" in parts:
        _check_numbers("COUNT", parts["COUNT"], 1, 10_000, signed=False)
    if "UNTIL" in parts and not _UNTIL.match(parts["UNTIL"]):
        raise ValidationError({"rrule": "UNTIL must be a date (20271231) or a date-time (20271231T235959Z)."})
    months = _check_numbers("BYMONTH", parts["BYMONTH"], 1, 12, signed=False) if "BYMONTH" in parts else []
    month_days = (
        _check_numbers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True) if "BYMONTHDAY" in parts else []
    )
    if "BYYEARDAY" in parts:
        _check_numbers("BYYEARDAY", parts["BYYEARDAY"], 1, 366, signed=True)
    if "BYWEEKNO" in parts:
        if freq != "YEARLY":
            raise ValidationError({"rrule": "BYWEEKNO is only allowed with FREQ=YEARLY."})
        _check_numbers("BYWEEKNO", parts["BYWEEKNO"], 1, 53, signed=True)
    if "BYSETPOS" in parts:
        _check_numbers("BYSETPOS", parts["BYSETPOS"], 1, 366, signed=True)
    if "WKST" in parts and parts["WKST"] not in WEEKDAY_CODES:
        raise ValidationError({"rrule": f"WKST: “{parts['WKST']}” is not a weekday (MO … SU)."})
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            match = _BYDAY_ITEM.match(item)
            if not match:
                raise ValidationError({"rrule": f"BYDAY: “{item}” is not a weekday like MO, 2TU or -1FR."})
            if match.group(1):
                limit = 5 if freq == "MONTHLY" or (freq == "YEARLY" and months) else 53
                ordinal = int(match.group(1))
                if freq in ("DAILY", "WEEKLY"):
                    raise ValidationError(
                        {"rrule": f"BYDAY: “{item}”: a numbered weekday needs MONTHLY or YEARLY."}
                    )
                if ordinal == 0 or abs(ordinal) > limit:
                    raise ValidationError({"rrule": f"BYDAY: “{item}”: the number must be ±1…±{limit}."})
    if (
        month_days
        and months
        and all(day > _MONTH_LENGTH_MAX[month] for month in months for day in month_days if day > 0)
        and all(day > 0 for day in month_days)
    ):
        raise ValidationError({"rrule": "This rule never occurs: no chosen month has the chosen day."})
    ordered = {"FREQ": freq, **{name: value for name, value in parts.items() if name != "FREQ"}}
    normal = ";".join(f"{name}={value}" for name, value in ordered.items())
    try:
        rule = rrulestr(normal, dtstart=datetime(2000, 1, 1))  # noqa: DTZ001 -- naive local by design
    except (ValueError, TypeError) as error:
        raise ValidationError({"rrule": f"Not a valid RRULE: {error}."}) from None
    if rule.after(datetime(2000, 1, 1), inc=True) is None and "COUNT" not in parts and "UNTIL" not in parts:  # noqa: DTZ001
        raise ValidationError({"rrule": "This rule never occurs."})
    return normal


# --- Describing rules -----------------------------------------------------------------------
def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _day_text(value: str) -> str:
    day = int(value)
    if day == -1:
        return "the last day"
    if day < 0:
        return f"day {day} from the end"
    return f"day {day}"


def describe(rrule: str, *, shift: str = "none") -> str:
    """Human text for a rule: "Every Monday", "Monthly on the last working day", …

    ``shift`` is the task's non-working-day shift ("none", "previous", "next"). Unknown shapes fall
    back to the rule text itself, so nothing is hidden.
    """
    try:
        parts = _parts(validate_rrule(rrule))
    except ValidationError:
        return rrule
    freq = parts.pop("FREQ")
    interval = int(parts.pop("INTERVAL", "1"))
    count, until = parts.pop("COUNT", None), parts.pop("UNTIL", None)
    parts.pop("WKST", None)
    days = parts.pop("BYDAY", None)
    month_days = parts.pop("BYMONTHDAY", None)
    months = parts.pop("BYMONTH", None)
    text = None
    if not parts:
        if freq == "DAILY" and not (days or month_days or months):
            text = "Every day" if interval == 1 else f"Every {interval} days"
        elif freq == "WEEKLY" and not (month_days or months):
            if days == "MO,TU,WE,TH,FR" and interval == 1:
                text = "Every weekday (Monday to Friday)"
            elif days and all(item in WEEKDAY_CODES for item in days.split(",")):
                names = _join([WEEKDAY_NAMES[WEEKDAY_CODES.index(item)] for item in days.split(",")])
                text = f"Every {names}" if interval == 1 else f"Every {interval} weeks on {names}"
            elif not days:
                text = "Every week" if interval == 1 else f"Every {interval} weeks"
        elif freq == "MONTHLY" and not months:
            every = (
                "Monthly" if interval == 1 else ("Quarterly" if interval == 3 else f"Every {interval} months")
            )
            if month_days == "-1" and not days and shift == "previous":
                text, shift = f"{every} on the last working day", "none"
            elif month_days and "," not in month_days and not days:
                text = f"{every} on {_day_text(month_days)}"
            elif days and not month_days and "," not in days:
                match = _BYDAY_ITEM.match(days)
                if match and match.group(1) and int(match.group(1)) in ORDINALS:
                    weekday = WEEKDAY_NAMES[WEEKDAY_CODES.index(match.group(2))]
                    text = f"{every} on the {ORDINALS[int(match.group(1))]} {weekday}"
        elif freq == "YEARLY" and months and month_days and "," not in months + month_days and not days:
            every = "Every year" if interval == 1 else f"Every {interval} years"
            text = f"{every} on {int(month_days)} {MONTH_NAMES[int(months)]}"
    if text is None:
        text = f"Custom rule: {rrule.strip()}"
    if count:
        text += f", {count} times"
    if until:
        text += f", until {until[:4]}-{until[4:6]}-{until[6:8]}"
    if shift == "previous":
        text += " (on a non-working day: the previous working day)"
    elif shift == "next":
        text += " (on a non-working day: the next working day)"
    return text


# --- Expanding rules ------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def _parsed(rrule: str, dtstart: datetime, tz_name: str):
    """dateutil's rule for ``rrule`` from the naive local ``dtstart`` (cached: rules are immutable).

    A UTC ``UNTIL`` (…Z) is turned into local wall-clock time, since the expansion is naive local.
    """
    text = rrule
    match = re.search(r"UNTIL=(\d{8}T\d{6})Z", text)
    if match:
        until_utc = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        local = until_utc.astimezone(_zone(tz_name)).replace(tzinfo=None)
        text = text.replace(match.group(0), f"UNTIL={local:%Y%m%dT%H%M%S}")
    return rrulestr(text, dtstart=dtstart, cache=False)


def weekday_checker(
    *, open_weekdays: set[int] | frozenset[int], holidays: set[date] | frozenset[date] = frozenset()
) -> Callable[[date], bool]:
    """``is_working_day(date)`` for weekdays (Monday = 0) that open, minus ``holidays``."""
    open_weekdays, holidays = frozenset(open_weekdays), frozenset(holidays)
    return lambda day: day.weekday() in open_weekdays and day not in holidays


DEFAULT_WORKING_DAY = weekday_checker(open_weekdays={0, 1, 2, 3, 4})


def _shifted(day: date, step: timedelta, is_working_day: Callable[[date], bool], memo: dict) -> date:
    found = memo.get(day)
    if found is None:
        candidate, found = day, day
        for _ in range(MAX_SHIFT_DAYS):
            if is_working_day(candidate):
                found = candidate
                break
            candidate += step
        memo[day] = found
    return found


def expand(
    *,
    rrule: str,
    starts_on: date,
    local_time: time,
    tz: str,
    window_start: datetime,
    window_end: datetime,
    ends_on: date | None = None,
    shift: str = "none",
    is_working_day: Callable[[date], bool] | None = None,
) -> list[tuple[datetime, datetime]]:
    """The occurrences whose rule instant lies in ``[window_start, window_end)``, in time order, as
    ``(original_due_at, due_at)`` pairs of aware UTC datetimes.

    ``original_due_at`` is the instant the rule gives (the occurrence's identity); ``due_at`` the
    instant after the non-working-day ``shift`` ("none", "previous", "next"; same wall-clock time,
    per ``is_working_day(date)``, Monday to Friday when not given). ``ends_on`` is the last local
    date an occurrence may fall on (by the rule's date). ``window_start``/``window_end`` are aware.
    """
    zone = _zone(tz)
    dtstart = datetime.combine(starts_on, local_time.replace(tzinfo=None, fold=0))
    rule = _parsed(rrule, dtstart, tz)
    # Naive local bounds, a day wider on each side for offsets; the exact UTC filter follows.
    low = window_start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    high = window_end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    if low < dtstart:
        low = dtstart
    if ends_on is not None:
        last = datetime.combine(ends_on, time.max)
        if last < high:
            high = last
    if high < low:
        return []
    shifting = shift in ("previous", "next")
    if shifting:
        step = timedelta(days=-1 if shift == "previous" else 1)
        check = is_working_day or DEFAULT_WORKING_DAY
        memo: dict[date, date] = {}
    start_utc, end_utc = window_start.astimezone(UTC), window_end.astimezone(UTC)
    # Local → UTC as ``wall time − utcoffset`` (zoneinfo reads a naive time with fold=0, so a time in
    # the spring gap moves forward by the gap and a repeated autumn time is the first one); about
    # five times faster than ``replace(tzinfo=…).astimezone(UTC)``, which matters at this volume.
    offset_of, combine = zone.utcoffset, datetime.combine
    result = []
    append = result.append
    for local in rule.between(low, high, inc=True):
        utc_wall = local - offset_of(local)
        original = combine(utc_wall, utc_wall.time(), UTC)
        if original < start_utc or original >= end_utc:
            continue
        due = original
        if shifting:
            day = local.date()
            moved = _shifted(day, step, check, memo)
            if moved != day:
                local_moved = combine(moved, local.time())
                utc_wall = local_moved - offset_of(local_moved)
                due = combine(utc_wall, utc_wall.time(), UTC)
        append((original, due))
    return result
