"""Out-of-order ingestion: 1,000 events over 50 requests sent once in order, and the same events sent
three times each in shuffled order (2,000 of them duplicates), give the same requests and clocks.

Runs in a scratch PostgreSQL database (created when missing and migrated):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_replay_order \\
        .venv/bin/python bench/bench_replay_order.py

Two plans get the same SLA world (tests/operations/helpdesk_fixtures.py: P1–P4, office hours and
24×7, steady state with per-level targets and a ladder). The 50 requests are created through
``request_upsert`` in both plans; then plan A receives the 1,000 events once, sorted by
``occurred_at``, and plan B receives every event three times (same helpdesk event id), all 3,000
sends shuffled. Time is frozen at one instant, so running clocks are compared at the same ``now``.
The comparison covers every derived request column, the references and every clock (state, elapsed
and paused time, start/stop, warn/breach/breached instants, next ladder step). Prints the counts,
the time of each run and ``identical: yes`` (exit status 1 otherwise, with the first differences).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_replay_order"
os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
EVENTS_PER_REQUEST = int(os.environ.get("BENCH_EVENTS_PER_REQUEST", "20"))
SEED = int(os.environ.get("BENCH_SEED", "7"))
NOW = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)
FIRST_REPORT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        return
    import psycopg2
    from psycopg2 import sql

    name = parsed.path.lstrip("/")
    connection = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


# --- The helpdesk's story --------------------------------------------------------------------------
LEVEL_REFERENCE = {
    3: lambda rng: f"PRT-{rng.randrange(1000, 99999)}",
    4: lambda rng: f"FWA-{rng.randrange(100, 99999)}",
    5: lambda rng: "".join(rng.choice("0123456789") for _ in range(16)),
}
WORKING = ["Assigned", "Work in Progress", "Pending Caller", "Pending Vendor", "Pending Change"]


def story(rng: random.Random, index: int) -> tuple[dict, list[dict]]:
    """One request (upsert data) and its events, with distinct ``occurred_at`` instants."""
    reported = FIRST_REPORT + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
    impact, urgency = rng.choice(["high", "medium", "low"]), rng.choice(["high", "medium", "low"])
    request = {
        "title": f"Request {index}",
        "description": f"Customer ACME order {index} cannot be posted",
        "description_anonymised": "An order cannot be posted",
        "impact": impact,
        "urgency": urgency,
        "status": "New",
        "level": 2,
        "reported_at": reported.isoformat(),
        "source_id": f"INC{index:07d}",
        "references": [{"system": "servicenow", "reference": f"INC{index:07d}"}],
    }
    events, at, resolved = [], reported, False
    for number in range(EVENTS_PER_REQUEST):
        at += timedelta(minutes=rng.randrange(3, 480), seconds=rng.randrange(0, 60))
        event = {"occurred_at": at.isoformat(), "source_event_id": f"sn-{index}-{number}"}
        roll = rng.random()
        if resolved:
            if roll < 0.5:
                event.update(kind="reopened", status="Work in Progress")
                resolved = False
            elif roll < 0.7:
                event.update(kind="status_changed", status="Closed")
            else:
                event.update(kind="comment", body="Customer confirmed")
        elif roll < 0.30:
            event.update(kind="status_changed", status=rng.choice(WORKING))
        elif roll < 0.50:
            event.update(kind="public_update", body="We are on it")
        elif roll < 0.68:
            level = rng.choice([2, 3, 3, 4, 5])
            event.update(kind="handed_off", level=level)
            if level in LEVEL_REFERENCE:
                event["reference"] = LEVEL_REFERENCE[level](rng)
        elif roll < 0.76:
            event.update(kind="priority_changed", priority=rng.choice(["P1", "P2", "P3", "P4"]))
        elif roll < 0.88:
            event.update(kind="comment", body="Investigating")
        else:
            event.update(kind="status_changed", status="Resolved")
            resolved = True
        events.append(event)
    return request, events


# --- Ingestion and comparison ----------------------------------------------------------------------
def build_plan(slug: str):
    from tests.factories import PlanFactory
    from tests.operations.helpdesk_fixtures import build_helpdesk_world, build_integration

    plan = PlanFactory(name=f"Bench {slug}", slug=slug)
    build_helpdesk_world(plan)
    return plan, build_integration(plan)


def ingest(plan, api_key, requests, sends) -> tuple[float, int]:
    from operations.helpdesk import services
    from supportplan.access import ApiKeyPrincipal

    principal = ApiKeyPrincipal(api_key)
    by_source = {}
    for data in requests:
        request, _ = services.request_upsert(plan=plan, principal=principal, data=dict(data), api_key=api_key)
        by_source[data["source_id"]] = request
    started = time.perf_counter()
    for source_id, data in sends:
        services.event_record(
            request=by_source[source_id], principal=principal, data=dict(data), api_key=api_key
        )
    return time.perf_counter() - started, len(sends)


def snapshot(plan) -> dict:
    from operations.models import SlaClock, SupportRequest

    state = {}
    for request in SupportRequest.objects.filter(plan=plan).select_related(
        "priority", "current_level", "current_party"
    ):
        state[("request", request.source_id)] = (
            request.status,
            request.priority.code if request.priority else None,
            request.current_level.number if request.current_level else None,
            request.current_party.name if request.current_party else None,
            request.first_response_at,
            request.last_public_update_at,
            request.resolved_at,
            request.closed_at,
            request.phase,
            request.sla_state,
            request.next_breach_at,
            request.event_count,
            tuple(sorted(request.references.values_list("system", "reference"))),
        )
    clocks = SlaClock.objects.filter(plan=plan).select_related(
        "request", "target__priority", "target__support_level", "next_step"
    )
    for clock in clocks:
        level = clock.target.support_level.number if clock.target.support_level else None
        key = ("clock", clock.request.source_id, clock.metric, clock.target.priority.code, level, clock.cycle)
        state[key] = (
            clock.state,
            clock.elapsed_seconds,
            clock.paused_seconds,
            clock.paused_since,
            clock.started_at,
            clock.stopped_at,
            clock.warn_at,
            clock.breach_at,
            clock.breached_at,
            clock.next_step_at,
            (clock.next_step.position, clock.next_step.trigger) if clock.next_step else None,
            clock.next_step_repeat,
            clock.party.name if clock.party else None,
        )
    return state


def main() -> int:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from supportplan.models import SupportPlan

    rng = random.Random(SEED)
    stories = [story(rng, index) for index in range(1, REQUESTS + 1)]
    requests = [request for request, _events in stories]
    events = [(request["source_id"], event) for request, evs in stories for event in evs]
    in_order = sorted(events, key=lambda item: item[1]["occurred_at"])
    shuffled = events * 3
    random.Random(SEED + 1).shuffle(shuffled)

    suffix = f"{os.getpid()}-{int(time.time())}"
    plans = []
    try:
        with time_machine.travel(NOW, tick=False):
            plan_a, key_a = build_plan(f"replay-in-order-{suffix}")
            plans.append(plan_a)
            plan_b, key_b = build_plan(f"replay-shuffled-{suffix}")
            plans.append(plan_b)
            seconds_a, sent_a = ingest(plan_a, key_a, requests, in_order)
            seconds_b, sent_b = ingest(plan_b, key_b, requests, shuffled)
            a, b = snapshot(plan_a), snapshot(plan_b)
        from operations.models import RequestEvent, SlaClock

        stored_a = RequestEvent.objects.filter(plan=plan_a).count()
        stored_b = RequestEvent.objects.filter(plan=plan_b).count()
        clocks = SlaClock.objects.filter(plan=plan_a).count()
        breached = sum(1 for key, value in a.items() if key[0] == "request" and value[9] == "breached")
        print(f"requests: {REQUESTS}, events: {len(events)} (+{REQUESTS} created by the upsert)")
        print(
            f"in order:  {sent_a} sends in {seconds_a:.2f} s ({sent_a / seconds_a:.0f} events/s), "
            f"{stored_a} events stored"
        )
        print(
            f"shuffled:  {sent_b} sends (each event 3×) in {seconds_b:.2f} s "
            f"({sent_b / seconds_b:.0f} sends/s), {stored_b} events stored"
        )
        print(
            f"time per send, shuffled with duplicates vs in order (baseline): "
            f"{(seconds_b / sent_b) / (seconds_a / sent_a):.2f}×"
        )
        print(f"clocks per plan: {clocks}; requests breached: {breached}; compared values: {len(a)}")
        differences = sorted(set(a) ^ set(b)) + sorted(key for key in set(a) & set(b) if a[key] != b[key])
        identical = not differences and stored_a == stored_b
        print(f"identical: {'yes' if identical else 'no'}")
        for key in differences[:10]:
            print("  differs:", key, a.get(key), "!=", b.get(key))
        return 0 if identical else 1
    finally:
        from models_catalog.models import Agreement
        from operations.models import SlaPolicy, SupportRequest

        for plan in plans:  # children first: the SLA set-up is protected while requests use it
            SupportRequest.objects.filter(plan=plan).delete()
            SlaPolicy.objects.filter(plan=plan).delete()
            Agreement.objects.filter(plan=plan).delete()
            SupportPlan.objects.filter(pk=plan.pk).delete()


if __name__ == "__main__":
    sys.exit(main())
