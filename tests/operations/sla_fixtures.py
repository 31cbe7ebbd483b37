"""The Northwind plan's SLA set-up, built directly (calendars with the ORM), shared by the SLA tests.
Each test module wraps ``build_sla_world`` in its own fixture.

Northwind goes live on 1 April 2027; hypercare runs from 1 April to 30 June 2027. It has the example
priorities P1–P4 and matrix, a UK office-hours calendar and a 24×7 one, a support manager role, a
partner (Contoso Consulting) with a contract, and support levels 1 and 3. Two policies: steady state
from 1 January 2027 (open-ended) and hypercare for the hypercare window, each without targets.
Contoso Retail (the other plan) has a priority, a calendar, a role and a party of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models_catalog.models import Agreement, Party, PartyKind, Person, Role, SupportLevel
from operations import sla_services as services
from operations.models import Priority, ServiceCalendar, SlaPolicy
from supportplan.models import SupportPlan

GO_LIVE = date(2027, 4, 1)
HYPERCARE_END = date(2027, 6, 30)
OFFICE_HOURS = {str(day): [["09:00", "17:00"]] for day in range(5)}
ROUND_THE_CLOCK = {str(day): [["00:00", "00:00"]] for day in range(7)}


@dataclass
class SlaWorld:
    plan: SupportPlan
    p1: Priority
    p2: Priority
    p3: Priority
    p4: Priority
    office_hours: ServiceCalendar
    round_the_clock: ServiceCalendar
    support_manager: Role
    partner: Party
    partner_contract: Agreement
    service_desk_lead: Person
    level_1: SupportLevel
    level_3: SupportLevel
    steady_state: SlaPolicy
    hypercare: SlaPolicy


@dataclass
class ElsewhereWorld:
    plan: SupportPlan
    priority: Priority
    calendar: ServiceCalendar
    role: Role
    party: Party


def build_sla_world(plan: SupportPlan) -> SlaWorld:
    plan.go_live_date, plan.hypercare_start, plan.hypercare_end = GO_LIVE, GO_LIVE, HYPERCARE_END
    plan.save(update_fields=["go_live_date", "hypercare_start", "hypercare_end"])
    services.priorities_seed_defaults(plan=plan)
    priorities = {priority.code: priority for priority in Priority.objects.filter(plan=plan)}
    office_hours = ServiceCalendar.objects.create(
        plan=plan, name="UK office hours", timezone="Europe/London", weekly_windows=OFFICE_HOURS
    )
    round_the_clock = ServiceCalendar.objects.create(
        plan=plan, name="P1 24×7 cover", timezone="Europe/London", weekly_windows=ROUND_THE_CLOCK
    )
    partner = Party.objects.create(plan=plan, name="Contoso Consulting", kind=PartyKind.PARTNER)
    contract = Agreement.objects.create(
        plan=plan,
        party=partner,
        name="Partner support contract",
        kind="contract_sla",
        starts_on=date(2027, 1, 1),
    )
    return SlaWorld(
        plan=plan,
        p1=priorities["P1"],
        p2=priorities["P2"],
        p3=priorities["P3"],
        p4=priorities["P4"],
        office_hours=office_hours,
        round_the_clock=round_the_clock,
        support_manager=Role.objects.create(plan=plan, name="Support manager"),
        partner=partner,
        partner_contract=contract,
        service_desk_lead=Person.objects.create(plan=plan, name="Priya Shah"),
        level_1=SupportLevel.objects.create(plan=plan, number=1, name="Super users"),
        level_3=SupportLevel.objects.create(plan=plan, number=3, name="Partner"),
        steady_state=services.sla_policy_create(
            plan=plan,
            name="Steady state",
            phase="steady_state",
            valid_from=date(2027, 1, 1),
            pause_statuses=["awaiting_customer", "awaiting_vendor"],
        ),
        hypercare=services.sla_policy_create(
            plan=plan, name="Hypercare", phase="hypercare", valid_from=GO_LIVE, valid_to=HYPERCARE_END
        ),
    )


def build_elsewhere(plan: SupportPlan) -> ElsewhereWorld:
    return ElsewhereWorld(
        plan=plan,
        priority=Priority.objects.create(plan=plan, code="P1", name="Urgent", rank=1),
        calendar=ServiceCalendar.objects.create(
            plan=plan, name="Dublin office hours", timezone="Europe/Dublin", weekly_windows=OFFICE_HOURS
        ),
        role=Role.objects.create(plan=plan, name="Store manager"),
        party=Party.objects.create(plan=plan, name="Fabrikam", kind=PartyKind.PARTNER),
    )


def example_ladder(world: SlaWorld) -> list[dict]:
    """The brief's three-step ladder: warn at 75 %, raise at breach, chase the partner after."""
    return [
        {"trigger": "percent", "percent": 75, "action": "notify_role", "role": world.support_manager},
        {"trigger": "breach", "action": "raise_level"},
        {
            "trigger": "after_breach",
            "minutes_after_breach": 30,
            "action": "notify_party",
            "party": world.partner,
            "repeat_every_minutes": 60,
            "max_repeats": 3,
        },
    ]


EXAMPLE_LADDER_SENTENCE = (
    "At 75 % of the target: notify the Support manager; at breach: raise to the next support level; "
    "30 min after breach, then every 60 min up to 3 times: notify Contoso Consulting"
)
