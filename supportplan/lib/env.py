"""Typed readers for environment variables.

Every knob of the settings goes through these, so a junk value fails at start-up with an
``ImproperlyConfigured`` that names the variable, instead of a confusing error later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_UNSET = object()


class Env:
    """Reads variables from ``environ`` (``os.environ`` by default, a dict in tests)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is not None and "\x00" in value:
            raise ImproperlyConfigured(f"{name} contains a NUL character.")
        return value

    def str(self, name: str, default: str | object | None = _UNSET) -> str | None:
        value = self._raw(name)
        if value is None:
            if default is _UNSET:
                raise ImproperlyConfigured(f"Set the {name} environment variable.")
            return default  # type: ignore[return-value]
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}.")

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {number}.")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: list[str]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value not in choices:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
        return value

    def minutes(self, name: str, default: int) -> timedelta:
        return timedelta(minutes=self.int(name, default, minimum=1, maximum=60 * 24 * 365))

    def database(self, name: str, default: str) -> dict:
        url = self.str(name, default)
        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except (ValueError, KeyError, Exception) as error:  # dj-database-url raises several types
            raise ImproperlyConfigured(
                f"{name} is not a database URL this app understands: {error}"
            ) from None
        engine = config.get("ENGINE", "")
        if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
            raise ImproperlyConfigured(f"{name} must point at PostgreSQL or SQLite, not {engine or url!r}.")
        if engine.endswith("sqlite3"):
            config.pop("CONN_MAX_AGE", None)
            config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
        return config

    def url(self, name: str, default: str, *, schemes: set[str]) -> str:
        value = self.str(name, default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(f"{name} must start with one of {sorted(schemes)}, not {value!r}.")
        return value
