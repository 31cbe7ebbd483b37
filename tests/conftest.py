"""The cast: alice (project lead), bob (support lead), tina (team member), carol (partner) and
victor (viewer) of the Northwind plan; dave leads another plan. Plus service guards."""

from __future__ import annotations

import os
import re
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from supportplan import services
from supportplan.models import ApiKeyScope, PlanRole
from tests.factories import LocationFactory, MembershipFactory, PlanFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Every transactional test restores the migrated data (catalogues, content types) itself.

    A transactional test empties the database when it ends; without serialized rollback Django then
    re-creates content types under new ids, which breaks the next test that restores the serialized
    rows (duplicate content types) and any process that cached the old ids."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker is not None else {}
        transactional = kwargs.get("transaction") or {"transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


def require(available: bool, reason: str) -> None:
    """Skips on a newcomer's machine without the service; fails in CI, where it must exist."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the service must be available)")
    pytest.skip(reason)


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL") or (
        settings.CELERY_BROKER_URL
        if settings.CELERY_BROKER_URL.startswith("redis")
        else "redis://127.0.0.1:6379/0"
    )


@pytest.fixture
def needs_redis() -> str:
    url = redis_url()
    require(_port_open(url, 6379), f"Redis is not reachable at {url}")
    return url


@pytest.fixture
def needs_postgres(db) -> None:
    from django.db import connection

    require(connection.vendor == "postgresql", "this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def needs_chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    require(bool(shutil.which(path)), f"Chromium is not installed at {path}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require(False, "the playwright package is not installed")
    return path


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Tests create many users; production hashing would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


#: A row lock (FOR UPDATE / FOR NO KEY UPDATE …) that does not name its tables with OF.
_LOCK_OVER_EVERY_TABLE = re.compile(r"\bFOR (?:NO KEY )?(?:UPDATE|SHARE)\b(?! OF\b)")


def _refuse_joined_row_locks(execute, sql, params, many, context):
    """A locking statement that joins other tables locks their rows too (the plan's, through a
    default ordering on ``plan``; a target's policy), in the planner's order: that is how a target
    update and a policy update deadlocked. Such statements must say what they lock (``of=``)."""
    if isinstance(sql, str) and " JOIN " in sql and _LOCK_OVER_EVERY_TABLE.search(sql):
        raise AssertionError(f"A row lock over every joined table (give select_for_update of=): {sql}")
    return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _no_joined_row_locks():
    """Every test, on the test thread's connection: see ``_refuse_joined_row_locks``."""
    from django.db import connection

    with connection.execute_wrapper(_refuse_joined_row_locks):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def plan(db):
    return PlanFactory(name="Northwind Distribution", slug="northwind")


@pytest.fixture
def other_plan(db):
    return PlanFactory(name="Contoso Retail", slug="contoso")


def _member(plan, username: str, role: str):
    user = UserFactory(username=username)
    MembershipFactory(plan=plan, user=user, role=role)
    return user


@pytest.fixture
def alice(plan):
    return _member(plan, "alice", PlanRole.PROJECT_LEAD)


@pytest.fixture
def bob(plan):
    return _member(plan, "bob", PlanRole.SUPPORT_LEAD)


@pytest.fixture
def tina(plan):
    return _member(plan, "tina", PlanRole.TEAM_MEMBER)


@pytest.fixture
def carol(plan):
    return _member(plan, "carol", PlanRole.PARTNER)


@pytest.fixture
def victor(plan):
    return _member(plan, "victor", PlanRole.VIEWER)


@pytest.fixture
def dave(other_plan):
    return _member(other_plan, "dave", PlanRole.PROJECT_LEAD)


@pytest.fixture
def location(plan):
    return LocationFactory(plan=plan, name="Head office", country="GB", subdivision="ENG")


@pytest.fixture
def other_location(other_plan):
    return LocationFactory(plan=other_plan, name="Dublin", country="IE", timezone="Europe/Dublin")


@pytest.fixture
def read_key(plan, alice):
    _api_key, raw = services.api_key_create(
        plan=plan, name="Helpdesk (read)", scope=ApiKeyScope.READ, created_by=alice
    )
    return raw


@pytest.fixture
def write_key(plan, alice):
    _api_key, raw = services.api_key_create(
        plan=plan, name="Helpdesk (write)", scope=ApiKeyScope.READ_WRITE, created_by=alice
    )
    return raw


@pytest.fixture
def api():
    return APIClient()


def api_as(user=None, key: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client
