"""The go-live readiness checklist seeded per plan: the guide's 15 transition-to-support items in
three groups and its 5 "operational support readiness" go-live items (domain.md 5), in our words.

Due dates are derived from the plan's go-live date, the only project date a plan holds. The phases'
ends are fixed offsets before go-live (a typical 10-12 month Dynamics 365 rollout):

- end of **Initiate**: go-live − 9 months  (support scope items are due here);
- end of **Implement** (build): go-live − 3 months  (support model and most operational items);
- **UAT**: go-live − 6 weeks … go-live − 2 weeks  (readiness is confirmed by its end);
- **go-live** itself (communication to users).

Without a go-live date, items have no default due date; ``readiness_seed`` fills blank due dates
once the date is known and never overwrites one a person set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from scope.readiness_models import ReadinessGroup

INITIATE_END = "initiate_end"
IMPLEMENT_END = "implement_end"
UAT_END = "uat_end"
GO_LIVE = "go_live"

#: Offsets before go-live (see the module docstring).
INITIATE_ENDS_BEFORE_GO_LIVE = relativedelta(months=9)
IMPLEMENT_ENDS_BEFORE_GO_LIVE = relativedelta(months=3)
UAT_STARTS_BEFORE_GO_LIVE = timedelta(weeks=6)
UAT_ENDS_BEFORE_GO_LIVE = timedelta(weeks=2)


@dataclass(frozen=True)
class CatalogueItem:
    key: str
    group: str
    title: str
    description: str
    must_have: bool
    due: str  # one of INITIATE_END, IMPLEMENT_END, UAT_END, GO_LIVE


ITEMS: tuple[CatalogueItem, ...] = (
    # --- Support scope ---
    CatalogueItem(
        "reference_architecture",
        ReadinessGroup.SCOPE,
        "Reference architecture and day-to-day procedures",
        "A reference architecture and detailed, repeatable day-to-day procedures for the support team.",
        True,
        INITIATE_END,
    ),
    CatalogueItem(
        "policy_impact",
        ReadinessGroup.SCOPE,
        "Business and IT policies assessed",
        "How business and IT policies affect the support scope, and how they change once live.",
        True,
        INITIATE_END,
    ),
    CatalogueItem(
        "processes_supported",
        ReadinessGroup.SCOPE,
        "Functions, procedures and business processes to support",
        "The Dynamics 365 functions, procedures and business processes support looks after.",
        True,
        INITIATE_END,
    ),
    # --- Support model and organisation ---
    CatalogueItem(
        "support_model",
        ReadinessGroup.MODEL,
        "Support operating model chosen, roles defined",
        "The operating model (partner-led, in-house or hybrid) and the roles of internal and external teams.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "charter",
        ReadinessGroup.MODEL,
        "Support organisation charter signed off",
        "Tasks, roles, responsibilities and standards of the support organisation, signed off by a lead.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "cloud_coe",
        ReadinessGroup.MODEL,
        "Cloud/SaaS implications and a centre of excellence considered",
        "What running a SaaS system changes for support, and whether a Dynamics 365 CoE is needed.",
        False,
        IMPLEMENT_END,
    ),
    # --- Operational considerations ---
    CatalogueItem(
        "transition_strategy",
        ReadinessGroup.OPERATIONS,
        "Transition strategy that involves support early",
        "Support helps build the solution (shadowing, design reviews, test cases): no late handover.",
        True,
        INITIATE_END,
    ),
    CatalogueItem(
        "readiness_in_uat",
        ReadinessGroup.OPERATIONS,
        "Readiness confirmed during UAT",
        "Model, resources, knowledge and procedures exercised during UAT: a support drill with real tools.",
        True,
        UAT_END,
    ),
    CatalogueItem(
        "hypercare_strategy",
        ReadinessGroup.OPERATIONS,
        "Hypercare strategy with entry and exit criteria",
        "An end date, explicit entry and exit criteria, and committed project and partner hours.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "solution_current",
        ReadinessGroup.OPERATIONS,
        "Keeping the solution current",
        "How the solution stays current with Microsoft's updates and evolves with new features.",
        False,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "servicing_calendar",
        ReadinessGroup.OPERATIONS,
        "Support and servicing calendar",
        "Regular and periodic maintenance tasks, each with an owner.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "hours_time_zones_peaks",
        ReadinessGroup.OPERATIONS,
        "Hours, time zones, languages and peaks",
        "Normal and out-of-hours windows per location, languages, time zones, peaks and period-ends.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "escalation_procedures",
        ReadinessGroup.OPERATIONS,
        "Escalation procedures with criteria, SLAs and tiers",
        "Formal escalation for internal and external parties: SLA targets, escalation ladders, five levels.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "support_tooling",
        ReadinessGroup.OPERATIONS,
        "Support tooling chosen",
        "The helpdesk and support tools each party uses.",
        True,
        IMPLEMENT_END,
    ),
    CatalogueItem(
        "access_policies",
        ReadinessGroup.OPERATIONS,
        "Data and environment access policies",
        "Who of internal and external support may access which environment and data, decided in advance.",
        True,
        IMPLEMENT_END,
    ),
    # --- Go-live support readiness ---
    CatalogueItem(
        "monitoring_plan",
        ReadinessGroup.GO_LIVE,
        "Monitoring and maintenance plan for production",
        "Production monitoring and maintenance tasks with owners.",
        True,
        UAT_END,
    ),
    CatalogueItem(
        "operational_transition",
        ReadinessGroup.GO_LIVE,
        "Plan to hand operational support to the support team",
        "Handover sessions from the implementation team to the support team are planned before go-live.",
        True,
        UAT_END,
    ),
    CatalogueItem(
        "team_trained",
        ReadinessGroup.GO_LIVE,
        "Support teams trained, with resources, tools and access",
        "Training delivered, and access policies in place for the people who will support.",
        True,
        UAT_END,
    ),
    CatalogueItem(
        "helpdesk_process",
        ReadinessGroup.GO_LIVE,
        "Helpdesk and ticket management in place",
        "The helpdesk is connected (an integration key) and its statuses are mapped to ours.",
        True,
        UAT_END,
    ),
    CatalogueItem(
        "go_live_communication",
        ReadinessGroup.GO_LIVE,
        "Users told how to get support at go-live",
        "Stakeholders and users know the support contact and the known workarounds.",
        True,
        GO_LIVE,
    ),
)

KEYS = tuple(item.key for item in ITEMS)
BY_KEY = {item.key: item for item in ITEMS}


def milestone_date(go_live: date | None, milestone: str) -> date | None:
    """The date of a milestone for a plan going live on ``go_live`` (None without one)."""
    if go_live is None:
        return None
    if milestone == INITIATE_END:
        return go_live - INITIATE_ENDS_BEFORE_GO_LIVE
    if milestone == IMPLEMENT_END:
        return go_live - IMPLEMENT_ENDS_BEFORE_GO_LIVE
    if milestone == UAT_END:
        return go_live - UAT_ENDS_BEFORE_GO_LIVE
    if milestone == GO_LIVE:
        return go_live
    raise ValueError(f"Unknown milestone {milestone!r}.")


def uat_window(go_live: date | None) -> tuple[date, date] | None:
    """(first day, last day) of UAT, or None without a go-live date."""
    if go_live is None:
        return None
    return go_live - UAT_STARTS_BEFORE_GO_LIVE, go_live - UAT_ENDS_BEFORE_GO_LIVE


def phase_windows(go_live: date | None, *, start: date | None = None) -> list[tuple[str, date, date]]:
    """The project's phases as (name, first day, last day) for the timeline; ``start`` is Initiate's
    first day (default: a year before go-live). Empty without a go-live date."""
    if go_live is None:
        return []
    initiate_end = milestone_date(go_live, INITIATE_END)
    implement_end = milestone_date(go_live, IMPLEMENT_END)
    start = min(start or go_live - relativedelta(months=12), initiate_end - timedelta(days=1))
    return [
        ("Initiate", start, initiate_end),
        ("Implement", initiate_end + timedelta(days=1), implement_end),
        ("Prepare", implement_end + timedelta(days=1), go_live - timedelta(days=1)),
        ("Operate", go_live, go_live + relativedelta(months=3)),
    ]
