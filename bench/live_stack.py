"""A real stack for the ingestion bench and the schemathesis run: a scratch PostgreSQL database,
migrated, seeded with the Northwind helpdesk world and a read-write API key, and gunicorn serving it.

Not a test helper: ``bench/bench_ingestion.py`` and ``bench/schemathesis_run.py`` import it.
PostgreSQL comes from ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``);
the scratch database is created next to it and dropped afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    parsed = urlparse(server_url())
    if not parsed.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL for this run.")
    return urlunparse(parsed._replace(path=f"/{name}"))


def _admin_connection():
    import psycopg2

    parsed = urlparse(server_url())
    connection = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
    )
    connection.autocommit = True
    return connection


def scratch_database_create(name: str) -> str:
    """Drops and creates database ``name``; returns its URL."""
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return database_url(name)


def scratch_database_drop(name: str) -> None:
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def _tool(root: Path, name: str) -> str:
    """``root``'s own ``.venv/bin/<name>``, else this checkout's (a worktree may share the venv)."""
    path = root / ".venv" / "bin" / name
    return str(path if path.exists() else ROOT / ".venv" / "bin" / name)


def stack_env(url: str, *, root: Path = ROOT, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off, so no query log) over plain HTTP on localhost."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="ERROR",
        CELERY_TASK_ALWAYS_EAGER="false",
        # Its own var dir: DEBUG off serves collected, hashed static files (404 pages use them).
        SUPPORTPLAN_VAR_DIR=str(root / "var" / "bench-stack"),
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def migrate(url: str, *, root: Path = ROOT) -> None:
    """Migrates the scratch database and collects static files (as a deployment would), with the
    code of the checkout at ``root``."""
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run(  # noqa: S603
            [_tool(root, "python"), "manage.py", *command],
            cwd=root,
            env=stack_env(url, root=root),
            check=True,
        )


@dataclass
class Seeded:
    plan_slug: str
    write_key: str
    read_key: str
    party_ids: dict[str, int]


SEED_SCRIPT = r"""
import json, django
django.setup()
from django.contrib.auth import get_user_model
from supportplan import services as plan_services
from supportplan.models import ApiKeyScope, Membership, PlanRole, SupportPlan
from operations.models import StatusMapping
from tests.operations.helpdesk_fixtures import build_helpdesk_world
lead = get_user_model().objects.create_user("bench-lead", "lead@example.com", "bench-password-123")
# As the tests build it (tests/factories.py): the helpdesk world seeds priorities and levels itself.
plan = SupportPlan.objects.create(
    name="Northwind Distribution", slug="northwind", products=["finance_operations"]
)
Membership.objects.create(plan=plan, user=lead, role=PlanRole.PROJECT_LEAD)
world = build_helpdesk_world(plan)
key, raw = plan_services.api_key_create(plan=plan, name="ServiceNow", scope=ApiKeyScope.READ_WRITE,
                                        created_by=lead)
_read, raw_read = plan_services.api_key_create(plan=plan, name="Reporting", scope=ApiKeyScope.READ,
                                               created_by=lead)
for external, status, effect in [("New", "new", ""), ("Assigned", "assigned", ""),
        ("Work in Progress", "in_progress", ""), ("Pending Caller", "awaiting_customer", "pause"),
        ("Pending Vendor", "awaiting_vendor", ""), ("Resolved", "resolved", ""), ("Closed", "closed", "")]:
    StatusMapping.objects.create(plan=plan, api_key=key, external_status=external, status=status,
                                 clock_effect=effect)
print(json.dumps({"plan_slug": plan.slug, "write_key": raw, "read_key": raw_read,
                  "party_ids": {"partner": world.partner.pk, "helpdesk": world.helpdesk.pk,
                                "isv": world.isv.pk, "microsoft": world.microsoft.pk}}))
"""


# The Northwind steady-state policy starts on 1 January 2027; a bench whose requests are reported
# before that (its events must lie in the past) would run without any SLA target, so without clocks.
POLICY_BACKDATE_SCRIPT = r"""
from datetime import date
from operations.models import SlaPolicy
SlaPolicy.objects.filter(plan=plan, phase="steady_state").update(valid_from=date.fromisoformat(%r))
"""


def seed(url: str, *, steady_state_from: str | None = None, root: Path = ROOT) -> Seeded:
    """Seeds the scratch database. ``steady_state_from`` (ISO date) moves the start of the
    steady-state SLA policy back, so requests reported after it run SLA clocks."""
    import json

    env = stack_env(url, root=root, DJANGO_SETTINGS_MODULE="supportplan.settings")
    script = SEED_SCRIPT
    if steady_state_from:
        date.fromisoformat(steady_state_from)
        marker = "print(json.dumps("
        script = script.replace(marker, POLICY_BACKDATE_SCRIPT % steady_state_from + marker, 1)
    result = subprocess.run(  # noqa: S603
        [_tool(root, "python"), "-c", script], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return Seeded(**json.loads(result.stdout.strip().splitlines()[-1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    url: str,
    *,
    workers: int = 2,
    threads: int = 1,
    settings_module: str = "supportplan.settings",
    root: Path = ROOT,
    log: Path | None = None,
    **extra_env: str,
):
    """Yields the base URL of gunicorn serving the scratch database with the code of the checkout
    at ``root``: ``workers`` processes, the product's sync workers when ``threads`` is 1
    (``supportplan.gunicorn_worker``), else gthread workers with that many threads each. Its output
    (Django's log, tracebacks of server errors) goes to ``log`` when given, else to ours."""
    port = free_port()
    env = stack_env(url, root=root, DJANGO_SETTINGS_MODULE=settings_module, **extra_env)
    command = [
        _tool(root, "gunicorn"),
        "supportplan.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(root),
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    elif (root / "supportplan" / "gunicorn_worker.py").exists():  # older checkouts: gunicorn's own
        command += ["--worker-class", "supportplan.gunicorn_worker.SyncWorker"]
    output = log.open("w") if log is not None else None
    process = subprocess.Popen(command, cwd=root, env=env, stdout=output, stderr=output)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if output is not None:
            output.close()
