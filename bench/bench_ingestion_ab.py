"""Benchmark: the ingestion of two checkouts compared in interleaved slices, on this machine.

The shared machine's speed moves by up to 2x from one minute to the next, so two whole runs of
``bench_ingestion.py`` one after the other cannot show a 5–10% change. This runs both versions at
once, each on its own scratch database and gunicorn (2 sync workers), and loads one at a time in
short slices, alternating A B, B A, …; each pair of adjacent slices saw the same machine.

Run from the repository root (the "B" side); ``--other`` is the checkout to compare with ("A",
e.g. a ``git worktree`` of an older commit; it may share this checkout's ``.venv``):

    .venv/bin/python bench/bench_ingestion_ab.py --other ../wt-base [--slices 16] [--slice-seconds 4]

Prints, per side, events/s and the CPU per write (gunicorn, PostgreSQL) over all its slices, and
the B/A ratios of each adjacent pair with their median: the figure to quote.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingestion import Tally, cpu_used, ingest, percentile, run_threads, server_cpu
from bench.http_client import Client
from bench.live_stack import ROOT, gunicorn, migrate, scratch_database_create, scratch_database_drop, seed

#: Source ids and partner references of one slice's clients count from slice × this.
SLICE_NUMBERING = 2_000


@dataclass
class Side:
    label: str
    root: Path
    database: str
    threads: int = 1
    base: str = ""
    seeded: object = None
    events: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    gunicorn_cpu: list[float] = field(default_factory=list)
    postgres_cpu: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    p99s: list[float | None] = field(default_factory=list)  # each slice's event p99, seconds
    latencies: list[float] = field(default_factory=list)  # every event's, all slices

    def rate(self, index: int) -> float:
        return self.events[index] / self.seconds[index]

    def cpu_per_write(self, index: int) -> float:
        return (self.gunicorn_cpu[index] + self.postgres_cpu[index]) / max(self.writes[index], 1)


def load_slice(side: Side, number: int, clients: int, seconds: float, start: datetime) -> None:
    tally = Tally()
    before = server_cpu(side.base, side.database)
    began = time.perf_counter()
    run_threads(
        clients,
        ingest,
        side.base,
        side.seeded,
        time.perf_counter() + seconds,
        tally,
        start,
        number * SLICE_NUMBERING,
    )
    duration = time.perf_counter() - began
    cpu = cpu_used(before, server_cpu(side.base, side.database))
    side.events.append(len(tally.event_latencies))
    side.p99s.append(percentile(tally.event_latencies, 0.99) if tally.event_latencies else None)
    side.latencies.extend(tally.event_latencies)
    side.writes.append(len(tally.event_latencies) + len(tally.upsert_latencies))
    side.seconds.append(duration)
    side.gunicorn_cpu.append(cpu["gunicorn"])
    side.postgres_cpu.append(cpu["postgres"])
    for label, count in tally.errors.items():
        side.errors[label] = side.errors.get(label, 0) + count


def summary(side: Side) -> str:
    events, seconds, writes = sum(side.events), sum(side.seconds), max(sum(side.writes), 1)
    return (
        f"  {side.label}  {events / seconds:5.0f} events/s over {len(side.events)} slices; "
        f"{sum(side.gunicorn_cpu) * 1000 / writes:.2f} ms gunicorn + "
        f"{sum(side.postgres_cpu) * 1000 / writes:.2f} ms PostgreSQL per write; event latency "
        f"p50 {percentile(side.latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(side.latencies, 0.99) * 1000:.1f} ms; "
        f"errors {side.errors or 'none'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, required=True, help="the checkout to compare with (A)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--slices", type=int, default=16, help="per side (at most 49)")
    parser.add_argument("--slice-seconds", type=float, default=4.0)
    parser.add_argument(
        "--threads", type=int, default=1, help="B's gunicorn threads per worker (1 = the product's worker)"
    )
    parser.add_argument("--threads-other", type=int, default=1, help="A's gunicorn threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    if not (args.other / "manage.py").exists():
        sys.exit(f"{args.other} is not a SupportPlan checkout.")
    if not 1 <= args.slices <= 49:
        sys.exit("--slices: 1 to 49 (a slice's source ids must keep their 7 digits).")

    sides = [
        Side("A", args.other.resolve(), "bench_ab_a", threads=args.threads_other),
        Side("B", ROOT, "bench_ab_b", threads=args.threads),
    ]
    today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=35 + today.weekday())
    try:
        with ExitStack() as stack:
            for side in sides:
                print(f"{side.label}: {side.root}: creating, migrating, seeding {side.database}…", flush=True)
                url = scratch_database_create(side.database)
                migrate(url, root=side.root)
                side.seeded = seed(
                    url, steady_state_from=(start.date() - timedelta(days=30)).isoformat(), root=side.root
                )
                side.base = stack.enter_context(
                    gunicorn(
                        url,
                        root=side.root,
                        threads=side.threads,
                        settings_module="bench.ingestion_settings",
                        API_THROTTLE_RATE="1000000/minute",
                    )
                )
                warm = Client(side.base, side.seeded.write_key)
                for _ in range(10):
                    warm.call("GET", "/api/v1/requests/?page_size=1")
            print(
                f"Ingestion: {args.clients} clients, {args.slices} slices of {args.slice_seconds:.0f} s per "
                "side, A B / B A alternating…",
                flush=True,
            )
            for number in range(args.slices):
                order = sides if number % 2 == 0 else sides[::-1]
                for side in order:
                    load_slice(side, number, args.clients, args.slice_seconds, start)
    finally:
        if not args.keep:
            for side in sides:
                scratch_database_drop(side.database)

    a, b = sides
    print(summary(a))
    print(summary(b))
    rates = [b.rate(index) / a.rate(index) for index in range(args.slices) if a.events[index]]
    costs = [
        b.cpu_per_write(index) / a.cpu_per_write(index) for index in range(args.slices) if a.writes[index]
    ]
    print(
        f"  B/A events/s       median {statistics.median(rates):.3f} over {len(rates)} pairs "
        f"(min {min(rates):.2f}, max {max(rates):.2f})"
    )
    tails = [b_p99 / a_p99 for a_p99, b_p99 in zip(a.p99s, b.p99s, strict=True) if a_p99 and b_p99]
    if tails:
        print(
            f"  B/A event p99      median {statistics.median(tails):.3f} "
            f"(min {min(tails):.2f}, max {max(tails):.2f})"
        )
    print(
        f"  B/A server CPU per write  median {statistics.median(costs):.3f} "
        f"(min {min(costs):.2f}, max {max(costs):.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
