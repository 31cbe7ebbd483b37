"""Schemathesis against the live API: every operation of ``/api/schema/``, bounded, in two passes: as
the helpdesk's write key, then as a project lead.

Run from the repository root after ``.venv/bin/pip install schemathesis`` (not a project dependency):

    .venv/bin/python bench/schemathesis_run.py [--max-examples 20] [--max-time 600] [--as key,lead]
        [--keep]

(``bench/schemathesis_run.sh`` is the same for ``.ci/run``.) It creates a scratch PostgreSQL database
(``schemathesis_run``, next to DATABASE_URL's), migrates it, seeds the Northwind helpdesk world with a
read-write API key and a project lead, starts gunicorn (2 workers, DEBUG off, throttle raised), and
runs, once per pass,

    schemathesis run <base>/api/schema/ --url <base> -H <credentials>
        --checks not_a_server_error,response_schema_conformance --max-examples N --seed S
        --phases examples,coverage,fuzzing

The key pass sends ``Authorization: Api-Key <key>``: the helpdesk's requests, events and reads. An API
key may not change configuration, so there every write of plans, parties, calendars, policies, tasks
and the rest is a 403. The lead pass reaches them (about 130 operations the key pass cannot): it loads
the demo plan (``manage.py seed_demo``, plus a few rows the demo has none of), sends its project
lead's session cookie and a CSRF token, and gives every ``{id}`` operation the id of an existing row
in a generated ``var/schemathesis/lead.toml`` (random ids only reach a detail operation's 404); the
key pass gets the same for the rows of its own plan (``key.toml``).
``--max-time`` bounds each pass.

The server's output goes to ``var/schemathesis/server.log``; the errors it logged (the traceback of
each 500) are printed at the end. It prints each pass's generated request count (the issue asks for
at least 2,000) and exits non-zero when schemathesis found a failure or when a pass generated fewer
than ``--min-requests``.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.live_stack import (
    ROOT,
    gunicorn,
    migrate,
    scratch_database_create,
    scratch_database_drop,
    seed,
    stack_env,
)

DATABASE = "schemathesis_run"
LOG_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ ")  # settings.LOGGING's format
DEMO_SLUG = "northwind-d365"  # supportplan/management/commands/seed_demo.py
SCHEMATHESIS = str(ROOT / ".venv" / "bin" / "schemathesis")


def seed_requests(base: str, key: str, count: int = 5) -> None:
    """A few requests with events, so list and detail responses have rows to conform."""
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


def logged_errors(log: Path, limit: int = 400) -> list[str]:
    """The server's ERROR records in ``log`` (gunicorn's output), each with its traceback: what a
    500 schemathesis reports was, or an error a request survived (a repair after commit)."""
    if not log.exists():
        return []
    lines: list[str] = []
    inside = False
    for line in log.read_text(errors="replace").splitlines():
        if LOG_RECORD.match(line):
            inside = " ERROR " in line or " CRITICAL " in line
        elif line.startswith("[") and "] [" in line:  # gunicorn's own records
            inside = "[ERROR]" in line or "[CRITICAL]" in line
            if inside:
                lines.append(line)
                continue
        if inside:
            lines.append(line)
    return lines[:limit]


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


# A project lead's session, as the browser holds it after logging in: the configuration writes (plans,
# parties, calendars, SLA policies, …) are a lead's, never an API key's.
SESSION_SCRIPT = r"""
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.get(username="alice"))
print(client.cookies[settings.SESSION_COOKIE_NAME].value)
"""


def lead_session_headers(url: str) -> list[str]:
    """Headers that make schemathesis the demo plan's project lead (alice): the session cookie, and a
    CSRF token in both the cookie and the header, as DRF's SessionAuthentication checks unsafe methods."""
    env = stack_env(url, DJANGO_SETTINGS_MODULE="supportplan.settings")
    result = subprocess.run(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "python"), "-c", SESSION_SCRIPT],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    session = result.stdout.strip().splitlines()[-1]
    # A 32-character secret, unmasked: Django accepts it in the header as the cookie holds it.
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return [f"Cookie: sessionid={session}; csrftoken={csrf}", f"X-CSRFToken: {csrf}"]


def seed_demo(url: str) -> None:
    """The demo plan (``manage.py seed_demo``): a row of every kind, so the lead pass's detail
    operations get ids that exist."""
    subprocess.run(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "seed_demo"],
        cwd=ROOT,
        env=stack_env(url, DJANGO_SETTINGS_MODULE="supportplan.settings"),
        check=True,
        capture_output=True,
    )


def _get_json(base: str, path: str, headers: list[str]):
    request = urllib.request.Request(f"{base}{path}", headers=dict(h.split(": ", 1) for h in headers))  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def _post_json(base: str, path: str, headers: list[str], body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={**dict(h.split(": ", 1) for h in headers), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def add_rows_the_demo_lacks(base: str, headers: list[str], plan_slug: str) -> None:
    """Two rows each (one for DELETE, one for the other methods) of what the demo plan has none of:
    risks, calendar-feed links, and a helpdesk integration (an API key) with status mappings.
    (Webhook endpoints stay empty: their test delivery would go out to the network.)"""
    keys = _get_json(base, "/api/v1/api-keys/", headers)["results"]
    if not keys:
        keys = [_post_json(base, "/api/v1/api-keys/", headers, {"plan": plan_slug, "name": "ServiceNow"})]
        keys.append(_post_json(base, "/api/v1/api-keys/", headers, {"plan": plan_slug, "name": "Jira"}))
    bodies = [
        ("/api/v1/risks/", {"plan": plan_slug, "title": "Peak in week one"}),
        ("/api/v1/risks/", {"plan": plan_slug, "title": "Partner holidays in August"}),
        ("/api/v1/feed-tokens/", {"plan": plan_slug, "scope": "plan"}),
        ("/api/v1/feed-tokens/", {"plan": plan_slug, "scope": "plan"}),
    ]
    if keys:
        for external, status in (
            ("Pending Caller", "awaiting_customer"),
            ("Work in Progress", "in_progress"),
        ):
            mapping = {
                "plan": plan_slug,
                "api_key": keys[0]["id"],
                "external_status": external,
                "status": status,
            }
            bodies.append(("/api/v1/status-mappings/", mapping))
    for path, body in bodies:
        _post_json(base, path, headers, body)


def existing_ids_config(base: str, headers: list[str], plan_slug: str) -> tuple[str, int]:
    """A schemathesis.toml that gives each ``{id}`` operation the id of a row ``headers``' principal
    can see (the first of its list), and ``{slug}``/``{plan_slug}`` the plan ``plan_slug``: random ids
    only ever reach the 404 of a detail operation, never its validation. A DELETE gets another row
    (the list's last), so the other methods keep theirs; with a single row it keeps random ids.
    Returns the TOML text and how many operations it points at rows."""
    schema = _get_json(base, "/api/schema/?format=json", headers)
    blocks: list[str] = []
    pointed = 0
    lists: dict[str, list[int]] = {}
    for path, operations in sorted(schema["paths"].items()):
        fixed: dict[str, object] = {}
        for name in ("slug", "plan_slug"):
            if "{" + name + "}" in path:
                fixed[name] = plan_slug
        ids: list[int] = []
        if "{id}" in path:
            collection = path.split("{id}")[0]
            if collection not in lists:
                try:
                    answer = _get_json(base, collection, headers)
                except OSError:
                    answer = []
                rows = answer.get("results", []) if isinstance(answer, dict) else answer
                lists[collection] = [row["id"] for row in rows if isinstance(row, dict) and "id" in row]
            ids = lists[collection]
            if not ids:
                continue
        if not fixed and not ids:
            continue
        methods = [
            method.upper() for method in operations if method in ("get", "put", "patch", "post", "delete")
        ]
        for method in methods:
            parameters = dict(fixed)
            if ids:
                if method == "DELETE" and len(ids) < 2:
                    continue
                parameters["id"] = ids[-1] if method == "DELETE" else ids[0]
            values = ", ".join(f'"path.{name}" = {json.dumps(value)}' for name, value in parameters.items())
            blocks.append(
                # One name ("METHOD /path"): include-path and include-method would be two filters, and
                # schemathesis takes an operation that passes either.
                f"[[operations]]\ninclude-name = {json.dumps(f'{method} {path}')}\n"
                f"parameters = {{ {values} }}\n"
            )
            pointed += 1
    return "\n".join(blocks), pointed


def schemathesis_command(
    base: str, headers: list[str], ndjson: Path, args, max_time: int, config: Path | None = None
) -> list[str]:
    command = [SCHEMATHESIS]
    if config is not None:
        command += ["--config-file", str(config)]
    command += ["run", f"{base}/api/schema/", "--url", base]
    for header in headers:
        command += ["-H", header]
    command += [
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(max_time),
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
    return command


def printable(command: list[str]) -> str:
    secret = ("Authorization:", "Cookie:", "X-CSRFToken:")
    return " ".join(part.split(" ", 1)[0] + " …" if part.startswith(secret) else part for part in command)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20, help="per API operation")
    parser.add_argument(
        "--max-time", type=int, default=900, help="seconds for each pass (the key's, the lead's)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing", help="CI uses examples,fuzzing to bound the run"
    )
    parser.add_argument("--min-requests", type=int, default=2000, help="in each pass")
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers")
    parser.add_argument(
        "--as",
        dest="principals",
        default="key,lead",
        help="the passes, in order: key (the helpdesk's read-write API key), lead (a project lead's session)",
    )
    parser.add_argument("--include-path-regex", default="", help="restrict to matching paths (debugging)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not Path(SCHEMATHESIS).exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install schemathesis")
    principals = [name.strip() for name in args.principals.split(",") if name.strip()]
    if not principals or set(principals) - {"key", "lead"}:
        sys.exit("--as: a comma-separated list of key and lead")

    report_dir = ROOT / "var" / "schemathesis"
    report_dir.mkdir(parents=True, exist_ok=True)
    print(f"Scratch database {DATABASE}: creating, migrating, seeding…", flush=True)
    url = scratch_database_create(DATABASE)
    server_log = report_dir / "server.log"
    outcomes: list[tuple[str, int, int, float]] = []
    try:
        migrate(url)
        seeded = seed(url)
        if "lead" in principals:
            seed_demo(url)
        with gunicorn(url, workers=2, log=server_log, API_THROTTLE_RATE="1000000/minute") as base:
            seed_requests(base, seeded.write_key)
            for principal in principals:
                if principal == "key":
                    headers = [f"Authorization: Api-Key {seeded.write_key}"]
                    text, pointed = existing_ids_config(base, headers, seeded.plan_slug)
                else:
                    headers = lead_session_headers(url)
                    add_rows_the_demo_lacks(base, headers, DEMO_SLUG)
                    text, pointed = existing_ids_config(base, headers, DEMO_SLUG)
                config = report_dir / f"{principal}.toml"
                config.write_text(text)
                print(f"{pointed} operations of the {principal} pass get ids of existing rows ({config})")
                ndjson = report_dir / f"events-{principal}.ndjson"
                ndjson.unlink(missing_ok=True)
                command = schemathesis_command(base, headers, ndjson, args, args.max_time, config)
                print(f"== pass as {principal}\n$ {printable(command)}", flush=True)
                began = time.monotonic()
                result = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603
                took = time.monotonic() - began
                outcomes.append((principal, result.returncode, generated_requests(ndjson), took))
    finally:
        if not args.keep:
            scratch_database_drop(DATABASE)
    failed = 0
    for principal, returncode, count, took in outcomes:
        print(f"schemathesis as {principal}: exit code {returncode}, {count} requests recorded, {took:.0f} s")
        if returncode != 0:
            failed = failed or returncode
        elif count and count < args.min_requests:
            print(f"Fewer than {args.min_requests} generated requests as {principal}: raise --max-examples.")
            failed = 1
    errors = logged_errors(server_log)
    if errors:
        print(f"The server logged errors ({server_log}):")
        print("\n".join(errors))
    print(f"schemathesis in all: {sum(count for _, _, count, _ in outcomes)} requests recorded")
    return failed


if __name__ == "__main__":
    sys.exit(main())
