"""The event write's round trips (issue 7): an API key's event is looked up as the request is locked,
in the idempotency claim's statement; the request's events, clocks and targets are read in one
statement; the writes go in one round trip with the idempotency response. What is stored and
answered stays what it was."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from operations.helpdesk.services.clocks import (
    _event_rows,
    _request_facts,
    _stored_clocks,
    _target_rows,
)
from operations.helpdesk.services.requests import request_lock
from operations.models import IdempotencyRecord, RequestEvent, SlaClock, SupportRequest
from tests.conftest import api_as
from tests.operations import test_helpdesk_fast_paths as fast_paths
from tests.operations.helpdesk_fixtures import *  # noqa: F403

# The fast-path tests' world: a ServiceNow key and a request with an event of every kind.
frozen, servicenow, worked_request = fast_paths.frozen, fast_paths.servicenow, fast_paths.worked_request
post_event, NOW = fast_paths.post_event, fast_paths.NOW

pytestmark = pytest.mark.usefixtures("frozen")

COMMENT = {"kind": "comment", "body": "Called the user.", "occurred_at": "2027-07-05T09:00:00Z"}


def events_url(request_id) -> str:
    return reverse("supportrequest-events", args=[request_id])


def _event_post_captured(servicenow, worked_request, body: str, key: str):
    """A comment posted with an idempotency key (after a first one: the connection has prepared its
    statements), and the SQL Django logged for it."""
    post_event(servicenow, worked_request.pk, **COMMENT)
    with CaptureQueriesContext(connection) as captured:
        response = servicenow.api.post(
            events_url(worked_request.pk), {**COMMENT, "body": body}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
    assert response.status_code == 201
    return response, [query["sql"] for query in captured.captured_queries]


def test_an_api_keys_event_costs_four_statements_and_its_writes_go_together(
    needs_postgres, servicenow, worked_request
):
    response, captured = _event_post_captured(servicenow, worked_request, "Second call.", "evt-2")
    # (The test's own transaction adds a savepoint around the write.)
    statements = [sql for sql in captured if "SAVEPOINT" not in sql]
    # The key, the claim with the lock and the facts, the ladder steps already sent (the event's
    # insert, queued by then, goes with it), the other writes with the stored response.
    assert len(statements) == 4, "\n".join(statements)
    assert statements[1].startswith("EXECUTE sp_request_lock_claim_facts('key:")
    assert statements[2].split(";\n")[-1].startswith("EXECUTE sp_outbox_keys(")
    writes = ";\n".join(statements[2:])
    assert "EXECUTE sp_event_insert" in writes
    assert "EXECUTE sp_request_update" in writes
    assert "EXECUTE sp_idempotency_store" in writes
    stored = RequestEvent.objects.get(pk=response.json()["id"])
    assert (stored.body, stored.request_id) == ("Second call.", worked_request.pk)
    worked_request.refresh_from_db()
    assert worked_request.event_count == RequestEvent.objects.filter(request=worked_request).count()
    record = IdempotencyRecord.objects.get(key="evt-2")
    assert (record.response_status, record.response_body) == (201, response.json())


def test_an_api_key_posting_to_a_request_it_cannot_see_gets_404_and_nothing_is_kept(
    servicenow, worked_request, other_plan
):
    foreign = SupportRequest.objects.create(
        plan=other_plan,
        title="Another plan's",
        request_type="incident",
        reported_at=worked_request.reported_at,
    )
    keys_before = IdempotencyRecord.objects.count()
    for request_id in [foreign.pk, 99_999_999, 10**25]:
        response = servicenow.api.post(
            events_url(request_id), COMMENT, format="json", HTTP_IDEMPOTENCY_KEY="lost-1"
        )
        assert response.status_code == 404, (request_id, response.content)
    assert IdempotencyRecord.objects.count() == keys_before
    assert not RequestEvent.objects.filter(request=foreign).exists()
    # The key was not kept: it serves the write it was meant for.
    response = servicenow.api.post(
        events_url(worked_request.pk), COMMENT, format="json", HTTP_IDEMPOTENCY_KEY="lost-1"
    )
    assert response.status_code == 201


def test_an_unknown_request_is_404_before_the_body_is_checked(servicenow, worked_request):
    response = servicenow.api.post(events_url(99_999_999), {"kind": "nonsense"}, format="json")
    assert response.status_code == 404
    response = servicenow.api.post(events_url(worked_request.pk), {"kind": "nonsense"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]


def test_a_replayed_event_returns_the_stored_response_without_a_second_event(servicenow, worked_request):
    count = RequestEvent.objects.filter(request=worked_request).count()
    first = servicenow.api.post(
        events_url(worked_request.pk), COMMENT, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    again = servicenow.api.post(
        events_url(worked_request.pk), COMMENT, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert RequestEvent.objects.filter(request=worked_request).count() == count + 1


def test_the_facts_read_in_one_statement_are_the_separate_reads(needs_postgres, worked_request):
    locked = request_lock(request_id=worked_request.pk, plan=worked_request.plan)
    facts = _request_facts(locked)
    events, source_ids = _event_rows(locked)
    assert sorted(facts.events, key=lambda fact: fact.sequence) == sorted(
        events, key=lambda fact: fact.sequence
    )
    assert facts.source_ids == source_ids
    assert {clock.pk: _values(clock, SlaClock) for clock in facts.clocks} == {
        clock.pk: _values(clock, SlaClock) for clock in _stored_clocks(locked)
    }
    assert facts.target_rows == _target_rows(locked.policy)
    assert facts.target_rows  # the seeded policy has targets with ladders
    assert facts.next_event_id > RequestEvent.objects.order_by("-pk").first().pk


def _typed(values: dict) -> dict:
    return {name: (type(value), value) for name, value in values.items()}


def test_the_facts_come_back_from_json_with_psycopg2s_values_and_types(
    needs_postgres, servicenow, worked_request
):
    """The facts are read as JSON arrays: microseconds, pauses (null and set instants), ids, texts and
    the claim's own statement give what the separate reads give, type for type."""
    from operations.helpdesk.idempotency import _claim_sql
    from operations.helpdesk.services.clocks import lock_claiming_with_facts

    for body in [
        {"kind": "comment", "body": "x", "occurred_at": "2027-07-05T09:00:00.123456Z"},
        {"kind": "status_changed", "status": "Pending Caller", "occurred_at": "2027-07-05T09:00:01.5Z"},
    ]:
        post_event(servicenow, worked_request.pk, **body)
    locked = request_lock(request_id=worked_request.pk, plan=worked_request.plan)
    stored_clocks = {clock.pk: _typed(_values(clock, SlaClock)) for clock in _stored_clocks(locked)}
    assert any(values["paused_since"][1] is not None for values in stored_clocks.values())
    events, source_ids = _event_rows(locked)
    expected_events = sorted((fact.sequence, _typed(vars(fact))) for fact in events)
    assert {fact.occurred_at.microsecond for fact in events} >= {123456, 500000}
    claimed, relocked = lock_claiming_with_facts(
        locked, _claim_sql(), ["key:test", "json-facts", "f" * 64, worked_request.reported_at, NOW]
    )
    assert claimed
    # The locked row comes back as one JSON array: the same request and policy, type for type.
    from operations.models import SlaPolicy

    assert _typed(_values(relocked, SupportRequest)) == _typed(_values(locked, SupportRequest))
    assert locked.policy.pause_statuses  # a JSON field, read as the ORM reads it
    assert _typed(_values(relocked.policy, SlaPolicy)) == _typed(_values(locked.policy, SlaPolicy))
    for facts in [_request_facts(locked), _request_facts(relocked)]:
        assert sorted((fact.sequence, _typed(vars(fact))) for fact in facts.events) == expected_events
        assert facts.source_ids == source_ids
        assert {clock.pk: _typed(_values(clock, SlaClock)) for clock in facts.clocks} == stored_clocks
        assert [[(type(value), value) for value in row] for row in facts.target_rows] == [
            [(type(value), value) for value in row] for row in _target_rows(locked.policy)
        ]


def test_the_request_lock_finds_a_request_within_its_plan_only(worked_request, other_plan):
    assert request_lock(request_id=worked_request.pk, plan=worked_request.plan).pk == worked_request.pk
    with pytest.raises(SupportRequest.DoesNotExist):
        request_lock(request_id=worked_request.pk, plan=other_plan)


def _values(instance, model) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in model._meta.concrete_fields}


def test_the_party_a_reference_system_names_is_found_as_the_orm_finds_it(needs_postgres, worked_request):
    from django.db.models import Q

    from models_catalog.models import Party
    from operations.helpdesk.services.references import _reference_party

    plan = worked_request.plan
    names = {value for party in Party.objects.filter(plan=plan) for value in (party.name, party.kind)}
    for system in [*names, "PARTNER", "Microsoft", "servicenow", "nobody", ""]:
        matches = list(
            Party.objects.filter(plan=plan).filter(
                Q(name__iexact=system) | Q(kind__iexact=system) | Q(helpdesk_system__iexact=system)
            )[:2]
        )
        expected = matches[0] if len(matches) == 1 else None
        found = _reference_party(plan, system)
        assert (found.pk if found else None) == (expected.pk if expected else None), system


def _index_columns(model) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] or info["unique"] or info["primary_key"]
    }


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # Every event inserts into each of these: the timeline order, the helpdesk's event ids, a
        # partner's scope (requests its party held).
        (
            RequestEvent,
            {
                ("id",),
                ("request_id", "occurred_at", "sequence"),
                ("request_id", "source_event_id"),
                ("party_id",),
            },
        ),
        # Rewritten by every event (no HOT update: updated_at is indexed): the list's indexes, the
        # upsert's source id, and the foreign keys the list and the partner scope filter on.
        (
            SupportRequest,
            {
                ("id",),
                ("plan_id", "status", "reported_at"),
                ("plan_id", "updated_at", "id"),
                ("plan_id", "next_breach_at"),
                ("plan_id", "source_system", "source_id"),
                ("priority_id",),
                ("current_level_id",),
                ("current_party_id",),
            },
        ),
        # The sweep's partial indexes, clocks per request, and per plan for the reports.
        (
            SlaClock,
            {
                ("id",),
                ("next_step_at",),
                ("plan_id", "breach_at"),
                ("request_id", "target_id", "cycle"),
                ("plan_id",),
            },
        ),
    ],
)
def test_the_written_tables_keep_only_the_indexes_their_reads_use(needs_postgres, model, expected):
    assert {tuple(columns) for columns in _index_columns(model).values()} == expected


@pytest.mark.django_db(transaction=True)
def test_an_event_that_waited_for_the_lock_reads_the_facts_again(needs_postgres, servicenow, worked_request):
    """The claim's statement reads the facts with its snapshot, taken before it waits for the lock:
    what the event holding the lock wrote meanwhile is not in it. That event rewrote the request's
    row, so the waiting one sees it and reads the facts again."""
    from operations.helpdesk import services as helpdesk_services
    from operations.helpdesk.services import clocks, requests

    real_record, real_facts = helpdesk_services.event_record, requests._request_facts
    holding, read_again, errors, answers = threading.Event(), {}, [], {}

    def slow_record(**kwargs):
        event = real_record(**kwargs)
        if kwargs["data"]["body"] == "first":
            holding.set()
            time.sleep(0.5)  # commits later, keeping the request locked
        return event

    def facts(request):
        read_again[request.pk, len(read_again)] = clocks._READ_WITH_LOCK not in request.__dict__
        return real_facts(request)

    def send(body: str) -> None:
        try:
            if body == "second":
                assert holding.wait(10)
            client = api_as(key=servicenow.raw)
            response = client.post(
                events_url(worked_request.pk),
                {**COMMENT, "body": body},
                format="json",
                HTTP_IDEMPOTENCY_KEY=body,
            )
            answers[body] = (response.status_code, response.json())
        except Exception as error:  # reported below; a thread's exception would be lost
            errors.append(error)
        finally:
            connection.close()

    helpdesk_services.event_record, requests._request_facts = slow_record, facts
    try:
        threads = [threading.Thread(target=send, args=(body,)) for body in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        helpdesk_services.event_record, requests._request_facts = real_record, real_facts
    assert errors == []
    assert answers["first"][0] == answers["second"][0] == 201
    assert answers["second"][1]["sequence"] == answers["first"][1]["sequence"] + 1
    assert list(read_again.values()) == [False, True]  # the first used its statement's, the second read again
    worked_request.refresh_from_db()
    events = RequestEvent.objects.filter(request=worked_request)
    assert worked_request.event_count == events.count()
    assert len(set(events.values_list("sequence", flat=True))) == events.count()


# --- The upsert's statements --------------------------------------------------------------------
def test_a_new_requests_upsert_runs_prepared_statements_only(needs_postgres, servicenow, worked_request):
    """Every statement of an upsert that creates a request is planned once per connection: its joins
    cost more to plan than to run."""
    fast_paths.create(servicenow, "INC0000101")  # the connection has prepared its statements
    with CaptureQueriesContext(connection) as captured:
        created = fast_paths.create(servicenow, "INC0000102")
    statements = [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert statements, "nothing captured"
    for sql in statements:
        assert all(part.startswith("EXECUTE sp_") for part in sql.split(";\n")), sql[:200]
    # What was answered is what is stored.
    answered = {clock["id"] for clock in created["clocks"]}
    assert answered and answered == set(
        SlaClock.objects.filter(request_id=created["id"]).values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_an_events_writes_go_with_its_commit(needs_postgres, servicenow, worked_request):
    """Outside a test's transaction, as in production: the write's queued statements and the stored
    response travel with the COMMIT, and what is stored and answered is the same."""
    response, captured = _event_post_captured(servicenow, worked_request, "Committed.", "evt-commit")
    # (Django logs the BEGIN on its own as the transaction starts: it goes with the claim.)
    statements = [sql for sql in captured if sql != "BEGIN"]
    last = statements[-1].split(";\n")
    assert last[-1] == "COMMIT", statements
    assert "EXECUTE sp_idempotency_store" in last[-2]
    # The key, the claim, the outbox (the event's insert with it), the other writes with the COMMIT.
    assert len(statements) == 4, "\n".join(statements)
    record = IdempotencyRecord.objects.get(key="evt-commit")
    assert (record.response_status, record.response_body) == (201, response.json())
    assert RequestEvent.objects.get(pk=response.json()["id"]).body == "Committed."
    again = servicenow.api.post(
        events_url(worked_request.pk),
        {**COMMENT, "body": "Committed."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="evt-commit",
    )
    assert again.json() == response.json() and again.headers["Idempotent-Replayed"] == "true"


def test_a_status_events_mappings_are_read_with_the_claim(needs_postgres, servicenow, worked_request):
    """The key's status mappings come with the claim's statement: no statement of their own, and
    the same mapping and the same refusal as when they were read apart."""
    body = {"kind": "status_changed", "status": "pending caller", "occurred_at": "2027-07-05T09:00:00Z"}
    post_event(servicenow, worked_request.pk, **body)  # the connection has prepared its statements
    with CaptureQueriesContext(connection) as captured:
        response = servicenow.api.post(
            events_url(worked_request.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="status-1"
        )
    assert response.status_code == 201
    assert not [query for query in captured.captured_queries if "sp_status_names" in query["sql"]]
    stored = RequestEvent.objects.get(pk=response.json()["id"])
    assert (stored.status, stored.external_status, stored.clock_effect) == (
        "awaiting_customer",
        "pending caller",
        "pause",
    )
    count = RequestEvent.objects.count()
    refused = servicenow.api.post(
        events_url(worked_request.pk),
        {**body, "status": "Parked"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="status-2",
    )
    assert refused.status_code == 400
    assert "Pending Caller" in refused.json()["error"]["fields"]["status"][0]
    assert RequestEvent.objects.count() == count
    assert not IdempotencyRecord.objects.filter(key="status-2").exists()
