"""Reads shared by operations' features (scoped to the requester where a user is involved)."""

from __future__ import annotations

import functools
from datetime import date

from django.db import connection
from django.db.models import Q

from operations.models import Impact, Priority, PriorityMatrixCell, SlaPhase, SlaPolicy, Urgency
from supportplan.lib import rows
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
    phase = phase_on(plan=plan, day=day)
    if connection.vendor == "postgresql":
        # Every new request (and every recompute) asks: one prepared statement, the phase's policy first.
        with connection.cursor() as cursor:
            cursor.execute(
                *rows.prepared("sp_policy_in_force", policy_in_force_sql(), [plan.pk, day, day, phase])
            )
            row = cursor.fetchone()
        return rows.instance(SlaPolicy, row) if row is not None else None
    # One query: at most one valid policy per phase.
    valid = list(
        SlaPolicy.objects.filter(plan=plan, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("phase", "valid_from", "pk")
    )
    return next((policy for policy in valid if policy.phase == phase), valid[0] if valid else None)


@functools.cache
def policy_in_force_sql() -> str:
    """``policy_in_force``'s read (PostgreSQL; ``%s``: the plan, the day twice, its phase): the policies valid
    that day in the ORM's order (phase, valid_from, id), the phase's first, at most one row."""
    quote = connection.ops.quote_name
    valid_from, valid_to, phase = quote("valid_from"), quote("valid_to"), quote("phase")
    return (
        f"SELECT {rows.columns(SlaPolicy, 't')} FROM {rows.table(SlaPolicy)} t "  # noqa: S608
        f"WHERE t.{quote('plan_id')} = %s AND t.{valid_from} <= %s::date "
        f"AND (t.{valid_to} IS NULL OR t.{valid_to} >= %s::date) "
        f"ORDER BY t.{phase} = %s DESC, t.{phase}, t.{valid_from}, t.{quote('id')} LIMIT 1"
    )


def priority_for(*, plan: SupportPlan, impact: str, urgency: str) -> Priority | None:
    """The plan's priority for impact × urgency, or None when the matrix has no such cell."""
    if impact not in Impact.values or urgency not in Urgency.values:
        return None
    cell = PriorityMatrixCell.objects.filter(plan=plan, impact=impact, urgency=urgency).select_related(
        "priority"
    )
    cell = cell.first()
    return cell.priority if cell else None
