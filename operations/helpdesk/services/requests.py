"""The upsert of requests and the helpdesk's events; both end in a recompute of the clocks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from models_catalog.models import Party, SupportLevel
from operations.helpdesk.idempotency import atomic_service
from operations.helpdesk.services._common import (
    _BIGINT_LIMIT,
    EVENT_FIELDS,
    EVENT_KINDS,
    REQUEST_FIELDS,
    STATUS_MAPPINGS_READ,
    _actor,
    _choice,
    _errors_raise,
    _instant,
    _level,
    _level_by_number_sql,
    _lock,
    _owned,
    _party,
    _party_sql,
    _priority,
    _sole_party,
    _status,
)
from operations.helpdesk.services.clocks import (
    _event_rows,
    _facts_of,
    _policy_day,
    _recompute_locked,
    _request_facts,
    _RequestFacts,
    lock_claiming_with_facts,
    target_row_columns,
    target_rows_from,
    target_rows_order,
)
from operations.helpdesk.services.references import reference_add
from operations.models import (
    Impact,
    Priority,
    PriorityMatrixCell,
    RequestEvent,
    RequestEventKind,
    RequestType,
    SlaPolicy,
    SlaTarget,
    SupportRequest,
    Urgency,
)
from operations.selectors import phase_on, policy_in_force_sql, priority_for
from operations.statuses import RequestStatus
from supportplan.lib import rows
from supportplan.models import ApiKey, Location, SupportPlan

# --- The upsert ----------------------------------------------------------------------------------
#: Not validated again by ``full_clean``: each was just looked up in the plan (``_parse_request``,
#: the key, the stored row), and validating a relation costs a query to see that it exists.
_RESOLVED_RELATIONS = [field.name for field in SupportRequest._meta.concrete_fields if field.is_relation]


@dataclass
class _Parsed:
    fields: dict[str, Any]
    status: tuple[str, str, str] | None = None
    priority: Priority | None = None
    level: SupportLevel | None = None
    party: Party | None = None
    occurred_at: datetime | None = None
    references: list[tuple[str, str, Party | None]] | None = None


def _parse_request(plan: SupportPlan, data: dict, api_key: ApiKey | None, *, now: datetime) -> _Parsed:
    unknown = set(data) - REQUEST_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    parsed = _Parsed(fields={})
    errors: dict[str, str] = {}

    def attempt(name: str, parse):
        try:
            return parse()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                errors.setdefault(field_name, messages[0])
            return None

    for name in (
        "title",
        "description",
        "description_anonymised",
        "source_system",
        "source_id",
        "actor_name",
    ):
        if name in data:
            value = data[name]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[name] = "Give text."
            else:
                parsed.fields[name] = value.strip() if name != "description" else value
    for name in ("needed_hypercare_resources", "has_action_plan"):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = "Give true or false."
            else:
                parsed.fields[name] = data[name]
    if data.get("request_type") not in (None, ""):
        parsed.fields["request_type"] = attempt(
            "request_type", lambda: _choice(data["request_type"], "request_type", RequestType)
        )
    for name, choices in (("impact", Impact), ("urgency", Urgency)):
        if data.get(name) not in (None, ""):
            parsed.fields[name] = attempt(name, lambda n=name, c=choices: _choice(data[n], n, c))
    if data.get("priority") not in (None, ""):
        parsed.priority = attempt("priority", lambda: _priority(plan, data["priority"]))
    if data.get("status") not in (None, ""):
        parsed.status = attempt("status", lambda: _status(plan, api_key, data["status"]))
    sole_party = _UNKNOWN
    if data.get("level") not in (None, ""):
        if data.get("party") in (None, ""):
            found = attempt("level", lambda: _level_and_sole_party(plan, data["level"]))
            if found is not None:
                parsed.level, sole_party = found
        else:
            parsed.level = attempt("level", lambda: _level(plan, data["level"]))
    if data.get("party") not in (None, ""):
        parsed.party = attempt("party", lambda: _party(plan, data["party"]))
    if data.get("scope_item") not in (None, ""):
        from scope.models import ScopeItem

        parsed.fields["scope_item"] = attempt(
            "scope_item", lambda: _owned(ScopeItem, plan, data["scope_item"], "scope_item")
        )
    if data.get("location") not in (None, ""):
        parsed.fields["location"] = attempt(
            "location", lambda: _owned(Location, plan, data["location"], "location")
        )
    if data.get("reported_at") not in (None, ""):
        parsed.fields["reported_at"] = attempt(
            "reported_at", lambda: _instant(data["reported_at"], "reported_at", now=now)
        )
    if data.get("occurred_at") not in (None, ""):
        parsed.occurred_at = attempt(
            "occurred_at", lambda: _instant(data["occurred_at"], "occurred_at", now=now)
        )
    if "references" in data and data["references"] is not None:
        refs = data["references"]
        if not isinstance(refs, list) or not all(isinstance(item, dict) for item in refs):
            errors["references"] = 'Give a list of {"system": …, "reference": …} objects.'
        else:
            parsed.references = []
            for item in refs:
                party = (
                    attempt("references", lambda i=item: _party(plan, i["party"]))
                    if item.get("party")
                    else None
                )
                parsed.references.append(
                    (str(item.get("system") or ""), str(item.get("reference") or ""), party)
                )
    if "impact" in parsed.fields and "urgency" in parsed.fields and parsed.priority is None and not errors:
        parsed.priority = _matrix_priority(plan, parsed.fields["impact"], parsed.fields["urgency"])
        if parsed.priority is None:
            errors["urgency"] = "The plan's priority matrix has no priority for this impact and urgency."
    if parsed.level is not None and parsed.party is None:
        parsed.party = _sole_party(parsed.level) if sole_party is _UNKNOWN else sole_party
    _errors_raise(errors)
    return parsed


#: Not looked up (yet): the level's sole party comes with the level when no party is named.
_UNKNOWN = object()


# Plain statements of the upsert's lookups, built once per process (PostgreSQL).
@functools.cache
def _level_sql() -> str:
    quote = connection.ops.quote_name
    through = SupportLevel.parties.through
    level_column = quote(through._meta.get_field("supportlevel").column)
    party_column = quote(through._meta.get_field("party").column)
    return (
        f"SELECT {rows.columns(SupportLevel, 'l')}, {rows.columns(Party, 'q')} "  # noqa: S608
        f"FROM {rows.table(SupportLevel)} l LEFT OUTER JOIN LATERAL ("
        f"SELECT {rows.columns(Party, 'p')} FROM {rows.table(Party)} p "
        f"INNER JOIN {quote(through._meta.db_table)} t ON t.{party_column} = p.{quote('id')} "
        f"WHERE t.{level_column} = l.{quote('id')} LIMIT 2) q ON TRUE "
        # An integer parameter: a number beyond the column's smallint finds nothing, as in the ORM.
        f"WHERE l.{quote('plan_id')} = %s AND l.{quote('number')} = %s::integer "
        f"ORDER BY l.{quote('plan_id')}, l.{quote('number')}, l.{quote('id')}"
    )


@functools.cache
def _matrix_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(Priority, 'p')} FROM {rows.table(PriorityMatrixCell)} c "  # noqa: S608
        f"INNER JOIN {rows.table(Priority)} p ON p.{quote('id')} = c.{quote('priority_id')} "
        f"WHERE c.{quote('plan_id')} = %s AND c.{quote('impact')} = %s AND c.{quote('urgency')} = %s"
    )


@functools.cache
def _existing_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(SupportRequest, 't')} FROM {rows.table(SupportRequest)} t "  # noqa: S608
        f"WHERE t.{quote('plan_id')} = %s AND t.{quote('source_system')} = %s "
        f"AND t.{quote('source_id')} = %s LIMIT 1 FOR NO KEY UPDATE"
    )


def _level_and_sole_party(plan: SupportPlan, value: Any) -> tuple[SupportLevel | None, Any]:
    """``_level`` and ``_sole_party`` of it; on PostgreSQL in one plain statement (every upsert naming a
    level without a party asks both). An unknown level raises ``_level``'s error."""
    text = str(value).strip().upper().removeprefix("L")
    plain = connection.vendor == "postgresql" and not isinstance(value, SupportLevel)
    if not (plain and text.isdigit() and len(text) < 10):  # else: the ORM's own handling of odd numbers
        level = _level(plan, value)
        return level, _sole_party(level)
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_level_sole_party", _level_sql(), [plan.pk, int(text)]))
        fetched = cursor.fetchall()
    if not fetched:
        return _level(plan, value), None  # raises the error naming the plan's levels
    split = rows.width(SupportLevel)
    level = rows.instance(SupportLevel, fetched[0][:split])
    parties = [row[split:] for row in fetched if row[0] == level.pk and row[split] is not None]
    return level, rows.instance(Party, parties[0]) if len(parties) == 1 else None


def _level_and_party(plan: SupportPlan, level_value: Any, party_value: Any) -> tuple[SupportLevel, Party]:
    """``_level`` and ``_party``, with their errors (the level's first); on PostgreSQL in one prepared
    statement (a hand-off names both)."""
    text = str(level_value).strip().upper().removeprefix("L")
    by_pk = isinstance(party_value, int) or str(party_value).isdigit()
    plain = (
        connection.vendor == "postgresql"
        and not isinstance(level_value, SupportLevel)
        and not isinstance(party_value, Party)
        and text.isdigit()
        and len(text) < 10
        and (not by_pk or abs(int(party_value)) < _BIGINT_LIMIT)
    )
    if not plain:  # the separate lookups handle instances and odd values
        return _level(plan, level_value), _party(plan, party_value)
    pk = int(party_value) if by_pk else None
    params = [plan.pk, int(text), plan.pk, pk, str(party_value).strip(), pk]
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_level_and_party", _level_and_party_sql(), params))
        row = cursor.fetchone()
    split = rows.width(SupportLevel)
    level = rows.instance(SupportLevel, row[:split]) if row[0] is not None else _level(plan, level_value)
    party = rows.instance(Party, row[split:]) if row[split] is not None else _party(plan, party_value)
    return level, party  # (an unknown one raised its error above)


@functools.cache
def _level_and_party_sql() -> str:
    """One row: the plan's level of a number (``_level_sql``) and the party of an id or name
    (``_party_sql``), each null when there is none; their parameters one after the other."""
    return (
        f"SELECT {rows.columns(SupportLevel, 'l')}, {rows.columns(Party, 'p')} FROM (SELECT 1) one "  # noqa: S608
        f"LEFT OUTER JOIN LATERAL ({_level_by_number_sql()}) l ON TRUE "
        f"LEFT OUTER JOIN LATERAL ({_party_sql()}) p ON TRUE"
    )


def _matrix_priority(plan: SupportPlan, impact: str, urgency: str) -> Priority | None:
    """``priority_for``; on PostgreSQL one plain statement."""
    if connection.vendor != "postgresql":
        return priority_for(plan=plan, impact=impact, urgency=urgency)
    if impact not in Impact.values or urgency not in Urgency.values:
        return None
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_matrix_priority", _matrix_sql(), [plan.pk, impact, urgency]))
        row = cursor.fetchone()
    return rows.instance(Priority, row) if row is not None else None


def _existing(plan: SupportPlan, source_system: str, source_id: str) -> SupportRequest | None:
    """The plan's request with this source key, locked ``FOR NO KEY UPDATE`` (plain SQL on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return (
            SupportRequest.objects.select_for_update(no_key=True)
            .filter(plan=plan, source_system=source_system, source_id=source_id)
            .first()
        )
    with connection.cursor() as cursor:
        cursor.execute(
            *rows.prepared("sp_request_by_source", _existing_sql(), [plan.pk, source_system, source_id])
        )
        row = cursor.fetchone()
    return rows.instance(SupportRequest, row) if row is not None else None


@atomic_service
def request_upsert(
    *, plan: SupportPlan, principal: Any, data: dict, api_key: ApiKey | None = None
) -> tuple[SupportRequest, bool]:
    """Creates the request, or updates the one with the same (``source_system``, ``source_id``).

    ``data`` (values as JSON gives them, or model instances): title (required to create), description,
    description_anonymised, request_type, impact, urgency, priority (code; else impact × urgency via
    the matrix), status (ours or the key's mapped name), level (number, "L3"), party (id or name),
    scope_item, location (ids), reported_at (ISO 8601 with offset; default now), source_system,
    source_id, references ([{system, reference, party?}]), actor_name, and for an update occurred_at
    (when the helpdesk changed it; default now). Creating writes the "created" event; an update that
    changes status, priority or holder writes the matching events. Returns (request, created); a
    created request carries its events and references as ``written_events`` and
    ``written_references`` (oldest first): they are all it has.
    """
    now = timezone.now()
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": "Send a JSON object."})
    user, key = _actor(principal, api_key)
    parsed = _parse_request(plan, data, key, now=now)
    fields = parsed.fields
    if fields.get("source_id") and not fields.get("source_system"):
        fields["source_system"] = (
            re.sub(r"[^a-z0-9]+", "-", key.name.lower()).strip("-")[:60] if key else "manual"
        )
    existing = None
    if fields.get("source_id"):
        existing = _existing(plan, fields["source_system"], fields["source_id"])
    if existing is None and connection.vendor == "postgresql":
        # The request's INSERT skips a row a concurrent upsert stored first (ON CONFLICT DO NOTHING):
        # no savepoint around the create; an error after it rolls the caller's transaction back.
        request = _request_create(plan=plan, parsed=parsed, user=user, key=key, now=now)
        if request is not None:
            return _known_relations(request, parsed), True
        existing = _existing(plan, fields.get("source_system", ""), fields.get("source_id", ""))
        if existing is None:
            raise IntegrityError("The request could not be stored (a unique constraint).")
    elif existing is None:
        try:
            with transaction.atomic():
                request = _request_create(plan=plan, parsed=parsed, user=user, key=key, now=now)
                return _known_relations(request, parsed), True
        except IntegrityError:
            # A concurrent upsert created it first: update that one.
            existing = _existing(plan, fields["source_system"], fields["source_id"])
            if existing is None:
                raise
    existing.plan = plan  # found in the plan: no query for it
    request = _request_update(request=existing, parsed=parsed, user=user, key=key, now=now)
    return _known_relations(request, parsed), False


def _known_relations(request: SupportRequest, parsed: _Parsed) -> SupportRequest:
    """Caches on ``request`` the priority, level and party the upsert looked up when the request now
    points to them (the response names them): the recompute sets the ids from the event log."""
    for name, candidate in (
        ("priority", parsed.priority),
        ("current_level", parsed.level),
        ("current_party", parsed.party),
    ):
        field = SupportRequest._meta.get_field(name)
        if (
            candidate is not None
            and not field.is_cached(request)
            and getattr(request, field.attname) == candidate.pk
        ):
            field.set_cached_value(request, candidate)
    return request


def _request_create(*, plan, parsed: _Parsed, user, key, now) -> SupportRequest | None:
    """The new request (None on PostgreSQL when a concurrent upsert stored its source key first)."""
    fields = parsed.fields
    if not fields.get("title"):
        raise ValidationError({"title": "Give the request a title."})
    status, external, effect = parsed.status or (RequestStatus.NEW, "", "")
    # actor_name belongs to the "created" event, not to the request.
    request = rows.new(
        SupportRequest, plan=plan, source_key=key, **{k: v for k, v in fields.items() if k != "actor_name"}
    )
    request.reported_at = fields.get("reported_at") or now
    request.status, request.priority = status, parsed.priority
    request.current_level, request.current_party = parsed.level, parsed.party
    request.full_clean(exclude=_RESOLVED_RELATIONS, validate_constraints=False)
    event_id = None
    if connection.vendor == "postgresql":
        event_id = _request_insert(request)
        if event_id is None:
            return None  # a concurrent upsert stored this source key first
    else:
        request.save()
    created_event = rows.new(
        RequestEvent,
        plan=plan,
        request=request,
        sequence=1,
        kind=RequestEventKind.CREATED,
        occurred_at=request.reported_at,
        status=status,
        external_status=external,
        clock_effect=effect,
        priority=parsed.priority,
        impact=request.impact,
        urgency=request.urgency,
        level=parsed.level,
        party=parsed.party,
        actor_name=fields.get("actor_name", ""),
        api_key=key,
        user=user,
    )
    if event_id is not None:
        # Its id came with the request's: the insert goes with the next statement (``rows``).
        created_event.pk = event_id
        rows.execute_later(*rows.prepared("sp_event_insert", *rows.insert_sql([created_event], with_pk=True)))
        created_event._state.adding, created_event._state.db = False, connection.alias
    else:
        created_event.save()
    references = {}
    for system, reference, party in parsed.references or []:
        added = reference_add(request=request, system=system, reference=reference, party=party)
        references.setdefault(added.pk, added)
    request = _recompute_created(request, created_event, now=now)
    # All the new request has was written here: its response reads none of it again.
    request.written_events = [created_event]
    request.written_references = sorted(references.values(), key=lambda made: (made.created_at, made.pk))
    return request


def _request_insert(request: SupportRequest) -> int | None:
    """Inserts the new request (PostgreSQL) and returns an unused ``RequestEvent`` id for its
    "created" event, taken in the same statement; None when a concurrent upsert stored its source
    key first (nothing inserted)."""
    sql, params = rows.insert_sql([request])
    quote = connection.ops.quote_name
    sql += (
        f" ON CONFLICT DO NOTHING RETURNING {quote('id')}, "
        f"nextval(pg_get_serial_sequence('{RequestEvent._meta.db_table}', 'id'))::bigint"
    )
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_request_insert_with_event_id", sql, params))
        row = cursor.fetchone()
    if row is None:
        return None
    request.pk = row[0]
    request._state.adding, request._state.db = False, connection.alias
    return row[1]


def _recompute_created(request: SupportRequest, created_event: RequestEvent, *, now) -> SupportRequest:
    """The new request's recompute. On PostgreSQL the policy in force and its targets are read in one
    statement, and the clocks are not read: a request created in this transaction has none. Its
    writes wait for the next statement (``defer``): whoever reads the clocks next sends them."""
    events = [_facts_of(created_event)]
    if connection.vendor != "postgresql":
        return _recompute_locked(request, now=now, events=events, source_ids=set())
    policy, target_rows = _policy_and_targets(request)
    if policy is None:  # no policy in force: nothing to read ahead
        return _recompute_locked(request, now=now, events=events, source_ids=set())
    request.policy = policy  # the recompute keeps it (and stores it): it is the one in force
    facts = _RequestFacts(events, set(), [], target_rows, None)
    return _recompute_locked(request, now=now, facts=facts, keep_policy=True, defer=True)


def _policy_and_targets(request: SupportRequest) -> tuple[SlaPolicy | None, list[tuple]]:
    """``policy_in_force`` for the request's day and the rows of ``_target_rows`` for that policy, in
    one prepared statement (PostgreSQL)."""
    plan, day = request.plan, _policy_day(request)
    params = [plan.pk, day, day, phase_on(plan=plan, day=day)]
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_policy_and_targets", _policy_and_targets_sql(), params))
        fetched = cursor.fetchall()
    if not fetched:
        return None, []
    split = rows.width(SlaPolicy)
    policy = rows.instance(SlaPolicy, fetched[0][:split])
    return policy, [row[split:] for row in fetched if row[split] is not None]


@functools.cache
def _policy_and_targets_sql() -> str:
    """The policy in force (``policy_in_force_sql``, its parameters) with, on each row, one target of
    it and one step of the target's ladder as ``_target_rows`` reads them, in its order (a policy
    without targets: one row, the target's columns null)."""
    quote = connection.ops.quote_name
    columns = ", ".join(column for column, _ in target_row_columns())
    return (
        f"WITH p AS ({policy_in_force_sql()}) "  # noqa: S608
        f"SELECT {rows.columns(SlaPolicy, 'p')}, {columns} FROM p LEFT OUTER JOIN ({target_rows_from()}) "
        f"ON t.{quote(SlaTarget._meta.get_field('policy').column)} = p.{quote('id')} "
        f"ORDER BY {target_rows_order()}"
    )


def _insert(obj) -> None:
    if connection.vendor == "postgresql":
        rows.insert([obj])  # the ORM's save() builds its INSERT anew every time
    else:
        obj.save()


def _request_update(*, request: SupportRequest, parsed: _Parsed, user, key, now) -> SupportRequest:
    fields = dict(parsed.fields)
    fields.pop("source_system", None)
    fields.pop("source_id", None)
    if "title" in fields and not fields["title"]:
        raise ValidationError({"title": "Give the request a title."})
    at = parsed.occurred_at or now
    read = None
    if connection.vendor == "postgresql":
        # The events, the clocks and the stored policy's targets in one statement: the recompute
        # reads none of them again (the targets serve when the policy in force is the stored one).
        read = _request_facts(request)
        facts, source_ids = read.events, read.source_ids
    else:
        facts, source_ids = _event_rows(request)  # the recompute replays them: read once
    sequence = max((fact.sequence for fact in facts), default=0) + 1
    common = {"plan_id": request.plan_id, "request": request, "occurred_at": at, "api_key": key, "user": user}
    common["actor_name"] = fields.pop("actor_name", "")
    new_events = []
    if parsed.status is not None and parsed.status[0] != request.status:
        status, external, effect = parsed.status
        new_events.append(
            RequestEvent(
                kind=RequestEventKind.STATUS_CHANGED,
                status=status,
                external_status=external,
                clock_effect=effect,
                **common,
            )
        )
    if parsed.priority is not None and parsed.priority.pk != request.priority_id:
        new_events.append(
            RequestEvent(
                kind=RequestEventKind.PRIORITY_CHANGED,
                priority=parsed.priority,
                impact=fields.get("impact", ""),
                urgency=fields.get("urgency", ""),
                **common,
            )
        )
    moved_level = parsed.level is not None and parsed.level.pk != request.current_level_id
    moved_party = parsed.party is not None and parsed.party.pk != request.current_party_id
    if moved_level or moved_party:
        new_events.append(
            RequestEvent(kind=RequestEventKind.HANDED_OFF, level=parsed.level, party=parsed.party, **common)
        )
    fields.pop("reported_at", None)  # the creation instant is the "created" event's: it does not move
    for name, value in fields.items():
        setattr(request, name, value)
    request.full_clean(exclude=_RESOLVED_RELATIONS, validate_constraints=False)
    if fields and connection.vendor == "postgresql":
        request.updated_at = timezone.now()  # as save() sets it (the recompute sets it again)
        columns = {name: getattr(request, SupportRequest._meta.get_field(name).attname) for name in fields}
        rows.update(
            SupportRequest,
            {**columns, "updated_at": request.updated_at},
            f"{connection.ops.quote_name('id')} = %s",
            [request.pk],
        )
    elif fields:
        request.save(update_fields=[*fields, "updated_at"])
    for offset, event in enumerate(new_events):
        event.sequence = sequence + offset
    if connection.vendor == "postgresql":
        rows.insert(new_events)
    else:
        RequestEvent.objects.bulk_create(new_events)
    facts.extend(_facts_of(event) for event in new_events)
    for system, reference, party in parsed.references or []:
        reference_add(request=request, system=system, reference=reference, party=party)
    return _recompute_locked(request, now=now, events=facts, source_ids=source_ids, facts=read)


# --- Events --------------------------------------------------------------------------------------
@atomic_service
def event_record(
    *,
    request: SupportRequest,
    principal: Any,
    data: dict,
    api_key: ApiKey | None = None,
    locked: bool = False,
) -> RequestEvent:
    """Stores one helpdesk event and recomputes the request and its clocks.

    ``data``: kind (status_changed, priority_changed, handed_off, public_update, reopened, comment),
    occurred_at (ISO 8601 with offset, at most a day ahead; required), status (ours or the key's mapped
    name), priority (code) or impact + urgency, level (number) and/or party (id or name) with
    reference_system + reference (pattern-checked, added to the request's references), body,
    actor_name, source_event_id (the helpdesk's event id: sending it again returns the stored event).
    ``locked``: ``request`` comes from ``request_lock`` in this transaction already.
    """
    now = timezone.now()
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": "Send a JSON object."})
    unknown = set(data) - EVENT_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    plan = request.plan
    kind = data.get("kind")
    if kind not in EVENT_KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(sorted(EVENT_KINDS))}."})
    if data.get("occurred_at") in (None, ""):
        raise ValidationError({"occurred_at": "Say when it happened (ISO 8601 with offset)."})
    occurred_at = _instant(data["occurred_at"], "occurred_at", now=now)
    source_event_id = str(data.get("source_event_id") or "").strip()
    if len(source_event_id) > 120:
        raise ValidationError({"source_event_id": "At most 120 characters."})
    for name, limit in (("body", 20_000), ("actor_name", 120), ("reference", 120), ("reference_system", 60)):
        if data.get(name) is not None and (not isinstance(data[name], str) or len(data[name]) > limit):
            raise ValidationError({name: f"Give text of at most {limit} characters."})
    user, key = _actor(principal, api_key)
    event = rows.new(
        RequestEvent,
        plan=plan,
        request=request,
        kind=kind,
        occurred_at=occurred_at,
        source_event_id=source_event_id,
        body=data.get("body") or "",
        actor_name=(data.get("actor_name") or "").strip(),
        api_key=key,
        user=user,
    )
    if kind == RequestEventKind.STATUS_CHANGED and data.get("status") in (None, ""):
        raise ValidationError({"status": "A status change needs the status."})
    if data.get("status") not in (None, ""):
        read = request.__dict__.get(STATUS_MAPPINGS_READ)  # with the lock, in this transaction
        event.status, event.external_status, event.clock_effect = _status(
            plan, key, data["status"], read=read
        )
    if kind == RequestEventKind.PRIORITY_CHANGED:
        for name, choices in (("impact", Impact), ("urgency", Urgency)):
            if data.get(name) not in (None, ""):
                setattr(event, name, _choice(data[name], name, choices))
        if data.get("priority") not in (None, ""):
            event.priority = _priority(plan, data["priority"])
        elif event.impact and event.urgency:
            event.priority = priority_for(plan=plan, impact=event.impact, urgency=event.urgency)
            if event.priority is None:
                raise ValidationError(
                    {"urgency": "The plan's priority matrix has no priority for this impact and urgency."}
                )
        else:
            raise ValidationError({"priority": "Give the priority, or the impact and the urgency."})
    if kind == RequestEventKind.HANDED_OFF:
        if data.get("level") in (None, "") and data.get("party") in (None, ""):
            raise ValidationError({"level": "A hand-off names the level and/or the party it goes to."})
        named_level, named_party = data.get("level") not in (None, ""), data.get("party") not in (None, "")
        if named_level and named_party:
            event.level, event.party = _level_and_party(plan, data["level"], data["party"])
        elif named_level:
            event.level, event.party = _level_and_sole_party(plan, data["level"])
        else:
            event.party = _party(plan, data["party"])
    reference = (data.get("reference") or "").strip()
    if reference:
        event.reference = reference
        event.reference_system = (data.get("reference_system") or "").strip() or (
            event.party.kind if event.party else ""
        )
    elif data.get("reference_system"):
        raise ValidationError({"reference": "Give the reference for this system."})

    if not locked:
        request = _lock(request)
    facts = _request_facts(request)
    if source_event_id and source_event_id in facts.source_ids:
        return RequestEvent.objects.get(request=request, source_event_id=source_event_id)
    if event.reference:
        reference_add(
            request=request, system=event.reference_system, reference=event.reference, party=event.party
        )
    event.request = request
    event.sequence = max((fact.sequence for fact in facts.events), default=0) + 1
    if facts.next_event_id is not None:
        # Its id was taken with the facts: the insert waits for the batch's single round trip.
        event.pk = facts.next_event_id
        rows.execute_later(*rows.prepared("sp_event_insert", *rows.insert_sql([event], with_pk=True)))
        event._state.adding, event._state.db = False, connection.alias
    else:
        _insert(event)
    facts.events.append(_facts_of(event))
    _recompute_locked(request, now=now, facts=facts, keep_policy=True, defer=True)
    return event


def request_lock(*, request_id: int, plan: SupportPlan) -> SupportRequest:
    """The plan's request ``request_id``, locked for an event write in this transaction
    (``SupportRequest.DoesNotExist`` when the plan has no such request)."""
    return _lock(_named(request_id, plan))


def request_lock_claiming(
    *,
    request_id: int,
    plan: SupportPlan,
    claim_sql: str,
    claim_params: list,
    status_key: ApiKey | None = None,
) -> tuple[bool, SupportRequest]:
    """``request_lock`` in the statement of an idempotency claim (PostgreSQL: ``idempotent_write``'s
    ``claim_with``), which also reads what ``event_record`` reads of the request (and ``status_key``'s
    status mappings, for an event that names a status): whether the claim returned a row, and the
    locked request."""
    return lock_claiming_with_facts(_named(request_id, plan), claim_sql, claim_params, status_key=status_key)


def _named(request_id: int, plan: SupportPlan) -> SupportRequest:
    # Its other fields load on first access (deferred), never from stale defaults.
    stub = SupportRequest.from_db(connection.alias, ["id", "plan_id"], [request_id, plan.pk])
    stub.plan = plan
    return stub
