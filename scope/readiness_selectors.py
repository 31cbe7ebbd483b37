"""Reads of go-live readiness: derived evidence per checklist item, scores per group and overall, the
trend, targets against actuals, the go-live gate's open items, and hypercare exit metrics computed
from the support requests and their SLA clocks.

**Derived evidence**: where the product already holds the answer, an item is *met* by what the plan
contains, whatever its status says; each derivation returns a sentence saying why it is or is not
met. An item counts towards the score when it is done or its derived evidence is met; items marked
"not applicable" leave the denominator. Every derivation costs a fixed number of queries.

**Hypercare metrics** (domain 4.4), all computed over requests reported from hypercare's start:

- open P1 requests (Priority.rank 1) without an action plan: must be 0;
- P1 and P2 SLA clocks met ÷ (met + breached), as a percentage, against the plan's threshold
  (default 90 %): met when the percentage is **at least** the threshold; no decided clock = no figure
  (not met);
- resolved requests that did not need hypercare-only resources ÷ resolved requests, against the
  threshold (default 95 %), the same way;
- key processes working: a person's confirmation (manual);
- committed project and partner hours against the hours used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from scope import readiness_catalogue as catalogue
from scope.readiness_models import (
    HypercarePlan,
    ReadinessGroup,
    ReadinessItem,
    ReadinessSnapshot,
    ReadinessStatus,
    ReadinessTarget,
    TransitionActivity,
    TransitionActivityKind,
)
from supportplan.models import SupportPlan

SUPPORT_TEAM_ACTIVITY_KINDS = frozenset(
    {
        TransitionActivityKind.SHADOWING,
        TransitionActivityKind.DESIGN_REVIEW,
        TransitionActivityKind.TEST_CASE_AUTHORING,
        TransitionActivityKind.UAT_DRILL,
        TransitionActivityKind.TASK_RECORDING,
        TransitionActivityKind.TRAINING,
        TransitionActivityKind.HANDOVER,
    }
)
MONITORING_CATEGORIES = frozenset(
    {"service_health_check", "api_telemetry_review", "storage_licence_review", "message_center_review"}
)


@dataclass(frozen=True)
class Evidence:
    met: bool
    why: str


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


# --- Derived evidence, one function per catalogue key ----------------------------------------
def _in_scope_items(plan: SupportPlan):
    from scope.models import ScopeItem

    return ScopeItem.objects.filter(plan=plan, in_scope=True)


def evidence_reference_architecture(plan: SupportPlan) -> Evidence:
    items = _in_scope_items(plan)
    total = items.count()
    if not total:
        return Evidence(False, "No scope item is in scope yet, so there are no procedures to check.")
    without = items.filter(procedure_url="").count()
    if without:
        return Evidence(
            False, f"{_plural(without, 'in-scope item')} of {total} have no procedure or runbook link."
        )
    return Evidence(True, f"All {total} in-scope items link a procedure or runbook.")


def evidence_policy_impact(plan: SupportPlan) -> Evidence:
    from scope.models import Aspect, ScopeItem

    aspects = Aspect.objects.filter(group__key="policies", plan__isnull=True, retired_in_version__isnull=True)
    decided = ScopeItem.objects.filter(plan=plan, aspect__in=aspects, in_scope__isnull=False)
    total, done = aspects.count(), decided.values("aspect").distinct().count()
    if total and done >= total:
        return Evidence(True, f"All {total} policy aspects of the scope are decided.")
    return Evidence(False, f"{done} of {total} policy aspects of the scope are decided.")


def evidence_processes_supported(plan: SupportPlan) -> Evidence:
    processes = _in_scope_items(plan).filter(aspect__is_business_process=True)
    count = processes.count()
    if not count:
        return Evidence(False, "No business process is in scope yet.")
    nobody = processes.filter(roles=None, people=None, parties=None).count()
    if nobody:
        return Evidence(
            False,
            f"{_plural(nobody, 'business process', 'business processes')} in scope name nobody who answers.",
        )
    return Evidence(
        True, f"{_plural(count, 'business process', 'business processes')} in scope, each with who answers."
    )


def evidence_support_model(plan: SupportPlan) -> Evidence:
    from models_catalog.models import Role, SupportLevel, SupportModel

    model = SupportModel.objects.filter(plan=plan).first()
    if model is None or not model.kind:
        return Evidence(False, "No support model is chosen yet.")
    roles = Role.objects.filter(plan=plan, levels__isnull=False).distinct()
    unfilled = list(roles.filter(people=None).values_list("name", flat=True))
    if not SupportLevel.objects.filter(plan=plan).exists():
        return Evidence(False, f"{model.get_kind_display()} chosen, but no support levels are defined.")
    if not roles.exists():
        return Evidence(False, f"{model.get_kind_display()} chosen, but no level names a role.")
    if unfilled:
        return Evidence(False, f"{model.get_kind_display()} chosen; nobody holds: {', '.join(unfilled)}.")
    return Evidence(True, f"{model.get_kind_display()} chosen and every role on a level has a person.")


def evidence_charter(plan: SupportPlan) -> Evidence:
    from scope.models import CharterVersion

    signed = CharterVersion.objects.filter(plan=plan, signed_off_at__isnull=False).order_by("-number").first()
    if signed:
        return Evidence(
            True, f"Charter version {signed.number} was signed off on {signed.signed_off_at:%d %b %Y}."
        )
    issued = CharterVersion.objects.filter(plan=plan).count()
    if issued:
        return Evidence(False, f"{_plural(issued, 'charter version')} issued, none signed off.")
    return Evidence(False, "No charter version has been issued.")


def evidence_cloud_coe(plan: SupportPlan) -> Evidence:
    from scope.models import ScopeItem

    item = ScopeItem.objects.filter(plan=plan, aspect__key="first_cloud_system").first()
    if item is None or item.in_scope is None:
        return Evidence(False, "The scope's “First major cloud system” aspect is not decided.")
    return Evidence(True, "The scope's “First major cloud system” aspect is decided.")


def _uat_start(plan: SupportPlan) -> date | None:
    window = catalogue.uat_window(plan.go_live_date)
    return window[0] if window else None


def evidence_transition_strategy(plan: SupportPlan) -> Evidence:
    activities = TransitionActivity.objects.filter(plan=plan, kind__in=SUPPORT_TEAM_ACTIVITY_KINDS)
    uat_start = _uat_start(plan)
    if uat_start is None:
        return Evidence(
            False, "No go-live date: UAT cannot be placed, so early involvement cannot be checked."
        )
    early = activities.filter(planned_start__lt=uat_start).count()
    if early:
        return Evidence(
            True,
            f"{_plural(early, 'support-team activity', 'support-team activities')} "
            f"before UAT (from {uat_start:%d %b %Y}).",
        )
    return Evidence(False, f"No support-team activity is planned before UAT starts on {uat_start:%d %b %Y}.")


def evidence_readiness_in_uat(plan: SupportPlan) -> Evidence:
    drill = (
        TransitionActivity.objects.filter(
            plan=plan, kind=TransitionActivityKind.UAT_DRILL, actual_end__isnull=False
        )
        .order_by("-actual_end")
        .first()
    )
    if drill:
        return Evidence(True, f"UAT support drill “{drill.title}” held, ended {drill.actual_end:%d %b %Y}.")
    planned = TransitionActivity.objects.filter(plan=plan, kind=TransitionActivityKind.UAT_DRILL).exists()
    return Evidence(
        False,
        "A UAT support drill is planned but not yet recorded as held."
        if planned
        else "No UAT support drill is recorded.",
    )


def hypercare_plan_missing(hypercare: HypercarePlan | None) -> list[str]:
    """What a hypercare plan still lacks: end date, entry criteria, exit criteria, partner hours."""
    if hypercare is None:
        return ["a hypercare plan"]
    missing = []
    if hypercare.planned_end is None:
        missing.append("an end date")
    if not hypercare.entry_criteria.strip():
        missing.append("entry criteria")
    if not hypercare.exit_criteria_notes.strip():
        missing.append("exit criteria")
    if not hypercare.committed_partner_hours:
        missing.append("committed partner hours")
    return missing


def evidence_hypercare_strategy(plan: SupportPlan) -> Evidence:
    hypercare = HypercarePlan.objects.filter(plan=plan).first()
    missing = hypercare_plan_missing(hypercare)
    if missing:
        return Evidence(False, "Hypercare lacks " + ", ".join(missing) + ".")
    return Evidence(
        True,
        f"Hypercare ends {hypercare.planned_end:%d %b %Y}, with entry and exit criteria and "
        f"{hypercare.committed_partner_hours} committed partner hours.",
    )


def evidence_solution_current(plan: SupportPlan) -> Evidence:
    from operations.models import CalendarEvent, CalendarEventKind

    windows = CalendarEvent.objects.filter(
        plan=plan, kind__in=[CalendarEventKind.SERVICE_UPDATE, CalendarEventKind.RELEASE_WAVE]
    ).count()
    if windows:
        return Evidence(True, f"{_plural(windows, 'Microsoft update window')} on the calendar.")
    return Evidence(False, "No Microsoft service update or release wave is on the calendar.")


def evidence_servicing_calendar(plan: SupportPlan) -> Evidence:
    from operations.models import MaintenanceTask

    tasks = MaintenanceTask.objects.filter(plan=plan, active=True)
    total = tasks.count()
    if not total:
        return Evidence(False, "No maintenance task is on the servicing calendar.")
    without = tasks.filter(owner__isnull=True).count()
    if without:
        return Evidence(False, f"{_plural(without, 'maintenance task')} of {total} have no owner.")
    return Evidence(True, f"{_plural(total, 'maintenance task')}, each with an owner.")


def evidence_hours_time_zones_peaks(plan: SupportPlan) -> Evidence:
    from operations.models import CalendarEvent, CalendarEventKind, ServiceCalendar

    calendars = ServiceCalendar.objects.filter(plan=plan).count()
    events = CalendarEvent.objects.filter(
        plan=plan,
        kind__in=[CalendarEventKind.SEASONAL_PEAK, CalendarEventKind.PERIOD_END, CalendarEventKind.ONE_OFF],
    ).count()
    if calendars and events:
        return Evidence(
            True,
            f"{_plural(calendars, 'service calendar')} and {_plural(events, 'peak or period-end event')}.",
        )
    missing = [
        text for text, ok in (("no service calendar", calendars), ("no peak or period-end", events)) if not ok
    ]
    return Evidence(False, "There is " + " and ".join(missing) + " yet.")


def evidence_escalation_procedures(plan: SupportPlan) -> Evidence:
    from models_catalog.models import SupportLevel
    from operations.models import EscalationStep, SlaPolicy, SlaTarget

    policies = SlaPolicy.objects.filter(plan=plan).count()
    targets = SlaTarget.objects.filter(policy__plan=plan).count()
    ladders = EscalationStep.objects.filter(target__policy__plan=plan).values("target").distinct().count()
    levels = SupportLevel.objects.filter(plan=plan).values("number").distinct().count()
    missing = []
    if not policies:
        missing.append("no SLA policy")
    if not targets:
        missing.append("no SLA targets")
    if not ladders:
        missing.append("no escalation ladder")
    if levels < 5:
        missing.append(f"{levels} of 5 support levels")
    if missing:
        return Evidence(False, "Not yet: " + ", ".join(missing) + ".")
    return Evidence(
        True,
        f"{_plural(policies, 'SLA policy', 'SLA policies')} with {_plural(targets, 'target')}, "
        f"{_plural(ladders, 'escalation ladder')} and all five support levels.",
    )


def evidence_support_tooling(plan: SupportPlan) -> Evidence:
    from models_catalog.models import Party

    parties = Party.objects.filter(plan=plan).exclude(helpdesk_system="")
    tools = _in_scope_items(plan).exclude(tool="").count()
    count = parties.count()
    if count or tools:
        return Evidence(
            True,
            f"{_plural(count, 'party', 'parties')} name a helpdesk system; "
            f"{_plural(tools, 'in-scope item')} name a tool.",
        )
    return Evidence(False, "No party names its helpdesk system and no in-scope item names a tool.")


def evidence_access_policies(plan: SupportPlan) -> Evidence:
    from models_catalog.models import Party, PartyKind
    from operations.models import AccessPolicy

    external = Party.objects.filter(plan=plan, kind__in=[PartyKind.PARTNER, PartyKind.ISV])
    if not external.exists():
        return Evidence(False, "No partner or ISV party is recorded, so access policies cannot be checked.")
    without = list(
        external.exclude(Exists(AccessPolicy.objects.filter(party=OuterRef("pk")))).values_list(
            "name", flat=True
        )
    )
    if without:
        return Evidence(False, "No access policy for: " + ", ".join(without) + ".")
    return Evidence(True, "Every partner and ISV has an access policy.")


def evidence_monitoring_plan(plan: SupportPlan) -> Evidence:
    from operations.models import MaintenanceTask

    tasks = MaintenanceTask.objects.filter(plan=plan, active=True, category__in=MONITORING_CATEGORIES)
    owned = tasks.filter(owner__isnull=False).count()
    if owned:
        return Evidence(True, f"{_plural(owned, 'monitoring task')} with an owner on the servicing calendar.")
    return Evidence(
        False, "No monitoring task (service health, telemetry, storage, message centre) has an owner."
    )


def evidence_operational_transition(plan: SupportPlan) -> Evidence:
    handovers = TransitionActivity.objects.filter(plan=plan, kind=TransitionActivityKind.HANDOVER)
    if plan.go_live_date:
        handovers = handovers.filter(planned_start__lt=plan.go_live_date)
    count = handovers.count()
    if count:
        return Evidence(True, f"{_plural(count, 'handover session')} planned before go-live.")
    return Evidence(False, "No handover session is planned before go-live.")


def evidence_team_trained(plan: SupportPlan) -> Evidence:
    trained = TransitionActivity.objects.filter(
        plan=plan, kind=TransitionActivityKind.TRAINING, actual_end__isnull=False
    ).count()
    if trained:
        return Evidence(True, f"{_plural(trained, 'training activity', 'training activities')} held.")
    return Evidence(False, "No training activity is recorded as held.")


def evidence_helpdesk_process(plan: SupportPlan) -> Evidence:
    from operations.models import StatusMapping
    from supportplan.models import ApiKey

    keys = ApiKey.objects.active().filter(plan=plan).count()
    mappings = StatusMapping.objects.filter(plan=plan, api_key__revoked_at__isnull=True).count()
    if keys and mappings:
        return Evidence(
            True, f"{_plural(keys, 'integration key')} and {_plural(mappings, 'status mapping')}."
        )
    if keys:
        return Evidence(False, "The helpdesk has an integration key but none of its statuses are mapped.")
    return Evidence(False, "No helpdesk integration key exists.")


DERIVATIONS: dict[str, Callable[[SupportPlan], Evidence]] = {
    "reference_architecture": evidence_reference_architecture,
    "policy_impact": evidence_policy_impact,
    "processes_supported": evidence_processes_supported,
    "support_model": evidence_support_model,
    "charter": evidence_charter,
    "cloud_coe": evidence_cloud_coe,
    "transition_strategy": evidence_transition_strategy,
    "readiness_in_uat": evidence_readiness_in_uat,
    "hypercare_strategy": evidence_hypercare_strategy,
    "solution_current": evidence_solution_current,
    "servicing_calendar": evidence_servicing_calendar,
    "hours_time_zones_peaks": evidence_hours_time_zones_peaks,
    "escalation_procedures": evidence_escalation_procedures,
    "support_tooling": evidence_support_tooling,
    "access_policies": evidence_access_policies,
    "monitoring_plan": evidence_monitoring_plan,
    "operational_transition": evidence_operational_transition,
    "team_trained": evidence_team_trained,
    "helpdesk_process": evidence_helpdesk_process,
    # go_live_communication: only a person can say (manual).
}


def derived_evidence(*, plan: SupportPlan) -> dict[str, Evidence]:
    """Evidence per item key, for the keys the product can judge."""
    return {key: derive(plan) for key, derive in DERIVATIONS.items()}


# --- Items and scores -----------------------------------------------------------------------
@dataclass
class ItemState:
    item: ReadinessItem
    evidence: Evidence | None

    @property
    def applicable(self) -> bool:
        return self.item.status != ReadinessStatus.NOT_APPLICABLE

    @property
    def met(self) -> bool:
        """Done by a person, or met by derived evidence."""
        return self.applicable and (
            self.item.status == ReadinessStatus.DONE or bool(self.evidence and self.evidence.met)
        )

    @property
    def blocks_gate(self) -> bool:
        return self.item.must_have and self.applicable and not self.met


@dataclass
class GroupScore:
    key: str
    label: str
    met: int
    applicable: int
    items: list[ItemState] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return percent(self.met, self.applicable)


def percent(part: int, whole: int) -> int:
    """Rounded half up; an empty whole is 0 %."""
    if not whole:
        return 0
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@dataclass
class Readiness:
    plan: SupportPlan
    groups: list[GroupScore]
    met: int
    applicable: int

    @property
    def percent(self) -> int:
        return percent(self.met, self.applicable)

    @property
    def items(self) -> list[ItemState]:
        return [state for group in self.groups for state in group.items]

    @property
    def open_must_haves(self) -> list[ItemState]:
        return [state for state in self.items if state.blocks_gate]

    def group_percents(self) -> dict[str, int]:
        return {group.key: group.percent for group in self.groups}


def readiness_items(*, plan: SupportPlan):
    return ReadinessItem.objects.filter(plan=plan).select_related("owner").order_by("group", "position", "id")


def readiness(*, plan: SupportPlan) -> Readiness:
    """Items with their derived evidence, scores per group (in ReadinessGroup order) and overall."""
    evidence = derived_evidence(plan=plan)
    by_group: dict[str, list[ItemState]] = {key: [] for key in ReadinessGroup.values}
    for item in readiness_items(plan=plan):
        by_group.setdefault(item.group, []).append(ItemState(item, evidence.get(item.key)))
    groups = []
    for key, states in by_group.items():
        states.sort(key=lambda state: (state.item.position, state.item.pk))
        applicable = [state for state in states if state.applicable]
        groups.append(
            GroupScore(
                key=key,
                label=ReadinessGroup(key).label if key in ReadinessGroup.values else key,
                met=sum(state.met for state in applicable),
                applicable=len(applicable),
                items=states,
            )
        )
    return Readiness(
        plan=plan,
        groups=groups,
        met=sum(group.met for group in groups),
        applicable=sum(group.applicable for group in groups),
    )


def snapshots(*, plan: SupportPlan, limit: int = 90) -> list[ReadinessSnapshot]:
    """The latest ``limit`` daily snapshots, oldest first (for the trend)."""
    rows = list(ReadinessSnapshot.objects.filter(plan=plan).order_by("-taken_on")[:limit])
    return rows[::-1]


@dataclass(frozen=True)
class TargetState:
    target: ReadinessTarget
    actual: int | None  # the percent on (or last before) the target date; None if not yet known
    status: str  # "met" | "missed" | "on_track" | "behind"

    @property
    def status_label(self) -> str:
        return {"met": "Met", "missed": "Missed", "on_track": "On track", "behind": "Behind"}[self.status]


def targets_vs_actual(*, plan: SupportPlan, current: Readiness, today: date) -> list[TargetState]:
    """Each target with the score reached by its date (snapshot on or before it), or today's score
    for targets still ahead: met / missed once the date has passed, on track / behind before."""
    history = snapshots(plan=plan, limit=400)
    states = []
    for target in ReadinessTarget.objects.filter(plan=plan).order_by("target_date", "id"):
        if target.target_date < today:
            before = [snap for snap in history if snap.taken_on <= target.target_date]
            if not before:
                states.append(TargetState(target, None, "missed"))
                continue
            snap = before[-1]
            actual = snap.group_percents.get(target.group, 0) if target.group else snap.overall_percent
            states.append(TargetState(target, actual, "met" if actual >= target.target_percent else "missed"))
        else:
            actual = current.group_percents().get(target.group, 0) if target.group else current.percent
            states.append(
                TargetState(target, actual, "on_track" if actual >= target.target_percent else "behind")
            )
    return states


def sparkline_points(values: list[int], *, width: int = 240, height: int = 48) -> str:
    """SVG polyline points for percentages (0–100), evenly spread over ``width``."""
    if not values:
        return ""
    if len(values) == 1:
        values = [values[0], values[0]]
    step = width / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{height - value * height / 100:.1f}" for index, value in enumerate(values)
    )


# --- Hypercare metrics ----------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    met: bool
    figure: str
    value: Any = None
    threshold: Any = None


@dataclass(frozen=True)
class HypercareMetrics:
    since: datetime | None
    open_p1_without_action_plan: int
    p1_p2_met: int
    p1_p2_breached: int
    p1_p2_percent: Decimal | None
    resolved: int
    resolved_without_hypercare: int
    resolved_percent: Decimal | None
    criteria: list[Criterion]

    @property
    def all_met(self) -> bool:
        return all(criterion.met for criterion in self.criteria)


def _share(part: int, whole: int) -> Decimal | None:
    """The percentage to one decimal, rounded down (89.96 shows as 89.9, never as a met 90.0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding="ROUND_DOWN")


def _at_least(part: int, whole: int, threshold: int) -> bool:
    """part / whole ≥ threshold %, compared exactly (no rounding); nothing measured is not met."""
    return bool(whole) and part * 100 >= threshold * whole


def hypercare_metrics(*, plan: SupportPlan, hypercare: HypercarePlan) -> HypercareMetrics:
    """The exit criteria with live figures from the plan's requests (4 queries)."""
    from operations.models import ClockState, SlaClock, SupportRequest
    from operations.statuses import RequestStatus

    # From the first day of hypercare (local midnight), else from when it was started.
    since = hypercare.started_at
    if hypercare.starts_on:
        since = datetime.combine(hypercare.starts_on, time.min, tzinfo=timezone.get_current_timezone())
    requests = SupportRequest.objects.filter(plan=plan)
    if since is not None:
        requests = requests.filter(reported_at__gte=since)
    closed = [RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.CANCELLED]
    open_p1 = requests.filter(priority__rank=1, has_action_plan=False).exclude(status__in=closed).count()
    clocks = SlaClock.objects.filter(request__in=requests, request__priority__rank__in=[1, 2]).aggregate(
        # A clock that breached counts as breached even if it was stopped later.
        met=Count("pk", filter=Q(state=ClockState.MET, breached_at__isnull=True)),
        breached=Count("pk", filter=Q(state=ClockState.BREACHED) | Q(breached_at__isnull=False)),
    )
    resolved = requests.filter(
        Q(status__in=[RequestStatus.RESOLVED, RequestStatus.CLOSED]) | Q(resolved_at__isnull=False)
    ).exclude(status=RequestStatus.CANCELLED)
    counts = resolved.aggregate(
        total=Count("pk"), without=Count("pk", filter=Q(needed_hypercare_resources=False))
    )
    met_share = _share(clocks["met"], clocks["met"] + clocks["breached"])
    resolved_share = _share(counts["without"], counts["total"])
    p1_threshold = hypercare.p1_p2_met_threshold
    resolved_threshold = hypercare.resolved_without_hypercare_threshold
    criteria = [
        Criterion(
            "open_p1_without_action_plan",
            "No open P1 without an action plan",
            open_p1 == 0,
            f"{_plural(open_p1, 'open P1')} without an action plan",
            open_p1,
            0,
        ),
        Criterion(
            "p1_p2_sla_met",
            f"At least {p1_threshold} % of P1 and P2 SLA targets met",
            _at_least(clocks["met"], clocks["met"] + clocks["breached"], p1_threshold),
            "no decided P1/P2 clock yet"
            if met_share is None
            else f"{met_share} % ({clocks['met']} met of {clocks['met'] + clocks['breached']})",
            met_share,
            p1_threshold,
        ),
        Criterion(
            "resolved_without_hypercare",
            f"At least {resolved_threshold} % resolved without hypercare-only resources",
            _at_least(counts["without"], counts["total"], resolved_threshold),
            "no resolved request yet"
            if resolved_share is None
            else f"{resolved_share} % ({counts['without']} of {counts['total']})",
            resolved_share,
            resolved_threshold,
        ),
        Criterion(
            "key_processes_working",
            "Key business processes working (confirmed by a person)",
            hypercare.key_processes_working,
            "confirmed" if hypercare.key_processes_working else "not confirmed",
            hypercare.key_processes_working,
            True,
        ),
    ]
    return HypercareMetrics(
        since=since,
        open_p1_without_action_plan=open_p1,
        p1_p2_met=clocks["met"],
        p1_p2_breached=clocks["breached"],
        p1_p2_percent=met_share,
        resolved=counts["total"],
        resolved_without_hypercare=counts["without"],
        resolved_percent=resolved_share,
        criteria=criteria,
    )


def hours_figures(hypercare: HypercarePlan) -> list[dict[str, Any]]:
    """Committed against used hours, for the project team and the partner."""
    rows = []
    for who, committed, used in (
        ("Project team", hypercare.committed_project_hours, hypercare.used_project_hours),
        ("Partner", hypercare.committed_partner_hours, hypercare.used_partner_hours),
    ):
        rows.append(
            {
                "who": who,
                "committed": committed,
                "used": used,
                "remaining": committed - used,
                "percent_used": None if not committed else _share(int(used * 10), int(committed * 10)),
            }
        )
    return rows
