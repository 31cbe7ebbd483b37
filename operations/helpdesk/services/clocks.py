"""The SLA clocks stored from the event log: the recompute (``replay`` in, rows out), the repair
after configuration changes, and the breach sweep's side (escalations, ladder advance)."""

from __future__ import annotations

import functools
import json
import logging
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Field, Q
from django.utils import timezone

from models_catalog.models import SupportLevel
from operations.engine import engine_for
from operations.helpdesk.replay import (
    EventFacts,
    PolicyFacts,
    ReplayResult,
    StepFacts,
    TargetFacts,
    replay,
)
from operations.helpdesk.services._common import (
    CLOCK_FIELDS,
    OPEN_STATUSES,
    STATUS_MAPPINGS_READ,
    _lock,
    _lock_sql,
    _locked_from_row,
    _next_sequence,
    _sole_party,
    status_mapping_columns,
    step_event_key,
)
from operations.models import (
    EscalationAction,
    EscalationStep,
    Notification,
    Priority,
    RequestEvent,
    RequestEventKind,
    ServiceCalendar,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    StatusMapping,
    SupportRequest,
    WebhookDelivery,
)
from operations.selectors import phase_on, policy_in_force
from supportplan.lib import rows
from supportplan.models import ApiKey, SupportPlan

logger = logging.getLogger(__name__)


# --- Recompute -----------------------------------------------------------------------------------
def _policy_day(request: SupportRequest):
    zone = UTC
    if request.location_id:
        try:
            zone = ZoneInfo(request.location.timezone)
        except (KeyError, ValueError):
            zone = UTC
    return request.reported_at.astimezone(zone).date()


def _target_facts(
    policy: SlaPolicy | None, rows: list[tuple] | None = None
) -> tuple[tuple[TargetFacts, ...], dict[int, _CalendarVersion]]:
    """The policy's targets with their ladders, and the calendars they run on (one plain query:
    this runs for every event). ``rows``: that query's rows, read already (``_request_facts``)."""
    if policy is None:
        return (), {}
    if rows is not None:
        pass
    elif connection.vendor == "postgresql":
        rows = _target_rows(policy)
    else:
        rows = (
            SlaTarget.objects.filter(policy=policy)
            .order_by("id", "escalation_steps__position", "escalation_steps__id")
            .values_list(
                "id",
                "priority_id",
                "metric",
                "minutes",
                "calendar_id",
                "calendar__updated_at",
                "request_type",
                "support_level_id",
                "escalation_steps__id",
                "escalation_steps__position",
                "escalation_steps__trigger",
                "escalation_steps__percent",
                "escalation_steps__minutes_after_breach",
                "escalation_steps__repeat_every_minutes",
                "escalation_steps__max_repeats",
            )
        )
    return _targets_of_rows(tuple(rows))


@functools.lru_cache(maxsize=64)
def _targets_of_rows(
    rows: tuple[tuple, ...],
) -> tuple[tuple[TargetFacts, ...], dict[int, _CalendarVersion]]:
    """``_target_facts`` from the query's rows. A function of the rows alone (every column the facts
    and the calendar versions take is in them), so the facts are built once per policy version
    rather than for every event. Callers must not change the dict."""
    heads: dict[int, tuple] = {}
    steps: dict[int, list[StepFacts]] = {}
    calendars: dict[int, _CalendarVersion] = {}
    for row in rows:
        heads.setdefault(row[0], row[:8])
        calendars[row[4]] = _CalendarVersion(row[4], row[5])
        if row[8] is not None:
            steps.setdefault(row[0], []).append(StepFacts(*row[8:]))
    facts = tuple(
        TargetFacts(
            id=target_id,
            priority_id=priority_id,
            metric=metric,
            seconds=minutes * 60,
            calendar_id=calendar_id,
            request_type=request_type,
            level_id=level_id,
            steps=tuple(steps.get(target_id, ())),
        )
        for (
            target_id,
            priority_id,
            metric,
            minutes,
            calendar_id,
            _,
            request_type,
            level_id,
        ) in heads.values()
    )
    return facts, calendars


_TARGET_COLUMNS = (
    "id",
    "priority_id",
    "metric",
    "minutes",
    "calendar_id",
    "request_type",
    "support_level_id",
)
_STEP_COLUMNS = (
    "id",
    "position",
    "trigger",
    "percent",
    "minutes_after_breach",
    "repeat_every_minutes",
    "max_repeats",
)


def target_row_columns() -> list[tuple[str, Field]]:
    """The columns of a target row as ``_target_facts`` reads it, each with its field: the target's
    (``t``) with its calendar's ``updated_at`` (``c``) after the calendar id, then one step of its
    ladder (``s``). From ``target_rows_from()``; every statement that reads targets uses both."""
    quote = connection.ops.quote_name
    target_fields = {field.attname: field for field in SlaTarget._meta.concrete_fields}
    step_fields = {field.attname: field for field in EscalationStep._meta.concrete_fields}
    target = [(f"t.{quote(target_fields[name].column)}", target_fields[name]) for name in _TARGET_COLUMNS]
    calendar_updated = ServiceCalendar._meta.get_field("updated_at")
    return [
        *target[:5],
        (f"c.{quote(calendar_updated.column)}", calendar_updated),
        *target[5:],
        *[(f"s.{quote(step_fields[name].column)}", step_fields[name]) for name in _STEP_COLUMNS],
    ]


def target_rows_from() -> str:
    """The targets (``t``) joined to their calendars (``c``) and their ladders' steps (``s``)."""
    quote = connection.ops.quote_name
    target = SlaTarget._meta
    return (
        f"{quote(target.db_table)} t INNER JOIN {quote(ServiceCalendar._meta.db_table)} c "
        f"ON c.{quote('id')} = t.{quote(target.get_field('calendar').column)} "
        f"LEFT OUTER JOIN {quote(EscalationStep._meta.db_table)} s "
        f"ON s.{quote(EscalationStep._meta.get_field('target').column)} = t.{quote('id')}"
    )


def target_rows_order() -> str:
    """The order ``_target_facts`` reads target rows in: by target, then its ladder's steps."""
    quote = connection.ops.quote_name
    return f"t.{quote('id')}, s.{quote('position')}, s.{quote('id')}"


@functools.cache
def _target_rows_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {', '.join(column for column, _ in target_row_columns())} FROM {target_rows_from()} "  # noqa: S608
        f"WHERE t.{quote(SlaTarget._meta.get_field('policy').column)} = %s ORDER BY {target_rows_order()}"
    )


def _target_rows(policy: SlaPolicy) -> list[tuple]:
    """The rows of ``_target_facts``' query as one plain PostgreSQL statement (it runs for every
    event; building it through the ORM costs more than running it)."""
    with connection.cursor() as cursor:
        cursor.execute(_target_rows_sql(), [policy.pk])
        return cursor.fetchall()


@dataclass(frozen=True)
class _CalendarVersion:
    """What ``engine_for`` keys its cache by: a calendar's id and ``updated_at``."""

    pk: int
    updated_at: datetime


_EVENT_COLUMNS = (
    "id",
    "sequence",
    "kind",
    "occurred_at",
    "status",
    "clock_effect",
    "priority_id",
    "level_id",
    "party_id",
    "source_event_id",
)


def _event_rows(request: SupportRequest) -> tuple[list[EventFacts], set[str]]:
    """The request's events as facts, and the source event ids in use (one query).

    Runs for every event: on PostgreSQL a plain statement on the (request, occurred_at, sequence)
    index (the ORM would also join the request for the model's default ordering)."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(quote(column) for column in _EVENT_COLUMNS)} "  # noqa: S608
                f"FROM {quote(RequestEvent._meta.db_table)} WHERE {quote('request_id')} = %s",
                [request.pk],
            )
            rows = cursor.fetchall()
    else:
        rows = RequestEvent.objects.filter(request=request).order_by().values_list(*_EVENT_COLUMNS)
    facts, source_ids = [], set()
    for row in rows:
        facts.append(EventFacts(*row[1:4], *row[4:9], id=row[0]))
        if row[9]:
            source_ids.add(row[9])
    return facts, source_ids


@dataclass
class _RequestFacts:
    """What a recompute reads about one locked request, read together (``_request_facts``)."""

    events: list[EventFacts]
    source_ids: set[str]
    #: ``SlaClock`` rows (PostgreSQL: ``rows.light_class`` objects with its attnames).
    clocks: list[Any]
    #: The rows of ``_target_rows`` for the request's stored policy (None: not read).
    target_rows: list[tuple] | None
    #: An unused ``RequestEvent`` id from its sequence, for the event about to be stored.
    next_event_id: int | None


def _from_json(text: str | None, converters: tuple[tuple[int, Any], ...]) -> list[list[Any]]:
    """The rows of a ``json_agg(json_build_array(…))`` column, their values as psycopg2 reads them."""
    if text is None:  # no rows
        return []
    return [rows.converted(row, converters) for row in json.loads(text)]


@dataclass(frozen=True)
class _FactsStatement:
    sql: str
    #: ``_from_json`` converters of the events', clocks' and targets' columns.
    events: tuple[tuple[int, Any], ...]
    clocks: tuple[tuple[int, Any], ...]
    targets: tuple[tuple[int, Any], ...]
    #: Of the locked row's columns (with a claim), sent as one ``json_build_array``.
    locked: tuple[tuple[int, Any], ...] = ()


@functools.cache
def _request_facts_sql(claim: str | None = None) -> _FactsStatement:
    """One row of four reads an event write needs, in one round trip: a fresh event id, then the
    request's events, its clocks and its policy's targets (with their ladders), each as one
    ``json_agg`` of its rows (one row of a few columns: reading a row per event, clock and target,
    each with every branch's columns, cost psycopg2 more than the reads cost PostgreSQL). Its
    parameters: the request's id twice, then its policy's.

    With ``claim`` (an idempotency claim's ``INSERT … RETURNING``) the statement also runs the
    claim and locks the request (the row of ``_lock_sql``: the request and its policy, ``FOR NO KEY
    UPDATE``); the row, if the request is the plan's, starts with whether the claim returned a row,
    the locked row and whether the facts are current. They are read with the statement's snapshot,
    which a wait for the lock leaves behind: they are current when the request row locked is the
    version that snapshot sees (every write of a request's events or clocks rewrites its row under
    this lock). Then the status mappings of an API key (``_status``; none for a null key). Its
    parameters: the claim's, the request's id and plan, its id, the key's id, then its id twice; the
    targets are those of the locked row's policy."""
    quote = connection.ops.quote_name
    event_fields = {field.attname: field for field in RequestEvent._meta.concrete_fields}
    events = [event_fields[name] for name in _EVENT_COLUMNS]
    clocks = list(SlaClock._meta.concrete_fields)
    targets = target_row_columns()

    def aggregated(columns: list[str], source: str, where: str, order: str = "") -> str:
        order = f" ORDER BY {order}" if order else ""
        built = f"json_build_array({', '.join(columns)}){order}"
        return f"(SELECT json_agg({built})::text FROM {source} WHERE {where})"  # noqa: S608

    def facts(policy: str) -> str:
        request_column = quote("request_id")
        return ", ".join(
            [
                f"nextval(pg_get_serial_sequence('{RequestEvent._meta.db_table}', 'id'))::bigint",
                aggregated(
                    [quote(field.column) for field in events],
                    quote(RequestEvent._meta.db_table),
                    f"{request_column} = %s",
                ),
                aggregated(
                    [quote(field.column) for field in clocks],
                    quote(SlaClock._meta.db_table),
                    f"{request_column} = %s",
                ),
                aggregated(
                    [column for column, _ in targets],
                    target_rows_from(),
                    f"t.{quote(SlaTarget._meta.get_field('policy').column)} = {policy}",
                    target_rows_order(),
                ),
            ]
        )

    locked_fields = [*SupportRequest._meta.concrete_fields, *SlaPolicy._meta.concrete_fields]
    if claim is None:
        sql = f"SELECT {facts('%s')}"
    else:
        names = [f"c{index}" for index in range(len(locked_fields))]
        policy_column = names[[field.attname for field in locked_fields].index("policy_id")]
        request_table = rows.table(SupportRequest)
        key_column = f"t.{quote(StatusMapping._meta.get_field('api_key').column)} = %s"
        # The locked row as one JSON array too: psycopg2 decodes every column's name of every
        # statement through Python's codec, and the row has forty.
        locked = ", ".join(
            f"l.{name}::text" if field.get_internal_type() == "JSONField" else f"l.{name}"
            for name, field in zip(names, locked_fields, strict=True)
        )
        sql = (
            f"WITH claim AS ({claim}), l ({', '.join(names)}, v) AS MATERIALIZED ({_lock_sql(', r.xmin')}) "  # noqa: S608
            f"SELECT EXISTS (SELECT 1 FROM claim), json_build_array({locked})::text, "
            f"l.v = (SELECT s.xmin FROM {request_table} s WHERE s.{quote('id')} = %s), "
            f"{aggregated(status_mapping_columns(), f'{rows.table(StatusMapping)} t', key_column)}, "
            f"{facts(f'l.{policy_column}')} FROM l"
        )
    return _FactsStatement(
        sql,
        rows.json_converters(events),
        rows.json_converters(clocks),
        rows.json_converters([field for _, field in targets]),
        rows.json_converters(locked_fields, json_as_text=True),
    )


def _request_facts(request: SupportRequest) -> _RequestFacts:
    """The locked request's events, clocks and (stored) policy targets, and an event id to use:
    on PostgreSQL one statement (``_request_facts_sql``), elsewhere the separate reads. Facts read
    with the lock (``lock_claiming_with_facts``) and still current are taken instead, once."""
    read = request.__dict__.pop(_READ_WITH_LOCK, None)
    if read is not None:
        return read
    if connection.vendor != "postgresql":
        events, source_ids = _event_rows(request)
        return _RequestFacts(events, source_ids, _stored_clocks(request), None, None)
    statement = _request_facts_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            *rows.prepared("sp_request_facts", statement.sql, [request.pk, request.pk, request.policy_id])
        )
        return _facts_from(statement, cursor.fetchone())


#: Where ``lock_claiming_with_facts`` leaves the facts it read on the locked request.
_READ_WITH_LOCK = "_facts_read_with_lock"


def lock_claiming_with_facts(
    request: SupportRequest, claim_sql: str, claim_params: list, *, status_key: ApiKey | None = None
) -> tuple[bool, SupportRequest]:
    """An idempotency claim (``claim_sql``, an ``INSERT … RETURNING``), the request's lock
    (``_lock``: ``SupportRequest.DoesNotExist`` when it is not the plan's) and its facts
    (``_request_facts``) in one statement (PostgreSQL): whether the claim returned a row, and the
    locked request. The facts wait on it for the event write's ``_request_facts`` when they are
    current; after a wait for the lock they are not, and that call reads them again.
    ``status_key``: an API key whose status mappings the event needs (``_status``), read in the
    same statement and left on the locked request (``STATUS_MAPPINGS_READ``)."""
    statement = _request_facts_sql(claim_sql)
    status_key_id = status_key.pk if status_key is not None else None
    params = [*claim_params, request.pk, request.plan_id, request.pk, status_key_id, request.pk, request.pk]
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_request_lock_claim_facts", statement.sql, params))
        row = cursor.fetchone()
    if row is None:
        _locked_from_row(request, None)  # raises DoesNotExist
    claimed, locked_json, current, mappings_json = row[:4]
    locked = _locked_from_row(request, rows.converted(json.loads(locked_json), statement.locked))
    if current:  # the snapshot saw the row locked: nothing was written meanwhile
        locked.__dict__[_READ_WITH_LOCK] = _facts_from(statement, row[4:])
    if status_key_id is not None:
        mappings = [tuple(mapping) for mapping in json.loads(mappings_json or "[]")]
        locked.__dict__[STATUS_MAPPINGS_READ] = (status_key_id, mappings)
    return bool(claimed), locked


def _facts_from(statement: _FactsStatement, facts: tuple) -> _RequestFacts:
    """``_RequestFacts`` of the last four columns of ``_request_facts_sql``'s row."""
    next_event_id, events_json, clocks_json, targets_json = facts[-4:]
    events, source_ids = [], set()
    for row in _from_json(events_json, statement.events):
        # _EVENT_COLUMNS: the id, the facts' columns in order, the source event id.
        events.append(EventFacts(*row[1:9], id=row[0]))
        if row[9]:
            source_ids.add(row[9])
    # Compared and written back only: plain rows, not model instances (one per clock per event).
    light_clock = rows.light_class(SlaClock)
    clocks = [light_clock(row) for row in _from_json(clocks_json, statement.clocks)]
    # In _target_rows' order (target, then its ladder by position), as the tuples it reads.
    target_rows = [tuple(row) for row in _from_json(targets_json, statement.targets)]
    return _RequestFacts(events, source_ids, clocks, target_rows, next_event_id)


def _facts_of(event: RequestEvent) -> EventFacts:
    return EventFacts(
        id=event.pk,
        sequence=event.sequence,
        kind=event.kind,
        occurred_at=event.occurred_at,
        status=event.status,
        clock_effect=event.clock_effect,
        priority_id=event.priority_id,
        level_id=event.level_id,
        party_id=event.party_id,
    )


def _done_keys(
    request: SupportRequest, clocks: Iterable[SlaClock], targets: list[TargetFacts], source_ids: set[str]
) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """Ladder entries already acted on per (target, cycle): their outbox rows (notices, webhooks) or
    escalation events carry the entry's key."""
    steps = {target.id: target.steps for target in targets}
    candidates: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    for clock in clocks:
        for step in steps.get(clock.target_id, ()):
            repeats = step.max_repeats if step.repeat_every_minutes else 0
            for repeat in range(repeats + 1):
                key = step_event_key(clock_id=clock.pk, step_id=step.id, repeat=repeat)
                candidates[key] = ((clock.target_id, clock.cycle), (step.id, repeat))
    done: dict[tuple[int, int], set[tuple[int, int]]] = {}
    if not candidates:
        return done
    keys = list(candidates)
    found = _outbox_keys(plan_id=request.plan_id, keys=keys) | (source_ids & set(candidates))
    for key in found:
        clock_key, entry = candidates[key]
        done.setdefault(clock_key, set()).add(entry)
    return done


def _outbox_keys(*, plan_id: int, keys: list[str]) -> set[str]:
    """Which of ``keys`` have a notice or a webhook delivery in the plan's outbox (one query; the set
    removes the duplicates)."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of every ladder entry of every clock; prepared:
        # most events of a request with a ladder ask it.
        with connection.cursor() as cursor:
            cursor.execute(
                *rows.prepared("sp_outbox_keys", _outbox_keys_sql(), [plan_id, keys, plan_id, keys])
            )
            return {row[0] for row in cursor.fetchall()}
    notified = (
        Notification.objects.filter(plan_id=plan_id, event_key__in=keys).order_by().values_list("event_key")
    )
    delivered = (
        WebhookDelivery.objects.filter(plan_id=plan_id, event_key__in=keys)
        .order_by()
        .values_list("event_key")
    )
    return {row[0] for row in notified.union(delivered)}


@functools.cache
def _outbox_keys_sql() -> str:
    quote = connection.ops.quote_name
    plan, event_key = quote("plan_id"), quote("event_key")
    notices, deliveries = (quote(model._meta.db_table) for model in (Notification, WebhookDelivery))
    return (
        f"SELECT {event_key} FROM {notices} WHERE {plan} = %s AND {event_key} = ANY(%s) "  # noqa: S608
        f"UNION ALL SELECT {event_key} FROM {deliveries} WHERE {plan} = %s AND {event_key} = ANY(%s)"
    )


def _stored_clocks(request: SupportRequest) -> list[SlaClock]:
    if connection.vendor == "postgresql":
        return rows.fetch(SlaClock, f"t.{connection.ops.quote_name('request_id')} = %s", [request.pk])
    return list(SlaClock.objects.filter(request=request))


@dataclass
class _Computed:
    request: SupportRequest
    policy: SlaPolicy | None
    result: ReplayResult
    existing: dict[tuple[int, int], SlaClock]


def _compute(
    request: SupportRequest,
    *,
    now: datetime,
    extra_done: dict | None = None,
    markers: dict | None = None,
    events: list[EventFacts] | None = None,
    source_ids: set[str] | None = None,
    keep_policy: bool = False,
    facts: _RequestFacts | None = None,
) -> _Computed:
    """Replays the request. Steps count as done by their keys in the outbox and the event log only
    (so the result is a function of the events, whatever order they came in); ``extra_done`` and
    ``markers`` are the sweep's (``clock_step_advance``). ``facts``: read already
    (``_request_facts``; its events win over ``events``)."""
    if facts is not None:
        events, source_ids = facts.events, facts.source_ids
    elif events is None or source_ids is None:
        events, source_ids = _event_rows(request)
    if keep_policy and request.policy_id is not None:
        policy = request.policy  # fixed at creation; configuration changes re-evaluate it (repair)
    else:
        policy = policy_in_force(plan=request.plan, day=_policy_day(request))
    read_targets = None
    if facts is not None and policy is not None and policy.pk == request.policy_id:
        read_targets = facts.target_rows
    targets, calendars = _target_facts(policy, read_targets)
    stored = facts.clocks if facts is not None else _stored_clocks(request)
    existing = {(clock.target_id, clock.cycle): clock for clock in stored}

    def done_for(running: list[tuple[int, int]]) -> dict[tuple[int, int], set[tuple[int, int]]]:
        # Only running clocks look at their ladder: the outbox is asked about theirs alone (and not
        # at all when none of them has a stored row with a ladder).
        done = _done_keys(request, [existing[key] for key in running if key in existing], targets, source_ids)
        for key, entries in (extra_done or {}).items():
            done.setdefault(key, set()).update(entries)
        return done

    facts = None
    if policy is not None:
        facts = PolicyFacts(
            pause_statuses=frozenset(policy.pause_statuses or ()),
            vendor_wait_keeps_vendor_clock=policy.vendor_wait_keeps_vendor_clock,
        )
    result = replay(
        events,
        request_type=request.request_type,
        policy=facts,
        targets=targets,
        engines={calendar_id: engine_for(calendar) for calendar_id, calendar in calendars.items()},
        now=now,
        markers=markers,
        done_for=done_for,
    )
    return _Computed(request=request, policy=policy, result=result, existing=existing)


#: What a recompute stores of a clock (``CLOCK_FIELDS`` but its timestamp, by attname):
#: ``ClockResult`` and ``SlaClock`` share the names.
_CLOCK_VALUES = tuple(
    SlaClock._meta.get_field(name).attname for name in CLOCK_FIELDS if name != "computed_at"
)
_clock_values = operator.attrgetter(*_CLOCK_VALUES)
#: A running clock's values but its elapsed time (see ``_write``).
_live_clock_values = operator.attrgetter(*(name for name in _CLOCK_VALUES if name != "elapsed_seconds"))


def _write(computed: _Computed, *, now: datetime, defer: bool = False) -> SupportRequest:
    """Stores the computed clocks and request columns. ``defer`` (PostgreSQL): the clock writes and
    the request's update go with the next statement of the open ``rows.write_batch`` (a read that
    follows sees them); the new clocks' instances are not given their ids."""
    request, result = computed.request, computed.result
    seen, to_update, to_create = set(), [], []
    for clock in result.clocks:
        stored = computed.existing.get(clock.key)
        seen.add(clock.key)
        if stored is None:
            to_create.append(
                rows.new(
                    SlaClock,
                    plan_id=request.plan_id,
                    request=request,
                    target_id=clock.target_id,
                    cycle=clock.cycle,
                    computed_at=now,
                    **dict(zip(_CLOCK_VALUES, _clock_values(clock), strict=True)),
                )
            )
            continue
        # A running clock whose instants did not move keeps its stored (elapsed, computed_at) pair:
        # it ran all along, so readers extrapolate from it (``clock_figures``) and no write is needed.
        compared = _live_clock_values if clock.is_live else _clock_values
        if compared(stored) != compared(clock):
            for name, value in zip(_CLOCK_VALUES, _clock_values(clock), strict=True):
                setattr(stored, name, value)
            stored.computed_at = now
            to_update.append(stored)
    stale = [clock.pk for key, clock in computed.existing.items() if key not in seen]
    if stale:
        SlaClock.objects.filter(pk__in=stale).delete()
    policy = computed.policy
    columns = {
        "status": result.status,
        "priority_id": result.priority_id,
        "current_level_id": result.level_id,
        "current_party_id": result.party_id,
        "first_response_at": result.first_response_at,
        "last_public_update_at": result.last_public_update_at,
        "resolved_at": result.resolved_at,
        "closed_at": result.closed_at,
        "phase": policy.phase if policy else phase_on(plan=request.plan, day=_policy_day(request)),
        "policy_id": policy.pk if policy else None,
        "sla_state": result.sla_state,
        "next_breach_at": result.next_breach_at,
        "event_count": result.event_count,
        "updated_at": now,
    }
    if connection.vendor == "postgresql":
        # Plain statements: the ORM builds each anew, for every event (new clocks get their ids).
        # Prepared: the statements' text depends on the number of clocks only.
        run = rows.execute_later if defer else _execute
        if to_update:
            sql, params = rows.bulk_update_sql(to_update, CLOCK_FIELDS, model=SlaClock)
            run(*rows.prepared(f"sp_clocks_update_{len(to_update)}", sql, params))
        if to_create and defer:
            # Their instances are not used again (a read of the clocks gets them with their ids):
            # queued too, their ids from the table's sequence, instead of a round trip of their own.
            sql, params = rows.insert_sql(to_create)
            run(*rows.prepared(f"sp_clocks_insert_{len(to_create)}", sql, params))
        elif to_create:
            rows.insert(to_create, name=f"sp_clocks_create_{len(to_create)}")
        sql, params = rows.update_sql(
            SupportRequest, columns, f"{connection.ops.quote_name('id')} = %s", [request.pk]
        )
        run(*rows.prepared("sp_request_update", sql, params))
    else:
        if to_update:
            SlaClock.objects.bulk_update(to_update, CLOCK_FIELDS)
        if to_create:
            SlaClock.objects.bulk_create(to_create)
        SupportRequest.objects.filter(pk=request.pk).update(**columns)
    for name, value in columns.items():
        setattr(request, name, value)
    return request


def request_recompute(*, request: SupportRequest, now: datetime | None = None) -> SupportRequest:
    """Replays the request's events and stores the derived columns and every clock (idempotent).

    Locks the request row (serialising it with concurrent events); clocks of targets no longer in
    force are removed, new ones created, changed ones updated in bulk. The policy is looked up again
    (the one in force on the day the request was reported); ``event_record`` reuses the stored one,
    since every configuration change repairs the open requests through here. ``now`` defaults to the
    current time (aware UTC).
    """
    now = now or timezone.now()
    with transaction.atomic():
        return _recompute_locked(_lock(request), now=now)


def _recompute_locked(
    request: SupportRequest,
    *,
    now: datetime,
    events: list[EventFacts] | None = None,
    source_ids: set[str] | None = None,
    keep_policy: bool = False,
    facts: _RequestFacts | None = None,
    defer: bool = False,
) -> SupportRequest:
    computed = _compute(
        request, now=now, events=events, source_ids=source_ids, keep_policy=keep_policy, facts=facts
    )
    return _write(computed, now=now, defer=defer)


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Configuration changes ("repair") ------------------------------------------------------------
def clocks_repair(
    *,
    plan: SupportPlan,
    policy: SlaPolicy | None = None,
    calendar: ServiceCalendar | None = None,
    priority: Priority | None = None,
    now: datetime | None = None,
) -> int:
    """Recomputes the open requests a configuration change may affect; returns how many.

    ``policy``: requests under it, or without a policy yet (a new policy may now apply);
    ``calendar``: requests with a clock on it or under a policy with a target on it;
    ``priority``: requests at that priority. None of them: every open request of the plan.
    """
    now = now or timezone.now()
    requests = SupportRequest.objects.filter(plan=plan, status__in=OPEN_STATUSES)
    if policy is not None:
        requests = requests.filter(
            Q(policy=policy) | Q(policy__isnull=True) | Q(reported_at__date__gte=policy.valid_from)
        )
    if calendar is not None:
        requests = requests.filter(
            Q(clocks__calendar=calendar)
            | Q(policy__targets__calendar=calendar)
            | Q(location__in=calendar.locations.all())
        )
    if priority is not None:
        requests = requests.filter(priority=priority)
    count = 0
    for request in requests.distinct().order_by("pk").iterator():
        request.plan = plan  # all of them are the plan's: no query per request for it
        request_recompute(request=request, now=now)
        count += 1
    return count


# --- The sweep's side ----------------------------------------------------------------------------
def _live_step_repeat(clock: SlaClock, step: EscalationStep) -> int:
    return clock.next_step_repeat if clock.next_step_id == step.pk else 0


@transaction.atomic
def escalation_apply(*, clock: SlaClock, step: EscalationStep, now: datetime) -> RequestEvent | None:
    """Acts on a raise-level or raise-priority step: an "escalated" event (the clock step's key is its
    source event id, so it happens once) to the next level number / the next more urgent priority,
    then the request is recomputed. None when there is nothing to do (notify steps, top level or
    priority already, done before)."""
    if step.action not in (EscalationAction.RAISE_LEVEL, EscalationAction.RAISE_PRIORITY):
        return None
    key = step_event_key(clock_id=clock.pk, step_id=step.pk, repeat=_live_step_repeat(clock, step))
    request = SupportRequest.objects.select_related("current_level", "priority").get(pk=clock.request_id)
    if RequestEvent.objects.filter(request=request, source_event_id=key).exists():
        return None
    event = RequestEvent(
        plan_id=request.plan_id,
        request=request,
        kind=RequestEventKind.ESCALATED,
        occurred_at=now,
        source_event_id=key,
        actor_name="SLA escalation ladder",
    )
    if step.action == EscalationAction.RAISE_LEVEL:
        current = request.current_level.number if request.current_level else 0
        level = (
            SupportLevel.objects.filter(plan_id=request.plan_id, number__gt=current)
            .order_by("number")
            .first()
        )
        if level is None:
            return None
        event.level, event.party = level, _sole_party(level)
        event.body = f"Raised to L{level.number} {level.name}: {clock.get_metric_display()} breached."
    else:
        if request.priority is None:
            return None
        priority = (
            Priority.objects.filter(plan_id=request.plan_id, rank__lt=request.priority.rank)
            .order_by("-rank")
            .first()
        )
        if priority is None:
            return None
        event.priority = priority
        event.body = f"Raised to {priority.code}: {clock.get_metric_display()} breached."
    event.sequence = _next_sequence(request)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        return None  # applied concurrently
    try:
        with transaction.atomic():
            # Never wait for an event write's lock while the sweep holds clock rows: it may be
            # waiting for ours. Recompute after our commit instead.
            list(
                SupportRequest.objects.select_for_update(no_key=True, nowait=True)
                .filter(pk=request.pk)
                .values("pk")
            )
            request_recompute(request=request, now=now)
    except DatabaseError:
        transaction.on_commit(lambda: request_recompute(request=request))
    return event


@transaction.atomic
def clock_step_advance(*, clock: SlaClock, now: datetime) -> None:
    """After the sweep acted on ``clock.next_step`` (× ``next_step_repeat``): stores the following
    ladder entry (``next_step_at``/``next_step``/``next_step_repeat``), or nulls them when none is left
    or the clock no longer runs. Only this clock's row is written (the sweep holds its lock)."""
    request = SupportRequest.objects.get(pk=clock.request_id)
    key = (clock.target_id, clock.cycle)
    acted = {key: {(clock.next_step_id, clock.next_step_repeat)}} if clock.next_step_id else {}
    # Everything before the step acted on was acted on too (a notice without recipients leaves no
    # outbox row): the marker keeps the ladder moving forwards.
    marker = {key: (clock.next_step_id, clock.next_step_repeat)} if clock.next_step_id else {}
    computed = _compute(request, now=now, extra_done=acted, markers=marker)
    fresh = next((c for c in computed.result.clocks if c.key == (clock.target_id, clock.cycle)), None)
    values = {"next_step_at": None, "next_step_id": None, "next_step_repeat": 0}
    if fresh is not None and fresh.is_live:
        values = {
            "next_step_at": fresh.next_step_at,
            "next_step_id": fresh.next_step_id,
            "next_step_repeat": fresh.next_step_repeat,
        }
    SlaClock.objects.filter(pk=clock.pk).update(**values)
    for name, value in values.items():
        setattr(clock, name, value)


def clocks_repair_later(
    *, plan_id: int, policy_id: int | None = None, calendar_id: int | None = None
) -> None:
    """Runs ``clocks_repair`` after the caller's transaction commits (the SLA and calendar services
    call it on every change). Registered once per transaction and scope; a failure is logged, never
    raised: the configuration change itself is stored."""
    key = ("clocks_repair", plan_id, policy_id, calendar_id)
    connection = transaction.get_connection()
    if any(getattr(entry[1], "repair_key", None) == key for entry in connection.run_on_commit):
        return

    def run() -> None:
        try:
            plan = SupportPlan.objects.get(pk=plan_id)
            policy = SlaPolicy.objects.filter(pk=policy_id).first() if policy_id else None
            calendar = ServiceCalendar.objects.filter(pk=calendar_id).first() if calendar_id else None
            clocks_repair(plan=plan, policy=policy, calendar=calendar)
        except Exception:
            logger.exception("Repairing the SLA clocks of plan %s failed.", plan_id)

    run.repair_key = key
    transaction.on_commit(run)
