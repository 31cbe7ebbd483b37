"""Support requests for the demo plan (``manage.py seed_demo``, after calendars, SLA policies and
parties exist): a few hundred requests over the last four months, sent through the helpdesk services
as a ServiceNow integration would send them, so every clock, breach and trace is computed for real.

The mix: mostly P3/P4 incidents and how-to questions, a few P1s; the service desk (L2) answers and
solves most; about a third go to the partner Contoso Consulting (L4, ``PRT-…`` references), some of
those to the WMS ISV (L5), one to Microsoft (L5) (a 16-digit case number); some wait on the user (the clock
pauses), some answers come late (breaches), and the last few days' requests are still open, some
at risk. Deterministic (a seeded random generator) and convergent: requests are found again by their
ServiceNow number, so a second run adds nothing.

The demo plan goes live in the future, so its hypercare and steady-state policies start later; the
requests run under a "Pilot sites (early life support)" policy covering the last months, with the
steady-state targets and ladders copied (created here when missing)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from models_catalog.models import Party, SupportLevel
from operations.helpdesk import services
from operations.models import Priority, RequestEvent, RequestEventKind, SlaPhase, SlaPolicy, SupportRequest
from operations.selectors import policy_in_force
from supportplan.models import SupportPlan

DAYS = 120
REQUESTS = 240
SOURCE_SYSTEM = "servicenow"
PILOT_POLICY = "Pilot sites (early life support)"
SERVICE_DESK = "Northwind IT Service Desk"
PARTNER = "Contoso Consulting"
ISV = "Wide World Warehousing (WMS ISV)"
MICROSOFT = "Microsoft"
ACTOR = "ServiceNow integration"

PRIORITY_WEIGHTS = [("P1", 3), ("P2", 14), ("P3", 48), ("P4", 35)]
TYPE_WEIGHTS = [("incident", 55), ("service_request", 18), ("how_to", 17), ("change", 4), ("defect", 6)]
#: priority → (first answer, resolution) in wall minutes: (low, high) of a uniform draw.
PACE = {
    "P1": ((5, 35), (60, 520)),
    "P2": ((10, 70), (240, 1500)),
    "P3": ((20, 260), (600, 9000)),
    "P4": ((30, 520), (1440, 14400)),
}
TITLES = {
    "incident": [
        "Invoice approval workflow stuck at step 2",
        "Warehouse label printer prints blank labels",
        "Sales order cannot be confirmed: credit limit check fails",
        "Purchase order lines missing after import",
        "Vendor payment journal posting error",
        "Batch job for inventory close failed overnight",
        "Customer service case form loads slowly",
        "Wave processing stops with a locking error",
        "Bank statement import rejects the file",
        "Intercompany invoice not created",
    ],
    "service_request": [
        "New user account for the Lyon sales office",
        "Add a security role for the AP clerk",
        "Create a new number sequence for returns",
        "Grant access to the fixed assets workspace",
    ],
    "how_to": [
        "How do I reverse a posted vendor invoice?",
        "Where do I change the default warehouse?",
        "How to export the trial balance to Excel",
        "How do I set up a recurring journal?",
    ],
    "change": [
        "Change the approval limit for purchase requisitions",
        "Add a field to the picking list report",
    ],
    "defect": [
        "Rounding difference on multi-currency invoices",
        "Duplicate lines on the packing slip report",
        "Tax calculation wrong for intra-EU deliveries",
    ],
}
LOCATIONS = ["Manchester", "Duisburg", "Lyon", "Venlo"]


def seed_requests_demo(*, plan: SupportPlan) -> None:
    """Creates what is missing of the demo's requests; never changes what exists."""
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        if _pilot_policy(plan=plan, today=now.date()) is None:
            return
        parties = {party.name: party for party in Party.objects.filter(plan=plan)}
        if SERVICE_DESK not in parties:
            return
        levels = {level.number: level for level in SupportLevel.objects.filter(plan=plan)}
        existing = set(
            SupportRequest.objects.filter(plan=plan, source_system=SOURCE_SYSTEM).values_list(
                "source_id", flat=True
            )
        )
        rng = random.Random(7)  # noqa: S311 (demo data, not security)
        microsoft_case_done = False
        for index in range(REQUESTS):
            story = _story(rng, index=index, now=now)
            if story is None or story["number"] in existing:
                continue
            wants_microsoft = (
                not microsoft_case_done and story["type"] == "defect" and story["priority"] in ("P1", "P2")
            )
            _send(plan=plan, story=story, parties=parties, levels=levels, microsoft=wants_microsoft, now=now)
            microsoft_case_done = microsoft_case_done or wants_microsoft
        for story in _live_stories(now=now):
            if story["number"] not in existing:
                _send(plan=plan, story=story, parties=parties, levels=levels, microsoft=False, now=now)


# --- The pilot policy ------------------------------------------------------------------------
def _pilot_policy(*, plan: SupportPlan, today: date) -> SlaPolicy | None:
    """The policy the demo's requests run under: whatever is in force on the first day, else a pilot
    policy up to the next steady-state policy, with that policy's targets and ladders copied."""
    first_day = today - timedelta(days=DAYS + 5)
    policy = policy_in_force(plan=plan, day=first_day)
    if policy is not None:
        return policy
    template = SlaPolicy.objects.filter(plan=plan, phase=SlaPhase.STEADY_STATE).order_by("valid_from").first()
    if template is None or not template.targets.exists():
        return None
    from operations import sla_services

    later = (
        SlaPolicy.objects.filter(plan=plan, phase=SlaPhase.STEADY_STATE, valid_from__gt=first_day)
        .order_by("valid_from")
        .first()
    )
    # Until hypercare (or the next steady-state policy) takes over.
    ends = [
        day - timedelta(days=1)
        for day in (plan.hypercare_start, plan.go_live_date)
        if day and day > first_day
    ]
    if later is not None:
        ends.append(later.valid_from - timedelta(days=1))
    pilot = sla_services.sla_policy_create(
        plan=plan,
        name=PILOT_POLICY,
        phase=SlaPhase.STEADY_STATE,
        valid_from=first_day,
        valid_to=min(ends, default=None),
        pause_statuses=["awaiting_customer"],
        description="Demo: the targets of steady state, for the pilot sites' requests before go-live.",
    )
    for target in template.targets.select_related("priority", "calendar").prefetch_related(
        "escalation_steps"
    ):
        steps = [
            {
                "trigger": step.trigger,
                "percent": step.percent,
                "minutes_after_breach": step.minutes_after_breach,
                "action": step.action,
                "role": step.role,
                "person": step.person,
                "party": step.party,
                "repeat_every_minutes": step.repeat_every_minutes,
                "max_repeats": step.max_repeats,
            }
            for step in target.escalation_steps.order_by("position")
        ]
        sla_services.sla_target_create(
            policy=pilot,
            priority=target.priority,
            metric=target.metric,
            minutes=target.minutes,
            calendar=target.calendar,
            request_type=target.request_type,
            support_level=target.support_level,
            underpinning_agreement=target.underpinning_agreement,
            escalation_steps=steps or None,
        )
    return pilot


# --- One request's story ---------------------------------------------------------------------
def _weighted(rng: random.Random, weights: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in weights], weights=[weight for _, weight in weights])[0]


def _story(rng: random.Random, *, index: int, now: datetime) -> dict | None:
    """When and what: a weekday during UK office hours (a few P1s at night), its priority, type,
    and how the desk and the partner handled it (wall-clock minutes after it was reported)."""
    day = now - timedelta(days=DAYS * (REQUESTS - index) / REQUESTS)
    priority = _weighted(rng, PRIORITY_WEIGHTS)
    request_type = _weighted(rng, TYPE_WEIGHTS)
    if day.weekday() >= 5 and priority != "P1":
        day -= timedelta(days=day.weekday() - 4)  # reported on the Friday instead
    hour = rng.randint(0, 23) if priority == "P1" and rng.random() < 0.3 else rng.randint(7, 16)
    reported = day.replace(hour=hour, minute=rng.randint(0, 59), second=0, microsecond=0)
    if reported > now - timedelta(minutes=30):
        return None
    (answer_low, answer_high), (solve_low, solve_high) = PACE[priority]
    answer = rng.randint(answer_low, answer_high)
    late = rng.random() < 0.08  # the desk was swamped: the answer and the fix come late
    if late:
        answer *= 3
    resolve = max(answer + 20, rng.randint(solve_low, solve_high) * (2 if late else 1))
    partner = request_type in ("incident", "defect", "change") and rng.random() < 0.4
    return {
        "index": index,
        "number": f"INC{2_400_000 + index * 7:07d}",
        "partner_ref": f"PRT-{4100 + index}",
        "priority": priority,
        "type": request_type,
        "title": f"{rng.choice(TITLES[request_type])} ({rng.choice(LOCATIONS)})",
        "reported": reported,
        "answer": reported + timedelta(minutes=answer),
        "handoff": reported + timedelta(minutes=answer + rng.randint(15, 240)) if partner else None,
        "isv": partner and rng.random() < 0.15,
        "wait_user": rng.random() < 0.2,
        "resolved": reported + timedelta(minutes=resolve),
        "closed": reported + timedelta(minutes=resolve + 3 * 1440),
        "cancelled": rng.random() < 0.03,
    }


def _live_stories(*, now: datetime) -> list[dict]:
    """Open P1s on the 24×7 calendar, so the list has requests at risk whenever the demo is seeded:
    one with the partner for 6½ hours (its 8-hour resolution clock past 75 %), one reported 24
    minutes ago and not yet answered (its 30-minute first response past 75 %)."""
    never = now + timedelta(days=365)
    base = {"type": "incident", "isv": False, "wait_user": False, "cancelled": False, "closed": never}
    partner_case = now - timedelta(hours=6, minutes=30)
    unanswered = now - timedelta(minutes=24)
    return [
        {
            **base,
            "index": REQUESTS,
            "number": "INC2399001",
            "partner_ref": "PRT-4099",
            "priority": "P1",
            "title": "Payment run fails for all German vendors (Duisburg)",
            "reported": partner_case,
            "answer": partner_case + timedelta(minutes=12),
            "handoff": partner_case + timedelta(minutes=40),
            "resolved": never,
        },
        {
            **base,
            "index": REQUESTS + 1,
            "number": "INC2399002",
            "partner_ref": "PRT-4098",
            "priority": "P1",
            "title": "Goods receipts cannot be posted in Venlo (Venlo)",
            "reported": unanswered,
            "answer": never,
            "handoff": None,
            "resolved": never,
        },
    ]


def _send(*, plan, story: dict, parties: dict, levels: dict, microsoft: bool, now: datetime) -> None:
    """The story as the helpdesk sent it: the request, its events in time order (those later than now
    have not happened yet: the request is still open), its references through ``reference_add``
    (pattern-checked) and one ``request_recompute``, which replays the events into the request's
    columns and its clocks exactly as after live ingestion (one replay instead of one per event keeps
    the seed fast)."""
    desk = parties[SERVICE_DESK]
    priority = Priority.objects.get(plan=plan, code=story["priority"])
    level_2 = levels.get(2)
    request = SupportRequest(
        plan=plan,
        title=story["title"],
        description=f"Reported by a user at the {story['title'].rsplit('(', 1)[-1].rstrip(')')} site.",
        description_anonymised="A user reported a problem (details withheld).",
        request_type=story["type"],
        priority=priority,
        current_level=level_2,
        current_party=desk,
        reported_at=story["reported"],
        source_system=SOURCE_SYSTEM,
        source_id=story["number"],
    )
    request.full_clean(validate_constraints=False)
    request.save()
    events: list[dict] = [
        {"kind": "status_changed", "status": "in_progress", "occurred_at": story["answer"]},
        {"kind": "public_update", "occurred_at": story["answer"], "body": "We are looking into it."},
    ]
    if story["cancelled"]:
        events.append({"kind": "status_changed", "status": "cancelled", "occurred_at": story["answer"]})
    else:
        events += _middle(story, parties=parties, levels=levels, microsoft=microsoft)
        if story["resolved"] is not None:
            events.append({"kind": "status_changed", "status": "resolved", "occurred_at": story["resolved"]})
            events.append({"kind": "status_changed", "status": "closed", "occurred_at": story["closed"]})
    rows = [
        RequestEvent(
            plan=plan,
            request=request,
            sequence=1,
            kind=RequestEventKind.CREATED,
            occurred_at=story["reported"],
            status="new",
            priority=priority,
            level=level_2,
            party=desk,
            actor_name=ACTOR,
        )
    ]
    references = [(SOURCE_SYSTEM, story["number"], desk)]
    for data in sorted(events, key=lambda event: event["occurred_at"]):
        if data["occurred_at"] > now:
            break
        rows.append(
            RequestEvent(plan=plan, request=request, sequence=len(rows) + 1, actor_name=ACTOR, **data)
        )
        if data.get("reference"):
            references.append((data["reference_system"], data["reference"], data["party"]))
    RequestEvent.objects.bulk_create(rows)
    for system, reference, party in references:
        services.reference_add(request=request, system=system, reference=reference, party=party)
    services.request_recompute(request=request, now=now)


def _middle(story: dict, *, parties: dict, levels: dict, microsoft: bool) -> list[dict]:
    """Between the answer and the fix: a wait on the user, hand-offs to the partner (and on to the
    ISV or Microsoft) with their references, and progress updates."""
    events: list[dict] = []
    span = story["resolved"] - story["answer"]
    if story["wait_user"]:
        asked = story["answer"] + span * 0.2
        events += [
            {"kind": "status_changed", "status": "awaiting_customer", "occurred_at": asked},
            {"kind": "status_changed", "status": "in_progress", "occurred_at": asked + span * 0.2},
        ]
    handoff = story["handoff"]
    if handoff is not None and handoff < story["resolved"] and PARTNER in parties:
        events.append(
            {
                "kind": "handed_off",
                "occurred_at": handoff,
                "level": levels.get(4),
                "party": parties[PARTNER],
                "reference_system": "partner",
                "reference": story["partner_ref"],
                "body": "Needs a fix in the customisation: passed to Contoso Consulting.",
            }
        )
        onward = handoff + (story["resolved"] - handoff) * 0.4
        if microsoft and MICROSOFT in parties:
            case = f"{2_600_000_000_000_000 + story['index'] * 9_973:016d}"
            events += [
                {
                    "kind": "handed_off",
                    "occurred_at": onward,
                    "level": levels.get(5),
                    "party": parties[MICROSOFT],
                    "reference_system": "microsoft",
                    "reference": case,
                    "body": "Platform defect reproduced by the partner: Microsoft support case opened.",
                },
                {"kind": "status_changed", "status": "awaiting_vendor", "occurred_at": onward},
                {
                    "kind": "status_changed",
                    "status": "in_progress",
                    "occurred_at": onward + min(timedelta(hours=20), (story["resolved"] - onward) * 0.7),
                },
            ]
        elif story["isv"] and ISV in parties:
            events.append(
                {
                    "kind": "handed_off",
                    "occurred_at": onward,
                    "level": levels.get(5),
                    "party": parties[ISV],
                    "reference_system": "isv",
                    "reference": f"{300_000 + story['index']:06d}",
                    "body": "Fault in the WMS add-on: passed to the ISV.",
                }
            )
    update = story["answer"] + span * 0.5
    events.append(
        {"kind": "public_update", "occurred_at": update, "body": "Progress update sent to the user."}
    )
    return events
