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


# --- BEGIN with the first statement -----------------------------------------------------------------
@pytest.fixture
def wrapper(needs_postgres):
    wrapper = connections["default"]
    wrapper.ensure_connection()
    return wrapper


@pytest.fixture
def other(wrapper):
    """A second session on the test database, in autocommit."""
    import psycopg2

    settings = wrapper.settings_dict
    session = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )
    session.autocommit = True
    yield session
    session.close()


def _status(wrapper) -> str:
    import psycopg2.extensions as pg

    names = {pg.TRANSACTION_STATUS_IDLE: "idle", pg.TRANSACTION_STATUS_INTRANS: "open"}
    return names.get(wrapper.connection.get_transaction_status(), "other")


def _seen_by(other, name: str) -> bool:
    with other.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM supportplan_serviceheartbeat WHERE name = %s", [name])
        return cursor.fetchone()[0] == 1


def test_a_transaction_opens_with_its_first_statement_in_one_round_trip(wrapper, other):
    from django.db import transaction

    with transaction.atomic():
        assert _status(wrapper) == "idle"  # nothing sent yet
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        assert _status(wrapper) == "open"
        with other.cursor() as cursor:  # what the server received last from this session: one text
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
            assert cursor.fetchone()[0] == "BEGIN;SELECT pg_backend_pid()"
    assert _status(wrapper) == "idle"


def test_work_is_seen_by_others_at_commit_and_never_when_rolled_back(wrapper, other):
    from django.db import transaction
    from django.utils import timezone

    from supportplan.models import ServiceHeartbeat

    with transaction.atomic():
        ServiceHeartbeat.objects.create(name="kept", seen_at=timezone.now())
        assert not _seen_by(other, "kept")  # a transaction: not before its commit
    assert _seen_by(other, "kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        ServiceHeartbeat.objects.create(name="dropped", seen_at=timezone.now())
        raise RuntimeError
    assert not _seen_by(other, "dropped")
    assert not ServiceHeartbeat.objects.filter(name="dropped").exists()
    with transaction.atomic():
        pass  # ran nothing: nothing to commit
    assert _status(wrapper) == "idle"


def test_a_first_statement_that_does_not_parse_leaves_the_transaction_to_the_next(wrapper, other):
    from django.db import DatabaseError, transaction
    from django.utils import timezone

    from supportplan.models import ServiceHeartbeat

    with pytest.raises(RuntimeError), transaction.atomic():
        with pytest.raises(DatabaseError), wrapper.cursor() as cursor:
            cursor.execute("SELEC 1")
        ServiceHeartbeat.objects.create(name="after-a-typo", seen_at=timezone.now())
        assert _status(wrapper) == "open"
        raise RuntimeError
    assert not _seen_by(other, "after-a-typo")  # still one transaction: rolled back whole


def test_a_server_side_cursor_as_first_statement_runs_in_the_transaction(wrapper, other):
    from django.db import transaction
    from django.utils import timezone

    from supportplan.models import ServiceHeartbeat

    ServiceHeartbeat.objects.create(name="before", seen_at=timezone.now())
    with pytest.raises(RuntimeError), transaction.atomic():
        assert [beat.name for beat in ServiceHeartbeat.objects.all().iterator(chunk_size=1)] == ["before"]
        assert _status(wrapper) == "open"
        ServiceHeartbeat.objects.create(name="inside", seen_at=timezone.now())
        raise RuntimeError
    assert not _seen_by(other, "inside")


def test_transactions_managed_by_hand_commit_and_roll_back(wrapper, other):
    from django.db import transaction
    from django.utils import timezone

    from supportplan.models import ServiceHeartbeat

    transaction.set_autocommit(False)
    try:
        ServiceHeartbeat.objects.create(name="first", seen_at=timezone.now())
        transaction.commit()
        ServiceHeartbeat.objects.create(name="second", seen_at=timezone.now())
        assert not _seen_by(other, "second")
        transaction.rollback()
        ServiceHeartbeat.objects.create(name="third", seen_at=timezone.now())
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    assert [_seen_by(other, name) for name in ("first", "second", "third")] == [True, False, True]


def test_statements_held_until_commit_go_with_it_in_one_round_trip(wrapper, other):
    from django.db import transaction
    from django.utils import timezone

    from supportplan.models import ServiceHeartbeat

    insert = "INSERT INTO supportplan_serviceheartbeat (name, seen_at) VALUES ('{}', now())"
    with transaction.atomic():
        ServiceHeartbeat.objects.create(name="opened", seen_at=timezone.now())
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        assert wrapper.hold_until_commit(insert.format("held-1"))
        assert wrapper.hold_until_commit(insert.format("held-2"))
        assert not _seen_by(other, "held-1")
    assert _seen_by(other, "held-1") and _seen_by(other, "held-2")
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        assert cursor.fetchone()[0] == f"{insert.format('held-1')};\n{insert.format('held-2')};\nCOMMIT"


def test_held_statements_go_with_an_earlier_statement_and_a_rollback_drops_them(wrapper, other):
    from django.db import transaction

    from supportplan.models import ServiceHeartbeat

    insert = "INSERT INTO supportplan_serviceheartbeat (name, seen_at) VALUES ('{}', now())"
    with transaction.atomic():
        assert wrapper.hold_until_commit(insert.format("read-back"))  # nothing sent yet: BEGIN too
        assert ServiceHeartbeat.objects.filter(name="read-back").exists()  # a read sees it
        assert wrapper.hold_until_commit(insert.format("with a 50% literal"))
        assert ServiceHeartbeat.objects.filter(name__startswith="with a 50").count() == 1  # (parameters)
    assert _seen_by(other, "read-back")
    with pytest.raises(RuntimeError), transaction.atomic():
        ServiceHeartbeat.objects.filter(name="read-back").delete()
        assert wrapper.hold_until_commit(insert.format("dropped"))
        raise RuntimeError
    assert _seen_by(other, "read-back") and not _seen_by(other, "dropped")


def test_nothing_is_held_when_the_next_end_is_not_the_commit(wrapper):
    from django.db import transaction

    assert not wrapper.hold_until_commit("SELECT 1")  # no transaction
    with transaction.atomic():
        with transaction.atomic():  # a savepoint ends next
            assert not wrapper.hold_until_commit("SELECT 1")
        with transaction.atomic(savepoint=False):  # an enclosing block
            assert not wrapper.hold_until_commit("SELECT 1")
        assert wrapper.hold_until_commit("SELECT 1")
    transaction.set_autocommit(False)
    try:
        assert not wrapper.hold_until_commit("SELECT 1")  # managed by hand
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
