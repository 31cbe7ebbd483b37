"""Configuration writes take their row locks in one order, so two of them wait for each other instead
of deadlocking: the plan's row first (``lock_plan``) for the SLA set-up and hypercare, a maintenance
task's row before its occurrences'. Schemathesis found the first one in CI: a target update locked
its policy and the plan in one joined statement while a policy update held the plan and waited for the
policy (PostgreSQL's "deadlock detected", a 500)."""

from __future__ import annotations

import re
import threading
import time
from datetime import date

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from models_catalog import raci
from operations import maintenance_services
from operations import sla_services as services
from operations.models import SlaTarget
from scope import readiness_services
from supportplan import services as plan_services
from supportplan.lib.services import lock_plan
from tests.models_catalog.raci_fixtures import build_raci
from tests.operations.maintenance_fixtures import build_task, utc
from tests.operations.sla_fixtures import build_sla_world, example_ladder

LOCKING = re.compile(r"\bFOR (NO KEY )?UPDATE\b")
PLAN_TABLE = '"supportplan_supportplan"'


@pytest.fixture
def world(plan):
    return build_sla_world(plan)


@pytest.fixture
def target(world):
    return services.sla_target_create(
        policy=world.steady_state,
        priority=world.p1,
        metric="resolution",
        minutes=240,
        calendar=world.round_the_clock,
        escalation_steps=example_ladder(world),
    )


def locking_statements(queries) -> list[str]:
    return [query["sql"] for query in queries if LOCKING.search(query["sql"])]


def first_table_locked(sql: str) -> str:
    return re.search(r'\bFROM ("[a-z_]+")', sql).group(1)


def assert_plan_locked_first(run) -> None:
    """``run`` locks the plan's row before any other row, and no statement locks the rows it joins
    (a joined lock takes the tables in the planner's order)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    locks = locking_statements(queries.captured_queries)
    assert locks, "the write took no row lock"
    assert first_table_locked(locks[0]) == PLAN_TABLE, locks[0]
    for sql in locks:
        if " JOIN " in sql:
            assert re.search(r"\bUPDATE OF\b", sql), f"a joined lock over every table: {sql}"


def test_sla_configuration_writes_lock_the_plan_first(world, target):
    step = target.escalation_steps.first()
    spare = services.priority_create(plan=world.plan, code="P9", name="Spare", rank=9)
    writes = [
        lambda: services.sla_policy_update(policy=world.hypercare, description="Tighter targets"),
        lambda: services.sla_target_create(
            policy=world.hypercare,
            priority=world.p1,
            metric="first_response",
            minutes=15,
            calendar=world.round_the_clock,
        ),
        lambda: services.sla_target_update(target=target, minutes=200),
        lambda: services.sla_target_update(target=target, escalation_steps=example_ladder(world)[:1]),
        lambda: services.escalation_step_create(
            target=target, trigger="percent", percent=50, action="notify_role", role=world.support_manager
        ),
        lambda: services.escalation_step_update(step=target.escalation_steps.first(), percent=60),
        lambda: services.escalation_step_delete(step=target.escalation_steps.last()),
        lambda: services.matrix_set_cell(plan=world.plan, impact="low", urgency="low", priority=world.p3),
        lambda: services.priority_delete(priority=spare),
        lambda: services.sla_target_delete(target=SlaTarget.objects.get(policy=world.hypercare)),
        lambda: services.sla_policy_delete(policy=world.hypercare),
    ]
    assert step is not None
    for write in writes:
        assert_plan_locked_first(write)


def test_a_hypercare_plan_change_and_a_plan_change_lock_the_plan_first(plan):
    hypercare = readiness_services.hypercare_plan_get(plan=plan)
    assert_plan_locked_first(
        lambda: readiness_services.hypercare_plan_update(hypercare=hypercare, planned_end=date(2027, 6, 30))
    )
    assert_plan_locked_first(lambda: plan_services.plan_update(plan=plan, description="Go-live in April"))


def test_an_occurrence_is_locked_after_its_task(plan, alice):
    task = build_task(plan, now=utc(2027, 1, 1))
    occurrence = task.occurrences.order_by("due_at").first()
    with CaptureQueriesContext(connection) as queries:
        maintenance_services.occurrence_complete(occurrence=occurrence, actor=alice, notes="Fine")
    locks = locking_statements(queries.captured_queries)
    assert [first_table_locked(sql) for sql in locks[:2]] == [
        '"operations_maintenancetask"',
        '"operations_taskoccurrence"',
    ]
    assert re.search(r"\bUPDATE OF\b", locks[1]), locks[1]


@pytest.mark.django_db(transaction=True)
def test_a_policy_update_and_a_target_update_wait_for_each_other(needs_postgres, plan):
    """The interleaving CI met, forced: the policy update holds the plan while the target update
    starts, then updates the policy. Both commit (before: one of them died of a deadlock)."""
    world = build_sla_world(plan)
    target = services.sla_target_create(
        policy=world.steady_state,
        priority=world.p1,
        metric="resolution",
        minutes=240,
        calendar=world.round_the_clock,
    )
    plan_held, errors = threading.Event(), []

    def policy_update():
        try:
            with transaction.atomic():
                lock_plan(world.plan.pk)
                plan_held.set()
                _wait_until_someone_waits_for_a_lock()
                services.sla_policy_update(policy=world.steady_state, description="Reviewed")
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    def target_update():
        try:
            assert plan_held.wait(timeout=10)
            services.sla_target_update(target=SlaTarget.objects.get(pk=target.pk), minutes=180)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=policy_update), threading.Thread(target=target_update)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    world.steady_state.refresh_from_db()
    target.refresh_from_db()
    assert (world.steady_state.description, target.minutes) == ("Reviewed", 180)


def _wait_until_someone_waits_for_a_lock(timeout: float = 5.0) -> None:
    """Returns once another session waits for a lock (the target update, blocked on a row this
    session holds). ``pg_locks``, not ``pg_stat_activity``: that one is a snapshot per transaction."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the target update never waited for a lock")


def test_a_responsibility_delete_locks_its_row_before_deleting_its_cells(plan):
    """A cell write locks the responsibility's row, then its cell; Django deletes the cells before
    the row, so without this lock the two deadlocked (schemathesis, eight workers)."""
    grid = build_raci(plan)
    with CaptureQueriesContext(connection) as queries:
        raci.responsibility_delete(responsibility=grid.business_processes)
    statements = [query["sql"] for query in queries.captured_queries]
    locked = next(i for i, sql in enumerate(statements) if LOCKING.search(sql))
    deleted = next(
        i for i, sql in enumerate(statements) if sql.startswith('DELETE FROM "models_catalog_raci')
    )
    assert first_table_locked(statements[locked]) == '"models_catalog_responsibility"'
    assert locked < deleted
