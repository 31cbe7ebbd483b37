"""Demo readiness for the demo plan: in Prepare, about 60 % ready, a UAT support drill recorded (planned
for UAT), handover and early involvement planned, a hypercare plan drafted, intermediate targets, a
few weeks of trend — and two warnings still firing from the other demos' data (an ISV without a
release-alignment commitment and a super user without agreed time). Safe to run again: it converges
and writes nothing the second time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from models_catalog.models import Party, Person
from scope import readiness_catalogue as catalogue
from scope import readiness_services as services
from scope.readiness_models import (
    HypercarePlan,
    ReadinessItem,
    ReadinessSnapshot,
    ReadinessStatus,
    ReadinessTarget,
    TransitionActivity,
    TransitionActivityKind,
)
from supportplan.models import Phase, SupportPlan

PARTNER = "Contoso Consulting"
#: (item key, owner name, status, evidence link, notes)
ITEMS = [
    (
        "reference_architecture",
        "Oliver Hughes",
        ReadinessStatus.IN_PROGRESS,
        "",
        "Runbooks for 11 of 18 items.",
    ),
    (
        "policy_impact",
        "Claire Martin",
        ReadinessStatus.IN_PROGRESS,
        "",
        "Retention and backup reviewed with IT.",
    ),
    ("charter", "Bob Clarke", ReadinessStatus.IN_PROGRESS, "", "Draft v1 with the CIO for sign-off."),
    ("transition_strategy", "Bob Clarke", ReadinessStatus.OPEN, "", ""),
    ("hypercare_strategy", "Bob Clarke", ReadinessStatus.OPEN, "", ""),
    (
        "go_live_communication",
        "Tina Schneider",
        ReadinessStatus.OPEN,
        "",
        "Intranet page and e-mail at cut-over.",
    ),
]


def _activities(go_live: date, today: date) -> list[dict]:
    uat_start, uat_end = catalogue.uat_window(go_live)
    review = today - timedelta(days=21)
    return [
        {
            "kind": TransitionActivityKind.DESIGN_REVIEW,
            "title": "Order-to-cash design review with support",
            "phase": Phase.IMPLEMENT,
            "planned_start": review,
            "planned_end": review + timedelta(days=1),
            "actual_start": review,
            "actual_end": review + timedelta(days=1),
            "people": ["Claire Martin", "Sam Patel"],
        },
        {
            "kind": TransitionActivityKind.SHADOWING,
            "title": "Support analysts shadow the finance and warehouse leads",
            "phase": Phase.IMPLEMENT,
            "planned_start": today + timedelta(days=14),
            "planned_end": today + timedelta(days=70),
            "people": ["Sam Patel", "Tina Schneider"],
        },
        {
            "kind": TransitionActivityKind.TEST_CASE_AUTHORING,
            "title": "Support writes and runs UAT test cases",
            "phase": Phase.PREPARE,
            "planned_start": uat_start - timedelta(days=21),
            "planned_end": uat_end,
            "people": ["Tina Schneider", "Priya Shah"],
        },
        {
            "kind": TransitionActivityKind.UAT_DRILL,
            "title": "UAT support drill: log, triage and resolve 30 sample issues",
            "phase": Phase.PREPARE,
            "planned_start": uat_start + timedelta(days=7),
            "planned_end": uat_start + timedelta(days=11),
            "people": ["Bob Clarke", "Priya Shah", "Jonas Weber"],
        },
        {
            "kind": TransitionActivityKind.HANDOVER,
            "title": "Handover sessions: decisions, architecture, rollback and restore",
            "phase": Phase.PREPARE,
            "planned_start": uat_end - timedelta(days=9),
            "planned_end": uat_end - timedelta(days=2),
            "people": ["Oliver Hughes", "Lena de Vries"],
        },
        {
            "kind": TransitionActivityKind.TRAINING,
            "title": "Super-user training per business unit",
            "phase": Phase.PREPARE,
            "planned_start": uat_start - timedelta(days=14),
            "planned_end": uat_start - timedelta(days=10),
            "people": ["Priya Shah", "Jonas Weber"],
        },
    ]


def seed_readiness_demo(*, plan: SupportPlan) -> None:
    """Readiness at about 60 %, a drill, a hypercare draft; converges."""
    today = timezone.localdate()
    if plan.phase in (Phase.INITIATE, Phase.IMPLEMENT):
        from supportplan.services import plan_update

        plan_update(plan=plan, phase=Phase.PREPARE)
    services.readiness_seed(plan=plan)
    people = {person.name: person for person in Person.objects.filter(plan=plan)}
    go_live = plan.go_live_date or today + timedelta(days=300)

    for key, owner_name, status, evidence_url, notes in ITEMS:
        item = ReadinessItem.objects.get(plan=plan, key=key)
        wanted = {"owner": people.get(owner_name), "status": status, "notes": notes}
        if evidence_url:
            wanted["evidence_url"] = evidence_url
        untouched = item.owner_id is None and not item.notes and item.status == ReadinessStatus.OPEN
        changes = {name: value for name, value in wanted.items() if getattr(item, name) != value}
        if untouched and changes:  # never overwrite what a person has changed since
            services.readiness_item_update(item=item, **changes)

    existing = set(TransitionActivity.objects.filter(plan=plan).values_list("title", flat=True))
    for spec in _activities(go_live, today):
        if spec["title"] in existing:
            continue
        names = spec.pop("people")
        services.transition_activity_create(
            plan=plan, people=[people[name] for name in names if name in people], **spec
        )

    hypercare, _ = HypercarePlan.objects.get_or_create(plan=plan)
    if not hypercare.exit_criteria_notes:
        services.hypercare_plan_update(
            hypercare=hypercare,
            starts_on=go_live,
            planned_end=go_live + timedelta(weeks=6),
            entry_criteria="Cut-over signed off; no open P1 defects from UAT; support drill held; "
            "super users briefed in every business unit.",
            exit_criteria_notes="Daily triage with the partner; weekly exit review with the steering group; "
            "extend by two weeks at most, with an action plan, if the criteria are not met.",
            partner=Party.objects.filter(plan=plan, name=PARTNER).first(),
            committed_project_hours=Decimal("320"),
            committed_partner_hours=Decimal("480"),
        )

    initiate_end = catalogue.milestone_date(go_live, catalogue.INITIATE_END)
    implement_end = catalogue.milestone_date(go_live, catalogue.IMPLEMENT_END)
    uat_end = catalogue.milestone_date(go_live, catalogue.UAT_END)
    for name, target_date, percent in (
        ("Scope and strategy settled (end of Initiate)", initiate_end, 40),
        ("Model and operations ready (end of build)", implement_end, 75),
        ("Ready to go live (end of UAT)", uat_end, 100),
    ):
        if not ReadinessTarget.objects.filter(plan=plan, name=name).exists():
            services.readiness_target_create(
                plan=plan, name=name, target_date=target_date, target_percent=percent
            )

    # A few weeks of trend behind today's figure (snapshots are not audited).
    current = services.readiness_snapshot_take(plan=plan, today=today)
    for weeks_ago, drop in ((6, 25), (5, 20), (4, 15), (3, 15), (2, 10), (1, 5)):
        ReadinessSnapshot.objects.get_or_create(
            plan=plan,
            taken_on=today - timedelta(weeks=weeks_ago),
            defaults={
                "overall_percent": max(current.overall_percent - drop, 0),
                "group_percents": {
                    key: max(value - drop, 0) for key, value in current.group_percents.items()
                },
                "open_must_haves": current.open_must_haves + drop // 5,
                "warnings": current.warnings + (1 if drop >= 15 else 0),
            },
        )
