"""Builders for the readiness, transition and hypercare tests (test_readiness*.py, test_hypercare.py);
each module wraps the ones it uses in fixtures (no conftest: other parts share this folder).

Northwind goes live on 1 April 2027: Initiate ends 1 July 2026, Implement 1 January 2027, UAT runs
18 February – 18 March 2027 (``scope.readiness_catalogue``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models_catalog.models import Agreement, Party, PartyKind, Person, Role, SupportLevel
from models_catalog.services import catalogue_seed_plan
from operations.models import CalendarEvent, EscalationStep, SlaTarget
from scope.models import Aspect, ScopeItem
from scope.readiness_models import HypercarePlan, TransitionActivity
from scope.readiness_services import readiness_seed
from supportplan.models import SupportPlan

GO_LIVE = date(2027, 4, 1)
UAT_START = date(2027, 2, 18)
UAT_END = date(2027, 3, 18)


def with_go_live(plan: SupportPlan, go_live: date | None = GO_LIVE) -> SupportPlan:
    plan.go_live_date = go_live
    plan.save(update_fields=["go_live_date"])
    return plan


def seeded(plan: SupportPlan) -> SupportPlan:
    with_go_live(plan)
    readiness_seed(plan=plan)
    return plan


def activity(
    plan: SupportPlan,
    kind: str,
    start: date,
    days: int = 1,
    *,
    title: str = "",
    held: bool = False,
) -> TransitionActivity:
    end = start + timedelta(days=days - 1)
    return TransitionActivity.objects.create(
        plan=plan,
        kind=kind,
        title=title or f"{kind} from {start}",
        planned_start=start,
        planned_end=end,
        actual_start=start if held else None,
        actual_end=end if held else None,
    )


def event(plan: SupportPlan, kind: str, start: date, days: int, name: str, party: Party | None = None):
    starts_at = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return CalendarEvent.objects.create(
        plan=plan,
        kind=kind,
        name=name,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=days),
        party=party,
    )


def super_user_role(plan: SupportPlan) -> Role:
    catalogue_seed_plan(plan=plan)
    return Role.objects.get(plan=plan, seed_key="super_user")


def scope_item(plan: SupportPlan, aspect_key: str, **fields) -> ScopeItem:
    aspect = Aspect.objects.get(plan__isnull=True, key=aspect_key)
    return ScopeItem.objects.create(plan=plan, aspect=aspect, **fields)


def complete_hypercare(plan: SupportPlan, **overrides) -> HypercarePlan:
    hypercare, _ = HypercarePlan.objects.get_or_create(plan=plan)
    values = {
        "starts_on": GO_LIVE,
        "planned_end": GO_LIVE + timedelta(weeks=6),
        "entry_criteria": "All P1 defects from UAT closed; cut-over signed off.",
        "exit_criteria_notes": "Daily triage; partner on site for the first two weeks.",
        "committed_partner_hours": 240,
        "committed_project_hours": 120,
    } | overrides
    for name, value in values.items():
        setattr(hypercare, name, value)
    hypercare.save()
    return hypercare


def isv(plan: SupportPlan, name: str = "WMS Add-on Ltd", *, aligned: bool | None = None) -> Party:
    party = Party.objects.create(plan=plan, name=name, kind=PartyKind.ISV)
    if aligned is not None:
        Agreement.objects.create(
            plan=plan,
            party=party,
            name=f"{name} support",
            kind="contract_sla",
            starts_on=date(2026, 1, 1),
            follows_microsoft_release_cadence=aligned,
        )
    return party


def all_five_levels(plan: SupportPlan) -> list[SupportLevel]:
    existing = set(SupportLevel.objects.filter(plan=plan).values_list("number", flat=True))
    for number in range(1, 6):
        if number not in existing:
            SupportLevel.objects.create(plan=plan, number=number, name=f"Level {number}")
    return list(SupportLevel.objects.filter(plan=plan))


def target_with_ladder(policy, priority, calendar) -> SlaTarget:
    target = SlaTarget.objects.create(
        policy=policy, priority=priority, metric="resolution", minutes=240, calendar=calendar
    )
    EscalationStep.objects.create(target=target, trigger="breach", action="raise_level")
    return target


def person(plan: SupportPlan, name: str, *, roles=(), **fields) -> Person:
    someone = Person.objects.create(plan=plan, name=name, **fields)
    someone.roles.set(roles)
    return someone
