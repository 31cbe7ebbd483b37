"""Reads for support requests: the scoped list, the hand-off trace with holding times in business time,
per-party/per-level totals, a clock's figures, and the description a viewer may see."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from models_catalog.models import Party, SupportLevel
from operations.business_time import BusinessCalendar
from operations.engine import engine_for
from operations.models import (
    ClockState,
    RequestEvent,
    RequestEventKind,
    RequestReference,
    ServiceCalendar,
    SlaClock,
    SupportRequest,
)
from supportplan.access import is_api_key, is_partner
from supportplan.lib import rows
from supportplan.models import Membership, SupportPlan

__all__ = [
    "ANONYMISED_PLACEHOLDER",
    "TraceEntry",
    "clock_figures",
    "holder_totals",
    "reference_rows",
    "request_clocks",
    "request_trace",
    "request_visible_description",
    "requests_for",
]

ANONYMISED_PLACEHOLDER = "(Description withheld: your organisation may see anonymised data only.)"
FINAL_STATUSES = {"resolved", "closed", "cancelled"}
HANDOFF_KINDS = {RequestEventKind.CREATED, RequestEventKind.HANDED_OFF, RequestEventKind.ESCALATED}


def requests_for(*, user: Any, plan: SupportPlan | None = None) -> QuerySet[SupportRequest]:
    """The requests ``user`` may see (a partner: the ones its organisation holds or held)."""
    requests = SupportRequest.objects.for_user(user)
    if plan is not None:
        requests = requests.filter(plan=plan)
    return requests.select_related("priority", "current_level", "current_party", "plan")


def _viewer_party(request: SupportRequest, user: Any) -> Party | None:
    if user is None or is_api_key(user) or not getattr(user, "is_authenticated", False):
        return None
    if not is_partner(user, request.plan):
        return None
    organisation_id = (
        Membership.objects.filter(plan_id=request.plan_id, user=user)
        .values_list("organisation_id", flat=True)
        .first()
    )
    return Party.objects.filter(pk=organisation_id).first() if organisation_id else None


def request_visible_description(request: SupportRequest, user: Any) -> str:
    """The description as ``user`` may read it: the anonymised one for a partner whose organisation
    may see anonymised data only (a placeholder when none was given), the full one otherwise."""
    if user is not None and not is_api_key(user) and is_partner(user, request.plan):
        party = _viewer_party(request, user)
        if party is None or party.anonymised_data_only:
            return request.description_anonymised or ANONYMISED_PLACEHOLDER
    return request.description


# --- The trace -----------------------------------------------------------------------------------
@dataclass
class TraceEntry:
    """One hand-off: who took the request at ``at`` and how long they held it (business seconds on
    ``calendar_name``; wall seconds when no calendar applies), up to ``until`` (None = still holding).
    Periods while the request was resolved, closed or cancelled are not held by anyone."""

    at: datetime
    kind: str
    level: SupportLevel | None
    party: Party | None
    reference_system: str
    reference: str
    actor: str
    body: str
    until: datetime | None
    held_seconds: int
    wall_seconds: int
    calendar_name: str
    periods: list[tuple[datetime, datetime | None]]

    @property
    def level_label(self) -> str:
        return f"L{self.level.number} {self.level.name}" if self.level else ""

    @property
    def held(self) -> timedelta:
        return timedelta(seconds=self.held_seconds)


def _request_calendar(
    request: SupportRequest, clocks: list[SlaClock] | None = None
) -> ServiceCalendar | None:
    """The calendar of the request's latest resolution clock not bound to a level (of its clocks of
    the latest cycle: the one in force, not cancelled, else the last started), else its location's.
    ``clocks``: the request's clocks with their calendars (``request_clocks``) when the caller has them."""
    if clocks is None:
        clocks = list(
            SlaClock.objects.filter(request=request, level__isnull=True, metric="resolution").select_related(
                "calendar"
            )
        )
    candidates = [c for c in clocks if c.level_id is None and c.metric == "resolution"]
    # A priority change cancels the old target's clock and starts the new one's in the same cycle.
    clock = max(
        candidates,
        key=lambda c: (c.cycle, c.state != ClockState.CANCELLED, c.started_at, c.pk),
        default=None,
    )
    if clock is not None:
        return clock.calendar
    if request.location_id:
        calendar = ServiceCalendar.objects.filter(locations=request.location_id).first()
        if calendar is not None:
            return calendar
    return None


# Plain statements of the detail's reads, built once per process (PostgreSQL).
@functools.cache
def _clocks_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(SlaClock, 'c')}, {rows.columns(ServiceCalendar, 'k')}, "  # noqa: S608
        f"{rows.columns(SupportLevel, 'l')} FROM {rows.table(SlaClock)} c "
        f"INNER JOIN {rows.table(ServiceCalendar)} k ON k.{quote('id')} = c.{quote('calendar_id')} "
        f"LEFT OUTER JOIN {rows.table(SupportLevel)} l ON l.{quote('id')} = c.{quote('level_id')} "
        f"WHERE c.{quote('request_id')} = %s "
        f"ORDER BY c.{quote('metric')}, l.{quote('number')}, c.{quote('cycle')}, c.{quote('id')}"
    )


@functools.cache
def _events_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(RequestEvent, 'e')}, {rows.columns(SupportLevel, 'l')}, "  # noqa: S608
        f"{rows.columns(Party, 'p')} FROM {rows.table(RequestEvent)} e "
        f"LEFT OUTER JOIN {rows.table(SupportLevel)} l ON l.{quote('id')} = e.{quote('level_id')} "
        f"LEFT OUTER JOIN {rows.table(Party)} p ON p.{quote('id')} = e.{quote('party_id')} "
        f"WHERE e.{quote('request_id')} = %s "
        f"ORDER BY e.{quote('occurred_at')}, e.{quote('sequence')}, e.{quote('id')}"
    )


@functools.cache
def _party_calendars_sql() -> str:
    quote = connection.ops.quote_name
    through = ServiceCalendar.parties.through
    calendar_column = quote(through._meta.get_field("servicecalendar").column)
    party_column = quote(through._meta.get_field("party").column)
    return (
        f"SELECT {rows.columns(ServiceCalendar, 'k')}, t.{party_column} "  # noqa: S608
        f"FROM {rows.table(ServiceCalendar)} k INNER JOIN {quote(through._meta.db_table)} t "
        f"ON t.{calendar_column} = k.{quote('id')} WHERE t.{party_column} = ANY(%s) "
        f"ORDER BY k.{quote('plan_id')}, k.{quote('name')}, k.{quote('id')}"
    )


@functools.cache
def _references_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('request_id')}, {quote('system')}, {quote('reference')}, {quote('party_id')} "  # noqa: S608
        f"FROM {rows.table(RequestReference)} WHERE {quote('request_id')} = ANY(%s) "
        f"ORDER BY {quote('created_at')}, {quote('id')}"
    )


def reference_rows(request_ids: list[int]) -> dict[int, list[dict]]:
    """request id → its references as the API lists them ({system, reference, party}), oldest first,
    in one query (a plain statement on PostgreSQL: every list page and upsert answer reads them)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_references_sql(), [list(request_ids)])
            references = cursor.fetchall()
    else:
        references = (
            RequestReference.objects.filter(request_id__in=request_ids)
            .order_by("created_at", "pk")
            .values_list("request_id", "system", "reference", "party_id")
        )
    found: dict[int, list[dict]] = {}
    for request_id, system, reference, party_id in references:
        found.setdefault(request_id, []).append({"system": system, "reference": reference, "party": party_id})
    return found


def request_clocks(request: SupportRequest) -> list[SlaClock]:
    """The request's clocks as the detail lists them (metric, level number, cycle, id), each with its
    calendar and level loaded. Every upsert answers with them: one plain statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        return list(
            request.clocks.select_related("calendar", "level").order_by(
                "metric", "level__number", "cycle", "pk"
            )
        )
    with connection.cursor() as cursor:
        # Prepared: planning its joins cost more than running them.
        cursor.execute(*rows.prepared("sp_request_clocks", _clocks_sql(), [request.pk]))
        fetched = cursor.fetchall()
    related = [("calendar", ServiceCalendar), ("level", SupportLevel)]
    return [rows.instance_with(SlaClock, row, related) for row in fetched]


def _trace_events(request: SupportRequest) -> list[RequestEvent]:
    """The request's events in timeline order with their level and party (plain SQL on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return list(
            RequestEvent.objects.filter(request=request)
            .select_related("level", "party")
            .order_by("occurred_at", "sequence", "id")
        )
    sql = _events_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [request.pk])
        fetched = cursor.fetchall()
    return [
        rows.instance_with(RequestEvent, row, [("level", SupportLevel), ("party", Party)]) for row in fetched
    ]


def _party_calendars(party_ids: set[int]) -> dict[int, ServiceCalendar]:
    """party id → the first of its calendars in the calendars' order (plan, name)."""
    party_calendars: dict[int, ServiceCalendar] = {}
    if not party_ids:
        return party_calendars
    if connection.vendor != "postgresql":
        for calendar in ServiceCalendar.objects.filter(parties__in=party_ids).prefetch_related("parties"):
            for party in calendar.parties.all():
                party_calendars.setdefault(party.pk, calendar)
        return party_calendars
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_party_calendars", _party_calendars_sql(), [sorted(party_ids)]))
        fetched = cursor.fetchall()
    calendars: dict[int, ServiceCalendar] = {}
    for row in fetched:
        calendar = rows.instance(ServiceCalendar, row[:-1])
        party_calendars.setdefault(row[-1], calendars.setdefault(calendar.pk, calendar))
    return party_calendars


def request_trace(
    request: SupportRequest,
    *,
    viewer: Any = None,
    now: datetime | None = None,
    clocks: list[SlaClock] | None = None,
    events: list[RequestEvent] | None = None,
) -> list[TraceEntry]:
    """The request's hand-offs in order (creation first), each with the holder's level, party and
    reference and how long they held it in business time — on the party's own calendar when it has
    one, else the request's SLA calendar. A partner viewer does not see the entries' bodies.
    ``clocks``: the request's ``request_clocks``, ``events``: all its events with their level and
    party, when the caller has them (not read again)."""
    now = now or timezone.now()
    if events is None:
        events = _trace_events(request)
    else:
        events = sorted(events, key=lambda event: (event.occurred_at, event.sequence, event.pk))
    hide_bodies = viewer is not None and not is_api_key(viewer) and is_partner(viewer, request.plan)
    entries: list[TraceEntry] = []
    level: SupportLevel | None = None
    party: Party | None = None
    status = "new"
    open_since: datetime | None = None  # the current holder's running period

    def close(at: datetime) -> None:
        nonlocal open_since
        if entries and open_since is not None:
            entries[-1].periods.append((open_since, at))
        open_since = None

    for event in events:
        at = event.occurred_at
        if event.kind in HANDOFF_KINDS and (
            event.kind == RequestEventKind.CREATED or event.level_id is not None or event.party_id is not None
        ):
            close(at)
            if event.level_id is not None or event.kind == RequestEventKind.CREATED:
                level = event.level
                party = event.party if event.party_id is not None else None
            elif event.party_id is not None:
                party = event.party
            if event.kind == RequestEventKind.CREATED:
                status = event.status or status
            entries.append(
                TraceEntry(
                    at=at,
                    kind=event.kind,
                    level=level,
                    party=party,
                    reference_system=event.reference_system,
                    reference=event.reference,
                    actor=event.actor_name,
                    body="" if hide_bodies else event.body,
                    until=None,
                    held_seconds=0,
                    wall_seconds=0,
                    calendar_name="",
                    periods=[],
                )
            )
            if status not in FINAL_STATUSES:
                open_since = at
            continue
        if event.kind in (RequestEventKind.STATUS_CHANGED, RequestEventKind.REOPENED) and event.status:
            was_final = status in FINAL_STATUSES
            status = (
                event.status
                if event.kind == RequestEventKind.STATUS_CHANGED
                else (event.status or "in_progress")
            )
            if status in FINAL_STATUSES and not was_final:
                close(at)
            elif status not in FINAL_STATUSES and was_final:
                open_since = at
        elif event.kind == RequestEventKind.REOPENED and status in FINAL_STATUSES:
            status, open_since = "in_progress", at
    if entries and open_since is not None:
        entries[-1].periods.append((open_since, None))
    for index, entry in enumerate(entries):
        entry.until = entries[index + 1].at if index + 1 < len(entries) else None
    _measure(request, entries, now=now, clocks=clocks)
    return entries


def _measure(
    request: SupportRequest, entries: list[TraceEntry], *, now: datetime, clocks: list[SlaClock] | None
) -> None:
    fallback = _request_calendar(request, clocks)
    party_calendars = _party_calendars({entry.party.pk for entry in entries if entry.party is not None})
    for entry in entries:
        calendar = party_calendars.get(entry.party.pk) if entry.party is not None else None
        calendar = calendar or fallback
        engine: BusinessCalendar | None = engine_for(calendar) if calendar is not None else None
        entry.calendar_name = calendar.name if calendar is not None else ""
        held = wall = timedelta()
        for start, end in entry.periods:
            end = end or max(now, start)
            wall += end - start
            held += engine.elapsed(start, end) if engine is not None else end - start
        entry.held_seconds, entry.wall_seconds = int(held.total_seconds()), int(wall.total_seconds())


def holder_totals(
    request: SupportRequest, *, now: datetime | None = None, trace: list[TraceEntry] | None = None
) -> dict:
    """Time the request was held per party and per level (business seconds, as in the trace):
    ``{"parties": [{"party", "name", "seconds"}], "levels": [{"level", "name", "seconds"}]}``,
    largest first. ``trace``: the request's ``request_trace`` when the caller has it already (for
    any viewer: holders and times do not depend on who looks)."""
    parties: dict[Any, dict] = {}
    levels: dict[Any, dict] = {}
    for entry in trace if trace is not None else request_trace(request, now=now):
        party_key = entry.party.pk if entry.party else None
        row = parties.setdefault(
            party_key,
            {"party": entry.party, "name": entry.party.name if entry.party else "Unassigned", "seconds": 0},
        )
        row["seconds"] += entry.held_seconds
        level_key = entry.level.pk if entry.level else None
        row = levels.setdefault(
            level_key, {"level": entry.level, "name": entry.level_label or "No level", "seconds": 0}
        )
        row["seconds"] += entry.held_seconds
    return {
        "parties": sorted(parties.values(), key=lambda r: -r["seconds"]),
        "levels": sorted(levels.values(), key=lambda r: -r["seconds"]),
    }


# --- A clock's figures ---------------------------------------------------------------------------
def _pair(value: datetime | None, zone) -> dict | None:
    if value is None:
        return None
    return {"utc": value.astimezone(UTC), "local": value.astimezone(zone)}


def clock_figures(clock: SlaClock, *, now: datetime | None = None) -> dict:
    """What a clock means at ``now``: state (running / paused / met / breached / cancelled), elapsed
    and remaining business seconds (remaining negative once breached), percent of the target used,
    and its instants (warn, breach, next step, breached) in UTC and in the calendar's local zone."""
    now = now or timezone.now()
    calendar = clock.calendar
    engine = engine_for(calendar)
    elapsed = clock.elapsed_seconds
    live = clock.stopped_at is None and clock.paused_since is None and clock.state in ("running", "breached")
    if live and now > clock.computed_at:
        elapsed += int(engine.elapsed(clock.computed_at, now).total_seconds())
    state = clock.state
    if live and clock.breach_at is not None and clock.breach_at <= now:
        state = "breached"
    remaining = clock.target_seconds - elapsed
    zone = engine.tz
    return {
        "id": clock.pk,
        "metric": clock.metric,
        "level": clock.level_id,
        "cycle": clock.cycle,
        "state": state,
        "target_seconds": clock.target_seconds,
        "elapsed_seconds": elapsed,
        "remaining_seconds": remaining,
        "percent": round(100 * elapsed / clock.target_seconds, 1) if clock.target_seconds else 0.0,
        "paused_seconds": clock.paused_seconds,
        "started_at": _pair(clock.started_at, zone),
        "stopped_at": _pair(clock.stopped_at, zone),
        "warn_at": _pair(clock.warn_at, zone),
        "breach_at": _pair(clock.breach_at, zone),
        "breached_at": _pair(clock.breached_at, zone),
        "next_step_at": _pair(clock.next_step_at, zone),
        "calendar": calendar.name,
        "timezone": calendar.timezone,
    }
