"""Business-time arithmetic on a weekly schedule, proof against daylight-saving changes.

Pure Python (stdlib ``zoneinfo`` only, no Django): the SLA services, the breach scanner and the
"when does it breach?" calculator all call it.

How it works: the weekly windows of each local date are turned into UTC instants once (integer
microseconds since the Unix epoch), merged with the extra open periods into sorted, disjoint
``[start, end)`` intervals with a running total of open time, and every call is answered with a
``bisect``. The intervals cover a horizon of local dates that grows lazily, a year at a time, in both
directions, so no year is out of reach. The query arrays hold the same exact values as ``timedelta``
offsets from the epoch (a timedelta is integer days, seconds and microseconds: no floats anywhere),
because ``aware - EPOCH`` then needs no int conversion, which halves the cost of a call.

Rules (see ``BusinessCalendar``):

* A window belongs to the local date it starts on; a window whose end is not after its start runs
  past midnight into the next day, and ``(00:00, 00:00)`` is the whole day.
* A holiday closes the windows that *start* on it: a Monday-night shift that runs into a Tuesday
  holiday still runs to its end.
* A boundary that does not exist that day (the clocks jump past it) is the instant of the jump; an
  ambiguous one (the clocks fall back) is its first occurrence. Durations are real elapsed time:
  a 01:00-04:00 window in Berlin lasts 2 h on the spring-forward night and 4 h on the fall-back one.
* End-of-day convention: a deadline that runs out exactly at closing time *is* that closing time,
  not the next opening (``add`` returns the earliest instant at which the amount is used up).

Comparing the results: ``add`` and ``next_open`` answer in the calendar's zone. Compare them with
other instants in UTC (``.astimezone(UTC)``): Python's ``==`` between datetimes of different zones
is always False for a time in a repeated fall-back hour (PEP 495), and ``==``, ``<`` and ``-``
between two datetimes of the *same* zone compare wall clocks and ignore ``fold``.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
ZERO = timedelta()
ONE_DAY = timedelta(days=1)
CHUNK_DAYS = 366  # the horizon grows by about a year at a time
GIVE_UP = timedelta(days=3653)  # ten years without open time: the calendar is treated as closed
_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 -- naive on purpose: local wall-clock arithmetic
_EPOCH_ORDINAL = _NAIVE_EPOCH.toordinal()
_MIN_DAY = date(1, 1, 2).toordinal() - _EPOCH_ORDINAL
_MAX_DAY = date(9999, 12, 30).toordinal() - _EPOCH_ORDINAL
# Sentinels before year 1 and after year 9999 keep the hot path free of bounds checks.
_LOW = timedelta(days=_MIN_DAY - 100_000)
_HIGH = timedelta(days=_MAX_DAY + 100_000)

Window = tuple[time, time]


def _since_epoch(value: datetime, name: str) -> timedelta:
    """The exact time since the Unix epoch of an aware datetime (any zone)."""
    try:
        return value - EPOCH
    except TypeError:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}") from None


class BusinessCalendar:
    """Open hours in one IANA time zone: weekly windows, minus holidays, plus extra periods.

    ``weekly`` maps a weekday (Monday = 0 ... Sunday = 6) to windows of local wall-clock time;
    ``holidays`` are local dates whose windows do not open; ``extra`` are additional open periods
    as pairs of aware datetimes (any zone). Overlapping windows and periods merge.

    Datetimes passed in must be aware (any zone); ``add`` and ``next_open`` return aware
    datetimes in the calendar's zone (see the module docstring on comparing them),
    ``open_intervals`` aware UTC datetimes. Precision is one
    microsecond throughout. The calendar is immutable; its lazily grown interval cache is
    replaced atomically, so one instance may be shared between threads.
    """

    __slots__ = (
        "_epoch_local",
        "_extra",
        "_first_day",
        "_fromutc",
        "_holidays",
        "_lock",
        "_state",
        "_weekly",
        "_windows",
        "tz",
    )

    def __init__(
        self,
        *,
        timezone: str,
        weekly: Mapping[int, Sequence[tuple[time, time]]],
        holidays: Iterable[date] = (),
        extra: Iterable[tuple[datetime, datetime]] = (),
    ) -> None:
        try:
            self.tz: ZoneInfo = ZoneInfo(timezone)
        except (KeyError, ValueError, TypeError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        # The epoch as a UTC wall time carrying our tzinfo: ``fromutc(_epoch_local + delta)`` turns
        # microseconds into a local datetime about twice as fast as ``astimezone``.
        self._epoch_local = datetime(1970, 1, 1, tzinfo=self.tz)
        self._fromutc = self.tz.fromutc
        table: list[tuple[Window, ...]] = [()] * 7
        for weekday, windows in weekly.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be an int from 0 (Monday) to 6 (Sunday), got {weekday!r}")
            pairs = []
            for opens, closes in windows:
                for moment in (opens, closes):
                    if not isinstance(moment, time) or moment.tzinfo is not None:
                        raise ValueError(f"window bounds must be naive local times, got {moment!r}")
                pairs.append((opens.replace(fold=0), closes.replace(fold=0)))
            table[weekday] = tuple(sorted(pairs))
        self._weekly = tuple(table)
        days = set()
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"holidays must be dates, got {day!r}")
            days.add(day)
        self._holidays = frozenset(days)
        periods = []
        for opens_at, closes_at in extra:
            start = _since_epoch(opens_at, "an extra period's start") // ONE_US
            end = _since_epoch(closes_at, "an extra period's end") // ONE_US
            if end < start:
                raise ValueError(f"extra period ends before it starts: {opens_at} > {closes_at}")
            if end > start:
                periods.append((start, end))
        self._extra = tuple(periods)  # microseconds since the epoch
        self._lock = threading.Lock()
        self._first_day = 0  # horizon: local dates [_first_day, state end_day) as days since 1970-01-01
        self._windows: list[tuple[int, int]] = []  # microseconds since the epoch
        # (valid_from, valid_to, starts, ends, offsets, cumulative_ends, end_day); see _rebuild
        self._state: tuple = (_HIGH, _LOW, [_LOW, _HIGH], [_LOW, _HIGH], [_LOW, _HIGH], [ZERO, _HIGH], 0)

    def __repr__(self) -> str:
        return f"<BusinessCalendar {self.tz.key}>"

    # -- public API -------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant ``T >= start`` with ``elapsed(start, T) == duration``.

        ``start`` is aware (any zone); the result is aware in the calendar's zone. A deadline that
        runs out exactly at closing time is that closing time. ``add(start, 0)`` is ``start``.
        Raises ``ValueError`` for a negative duration, a naive ``start``, or a calendar with no open
        time in the ten years after ``start``.
        """
        try:
            s = start - EPOCH
        except TypeError:
            raise ValueError(f"start must be an aware datetime, got {start!r}") from None
        if duration <= ZERO:
            if duration == ZERO:
                return start.astimezone(self.tz)
            raise ValueError(f"duration must not be negative, got {duration!r}")
        lo, hi, starts, _, offs, cum, _ = self._state
        if lo <= s:
            i = bisect_right(starts, s) - 1
            used = s - offs[i]
            if used > cum[i]:
                used = cum[i]
            target = used + duration
            end = offs[bisect_left(cum, target)] + target
            if end <= hi:  # the trailing sentinel always fails this test
                return self._fromutc(self._epoch_local + end)
        return self._local(self._add_slow(s, duration))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)`` as a timedelta (microsecond precision).

        Both arguments are aware datetimes (any zone). Raises ``ValueError`` if either is naive or
        ``end`` is before ``start``.
        """
        try:
            a = start - EPOCH
            b = end - EPOCH
        except TypeError:
            raise ValueError(f"start and end must be aware datetimes, got {start!r} and {end!r}") from None
        if b < a:
            raise ValueError(f"end {end} is before start {start}")
        lo, hi, starts, _, offs, cum, _ = self._state
        if a < lo or b > hi:
            _, _, starts, _, offs, cum, _ = self._cover(a, b)
        i = bisect_right(starts, a) - 1
        before = a - offs[i]
        if before > cum[i]:
            before = cum[i]
        i = bisect_right(starts, b) - 1
        upto = b - offs[i]
        if upto > cum[i]:
            upto = cum[i]
        return upto - before

    def is_open(self, at: datetime) -> bool:
        """Whether the aware instant ``at`` lies inside open time (windows are ``[open, close)``)."""
        u = _since_epoch(at, "at")
        state = self._state
        if not state[0] <= u <= state[1]:
            state = self._cover(u, u)
        return u < state[3][bisect_right(state[2], u) - 1]

    def next_open(self, at: datetime) -> datetime:
        """The earliest open instant at or after ``at`` (aware, in the calendar's zone).

        Raises ``ValueError`` if there is no open time in the ten years after ``at``.
        """
        u = _since_epoch(at, "at")
        while True:
            state = self._state
            if not state[0] <= u <= state[1]:
                state = self._cover(u, u)
            hi, starts, ends = state[1], state[2], state[3]
            i = bisect_right(starts, u) - 1
            if u < ends[i]:
                return self._local(u)
            if starts[i + 1] <= hi:
                return self._local(starts[i + 1])
            self._grow_forward(u, state)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open segments counted by ``elapsed(start, end)``, clipped, as aware UTC pairs."""
        a, b = _since_epoch(start, "start"), _since_epoch(end, "end")
        if b < a:
            raise ValueError(f"end {end} is before start {start}")
        state = self._state
        if a < state[0] or b > state[1]:
            state = self._cover(a, b)
        starts, ends = state[2], state[3]
        segments = []
        k = max(bisect_right(starts, a) - 1, 1)
        while starts[k] < b:
            seg_start, seg_end = max(starts[k], a), min(ends[k], b)
            if seg_end > seg_start:
                segments.append((EPOCH + seg_start, EPOCH + seg_end))
            k += 1
        return segments

    # -- internals --------------------------------------------------------------------------

    def _local(self, since_epoch: timedelta) -> datetime:
        return self._fromutc(self._epoch_local + since_epoch)

    def _add_slow(self, s: timedelta, need: timedelta) -> timedelta:
        """``add`` when the horizon must grow first; returns the time since the epoch."""
        state = self._cover(s, s)
        while True:
            hi, starts, offs, cum = state[1], state[2], state[4], state[5]
            i = bisect_right(starts, s) - 1
            target = min(s - offs[i], cum[i]) + need
            end = offs[bisect_left(cum, target)] + target
            if end <= hi:
                return end
            state = self._grow_forward(s, state)

    def _grow_forward(self, since: timedelta, state: tuple) -> tuple:
        """Extend the horizon by a chunk, unless ten years after ``since`` hold no open time."""
        hi, ends = state[1], state[3]
        if hi - max(since, ends[-2]) > GIVE_UP:
            raise ValueError(
                f"the calendar has no open time in the ten years after {(EPOCH + since).isoformat()}"
            )
        return self._cover(since, hi + ONE_DAY)

    def _cover(self, first: timedelta, last: timedelta) -> tuple:
        """Grow the horizon (by at least a chunk) until instants in ``[first, last]`` (times since
        the epoch) are answerable; returns the new state."""
        with self._lock:
            state = self._state
            if state[0] <= first and last <= state[1]:
                return state
            first_day, end_day = self._first_day, state[6]
            need_first = first.days - 3  # local dates are within a day of UTC dates
            need_end = last.days + 3
            if need_first < _MIN_DAY or need_end > _MAX_DAY:
                raise ValueError("date outside the supported range (years 1 to 9999)")
            if first_day == end_day:  # nothing built yet
                first_day = end_day = need_first
            if need_first < first_day:
                new_first = max(need_first - CHUNK_DAYS, _MIN_DAY)
                self._windows[:0] = self._expand(new_first, first_day)
                first_day = new_first
            if need_end > end_day:
                new_end = min(need_end + CHUNK_DAYS, _MAX_DAY)
                self._windows.extend(self._expand(end_day, new_end))
                end_day = new_end
            self._first_day = first_day
            self._state = self._rebuild(first_day, end_day)
            return self._state

    def _rebuild(self, first_day: int, end_day: int) -> tuple:
        """Merge windows and extra periods into disjoint intervals with running open-time totals.

        ``offs[i] = starts[i] - (open time before interval i)``, so the open time before ``t`` inside
        or after interval ``i`` is ``min(t - offs[i], cum[i])``, and the instant at which the total
        reaches ``x`` in interval ``i`` is ``offs[i] + x``. Index 0 and -1 are sentinels. Merging is
        done in integer microseconds; the arrays hold the same values as timedeltas since the epoch.
        """
        starts, ends, offs, cum = [0], [0], [0], [0]
        total = 0
        for s, e in sorted(self._windows + list(self._extra)):
            if len(ends) > 1 and s <= ends[-1]:
                if e > ends[-1]:
                    total += e - ends[-1]
                    ends[-1], cum[-1] = e, total
            else:
                offs.append(s - total)
                total += e - s
                starts.append(s)
                ends.append(e)
                cum.append(total)
        # Windows of earlier dates end before valid_from; those of later dates start after valid_to.
        valid_from, valid_to = timedelta(days=first_day + 3), timedelta(days=end_day - 2)
        starts, ends, offs, cum = ([ONE_US * v for v in values] for values in (starts, ends, offs, cum))
        starts[0] = ends[0] = offs[0] = _LOW  # before it: no open time (t - _LOW > 0 = cum[0])
        starts.append(_HIGH)
        ends.append(_HIGH)
        offs.append(valid_to + ONE_US)  # lands any answer from it past valid_to
        cum.append(_HIGH)
        return (valid_from, valid_to, starts, ends, offs, cum, end_day)

    def _expand(self, first_day: int, end_day: int) -> list[tuple[int, int]]:
        """The weekly windows of local dates ``[first_day, end_day)`` as UTC microsecond pairs."""
        out = []
        weekly, holidays, to_us = self._weekly, self._holidays, self._local_to_us
        day = date.fromordinal(first_day + _EPOCH_ORDINAL)
        for _ in range(end_day - first_day):
            windows = weekly[day.weekday()]
            if windows and day not in holidays:
                for opens, closes in windows:
                    s = to_us(datetime.combine(day, opens))
                    e = to_us(datetime.combine(day if closes > opens else day + ONE_DAY, closes))
                    if e > s:
                        out.append((s, e))
            day += ONE_DAY
        return out

    def _local_to_us(self, local: datetime) -> int:
        """A naive local wall time as microseconds since the epoch.

        An ambiguous time is its first occurrence; a time the clocks jump past is the instant of
        the jump (the first instant whose wall time is at or after ``local``).
        """
        tz = self.tz
        before = local.replace(tzinfo=tz).utcoffset()  # fold=0: the offset before a transition
        after = local.replace(tzinfo=tz, fold=1).utcoffset()
        us = (local - _NAIVE_EPOCH - before) // ONE_US
        if before >= after:  # unambiguous, or the first of two occurrences
            return us
        low, high = (local - _NAIVE_EPOCH - after) // ONE_US, us  # wall(low) < local < wall(high)
        while high - low > 1:
            mid = (low + high) // 2
            if (EPOCH + ONE_US * mid).astimezone(tz).replace(tzinfo=None) >= local:
                high = mid
            else:
                low = mid
        return high
