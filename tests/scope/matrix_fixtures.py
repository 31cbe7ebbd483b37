"""A small scope for the Northwind plan, built with the ORM, shared by the matrix UI tests: a few
roles, people, a party, two support levels, a service calendar, and two answered items. Each
test module wraps ``build_scope`` in its own fixture."""

from __future__ import annotations

from dataclasses import dataclass

from models_catalog.models import Party, PartyKind, Person, Role, SupportLevel
from operations.models import ServiceCalendar
from scope.models import Aspect, ScopeItem, ScopeStatus
from supportplan.models import SupportPlan


@dataclass
class Scope:
    plan: SupportPlan
    integrations: Aspect
    reporting: Aspect
    order_to_cash: Aspect
    technical_expert: Role
    priya: Person
    marc: Person
    partner: Party
    level_2: SupportLevel
    office_hours: ServiceCalendar
    integrations_item: ScopeItem
    reporting_item: ScopeItem


def build_scope(plan: SupportPlan) -> Scope:
    technical_expert = Role.objects.create(plan=plan, name="Technical expert")
    priya = Person.objects.create(plan=plan, name="Priya Shah")
    marc = Person.objects.create(plan=plan, name="Marc Dubois")
    partner = Party.objects.create(plan=plan, name="Fabrikam Consulting", kind=PartyKind.PARTNER)
    SupportLevel.objects.create(plan=plan, number=1, name="Service desk")
    level_2 = SupportLevel.objects.create(plan=plan, number=2, name="Application support")
    office_hours = ServiceCalendar.objects.create(plan=plan, name="UK office hours", timezone="Europe/London")
    integrations, reporting, order_to_cash = (
        Aspect.objects.get(key=key) for key in ("integrations", "reporting", "order_to_cash")
    )
    # Fully answered: every question of the integrations aspect.
    integrations_item = ScopeItem.objects.create(
        plan=plan,
        aspect=integrations,
        in_scope=True,
        what="The bank and EDI integrations",
        details=[{"task": "Monitor the message queue", "frequency": "daily"}],
        support_level=level_2,
        when_text="Business hours",
        procedure_url="https://wiki.example/integrations",
        tool="ServiceNow",
        status=ScopeStatus.AGREED,
        owner=priya,
    )
    integrations_item.roles.set([technical_expert])
    # Started: only the what, in draft, owned by Marc.
    reporting_item = ScopeItem.objects.create(
        plan=plan, aspect=reporting, what="Financial reports", status=ScopeStatus.DRAFT, owner=marc
    )
    return Scope(
        plan,
        integrations,
        reporting,
        order_to_cash,
        technical_expert,
        priya,
        marc,
        partner,
        level_2,
        office_hours,
        integrations_item,
        reporting_item,
    )


def grow_scope(plan: SupportPlan, scope: Scope, *, items: int) -> None:
    """Answers ``items`` more aspects (the plan's own, created here), each naming a role, a person
    and a party and owned by someone: for query-count tests."""
    group = scope.integrations.group
    start = Aspect.objects.filter(plan=plan).count()
    aspects = Aspect.objects.bulk_create(
        Aspect(plan=plan, group=group, name=f"Integration {n}", position=1000 + n)
        for n in range(start, start + items)
    )
    new_items = ScopeItem.objects.bulk_create(
        ScopeItem(plan=plan, aspect=aspect, in_scope=True, what=f"Feed {n}", owner=scope.priya)
        for n, aspect in enumerate(aspects)
    )
    for item in new_items:
        item.roles.add(scope.technical_expert)
        item.people.add(scope.marc)
        item.parties.add(scope.partner)
