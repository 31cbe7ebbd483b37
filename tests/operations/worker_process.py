"""A real ``celery worker`` subprocess for the end-to-end tests (notices, SLA sweep, access expiry):
it runs against the test's PostgreSQL database and its own Redis database, and writes e-mails with
Django's file backend into the test's folder."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def read_mail(folder: Path) -> list:
    """The messages Django's file backend wrote (one file per connection, messages separated by dashes)."""
    found = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                found.append(email.message_from_string(chunk, policy=email.policy.default))
    return found


def start_worker(*, broker: str, var_dir: Path, hostname: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "SUPPORTPLAN_VAR_DIR": str(var_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "supportplan",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            "--hostname",
            hostname,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
