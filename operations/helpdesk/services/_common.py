"""Shared by the helpdesk services: limits, field names, parsing of helpdesk values into our
models (field errors as ``ValidationError({field: message})``), and the request lock."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from models_catalog.models import Party, SupportLevel
from operations.models import (
    Priority,
    RequestEvent,
    RequestEventKind,
    SlaPolicy,
    StatusMapping,
    SupportRequest,
)
from operations.statuses import RequestStatus
from supportplan.access import is_api_key
from supportplan.lib import rows
from supportplan.models import ApiKey, SupportPlan

#: Helpdesk timestamps may run ahead of ours by clock skew, not by more than a day.
MAX_FUTURE = timedelta(days=1)
OPEN_STATUSES = ("new", "assigned", "in_progress", "awaiting_customer", "awaiting_vendor")
EVENT_KINDS = {
    RequestEventKind.STATUS_CHANGED,
    RequestEventKind.PRIORITY_CHANGED,
    RequestEventKind.HANDED_OFF,
    RequestEventKind.PUBLIC_UPDATE,
    RequestEventKind.REOPENED,
    RequestEventKind.COMMENT,
}
REQUEST_FIELDS = {
    "title",
    "description",
    "description_anonymised",
    "request_type",
    "impact",
    "urgency",
    "priority",
    "status",
    "level",
    "party",
    "scope_item",
    "location",
    "reported_at",
    "occurred_at",
    "source_system",
    "source_id",
    "references",
    "actor_name",
    "needed_hypercare_resources",
    "has_action_plan",
}
EVENT_FIELDS = {
    "kind",
    "occurred_at",
    "status",
    "priority",
    "impact",
    "urgency",
    "level",
    "party",
    "reference_system",
    "reference",
    "body",
    "actor_name",
    "source_event_id",
}
CLOCK_FIELDS = [
    "metric",
    "level",
    "party",
    "calendar",
    "target_seconds",
    "started_at",
    "stopped_at",
    "state",
    "elapsed_seconds",
    "paused_seconds",
    "paused_since",
    "warn_at",
    "breach_at",
    "breached_at",
    "next_step_at",
    "next_step",
    "next_step_repeat",
    "computed_at",
]


def step_event_key(*, clock_id: int, step_id: int, repeat: int) -> str:
    """The outbox event key of one ladder step × repeat of one clock (also the escalated event's id)."""
    return f"clock:{clock_id}:step:{step_id}:{repeat}"


# --- Parsing and lookups -------------------------------------------------------------------------
def _errors_raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


def _instant(value: Any, field: str, *, now: datetime) -> datetime:
    """An aware UTC datetime from a datetime or an ISO 8601 string; naive or > 1 day ahead refused."""
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError({field: f"“{value}” is not an ISO 8601 date and time."})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationError({field: "Give an ISO 8601 date and time with its UTC offset."})
    if timezone.is_naive(value):
        raise ValidationError(
            {field: "Give the UTC offset (e.g. 2027-04-01T09:30:00Z): naive times are refused."}
        )
    value = value.astimezone(UTC)
    if value > now + MAX_FUTURE:
        raise ValidationError({field: "This is more than a day in the future."})
    if value.year < 1990:
        raise ValidationError({field: "This is before 1990."})
    return value


def _priority(plan: SupportPlan, value: Any) -> Priority:
    if isinstance(value, Priority):
        if value.plan_id != plan.pk:
            raise ValidationError({"priority": "Choose a priority of this plan."})
        return value
    priorities = list(Priority.objects.filter(plan=plan))
    for priority in priorities:
        if str(value).strip().lower() in (priority.code.lower(), str(priority.pk)):
            return priority
    known = ", ".join(priority.code for priority in priorities) or "none"
    raise ValidationError({"priority": f"Unknown priority “{value}”. This plan has: {known}."})


def _level(plan: SupportPlan, value: Any) -> SupportLevel:
    if isinstance(value, SupportLevel):
        if value.plan_id != plan.pk:
            raise ValidationError({"level": "Choose a support level of this plan."})
        return value
    text = str(value).strip().upper().removeprefix("L")
    level = None
    if text.isdigit():
        if connection.vendor == "postgresql" and len(text) < 10:
            # Every hand-off names its level: one prepared statement (the ORM's costs more to build).
            level = _fetch_one(
                "sp_level_by_number", SupportLevel, _level_by_number_sql(), [plan.pk, int(text)]
            )
        else:
            level = SupportLevel.objects.filter(plan=plan, number=int(text)).first()
    if level is None:
        numbers = ", ".join(
            f"L{n}" for n in SupportLevel.objects.filter(plan=plan).values_list("number", flat=True)
        )
        raise ValidationError(
            {"level": f"Unknown support level “{value}”. This plan has: {numbers or 'none'}."}
        )
    return level


def _party(plan: SupportPlan, value: Any) -> Party:
    if isinstance(value, Party):
        if value.plan_id != plan.pk:
            raise ValidationError({"party": "Choose a party of this plan."})
        return value
    by_pk = isinstance(value, int) or str(value).isdigit()
    if connection.vendor == "postgresql" and (not by_pk or abs(int(value)) < _BIGINT_LIMIT):
        # Every hand-off names its party: the id, else the name, in one prepared statement.
        pk = int(value) if by_pk else None
        party = _fetch_one(
            "sp_party_by_id_or_name", Party, _party_sql(), [plan.pk, pk, str(value).strip(), pk]
        )
    else:
        parties = Party.objects.filter(plan=plan)
        party = None
        if by_pk:
            party = parties.filter(pk=int(value)).first()
        if party is None:
            party = parties.filter(name__iexact=str(value).strip()).first()
    if party is None:
        raise ValidationError({"party": f"Unknown party “{value}”."})
    return party


#: Ids beyond a bigint are no row's: the ORM answers "none" for them, a prepared statement an error.
_BIGINT_LIMIT = 2**63


def _fetch_one(name: str, model, sql: str, params: list):
    """The first row of the prepared statement ``sql`` as an instance of ``model`` (None: no row)."""
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared(name, sql, params))
        row = cursor.fetchone()
    return rows.instance(model, row) if row is not None else None


@functools.cache
def _level_by_number_sql() -> str:
    """The plan's level of a number (``%s``: the plan, the number; unique per plan)."""
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(SupportLevel, 't')} FROM {rows.table(SupportLevel)} t "  # noqa: S608
        # An integer parameter: a number beyond the column's smallint finds nothing, as in the ORM.
        f"WHERE t.{quote('plan_id')} = %s AND t.{quote('number')} = %s::integer LIMIT 1"
    )


@functools.cache
def _party_sql() -> str:
    """``_party``'s two ORM reads in one (``%s``: the plan, the id or NULL, the name, the id again):
    the party with that id, else the first (in ``Party``'s ordering) whose name is the name ignoring
    case, written as the ORM writes ``iexact`` on PostgreSQL."""
    quote = connection.ops.quote_name
    pk, name = quote("id"), quote("name")
    return (
        f"SELECT {rows.columns(Party, 't')} FROM {rows.table(Party)} t "  # noqa: S608
        f"WHERE t.{quote('plan_id')} = %s AND (t.{pk} = %s::bigint OR UPPER(t.{name}::text) = UPPER(%s)) "
        f"ORDER BY t.{pk} = %s::bigint DESC, t.{quote('kind')}, t.{name}, t.{pk} LIMIT 1"
    )


def _owned(model, plan: SupportPlan, value: Any, field: str):
    if isinstance(value, model):
        if value.plan_id != plan.pk:
            raise ValidationError({field: "Choose one of this plan."})
        return value
    try:
        return model.objects.get(plan=plan, pk=int(value))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: f"Unknown {field.replace('_', ' ')} “{value}”."}) from None


def _choice(value: Any, field: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"“{value}” is not one of: {', '.join(choices.values)}."})
    return value


#: Where ``lock_claiming_with_facts`` leaves the status mappings it read: (key id, rows of
#: ``_MAPPING_FIELDS``), for the event write's ``_status``.
STATUS_MAPPINGS_READ = "_status_mappings_read"


@functools.cache
def status_mapping_columns() -> list[str]:
    """``_status``' columns of a status mapping (``_MAPPING_FIELDS``, alias ``t``)."""
    quote = connection.ops.quote_name
    return [f"t.{quote(StatusMapping._meta.get_field(name).column)}" for name in _MAPPING_FIELDS]


def _status(
    plan: SupportPlan, api_key: ApiKey | None, value: Any, *, read: tuple[int, list] | None = None
) -> tuple[str, str, str]:
    """(our status, the helpdesk's name, clock effect) for a status name; unknown → 400 listing known.
    ``read``: (key id, mappings) read already in this transaction (``STATUS_MAPPINGS_READ``)."""
    text = str(value).strip()
    mappings: dict[str, tuple[str, str, str]] = {}  # lowered name → (name, status, clock effect)
    if api_key is not None and read is not None and read[0] == api_key.pk:
        mappings = {row[0].lower(): row for row in read[1]}
    elif api_key is not None:
        if connection.vendor == "postgresql":  # every status event asks: one prepared statement
            with connection.cursor() as cursor:
                cursor.execute(*rows.prepared("sp_status_names", _status_mappings_sql(), [api_key.pk]))
                stored = cursor.fetchall()  # three columns: no model instances needed
        else:
            stored = StatusMapping.objects.filter(api_key=api_key).values_list(*_MAPPING_FIELDS)
        mappings = {row[0].lower(): row for row in stored}
    mapping = mappings.get(text.lower())
    if mapping is not None:
        return mapping[1], text, mapping[2]
    if text in RequestStatus.values:
        return text, "", ""
    known = sorted({row[0] for row in mappings.values()}) + list(RequestStatus.values)
    raise ValidationError({"status": f"Unknown status “{text}”. Known statuses: {', '.join(known)}."})


_MAPPING_FIELDS = ("external_status", "status", "clock_effect")


@functools.cache
def _status_mappings_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(status_mapping_columns())
    return f"SELECT {columns} FROM {rows.table(StatusMapping)} t WHERE t.{quote('api_key_id')} = %s"  # noqa: S608


def _actor(principal: Any, api_key: ApiKey | None) -> tuple[Any, ApiKey | None]:
    """(user, api key) to record on an event."""
    if is_api_key(principal):
        return None, api_key or principal.api_key
    user = principal if getattr(principal, "is_authenticated", False) else None
    return user, api_key


def _sole_party(level: SupportLevel | None) -> Party | None:
    if level is None:
        return None
    parties = list(level.parties.all()[:2])
    return parties[0] if len(parties) == 1 else None


def _next_sequence(request: SupportRequest) -> int:
    return (RequestEvent.objects.filter(request=request).aggregate(top=Max("sequence"))["top"] or 0) + 1


@functools.cache
def _lock_sql(extra: str = "") -> str:
    """The request lock's statement (``%s``: the request's id and plan): the request's columns and
    its policy's, then ``extra`` (more select-list expressions of ``r``, the request)."""
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(SupportRequest, 'r')}, {rows.columns(SlaPolicy, 'p')}{extra} "  # noqa: S608
        f"FROM {rows.table(SupportRequest)} r LEFT OUTER JOIN {rows.table(SlaPolicy)} p "
        f"ON p.{quote('id')} = r.{quote('policy_id')} "
        f"WHERE r.{quote('id')} = %s AND r.{quote('plan_id')} = %s FOR NO KEY UPDATE OF r"
    )


def _locked_from_row(request: SupportRequest, row) -> SupportRequest:
    if row is None:
        raise SupportRequest.DoesNotExist("SupportRequest matching query does not exist.")
    locked = rows.instance_with(SupportRequest, row, [("policy", SlaPolicy)])
    plan = request._state.fields_cache.get("plan")
    if plan is not None and plan.pk == locked.plan_id:
        locked.plan = plan
    return locked


def _lock(request: SupportRequest) -> SupportRequest:
    """The request re-read under a ``FOR NO KEY UPDATE`` lock, with its policy (and its plan, reused
    from ``request`` when loaded: a request never moves plans). Found by id within its plan:
    ``SupportRequest.DoesNotExist`` when ``request`` is not the plan's (``request_lock``)."""
    if connection.vendor != "postgresql":
        return (
            SupportRequest.objects.select_for_update(no_key=True, of=("self",))
            .select_related("plan", "location", "policy")
            .get(pk=request.pk, plan_id=request.plan_id)
        )
    # Every event runs this: one plain statement (the ORM's select_related query costs more to build
    # than to run). The location is loaded only when asked for (policy lookups of requests without
    # a stored policy).
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_request_lock", _lock_sql(), [request.pk, request.plan_id]))
        return _locked_from_row(request, cursor.fetchone())
