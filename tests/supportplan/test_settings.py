"""Settings come from the environment; junk values stop start-up with a clear message."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportplan.lib.env import Env

ROOT = Path(__file__).resolve().parents[2]


def test_booleans_accept_the_usual_spellings():
    env = Env({"A": "yes", "B": "0", "C": "On"})
    assert (env.bool("A", False), env.bool("B", True), env.bool("C", False), env.bool("D", True)) == (
        True,
        False,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("reader", "environ", "message"),
    [
        (lambda env: env.bool("DEBUG", True), {"DEBUG": "perhaps"}, "DEBUG must be true or false"),
        (lambda env: env.int("PORT", 1), {"PORT": "eighty"}, "PORT must be a whole number"),
        (lambda env: env.int("PORT", 1, minimum=1, maximum=9), {"PORT": "10"}, "between 1 and 9"),
        (lambda env: env.str("SECRET_KEY"), {}, "Set the SECRET_KEY"),
        (lambda env: env.str("X", ""), {"X": "a\x00b"}, "NUL"),
        (
            lambda env: env.database("DATABASE_URL", "sqlite://"),
            {"DATABASE_URL": "mysql://u@h/db"},
            "PostgreSQL",
        ),
        (lambda env: env.database("DATABASE_URL", "sqlite://"), {"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        (lambda env: env.url("BROKER", "", schemes={"redis"}), {"BROKER": "http://x"}, "BROKER must start"),
        (lambda env: env.choice("LEVEL", "INFO", ["INFO"]), {"LEVEL": "LOUD"}, "LEVEL must be one of"),
    ],
)
def test_junk_values_raise_improperly_configured_naming_the_variable(reader, environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        reader(Env(environ))


def test_a_postgres_url_becomes_a_postgres_database():
    config = Env({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}).database("DATABASE_URL", "")
    assert (config["ENGINE"], config["HOST"], config["NAME"]) == (
        "django.db.backends.postgresql",
        "127.0.0.1",
        "test",
    )


def test_lists_and_minutes():
    env = Env({"HOSTS": "a.example, b.example,,", "COOL": "30"})
    assert env.list("HOSTS", []) == ["a.example", "b.example"]
    assert env.minutes("COOL", 15) == timedelta(minutes=30)


def _load_settings(**environ: str) -> subprocess.CompletedProcess:
    env = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}
    }
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-c", "import supportplan.settings as s; print(s.DATABASES['default']['ENGINE'])"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _load_settings(DEBUG="false", SUPPORTPLAN_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_development_default_is_sqlite_under_var(tmp_path):
    result = _load_settings(SUPPORTPLAN_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_a_junk_broker_url_refuses_to_start(tmp_path):
    result = _load_settings(CELERY_BROKER_URL="ftp://nope", SUPPORTPLAN_VAR_DIR=str(tmp_path))
    assert "CELERY_BROKER_URL must start with one of" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-a-Long_and_Random-looking-value-1234567890",
        ALLOWED_HOSTS="supportplan.example.com",
        SUPPORTPLAN_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_time_settings_are_utc_and_aware(settings):
    assert settings.TIME_ZONE == "UTC"
    assert settings.USE_TZ is True
    assert settings.CELERY_TIMEZONE == "UTC"
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
