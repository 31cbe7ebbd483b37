"""The case-study plan's service hours and SLAs for ``manage.py seed_demo`` (after the support model
demo): office-hours calendars for the UK, Germany, France and the Netherlands with their real
holidays, a 24×7 P1 calendar, period-end extended hours with an event each month, the example
priorities and matrix, hypercare and steady-state policies, and a three-step P1 ladder. Idempotent.

It shows the gap checks at work, as a real plan would: the hypercare promise that the service desk
picks up a P1 within 15 minutes day and night (the desk works office hours), the partner's P2
resolution commitment (24 h) under an 8 h / 16 h SLA, and German, French and Dutch holidays that
differ from the UK team's.

Calendars, holidays, extra periods and events go through ``operations.calendar_services`` when it
is installed (validation and audit as in the UI), else straight to the models.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_package
from django.db import transaction
from django.utils import timezone

from models_catalog.models import Agreement, Party, Role, SupportLevel
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    CalendarHoliday,
    EscalationAction,
    EscalationStep,
    EscalationTrigger,
    ExtraOpenPeriod,
    HolidaySource,
    Impact,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaMetric,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from supportplan.models import Location, SupportPlan


def _optional(module: str):
    return importlib.import_module(module) if importlib.util.find_spec(module) else None


HEAD_OFFICE_ZONE = "Europe/London"
WEEKDAYS = range(5)
ROUND_THE_CLOCK = {str(day): [["00:00", "00:00"]] for day in range(7)}


def _weekdays(opens: str, closes: str) -> dict[str, list[list[str]]]:
    return {str(day): [[opens, closes]] for day in WEEKDAYS}


UK_HOURS = "UK office hours"
P1_CALENDAR = "EU P1 24×7 cover"
PERIOD_END_CALENDAR = "Period-end extended hours"
CONTOSO = "Contoso Consulting"
CONTOSO_CONTRACT = "Contoso application support"

CALENDARS = [
    # name, zone, weekly windows, holiday country, subdivision, location, party names, description
    (
        UK_HOURS,
        "Europe/London",
        _weekdays("08:00", "18:00"),
        "GB",
        "ENG",
        "Head office, Manchester",
        ["Northwind IT Service Desk", "Dynamics 365 Core Team", CONTOSO],
        "Head office hours; the service desk, the core team and the partner work them.",
    ),
    (
        "DE office hours",
        "Europe/Berlin",
        _weekdays("08:00", "17:00"),
        "DE",
        "NW",
        "Distribution centre, Duisburg",
        [],
        "Duisburg distribution centre (North Rhine-Westphalia holidays).",
    ),
    (
        "FR office hours",
        "Europe/Paris",
        _weekdays("09:00", "18:00"),
        "FR",
        "",
        "Sales office, Lyon",
        [],
        "Lyon sales office (national holidays).",
    ),
    (
        "NL office hours",
        "Europe/Amsterdam",
        _weekdays("08:30", "17:30"),
        "NL",
        "",
        "Warehouse, Venlo",
        [],
        "Venlo warehouse (national holidays).",
    ),
    (
        P1_CALENDAR,
        "Europe/London",
        ROUND_THE_CLOCK,
        "",
        "",
        None,
        [CONTOSO, "Microsoft"],
        "Round-the-clock cover for P1 incidents: the partner's on-call engineers and Microsoft.",
    ),
    (
        PERIOD_END_CALENDAR,
        "Europe/London",
        _weekdays("08:00", "18:00"),
        "GB",
        "ENG",
        None,
        [],
        "Head office hours, extended from 18:00 on the last working day of each month to 02:00 on the "
        "first, while finance closes the period.",
    ),
]

EXAMPLE_PRIORITIES = [
    ("P1", "Critical", "A critical business process has stopped for many users, no workaround."),
    ("P2", "High", "A critical process is degraded, or a team's work has stopped."),
    ("P3", "Medium", "One user or a non-critical process is affected; a workaround exists."),
    ("P4", "Low", "A question, a cosmetic fault or a request that can wait."),
]
_STEP = {"high": 1, "medium": 2, "low": 3}

# priority: (first response minutes, resolution minutes, calendar) — example values.
HYPERCARE_TARGETS = {
    "P1": (15, 240, P1_CALENDAR),
    "P2": (30, 480, UK_HOURS),
    "P3": (120, 1200, UK_HOURS),
    "P4": (240, 3000, UK_HOURS),
}
STEADY_STATE_TARGETS = {
    "P1": (30, 480, P1_CALENDAR),
    "P2": (60, 960, UK_HOURS),
    "P3": (240, 3000, UK_HOURS),
    "P4": (480, 6000, UK_HOURS),
}
PERIOD_END_LEVEL = "P1 24×7; P2 first response within 30 minutes until 02:00; finance key users on call."


@transaction.atomic
def seed_operations_demo(*, plan: SupportPlan) -> None:
    """Creates what is missing of the demo's service hours and SLAs; never changes what exists."""
    services = _optional("operations.calendar_services")
    calendars = {spec[0]: _calendar(plan, spec, services) for spec in CALENDARS}
    this_year = timezone.localdate().year
    for calendar in calendars.values():
        if calendar.holiday_country:
            _import_holidays(calendar, [this_year, this_year + 1], services)
    _period_ends(plan, calendars[UK_HOURS], calendars[PERIOD_END_CALENDAR], services)
    priorities = _priorities(plan)
    _policies(plan, priorities, calendars)


# --- Calendars ------------------------------------------------------------------------------
def _calendar(plan: SupportPlan, spec: tuple, services) -> ServiceCalendar:
    name, zone, windows, country, subdivision, location_name, party_names, description = spec
    existing = ServiceCalendar.objects.filter(plan=plan, name=name).first()
    if existing is not None:
        return existing
    locations = list(Location.objects.filter(plan=plan, name=location_name)) if location_name else []
    parties = list(Party.objects.filter(plan=plan, name__in=party_names))
    fields = {
        "name": name,
        "timezone": zone,
        "weekly_windows": windows,
        "holiday_country": country,
        "holiday_subdivision": subdivision,
        "description": description,
    }
    if services is not None:
        return services.calendar_create(plan=plan, locations=locations, parties=parties, **fields)
    calendar = ServiceCalendar(plan=plan, **fields)
    calendar.full_clean()
    calendar.save()
    calendar.locations.set(locations)
    calendar.parties.set(parties)
    return calendar


def _import_holidays(calendar: ServiceCalendar, years: list[int], services) -> None:
    if services is not None:
        services.holiday_import_apply(calendar=calendar, years=years)
        return
    country, subdivision = calendar.holiday_country, calendar.holiday_subdivision
    region = f"{country}-{subdivision}" if subdivision else country
    detail = f"holidays {holidays_package.__version__} {region}"
    found = holidays_package.country_holidays(country, subdiv=subdivision or None, years=years)
    stored = set(CalendarHoliday.objects.filter(calendar=calendar).values_list("date", flat=True))
    new = [
        CalendarHoliday(
            calendar=calendar, date=day, name=name[:160], source=HolidaySource.IMPORTED, source_detail=detail
        )
        for day, name in sorted(found.items())
        if day not in stored
    ]
    if new:
        for holiday in new:
            holiday.save()
        calendar.save(update_fields=["updated_at"])  # the engine cache's key


def _last_working_day(year: int, month: int, closed: set[date]) -> date:
    day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day -= timedelta(days=1)
    return day


def _period_ends(plan: SupportPlan, uk_hours: ServiceCalendar, extended: ServiceCalendar, services) -> None:
    """A period-end event for each of the next 12 month-ends: 18:00 on the last working day to
    02:00 on the first (head-office time), with the extended calendar open through it."""
    tz = ZoneInfo(HEAD_OFFICE_ZONE)
    now = timezone.now()
    closed = set(CalendarHoliday.objects.filter(calendar=uk_hours).values_list("date", flat=True))
    today = now.astimezone(tz).date()
    year, month = today.year, today.month
    created = 0
    while created < 12:
        last = _last_working_day(year, month, closed)
        first = date(year + month // 12, month % 12 + 1, 1)
        starts_at = datetime.combine(last, time(18, 0), tzinfo=tz)
        ends_at = datetime.combine(first, time(2, 0), tzinfo=tz)
        if ends_at > now:
            _period_end(plan, extended, f"Period-end close {last:%B %Y}", starts_at, ends_at, services)
            created += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _period_end(plan, extended, name: str, starts_at: datetime, ends_at: datetime, services) -> None:
    if not ExtraOpenPeriod.objects.filter(calendar=extended, starts_at=starts_at, ends_at=ends_at).exists():
        reason = f"{name}: extended hours"
        if services is not None:
            services.extra_period_add(calendar=extended, starts_at=starts_at, ends_at=ends_at, reason=reason)
        else:
            ExtraOpenPeriod.objects.create(
                calendar=extended, starts_at=starts_at, ends_at=ends_at, reason=reason
            )
            extended.save(update_fields=["updated_at"])
    if CalendarEvent.objects.filter(plan=plan, name=name).exists():
        return
    fields: dict[str, Any] = {
        "name": name,
        "kind": CalendarEventKind.PERIOD_END,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "required_service_level": PERIOD_END_LEVEL,
        "calendar": extended,
        "notes": "Finance closes the month: invoicing, intercompany and reporting must not stop.",
    }
    if services is not None:
        services.calendar_event_create(plan=plan, **fields)
    else:
        CalendarEvent.objects.create(plan=plan, **fields)


# --- Priorities and policies ----------------------------------------------------------------
def _priorities(plan: SupportPlan) -> dict[str, Priority]:
    sla_services = _optional("operations.sla_services")
    if sla_services is not None and hasattr(sla_services, "priorities_seed_defaults"):
        sla_services.priorities_seed_defaults(plan=plan)
    else:
        for rank, (code, name, definition) in enumerate(EXAMPLE_PRIORITIES, start=1):
            Priority.objects.get_or_create(
                plan=plan,
                code=code,
                defaults={"name": name, "rank": rank, "definition": f"Example definition: {definition}"},
            )
        by_code = {priority.code: priority for priority in Priority.objects.filter(plan=plan)}
        for impact in Impact.values:
            for urgency in Urgency.values:
                code = f"P{min(4, _STEP[impact] + _STEP[urgency] - 1)}"
                PriorityMatrixCell.objects.get_or_create(
                    plan=plan, impact=impact, urgency=urgency, defaults={"priority": by_code[code]}
                )
    return {priority.code: priority for priority in Priority.objects.filter(plan=plan)}


def _policy(
    plan: SupportPlan, name: str, phase: str, valid_from: date, valid_to: date | None, description: str
):
    policy = SlaPolicy.objects.filter(plan=plan, name=name).first()
    if policy is not None:
        return policy, False
    policy = SlaPolicy(
        plan=plan,
        name=name,
        phase=phase,
        valid_from=valid_from,
        valid_to=valid_to,
        pause_statuses=[],
        description=description,
    )
    policy.full_clean()
    policy.save()
    return policy, True


def _policies(
    plan: SupportPlan, priorities: dict[str, Priority], calendars: dict[str, ServiceCalendar]
) -> None:
    hypercare_start = plan.hypercare_start or plan.go_live_date
    hypercare_end = plan.hypercare_end or (hypercare_start + timedelta(weeks=8) if hypercare_start else None)
    contract = Agreement.objects.filter(plan=plan, name=CONTOSO_CONTRACT).first()
    level_2 = SupportLevel.objects.filter(plan=plan, number=2).first()
    if hypercare_start is not None:
        hypercare, created = _policy(
            plan,
            "Hypercare",
            SlaPhase.HYPERCARE,
            hypercare_start,
            hypercare_end,
            "Tighter example targets while the project team is still on hand after go-live.",
        )
        if created:
            _targets(hypercare, priorities, calendars, HYPERCARE_TARGETS, contract)
            if level_2 is not None:
                # The service desk is to pick up a P1 within 15 minutes, day and night, during
                # hypercare; it works office hours (a gap the checks point out).
                _target(
                    hypercare, priorities["P1"], SlaMetric.FIRST_RESPONSE, 15, calendars[P1_CALENDAR], level_2
                )
        steady_from = hypercare_end + timedelta(days=1) if hypercare_end else hypercare_start
    else:
        steady_from = timezone.localdate()
    steady, created = _policy(
        plan,
        "Steady state",
        SlaPhase.STEADY_STATE,
        steady_from,
        None,
        "Example targets for steady-state operations, from the day after hypercare.",
    )
    if created:
        _targets(steady, priorities, calendars, STEADY_STATE_TARGETS, contract)


def _target(policy, priority, metric, minutes, calendar, support_level=None, agreement=None) -> SlaTarget:
    target = SlaTarget(
        policy=policy,
        priority=priority,
        metric=metric,
        minutes=minutes,
        calendar=calendar,
        support_level=support_level,
        underpinning_agreement=agreement,
    )
    target.full_clean()
    target.save()
    return target


def _targets(policy, priorities, calendars, table, contract) -> None:
    for code, (response, resolution, calendar_name) in table.items():
        calendar = calendars[calendar_name]
        _target(policy, priorities[code], SlaMetric.FIRST_RESPONSE, response, calendar)
        # The partner resolves P2s under its contract: it underpins our P2 resolution target.
        agreement = contract if code == "P2" else None
        resolve = _target(
            policy, priorities[code], SlaMetric.RESOLUTION, resolution, calendar, agreement=agreement
        )
        if code == "P1":
            _ladder(policy.plan, resolve)


def _ladder(plan: SupportPlan, target: SlaTarget) -> None:
    """75 % → the support manager; at breach → the partner; 30 min after, every hour up to 3 times →
    the contact of the level holding the request (a P1 cannot be raised further)."""
    manager = Role.objects.filter(plan=plan, seed_key="support_manager").first()
    partner = Party.objects.filter(plan=plan, name=CONTOSO).first()
    steps = [
        {"trigger": EscalationTrigger.PERCENT_ELAPSED, "percent": 75}
        | (
            {"action": EscalationAction.NOTIFY_ROLE, "role": manager}
            if manager
            else {"action": EscalationAction.NOTIFY_LEVEL_CONTACT}
        ),
        {"trigger": EscalationTrigger.AT_BREACH}
        | (
            {"action": EscalationAction.NOTIFY_PARTY, "party": partner}
            if partner
            else {"action": EscalationAction.NOTIFY_LEVEL_CONTACT}
        ),
        {
            "trigger": EscalationTrigger.AFTER_BREACH,
            "minutes_after_breach": 30,
            "action": EscalationAction.NOTIFY_LEVEL_CONTACT,
            "repeat_every_minutes": 60,
            "max_repeats": 3,
        },
    ]
    for position, fields in enumerate(steps):
        step = EscalationStep(target=target, position=position, **fields)
        step.full_clean()
        step.save()
