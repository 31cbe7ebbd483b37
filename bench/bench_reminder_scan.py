# ruff: noqa: S608 (SQL on a constant scratch schema name)
"""Benchmark: the due-reminder scan over 1,000,000 pending occurrences, with the partial index
"occurrence_reminder_due" against the same query without it, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_reminder_scan.py

Data (PostgreSQL, a scratch schema dropped at the end): 1,000,000 open occurrences whose next
reminder lies in the coming 400 days, 200,000 closed ones (no reminder, outside the partial index) and
300 whose reminder is due now: the shape of a busy deployment between two beats. The query is the one
``operations.notify.reminders.reminders_sweep`` sends (``next_remind_at <= now`` through the partial
index, oldest first, 500 rows, ``FOR UPDATE SKIP LOCKED``), run inside a transaction that is rolled
back. Target: the indexed scan >= 100x faster than the same query without the index.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

SCHEMA = "bench_reminder_scan"
PENDING = 1_000_000
CLOSED = 200_000
DUE_NOW = 300
INDEXED_RUNS = 101
UNINDEXED_RUNS = 21

# The sweep's question, as the ORM asks it (see reminders_sweep), on the scratch copy of the table.
SCAN = f"""
SELECT id, task_id, due_at, next_remind_at, next_remind_kind, late_reminders_sent, status
FROM {SCHEMA}.occurrence
WHERE next_remind_at IS NOT NULL AND next_remind_at <= now()
ORDER BY next_remind_at, id
LIMIT 500
FOR UPDATE SKIP LOCKED
"""


def setup() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        # The columns of operations_taskoccurrence that matter to the scan, with the same types.
        cursor.execute(
            f"""
            CREATE TABLE {SCHEMA}.occurrence (
                id bigserial PRIMARY KEY,
                plan_id bigint NOT NULL,
                task_id bigint NOT NULL,
                original_due_at timestamptz NOT NULL,
                due_at timestamptz NOT NULL,
                moved boolean NOT NULL DEFAULT false,
                move_reason varchar(300) NOT NULL DEFAULT '',
                status varchar(10) NOT NULL,
                notes text NOT NULL DEFAULT '',
                next_remind_at timestamptz NULL,
                next_remind_kind varchar(12) NOT NULL DEFAULT '',
                late_reminders_sent smallint NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )"""
        )
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {SCHEMA}.occurrence
                (plan_id, task_id, original_due_at, due_at, status, next_remind_at, next_remind_kind)
            SELECT 1 + n % 50, 1 + n % 20000, d, d, 'open', d - interval '1 day', 'before_due'
            FROM (SELECT n, now() + interval '2 days' + (n * interval '34.56 seconds') AS d
                  FROM generate_series(1, {PENDING}) AS n) AS s"""
        )
        cursor.execute(
            f"""
            INSERT INTO {SCHEMA}.occurrence (plan_id, task_id, original_due_at, due_at, status)
            SELECT 1 + n % 50, 1 + n % 20000, now() - n * interval '30 seconds',
                   now() - n * interval '30 seconds', 'done'
            FROM generate_series(1, {CLOSED}) AS n"""
        )
        cursor.execute(
            f"""
            UPDATE {SCHEMA}.occurrence SET next_remind_at = now() - (id % 600) * interval '1 second',
                   next_remind_kind = 'on_due'
            WHERE id IN (SELECT id FROM {SCHEMA}.occurrence WHERE status = 'open' ORDER BY random()
                         LIMIT {DUE_NOW})"""
        )
        cursor.execute(
            f"CREATE INDEX occurrence_reminder_due ON {SCHEMA}.occurrence (next_remind_at) "
            "WHERE next_remind_at IS NOT NULL"
        )
        cursor.execute(f"ANALYZE {SCHEMA}.occurrence")
        elapsed = time.perf_counter() - started
        print(f"inserted {PENDING:,} pending + {CLOSED:,} closed occurrences in {elapsed:.1f} s")


def timed_scans(runs: int) -> tuple[float, float, int, str]:
    """(median wall time as the sweep sees it, median server execution time from EXPLAIN ANALYZE,
    rows, plan). Each scan runs in a transaction that is rolled back (the locks are released)."""
    wall, server = [], []
    rows = 0
    for _ in range(runs):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(SCAN)
            rows = len(cursor.fetchall())
            wall.append(time.perf_counter() - started)
            transaction.set_rollback(True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + SCAN)
            server.append(_json(cursor.fetchone()[0])[0]["Execution Time"] / 1000)
            transaction.set_rollback(True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + SCAN)
        plan = "\n".join("    " + line for (line,) in cursor.fetchall())
        transaction.set_rollback(True)
    return statistics.median(wall), statistics.median(server), rows, plan


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    setup()
    try:
        timed_scans(5)  # warm the cache
        indexed, indexed_server, rows, indexed_plan = timed_scans(INDEXED_RUNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {SCHEMA}.occurrence_reminder_due")
            cursor.execute(f"ANALYZE {SCHEMA}.occurrence")
        timed_scans(2)
        unindexed, unindexed_server, unindexed_rows, unindexed_plan = timed_scans(UNINDEXED_RUNS)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    assert rows == unindexed_rows == DUE_NOW, (rows, unindexed_rows)
    print(f"due rows found and locked per scan: {rows}")
    print(f"with the partial index ({INDEXED_RUNS} scans):")
    print(f"  median in the database (EXPLAIN ANALYZE): {indexed_server * 1000:8.3f} ms")
    print(f"  median as the sweep sees it (round trip, {rows} rows fetched): {indexed * 1000:8.3f} ms")
    print(indexed_plan)
    print(f"without the index ({UNINDEXED_RUNS} scans):")
    print(f"  median in the database (EXPLAIN ANALYZE): {unindexed_server * 1000:8.3f} ms")
    print(f"  median as the sweep sees it: {unindexed * 1000:8.3f} ms")
    print(unindexed_plan)
    server_ratio = unindexed_server / indexed_server
    wall_ratio = unindexed / indexed
    verdict = "OK" if server_ratio >= 100 else "MISSED"
    print(f"ratio in the database: {server_ratio:,.0f}x faster with the index (target >= 100x): {verdict}")
    print(f"ratio as the sweep sees it (includes fetching {rows} rows into Python): {wall_ratio:,.0f}x")


if __name__ == "__main__":
    main()
