"""Benchmark: operations.business_time against pandas, business-duration and businesstimedelta.

Run from the repository root after installing the comparators (they are not project dependencies):

    .venv/bin/pip install -r bench/requirements-business-time.txt
    .venv/bin/python bench/business_time.py [--compare N] [--seed S]

Calendar: Monday-Friday 09:00-17:00 Europe/Berlin with German national holidays (``holidays``).
Cases: 100,000 random (start, amount) pairs with a fixed seed, starts at second resolution over
2025-2026 (aware UTC, as the product stores them), one in ten within 72 h of a DST change; add
amounts are whole business hours (1-40, what pandas' CustomBusinessHour can express), elapsed spans
are 0-10 calendar days. Ours is timed on all cases (best of six runs: three before and three after
the comparators, since the VM is shared). The comparators, tens to hundreds of times slower, are
timed once (after a short warm-up) on the first N cases (``--compare``, default 20,000;
``--compare 100000`` runs every case, about three minutes), and each of their answers is compared
with ours on those cases.
Targets (ratios in the same run, see /work/shared/research/perf.md section 1): add >= 40x pandas and
>= 80x businesstimedelta, elapsed >= 25x business-duration, no differing answers.
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import business_duration
import businesstimedelta
import holidays
import pandas as pd
import pytz

from operations.business_time import BusinessCalendar

ZONE = "Europe/Berlin"
CASES = 100_000
OPENS, CLOSES = time(9), time(17)
WORKDAYS = [0, 1, 2, 3, 4]
FIRST, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
TARGETS = {"pandas add": 40, "businesstimedelta add": 80, "business-duration elapsed": 25}


def dst_changes(zone: ZoneInfo, first: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [first, end) at which the zone's offset changes (hourly scan, then exact)."""
    changes, at = [], first
    while at < end:
        nxt = at + timedelta(hours=1)
        if at.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            changes.append(nxt)  # European changes happen on the hour
        at = nxt
    return changes


def make_cases(seed: int, changes: list[datetime]) -> tuple[list, list, set[int]]:
    """(start, whole hours) pairs, (start, end) pairs, and the indices of the cases near a DST change."""
    rng = random.Random(seed)
    span = int((END - FIRST).total_seconds())
    near_dst = set(rng.sample(range(CASES), CASES // 10))
    adds, spans = [], []
    for index in range(CASES):
        if index in near_dst:
            start = rng.choice(changes) + timedelta(seconds=rng.randint(-72 * 3600, 72 * 3600))
        else:
            start = FIRST + timedelta(seconds=rng.randrange(span))
        adds.append((start, rng.randint(1, 40)))
        spans.append((start, start + timedelta(seconds=rng.randint(0, 10 * 86400))))
    return adds, spans, near_dst


def timed(
    run: Callable[[], list], repeat: int, warm_up: Callable[[], object] | None = None
) -> tuple[float, list]:
    """(best seconds, results) of ``repeat`` runs of ``run``, after one untimed ``warm_up``."""
    if warm_up is not None:
        warm_up()
    best, results = float("inf"), []
    for _ in range(repeat):
        started = clock.perf_counter()
        results = run()
        best = min(best, clock.perf_counter() - started)
    return best, results


def us(value: datetime) -> int:
    return (value - EPOCH) // ONE_US


def rate(calls: int, seconds: float) -> str:
    return f"{calls / seconds:>12,.0f} calls/s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=int, default=20_000, help="cases the comparators run on")
    parser.add_argument("--seed", type=int, default=20260329)
    args = parser.parse_args(argv)
    compare = max(1, min(args.compare, CASES))

    zone = ZoneInfo(ZONE)
    holiday_dates = sorted(holidays.Germany(years=range(2024, 2029)))
    changes = dst_changes(zone, FIRST, END)
    adds, spans, near_dst = make_cases(args.seed, changes)
    print(
        f"calendar: {ZONE} Mon-Fri 09:00-17:00, {len(holiday_dates)} German national holidays 2024-2028 "
        f"(holidays {holidays.__version__}, pandas {pd.__version__})"
    )
    print(
        f"cases: {CASES:,} (seed {args.seed}), {CASES // 10:,} within 72 h of the {len(changes)} DST changes "
        f"of 2025-2026; add 1-40 business hours; elapsed spans 0-10 days"
    )
    sub = f"all {CASES:,} cases" if compare == CASES else f"the first {compare:,} cases (subset)"
    near = sum(1 for index in near_dst if index < compare)
    print(
        f"ours timed on all {CASES:,} cases (best of 6); comparators timed once and compared on {sub}, "
        f"{near:,} of them near a DST change"
    )

    # -- ours ---------------------------------------------------------------------------------
    calendar = BusinessCalendar(
        timezone=ZONE, weekly={day: [(OPENS, CLOSES)] for day in WORKDAYS}, holidays=holiday_dates
    )
    hours = {n: timedelta(hours=n) for n in range(1, 41)}
    our_adds = [(start, hours[n]) for start, n in adds]
    calendar.elapsed(FIRST - timedelta(days=30), END + timedelta(days=60))  # build the horizon once
    add, elapsed = calendar.add, calendar.elapsed
    add_s, our_add_results = timed(lambda: [add(s, d) for s, d in our_adds], 3)
    elapsed_s, our_elapsed_results = timed(lambda: [elapsed(a, b) for a, b in spans], 3)
    our_add_us = [us(value) for value in our_add_results[:compare]]
    our_elapsed_s = [value // timedelta(seconds=1) for value in our_elapsed_results[:compare]]

    # -- pandas CustomBusinessHour (add; next-opening convention, wall clock of the stamp's zone) --
    offsets = {
        n: pd.offsets.CustomBusinessHour(
            n=n, start="09:00", end="17:00", weekmask="Mon Tue Wed Thu Fri", holidays=holiday_dates
        )
        for n in range(1, 41)
    }
    pd_cases = [(pd.Timestamp(start).tz_convert(ZONE), offsets[n]) for start, n in adds[:compare]]
    pd_s, pd_results = timed(
        lambda: [ts + offset for ts, offset in pd_cases], 1, lambda: [ts + o for ts, o in pd_cases[:200]]
    )
    normalised = sum(1 for value in our_add_us if not calendar.is_open(EPOCH + ONE_US * value))
    pd_diff = sum(
        1
        for theirs, ours_us in zip(pd_results, our_add_us, strict=True)
        if theirs.value // 1000 != us(calendar.next_open(EPOCH + ONE_US * ours_us))
    )

    # -- businesstimedelta (add and elapsed; closing-time convention like ours) ----------------
    berlin = pytz.timezone(ZONE)
    rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=OPENS, end_time=CLOSES, working_days=WORKDAYS, tz=berlin
            ),
            businesstimedelta.HolidayRule(frozenset(holiday_dates), tz=berlin),
        ]
    )
    deltas = {n: businesstimedelta.BusinessTimeDelta(rules, hours=n) for n in range(1, 41)}
    btd_cases = [(start, deltas[n]) for start, n in adds[:compare]]
    btd_add_s, btd_add = timed(
        lambda: [start + delta for start, delta in btd_cases], 1, lambda: [s + d for s, d in btd_cases[:200]]
    )
    difference = rules.difference
    btd_spans = spans[:compare]
    btd_elapsed_s, btd_elapsed = timed(
        lambda: [difference(a, b).timedelta for a, b in btd_spans],
        1,
        lambda: [difference(a, b) for a, b in spans[:200]],
    )
    btd_add_diff = sum(us(t) != o for t, o in zip(btd_add, our_add_us, strict=True))
    btd_elapsed_diff = sum(
        t // timedelta(seconds=1) != o for t, o in zip(btd_elapsed, our_elapsed_s, strict=True)
    )

    # -- business-duration (elapsed; naive local wall-clock inputs, seconds) ---------------------
    bd_cases = [
        (a.astimezone(zone).replace(tzinfo=None), b.astimezone(zone).replace(tzinfo=None))
        for a, b in spans[:compare]
    ]
    duration = business_duration.businessDuration
    holiday_list = list(holiday_dates)
    bd_s, bd_results = timed(
        lambda: [
            duration(a, b, starttime=OPENS, endtime=CLOSES, holidaylist=holiday_list, unit="sec")
            for a, b in bd_cases
        ],
        1,
        lambda: [
            duration(a, b, starttime=OPENS, endtime=CLOSES, holidaylist=holiday_list)
            for a, b in bd_cases[:200]
        ],
    )
    bd_diff = sum(int(t) != o for t, o in zip(bd_results, our_elapsed_s, strict=True))

    # -- ours again: best of the runs before and after the comparators (the VM is shared) ------
    add_s = min(add_s, timed(lambda: [add(s, d) for s, d in our_adds], 3)[0])
    elapsed_s = min(elapsed_s, timed(lambda: [elapsed(a, b) for a, b in spans], 3)[0])
    ours = {"add": CASES / add_s, "elapsed": CASES / elapsed_s}

    # -- report -----------------------------------------------------------------------------
    print(f"ours add:                          {rate(CASES, add_s)}")
    print(f"ours elapsed:                      {rate(CASES, elapsed_s)}")
    rows = [
        ("pandas add", "add", compare / pd_s, pd_diff),
        ("businesstimedelta add", "add", compare / btd_add_s, btd_add_diff),
        ("business-duration elapsed", "elapsed", compare / bd_s, bd_diff),
        ("businesstimedelta elapsed", "elapsed", compare / btd_elapsed_s, btd_elapsed_diff),
    ]
    ok = True
    for name, op, theirs, diff in rows:
        ratio = ours[op] / theirs
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target >= {target}x: {'met' if ratio >= target else 'MISSED'}"
        ok &= (target is None or ratio >= target) and diff == 0
        print(f"{name + ':':<34} {theirs:>12,.0f} calls/s   ours/theirs {ratio:7.1f}x{verdict}")
    print(
        f"normalised: pandas returns the next opening (09:00 next business day) when the amount runs out "
        f"at closing time; its answers were compared with next_open(ours) ({normalised:,} of {compare:,} "
        f"answers end at a closing time). businesstimedelta and ours both return the closing time; "
        f"business-duration gets naive Berlin wall-clock inputs and answers in whole seconds."
    )
    for name, _, _, diff in rows:
        print(f"differing answers, {name}: {diff:,} of {compare:,}")
    print("all targets met, no differing answers" if ok else "TARGETS MISSED or answers differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
