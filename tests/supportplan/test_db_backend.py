"""The PostgreSQL backend's health check: a connection that ended a request cleanly moments ago is
trusted; one idle for longer, or after an error, is checked as Django checks it."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)  # request boundaries need autocommit
connection = None


@pytest.fixture
def checks(needs_postgres):
    """The health checks (SELECT 1) the connection sends, counted."""
    global connection
    connection = connections["default"]  # the wrapper itself, not the proxy
    assert type(connection).__module__ == "supportplan.db.postgresql.base"
    connection.ensure_connection()
    sent = []
    with (
        mock.patch.object(connection, "is_usable", side_effect=lambda: sent.append("SELECT 1") or True),
        mock.patch.object(type(connection), "health_check_enabled", True, create=True),
    ):
        connection.close_if_unusable_or_obsolete()  # a request starts
        connection.clean_request_ended_at = None  # on a connection idle for long
        yield sent


def request_used_the_database() -> None:
    connection.close_if_health_check_failed()  # before its first query, as Django does
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close_if_unusable_or_obsolete()  # the request ends


def test_a_connection_that_just_ended_a_request_cleanly_is_not_checked_again(checks):
    request_used_the_database()
    assert checks == ["SELECT 1"]
    request_used_the_database()
    request_used_the_database()
    assert checks == ["SELECT 1"]


def test_a_connection_idle_for_longer_is_checked(checks):
    request_used_the_database()
    connection.clean_request_ended_at -= connection.trusted_for + 0.1
    request_used_the_database()
    assert len(checks) == 2


def test_a_request_that_did_not_use_the_database_does_not_vouch_for_it(checks):
    connection.close_if_unusable_or_obsolete()  # a request without queries ends
    assert connection.clean_request_ended_at is None
    request_used_the_database()
    assert checks == ["SELECT 1"]


def test_after_an_error_the_connection_is_checked_before_it_is_trusted_again(checks):
    request_used_the_database()
    connection.close_if_health_check_failed()  # the next request: trusted
    connection.errors_occurred = True
    connection.close_if_unusable_or_obsolete()  # it ends with an error: Django checks at once
    assert checks == ["SELECT 1", "SELECT 1"]
    with mock.patch.object(connection, "is_usable", return_value=False):
        connection.errors_occurred = True
        connection.close_if_unusable_or_obsolete()  # a broken connection is dropped
    assert connection.connection is None
    assert connection.clean_request_ended_at is None
