"""Builders and fixtures for the helpdesk tests (support requests, events, SLA clocks, sweep, UI).

Import what you use: ``from tests.operations.helpdesk_fixtures import *`` (no conftest: other parts
share this folder). Built on ``sla_fixtures.build_sla_world`` (Northwind: go-live 1 April 2027,
hypercare 1 April – 30 June 2027, P1–P4 from the seeded matrix, "UK office hours" Mon–Fri 09:00–17:00
Europe/London without holidays, "P1 24×7 cover").

What the world adds:

* parties — the internal helpdesk ``^INC\\d{7}$``, the partner Contoso Consulting ``^PRT-\\d{4,}$``,
  the ISV Fabrikam Warehouse Apps ``^FWA-\\d{3,}$`` (anonymised data only) and Microsoft ``^\\d{16}$``;
* levels 1–5 from the support model template ("mixed"): L2 is held by the helpdesk, L3 by the
  partner, L4 by the ISV and L5 by Microsoft;
* steady state (from 1 January 2027, pauses on awaiting customer / awaiting vendor, the vendor's own
  clock keeps running): ``STEADY_TARGETS`` below, on office hours except P1 (24×7);
* hypercare (1 April – 30 June 2027, pauses on awaiting customer): tighter, ``HYPERCARE_TARGETS``;
* per-level holding targets ("resolution" metric with a support level) for L1 and L2 and the
  partner's L3 (P2 and P3);
* the ladder ``LADDER`` on every steady-state P2 first response and resolution: warn at 75 %, notify
  at breach (then every 60 min, twice more), raise the level 60 min after breach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from models_catalog.models import Party, PartyKind, SupportLevel
from models_catalog.services import support_model_choose
from operations.models import EscalationStep, SlaMetric, SlaPolicy, SlaTarget, StatusMapping
from operations.sla_services import escalation_ladder_replace
from supportplan import services as plan_services
from supportplan.models import ApiKey, ApiKeyScope, Membership
from tests.operations.breach_fixtures import _fresh_engine_cache, make_target
from tests.operations.sla_fixtures import SlaWorld, build_sla_world

__all__ = [
    "HYPERCARE_TARGETS",
    "LADDER",
    "LEVEL_TARGETS",
    "STEADY_TARGETS",
    "HelpdeskWorld",
    "_fresh_engine_cache",
    "build_helpdesk_world",
    "build_integration",
    "helpdesk",
    "helpdesk_world",
    "integration",
    "utc",
]

FR, NU, RES = SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_UPDATE, SlaMetric.RESOLUTION

#: priority code → metric → business minutes (steady state); P1 runs on the 24×7 calendar.
STEADY_TARGETS = {
    "P1": {FR: 30, NU: 60, RES: 240},
    "P2": {FR: 60, NU: 240, RES: 960},
    "P3": {FR: 240, NU: 480, RES: 2400},
    "P4": {FR: 480, RES: 4800},
}
HYPERCARE_TARGETS = {
    "P1": {FR: 15, NU: 30, RES: 120},
    "P2": {FR: 30, NU: 120, RES: 480},
    "P3": {FR: 120, NU: 240, RES: 1440},
    "P4": {FR: 240, RES: 2400},
}
#: level number → priority code → business minutes the level may hold the request (steady state).
LEVEL_TARGETS = {1: {"P2": 30, "P3": 60}, 2: {"P2": 240, "P3": 480}, 3: {"P2": 480, "P3": 960}}

#: The ladder of the steady-state P2 first-response and resolution targets.
LADDER_WARN_PERCENT = 75


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class HelpdeskWorld:
    sla: SlaWorld
    helpdesk: Party
    partner: Party
    isv: Party
    microsoft: Party
    levels: dict[int, SupportLevel]
    steady_state: SlaPolicy
    hypercare: SlaPolicy
    #: (policy phase, priority code, metric) → target, general targets only.
    targets: dict[tuple[str, str, str], SlaTarget] = field(default_factory=dict)
    #: (level number, priority code) → per-level steady-state target.
    level_targets: dict[tuple[int, str], SlaTarget] = field(default_factory=dict)

    @property
    def plan(self):
        return self.sla.plan

    def priority(self, code: str):
        return getattr(self.sla, code.lower())

    def target(self, code: str, metric: str, phase: str = "steady_state") -> SlaTarget:
        return self.targets[(phase, code, metric)]

    def ladder(self, code: str = "P2", metric: str = RES) -> list[EscalationStep]:
        return list(self.target(code, metric).escalation_steps.order_by("position"))


def _ladder(world: SlaWorld) -> list[dict]:
    return [
        {
            "trigger": "percent",
            "percent": LADDER_WARN_PERCENT,
            "action": "notify_role",
            "role": world.support_manager,
        },
        {
            "trigger": "breach",
            "action": "notify_person",
            "person": world.service_desk_lead,
            "repeat_every_minutes": 60,
            "max_repeats": 2,
        },
        {"trigger": "after_breach", "minutes_after_breach": 60, "action": "raise_level"},
    ]


LADDER = "warn at 75 % (support manager), at breach notify Priya Shah (+2 × 60 min), raise level 60 min after"


def build_helpdesk_world(plan) -> HelpdeskWorld:
    sla = build_sla_world(plan)
    partner = sla.partner
    partner.reference_pattern = r"^PRT-\d{4,}$"
    partner.helpdesk_system = "Jira"
    partner.save(update_fields=["reference_pattern", "helpdesk_system"])
    helpdesk = Party.objects.create(
        plan=plan,
        name="Northwind IT Service Desk",
        kind=PartyKind.HELPDESK,
        helpdesk_system="ServiceNow",
        reference_pattern=r"^INC\d{7}$",
    )
    isv = Party.objects.create(
        plan=plan,
        name="Fabrikam Warehouse Apps",
        kind=PartyKind.ISV,
        reference_pattern=r"^FWA-\d{3,}$",
        anonymised_data_only=True,
    )
    microsoft = Party.objects.create(
        plan=plan, name="Microsoft", kind=PartyKind.MICROSOFT, reference_pattern=r"^\d{16}$"
    )
    support_model_choose(plan=plan, kind="mixed")
    levels = {level.number: level for level in SupportLevel.objects.filter(plan=plan)}
    for number, party in ((2, helpdesk), (3, partner), (4, isv), (5, microsoft)):
        levels[number].parties.set([party])  # one party per level: hand-offs name their holder
    sla.level_1, sla.level_3 = levels[1], levels[3]

    steady, hypercare = sla.steady_state, sla.hypercare
    hypercare.pause_statuses = ["awaiting_customer"]
    hypercare.save(update_fields=["pause_statuses"])
    world = HelpdeskWorld(
        sla=sla,
        helpdesk=helpdesk,
        partner=partner,
        isv=isv,
        microsoft=microsoft,
        levels=levels,
        steady_state=steady,
        hypercare=hypercare,
    )
    for policy, table in ((steady, STEADY_TARGETS), (hypercare, HYPERCARE_TARGETS)):
        for code, metrics in table.items():
            calendar = sla.round_the_clock if code == "P1" else sla.office_hours
            for metric, minutes in metrics.items():
                target = make_target(policy, world.priority(code), metric, minutes, calendar)
                world.targets[(policy.phase, code, metric)] = target
    for number, by_code in LEVEL_TARGETS.items():
        for code, minutes in by_code.items():
            world.level_targets[(number, code)] = make_target(
                steady, world.priority(code), RES, minutes, sla.office_hours, support_level=levels[number]
            )
    for metric in (FR, RES):
        escalation_ladder_replace(target=world.target("P2", metric), steps=_ladder(sla))
    return world


def build_integration(plan, *, created_by=None, name="ServiceNow", mappings=None) -> ApiKey:
    """A read-write API key for a helpdesk with its status names mapped (ServiceNow's by default);
    the raw key (for ``api_as(key=...)``) is on ``api_key.raw``."""
    api_key, raw = plan_services.api_key_create(
        plan=plan, name=name, scope=ApiKeyScope.READ_WRITE, created_by=created_by
    )
    default = {
        "New": ("new", ""),
        "Assigned": ("assigned", ""),
        "Work in Progress": ("in_progress", ""),
        "Pending Caller": ("awaiting_customer", "pause"),
        "Pending Vendor": ("awaiting_vendor", ""),
        "Pending Change": ("in_progress", "pause"),
        "Resolved": ("resolved", ""),
        "Closed": ("closed", ""),
        "Cancelled": ("cancelled", ""),
    }
    for external, (status, effect) in (mappings or default).items():
        StatusMapping.objects.create(
            plan=plan, api_key=api_key, external_status=external, status=status, clock_effect=effect
        )
    api_key.raw = raw
    return api_key


@pytest.fixture
def helpdesk_world(plan) -> HelpdeskWorld:
    return build_helpdesk_world(plan)


@pytest.fixture
def helpdesk(helpdesk_world) -> HelpdeskWorld:
    """Alias: ``helpdesk.plan``, ``helpdesk.partner``, ``helpdesk.levels[3]`` read well in tests."""
    return helpdesk_world


@pytest.fixture
def integration(plan, alice, helpdesk_world) -> ApiKey:
    return build_integration(plan, created_by=alice)


def make_partner_member(plan, user, party) -> None:
    """Makes ``user`` (a partner of ``plan``) a member of ``party``'s organisation."""
    Membership.objects.filter(plan=plan, user=user).update(organisation=party)


__all__ += ["make_partner_member"]
