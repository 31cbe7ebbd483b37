"""Reads shared by operations' features (scoped to the requester where a user is involved)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from operations.models import Impact, Priority, PriorityMatrixCell, SlaPhase, SlaPolicy, Urgency
from supportplan.models import SupportPlan


def phase_on(*, plan: SupportPlan, day: date) -> str:
    """Hypercare while the plan's hypercare window covers ``day``; steady state otherwise."""
    start, end = plan.hypercare_start, plan.hypercare_end
    if start and start <= day and (end is None or day <= end):
        return SlaPhase.HYPERCARE
    return SlaPhase.STEADY_STATE


def policy_in_force(*, plan: SupportPlan, day: date) -> SlaPolicy | None:
    """The SLA policy that applies on ``day``: the phase's policy valid that day, else any valid one.

    Policies of one phase never overlap (the services refuse it), so there is at most one per phase.
    """
    # One query (this runs for every helpdesk event): at most one valid policy per phase.
    valid = list(
        SlaPolicy.objects.filter(plan=plan, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("phase", "valid_from", "pk")
    )
    phase = phase_on(plan=plan, day=day)
    return next((policy for policy in valid if policy.phase == phase), valid[0] if valid else None)


def priority_for(*, plan: SupportPlan, impact: str, urgency: str) -> Priority | None:
    """The plan's priority for impact × urgency, or None when the matrix has no such cell."""
    if impact not in Impact.values or urgency not in Urgency.values:
        return None
    cell = PriorityMatrixCell.objects.filter(plan=plan, impact=impact, urgency=urgency).select_related(
        "priority"
    )
    cell = cell.first()
    return cell.priority if cell else None
