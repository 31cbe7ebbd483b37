"""``supportplan.lib.rows``: the plain-SQL statements of the hot paths store what the ORM stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from operations.models import TaskOccurrence
from operations.models.maintenance import ReminderKind
from supportplan.lib import rows
from tests.operations.notify_fixtures import occurrence, task, utc

DUE = utc(2026, 7, 6, 7, 0)


def test_bulk_update_writes_each_rows_own_values_as_the_orm_would(needs_postgres, plan):
    job = task(plan)
    first, second, untouched = (
        occurrence(job, due_at=DUE + timedelta(days=day), now=utc(2026, 7, 1)) for day in range(3)
    )
    first.next_remind_at, first.next_remind_kind, first.late_reminders_sent = DUE, ReminderKind.LATE, 2
    second.next_remind_at, second.next_remind_kind, second.late_reminders_sent = None, "", 0
    before = TaskOccurrence.objects.get(pk=untouched.pk).next_remind_at
    rows.bulk_update([first, second], ["next_remind_at", "next_remind_kind", "late_reminders_sent"])
    stored = {
        o.pk: (o.next_remind_at, o.next_remind_kind, o.late_reminders_sent)
        for o in TaskOccurrence.objects.all()
    }
    assert stored[first.pk] == (DUE, ReminderKind.LATE, 2)
    assert stored[second.pk] == (None, "", 0)
    assert stored[untouched.pk][0] == before


def test_update_sql_prepares_values_through_the_fields(needs_postgres, plan):
    from django.db import connection

    job = task(plan)
    row = occurrence(job, due_at=DUE, now=utc(2026, 7, 1))
    sql, params = rows.update_sql(
        TaskOccurrence, {"next_remind_at": DUE, "late_reminders_sent": 3}, "id = %s", [row.pk]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    row.refresh_from_db()
    assert (row.next_remind_at, row.late_reminders_sent) == (DUE, 3)


# --- Writes sent together, prepared statements -------------------------------------------------
def test_a_write_batch_sends_its_statements_together_at_the_end(needs_postgres, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = task(plan)
    first, second = (
        occurrence(job, due_at=DUE + timedelta(days=day), now=utc(2026, 7, 1)) for day in range(2)
    )
    with CaptureQueriesContext(connection) as captured, rows.write_batch():
        for row, sent in ((first, 4), (second, 5)):
            rows.execute_later(
                *rows.update_sql(TaskOccurrence, {"late_reminders_sent": sent}, "id = %s", [row.pk])
            )
        assert not captured.captured_queries  # queued
    assert len(captured.captured_queries) == 1  # both updates at once
    assert {o.pk: o.late_reminders_sent for o in TaskOccurrence.objects.all()} == {first.pk: 4, second.pk: 5}


def test_queued_writes_go_with_the_next_statement_and_a_read_sees_them(needs_postgres, plan):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    job = task(plan)
    first, second = (
        occurrence(job, due_at=DUE + timedelta(days=day), now=utc(2026, 7, 1)) for day in range(2)
    )
    with CaptureQueriesContext(connection) as captured, rows.write_batch():
        rows.execute_later(
            *rows.update_sql(TaskOccurrence, {"late_reminders_sent": 4}, "id = %s", [first.pk])
        )
        assert TaskOccurrence.objects.get(pk=first.pk).late_reminders_sent == 4  # one round trip
        assert len(captured.captured_queries) == 1
        rows.execute_later(
            *rows.update_sql(TaskOccurrence, {"late_reminders_sent": 5}, "id = %s", [second.pk])
        )
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint comes after the write
            rows.execute_later(
                *rows.update_sql(TaskOccurrence, {"late_reminders_sent": 9}, "id = %s", [second.pk])
            )
            raise RuntimeError  # its rollback comes after the write made inside it
        assert TaskOccurrence.objects.filter(late_reminders_sent=9).count() == 0
    assert {o.pk: o.late_reminders_sent for o in TaskOccurrence.objects.all()} == {first.pk: 4, second.pk: 5}


def test_a_failed_write_batch_sends_nothing_and_no_batch_runs_statements_at_once(needs_postgres, plan):
    import pytest

    job = task(plan)
    row = occurrence(job, due_at=DUE, now=utc(2026, 7, 1))
    update = rows.update_sql(TaskOccurrence, {"late_reminders_sent": 7}, "id = %s", [row.pk])
    with pytest.raises(RuntimeError), rows.write_batch():
        rows.execute_later(*update)
        raise RuntimeError("the write failed")
    assert TaskOccurrence.objects.get(pk=row.pk).late_reminders_sent == 0
    rows.execute_later(*update)
    assert TaskOccurrence.objects.get(pk=row.pk).late_reminders_sent == 7


def test_a_prepared_statement_is_prepared_once_per_connection(needs_postgres, plan):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    job = task(plan)
    row = occurrence(job, due_at=DUE, now=utc(2026, 7, 1))
    sql = 'SELECT "late_reminders_sent" FROM "operations_taskoccurrence" WHERE "id" = %s'

    def read() -> int:
        with connection.cursor() as cursor:
            cursor.execute(*rows.prepared("sp_test_read", sql, [row.pk]))
            return cursor.fetchone()[0]

    rows.prepared("sp_test_prime", "SELECT 1", [])  # the registry knows this connection now
    with CaptureQueriesContext(connection) as captured:
        assert read() == 0
        assert read() == 0
    assert [query["sql"].split(" ")[0] for query in captured.captured_queries] == [
        "PREPARE",
        "EXECUTE",
        "EXECUTE",
    ]
    # A rolled-back transaction keeps the statement (PREPARE is not transactional).
    try:
        with transaction.atomic():
            read()
            raise ValueError
    except ValueError:
        pass
    assert read() == 0
    # A session without it prepares it again.
    rows._session().names.discard("sp_test_read")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE sp_test_read")
    assert read() == 0
    # A registry that forgot the connection asks the session what it has prepared.
    rows._forget_session()
    with CaptureQueriesContext(connection) as captured:
        assert read() == 0
    assert [query["sql"].split(" ")[0] for query in captured.captured_queries] == ["SELECT", "EXECUTE"]
    # A name stands for one statement: used with another text it is refused, not run.
    with pytest.raises(ValueError, match="sp_test_read"):
        rows.prepared("sp_test_read", sql.replace("late_reminders_sent", "early_reminders_sent"), [row.pk])


def test_instance_with_sets_each_related_instance_or_none_as_select_related_would(needs_postgres, plan):
    from django.db import connection

    from supportplan.models import SupportPlan

    job = task(plan)
    row = occurrence(job, due_at=DUE, now=utc(2026, 7, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(TaskOccurrence, 'o')}, {rows.columns(SupportPlan, 'p')} "  # noqa: S608
            f"FROM {rows.table(TaskOccurrence)} o INNER JOIN {rows.table(SupportPlan)} p "
            'ON p."id" = o."plan_id" WHERE o."id" = %s',
            [row.pk],
        )
        fetched = cursor.fetchone()
    built = rows.instance_with(TaskOccurrence, fetched, [("plan", SupportPlan)])
    assert built.pk == row.pk and built.plan.slug == plan.slug
    assert "plan" in built._state.fields_cache  # no query when it is read
    # A null foreign key (nobody closed it): the outer join's NULL columns give no instance.
    from django.contrib.auth import get_user_model

    user = get_user_model()
    unclosed = [*fetched, *([None] * rows.width(user))]
    built = rows.instance_with(TaskOccurrence, unclosed, [("plan", SupportPlan), ("closed_by", user)])
    assert built.closed_by_id is None and built.closed_by is None and built.plan.slug == plan.slug
    assert "closed_by" in built._state.fields_cache

    # The related rows are cached directly (no descriptor) and come out as select_related's.
    assert rows._caches_directly(TaskOccurrence, "plan", SupportPlan)
    assert rows._caches_directly(TaskOccurrence, "closed_by", user)
    assert not rows._caches_directly(TaskOccurrence, "plan", user)  # another model: the descriptor
    orm = TaskOccurrence.objects.select_related("plan", "closed_by").get(pk=row.pk)
    built = rows.instance_with(TaskOccurrence, unclosed, [("plan", SupportPlan), ("closed_by", user)])
    assert set(built._state.fields_cache) == set(orm._state.fields_cache) == {"plan", "closed_by"}
    assert {k: v for k, v in vars(built.plan).items() if k != "_state"} == {
        k: v for k, v in vars(orm.plan).items() if k != "_state"
    }
    assert (built._state.db, built.plan._state.db, built.plan._state.adding) == ("default", "default", False)
    assert built.plan_id == orm.plan_id == plan.pk and built.closed_by is orm.closed_by is None


# --- Values prepared and instances built without the ORM's per-value work ------------------------
def _sample_values():
    from datetime import UTC, date, datetime
    from decimal import Decimal

    aware = datetime(2026, 7, 6, 7, 30, tzinfo=UTC)
    return [
        None, 0, 7, -3, True, False, "", "INC0012345", "7", ReminderKind.LATE, date(2026, 7, 6),
        aware, aware.astimezone(UTC).replace(tzinfo=None), Decimal("1.50"), 2.5, [1, 2], {"a": 1},
    ]  # fmt: skip


def test_every_fields_shortcut_prepares_a_value_as_the_field_does_or_fails_as_it_does(needs_postgres):
    import warnings

    from django.apps import apps
    from django.db import connection

    def as_sent(value):  # what reaches the database (adapters such as JSON's have no equality)
        if isinstance(value, type):
            return value
        with connection.cursor() as cursor:
            try:
                return type(value), cursor.cursor.mogrify("%s", [value])
            except Exception as error:  # a value that cannot be sent: compared by its failure
                return type(value), type(error)

    checked = shortcut = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            prepare = rows._preparer(field)
            shortcut += prepare is not field.get_db_prep_save
            for value in _sample_values():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the naive datetime's RuntimeWarning
                    try:
                        expected = field.get_db_prep_save(value, connection)
                    except Exception as error:  # the same failure is what is compared
                        expected = type(error)
                    try:
                        got = prepare(value, connection)
                    except Exception as error:
                        got = type(error)
                assert as_sent(got) == as_sent(expected), (model, field.name, value)
                checked += 1
    assert shortcut > 300 and checked > 5000  # the shortcut is taken for most fields


def test_an_instance_built_directly_equals_the_orms_own(needs_postgres, plan):
    from supportplan.models import SupportPlan

    stored = occurrence(task(plan), due_at=DUE, now=utc(2026, 7, 1))
    assert rows._shape(TaskOccurrence).plain_construction and rows._shape(SupportPlan).plain_construction
    for model, pk in ((TaskOccurrence, stored.pk), (SupportPlan, plan.pk)):
        orm = model.objects.get(pk=pk)
        built = rows.fetch(model, "t.id = %s", [pk])[0]
        assert type(built) is model and built == orm
        assert {k: v for k, v in vars(built).items() if k != "_state"} == {
            k: v for k, v in vars(orm).items() if k != "_state"
        }
        assert (built._state.adding, built._state.db) == (False, "default")
    built = rows.fetch(TaskOccurrence, "t.id = %s", [stored.pk])[0]
    built.late_reminders_sent = 4
    built.save(update_fields=["late_reminders_sent"])
    assert TaskOccurrence.objects.get(pk=stored.pk).late_reminders_sent == 4
    assert built.plan.pk == plan.pk  # related descriptors work on it


def test_a_model_with_init_receivers_is_built_through_from_db(needs_postgres, plan):
    from django.db.models.signals import post_init

    from supportplan.models import SupportPlan

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=SupportPlan)
    try:
        assert not rows._plain_construction(SupportPlan, rows._shape(SupportPlan).attnames)
    finally:
        post_init.disconnect(receiver, sender=SupportPlan)
    assert rows._plain_construction(SupportPlan, rows._shape(SupportPlan).attnames)


def test_literals_are_written_as_psycopg2_writes_them_and_read_back_whole(needs_postgres):
    """``prepared`` writes plain values as SQL literals itself: the same text as psycopg2, and every
    string comes back from the server as it was sent (quotes, backslashes, percent signs, …)."""
    from datetime import UTC, date, datetime, timezone
    from decimal import Decimal

    from django.db import connection
    from hypothesis import given, settings
    from hypothesis import strategies as st

    connection.ensure_connection()
    raw = connection.connection.cursor()
    fixed = [
        None,
        0,
        -5,
        2**63 - 1,
        -(2**63),
        10**30,
        True,
        False,
        "",
        "it's",
        "''",
        "back\\slash",
        "a%b",
        "%s",
        "%(x)s",
        "line\nbreak",
        "naïve – “quoted” 🙂",
        "E'\\x41'",
        "$$dollar$$",
        "-- comment",
        "; DROP",
        datetime(2027, 7, 5, 9, 0, tzinfo=UTC),
        datetime(2027, 7, 5, 9, 0, 0, 123, tzinfo=timezone(timedelta(hours=5))),
        datetime(2027, 7, 5, 9, 0),
        date(2027, 7, 5),
        Decimal("1.50"),
        1.5,
        [1, 2],
        ["a'b"],
    ]
    for value in fixed:
        assert rows._literal(value, raw) == raw.mogrify("%s", [value]).decode(), value

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])))
    def read_back(text):
        literal = rows._literal(text, raw)
        assert literal == raw.mogrify("%s", [text]).decode()
        raw.execute(f"SELECT {literal}::text")
        assert raw.fetchone()[0] == text

    read_back()
    with pytest.raises(ValueError):  # a NUL is left to psycopg2, which refuses it
        rows._literal("nul\x00", raw)


def test_a_prepared_statement_is_sent_with_its_parameters_written_in(needs_postgres, plan):
    from django.db import connection

    sql, params = rows.prepared(
        "sp_test_literals", "SELECT %s::text, %s::bigint, %s::timestamptz", ["o'k", -3, DUE]
    )
    assert params is None
    assert sql == f"EXECUTE sp_test_literals('o''k',  -3, '{DUE.isoformat()}'::timestamptz)"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchone() == ("o'k", -3, DUE)


def _same_new_instance(built, orm) -> None:
    assert type(built) is type(orm)
    assert {k: v for k, v in vars(built).items() if k != "_state"} == {
        k: v for k, v in vars(orm).items() if k != "_state"
    }
    assert (built._state.adding, built._state.db) == (orm._state.adding, orm._state.db)
    assert built._state.fields_cache == orm._state.fields_cache
    for name, value in orm._state.fields_cache.items():
        assert built._state.fields_cache[name] is value


def test_new_builds_the_instance_model_init_builds(db, plan):
    from operations.models import RequestEvent, SlaClock, SupportRequest

    occurred = utc(2026, 7, 1, 9, 30)
    stored = rows.new(SupportRequest, plan=plan, title="Stored", reported_at=occurred)
    stored.save()
    stored = SupportRequest.objects.get(pk=stored.pk)
    for model in (RequestEvent, SlaClock, SupportRequest):
        assert rows._new_shape(model) is not None  # built by new() itself, not handed to model()
    cases = [
        (
            RequestEvent,
            {
                "plan": plan,
                "request": stored,
                "kind": "comment",
                "occurred_at": occurred,
                "source_event_id": "evt-1",
                "body": "Checked the logs.",
                "actor_name": "Service desk",
                "api_key": None,
                "user": None,
            },
        ),
        (RequestEvent, {"plan_id": plan.pk, "request_id": stored.pk, "sequence": 4, "kind": "reopened"}),
        (
            SlaClock,
            {
                "plan_id": plan.pk,
                "request": stored,
                "target_id": 7,
                "cycle": 2,
                "computed_at": occurred,
                "state": "running",
            },
        ),
        (
            SupportRequest,
            {"plan": plan, "source_key": None, "title": "New", "impact": "high", "urgency": "low"},
        ),
        (SupportRequest, {}),
    ]
    for model, values in cases:
        _same_new_instance(rows.new(model, **values), model(**values))

    # An unsaved related instance takes the new instance's database, as its descriptor gives it.
    for build in (rows.new, lambda model, **values: model(**values)):
        unsaved = rows.new(SupportRequest, plan=plan, title="Unsaved")
        assert unsaved._state.db == "default"
        fresh = SupportRequest(title="No plan yet")
        event = build(RequestEvent, plan=plan, request=fresh, kind="comment")
        assert (event._state.db, fresh._state.db, event.request_id) == ("default", "default", None)
        assert event.request is fresh


def test_new_leaves_what_it_does_not_build_the_same_way_to_model_init(db, plan):
    from django.db.models.signals import post_init

    from operations.models import RequestEvent, SupportRequest

    with pytest.raises(TypeError, match="unexpected keyword"):
        rows.new(RequestEvent, plan=plan, no_such_field=1)
    with pytest.raises(ValueError, match="must be a"):
        rows.new(RequestEvent, plan=plan, request=plan)  # a plan where a request goes: Django's error

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    rows._new_shape.cache_clear()
    rows._shape.cache_clear()
    post_init.connect(receiver, sender=SupportRequest)
    try:
        built = rows.new(SupportRequest, plan=plan, title="Observed")
    finally:
        post_init.disconnect(receiver, sender=SupportRequest)
        rows._new_shape.cache_clear()
        rows._shape.cache_clear()
    assert seen == [built]  # built through __init__: its receivers ran
