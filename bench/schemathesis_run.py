"""Schemathesis against the live API: every operation of ``/api/schema/``, bounded, with a write key.

Run from the repository root after ``.venv/bin/pip install schemathesis`` (not a project dependency):

    .venv/bin/python bench/schemathesis_run.py [--max-examples 20] [--max-time 600] [--keep]

(``bench/schemathesis_run.sh`` is the same for ``.ci/run``.) It creates a scratch PostgreSQL database
(``schemathesis_run``, next to DATABASE_URL's), migrates it, seeds the Northwind helpdesk world with a
read-write API key, starts gunicorn (2 workers, DEBUG off, throttle raised), and runs

    schemathesis run <base>/api/schema/ --url <base> -H "Authorization: Api-Key <key>"
        --checks not_a_server_error,response_schema_conformance --max-examples N --seed S
        --phases examples,coverage,fuzzing

It prints the generated request count (the issue asks for at least 2,000) and exits non-zero when
schemathesis found a failure or when fewer requests than ``--min-requests`` were generated.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live_stack import ROOT, gunicorn, migrate, scratch_database_create, scratch_database_drop, seed

DATABASE = "schemathesis_run"
SCHEMATHESIS = str(ROOT / ".venv" / "bin" / "schemathesis")


def seed_requests(base: str, key: str, count: int = 5) -> None:
    """A few requests with events, so list and detail responses have rows to conform."""
    import urllib.request
    from datetime import UTC, datetime, timedelta

    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    for number in range(count):
        body = json.dumps(
            {
                "source_system": "servicenow",
                "source_id": f"INC{9000000 + number}",
                "title": f"Seeded request {number}",
                "impact": "high",
                "urgency": "medium",
                "reported_at": reported.isoformat(),
                "references": [{"system": "servicenow", "reference": f"INC{9000000 + number}"}],
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/requests/",
            data=body,
            method="POST",
            headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            request_id = json.loads(response.read())["id"]
        event = json.dumps(
            {
                "kind": "public_update",
                "occurred_at": (reported + timedelta(minutes=20)).isoformat(),
                "body": "Looking into it.",
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/requests/{request_id}/events/",
            data=event,
            method="POST",
            headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310


def generated_requests(report: Path) -> int:
    """Counts the HTTP requests schemathesis sent, from its NDJSON event stream (one recorded
    interaction per request, in each finished scenario)."""
    total = 0
    if not report.exists():
        return total
    for line in report.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        scenario = event.get("ScenarioFinished") if isinstance(event, dict) else None
        if scenario:
            total += len((scenario.get("recorder") or {}).get("interactions") or {})
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20, help="per API operation")
    parser.add_argument("--max-time", type=int, default=900, help="seconds for the whole schemathesis run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing", help="CI uses examples,fuzzing to bound the run"
    )
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers")
    parser.add_argument("--include-path-regex", default="", help="restrict to matching paths (debugging)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not Path(SCHEMATHESIS).exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install schemathesis")

    report_dir = ROOT / "var" / "schemathesis"
    report_dir.mkdir(parents=True, exist_ok=True)
    ndjson = report_dir / "events.ndjson"
    ndjson.unlink(missing_ok=True)
    print(f"Scratch database {DATABASE}: creating, migrating, seeding…", flush=True)
    url = scratch_database_create(DATABASE)
    try:
        migrate(url)
        seeded = seed(url)
        with gunicorn(url, workers=2, API_THROTTLE_RATE="1000000/minute") as base:
            seed_requests(base, seeded.write_key)
            command = [
                SCHEMATHESIS,
                "run",
                f"{base}/api/schema/",
                "--url",
                base,
                "-H",
                f"Authorization: Api-Key {seeded.write_key}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(args.max_examples),
                "--max-time",
                str(args.max_time),
                "--seed",
                str(args.seed),
                "--phases",
                args.phases,
                "--workers",
                str(args.workers),
                "--suppress-health-check",
                "all",
                "--request-timeout",
                "30",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(ndjson),
            ]
            if args.include_path_regex:
                command += ["--include-path-regex", args.include_path_regex]
            printable = [
                part if not part.startswith("Authorization") else "Authorization: Api-Key …"
                for part in command
            ]
            print("$ " + " ".join(printable), flush=True)
            began = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603
            took = time.monotonic() - began
    finally:
        if not args.keep:
            scratch_database_drop(DATABASE)
    count = generated_requests(ndjson)
    print(f"schemathesis exit code {result.returncode}, {count} requests recorded, {took:.0f} s")
    if result.returncode != 0:
        return result.returncode
    if count and count < args.min_requests:
        print(f"Fewer than {args.min_requests} generated requests: raise --max-examples.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
