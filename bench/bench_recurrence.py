"""Benchmark: expanding 1,000 maintenance tasks over a year with ``operations.recurrence.expand``
against bare dateutil (``rrulestr(...).between(...)``) of the same rules, in the same run.

    .venv/bin/python bench/bench_recurrence.py [--tasks N] [--seed S] [--rounds R]

Rules (fixed seed): the form's patterns in realistic proportions (daily, weekdays, weekly on one or
two days, monthly on day N or the last day, Nth / last weekday, the last working day, every N
months, quarterly, yearly), local times between 06:00 and 18:00 in London, Berlin, New York and
Sydney; 40% of the tasks move non-working days to the previous or next working day of an English
office calendar (Monday–Friday with England's bank holidays 2026–2028), and every last-working-day
task does. Window: calendar year 2027.

What each side does per task, per round: parse the rule (our parse cache is cleared before every
round, so both sides parse), expand the window. Ours also localises every occurrence in its zone,
converts it to UTC, filters the exact window and applies the working-day move; dateutil gives naive
wall-clock datetimes only. Best of R rounds each, interleaved (the VM is shared).
Target (issue 6): ours <= 1.3x dateutil.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")

import django

django.setup()

import holidays  # noqa: E402
from dateutil.rrule import rrulestr  # noqa: E402

from operations import recurrence  # noqa: E402
from operations.recurrence import expand, rrule_from_pattern, weekday_checker  # noqa: E402

ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney"]
WINDOW_START, WINDOW_END = datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
TARGET = 1.3
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def random_pattern(rng: random.Random) -> dict:
    roll = rng.random()
    if roll < 0.10:
        return {"kind": "daily", "interval": rng.choice([1, 1, 2])}
    if roll < 0.22:
        return {"kind": "weekdays"}
    if roll < 0.45:
        return {"kind": "weekly", "days": rng.sample(DAYS, rng.choice([1, 1, 2]))}
    if roll < 0.58:
        return {"kind": "monthly_day", "day": rng.choice([1, 5, 15, 28, 31, "last"])}
    if roll < 0.70:
        return {
            "kind": "monthly_nth_weekday",
            "n": rng.choice([1, 2, 3, 4, -1]),
            "weekday": rng.choice(DAYS[:5]),
        }
    if roll < 0.80:
        return {"kind": "last_working_day"}
    if roll < 0.88:
        return {"kind": "every_n_months", "n": rng.choice([2, 4, 6]), "day": rng.choice([1, 10, 20])}
    if roll < 0.95:
        return {"kind": "quarterly", "day": rng.choice([1, 15, "last"])}
    return {"kind": "yearly", "month": rng.randint(1, 12), "day": rng.randint(1, 28)}


def build_tasks(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    tasks = []
    for _ in range(count):
        pattern = random_pattern(rng)
        shift = "previous" if pattern["kind"] == "last_working_day" else "none"
        if shift == "none" and rng.random() < 0.4:
            shift = rng.choice(["previous", "next"])
        tasks.append(
            {
                "rrule": rrule_from_pattern(pattern),
                "starts_on": date(2026, rng.randint(1, 12), rng.randint(1, 28)),
                "local_time": time(rng.randint(6, 18), rng.choice([0, 15, 30, 45])),
                "tz": rng.choice(ZONES),
                "shift": shift,
            }
        )
    return tasks


def run_ours(tasks: list[dict], is_working_day) -> int:
    recurrence._parsed.cache_clear()
    total = 0
    for task in tasks:
        total += len(
            expand(
                rrule=task["rrule"],
                starts_on=task["starts_on"],
                local_time=task["local_time"],
                tz=task["tz"],
                window_start=WINDOW_START,
                window_end=WINDOW_END,
                shift=task["shift"],
                is_working_day=is_working_day if task["shift"] != "none" else None,
            )
        )
    return total


def run_dateutil(tasks: list[dict]) -> int:
    start, end = datetime(2027, 1, 1), datetime(2027, 12, 31, 23, 59, 59)
    total = 0
    for task in tasks:
        dtstart = datetime.combine(task["starts_on"], task["local_time"])
        rule = rrulestr(f"DTSTART:{dtstart:%Y%m%dT%H%M%S}\nRRULE:{task['rrule']}")
        total += len(rule.between(start, end, inc=True))
    return total


def timed(function, *args) -> tuple[float, int]:
    began = clock.perf_counter()
    result = function(*args)
    return clock.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    tasks = build_tasks(args.tasks, args.seed)
    england = set(holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027, 2028]))
    is_working_day = weekday_checker(open_weekdays={0, 1, 2, 3, 4}, holidays=england)
    kinds = {}
    for task in tasks:
        kinds[task["rrule"].split(";")[0]] = kinds.get(task["rrule"].split(";")[0], 0) + 1
    shifted = sum(task["shift"] != "none" for task in tasks)

    run_ours(tasks, is_working_day)  # warm-up (zone files, imports)
    run_dateutil(tasks)
    ours, theirs = [], []
    for _ in range(args.rounds):
        seconds, our_count = timed(run_ours, tasks, is_working_day)
        ours.append(seconds)
        seconds, their_count = timed(run_dateutil, tasks)
        theirs.append(seconds)
    best_ours, best_theirs = min(ours), min(theirs)
    ratio = best_ours / best_theirs
    print(
        f"tasks: {len(tasks)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); shifted: {shifted}"
    )
    print("window: 2027-01-01 .. 2028-01-01 (one year)")
    print(f"occurrences: ours {our_count:,}, dateutil {their_count:,} (window edges differ by zone offsets)")
    print(f"dateutil rrulestr().between(): best {best_theirs * 1000:8.1f} ms  (rounds: {len(theirs)})")
    print(f"operations.recurrence.expand:  best {best_ours * 1000:8.1f} ms")
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"ratio ours / dateutil: {ratio:.2f}x  (target <= {TARGET}x: {verdict})")


if __name__ == "__main__":
    main()
