"""Priorities, the impact × urgency matrix, and the impact a process's criticality suggests."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from models_catalog.models import AgreementCommitment
from operations.models import (
    Impact,
    Priority,
    PriorityMatrixCell,
    SlaTarget,
    Urgency,
)
from operations.sla_services._base import (
    Errors,
    add_error,
    clean_into,
    is_int,
    raise_errors,
)
from supportplan.lib.services import apply_fields, lock_plan
from supportplan.models import SupportPlan

# --- Priorities and the matrix --------------------------------------------------------------
EXAMPLE_LABEL = "Example definition — the guide gives none; adapt it."

#: code, name, definition (each stored after ``EXAMPLE_LABEL``).
EXAMPLE_PRIORITIES = (
    (
        "P1",
        "Critical",
        "A critical business process has stopped for many users and there is no workaround "
        "(e.g. orders cannot be taken or invoiced).",
    ),
    (
        "P2",
        "High",
        "A critical process is degraded, or a team's work has stopped; any workaround is hard to sustain.",
    ),
    ("P3", "Medium", "One user or a non-critical process is affected, and a workaround exists."),
    ("P4", "Low", "A question, a cosmetic fault or a request that can wait."),
)

_STEP_OF = {"high": 1, "medium": 2, "low": 3}


def example_priority_code(*, impact: str, urgency: str) -> str:
    """The example matrix: P1 for high × high, one priority lower per step down either axis, P4 at most."""
    return f"P{min(4, _STEP_OF[impact] + _STEP_OF[urgency] - 1)}"


@transaction.atomic
def priorities_seed_defaults(*, plan: SupportPlan) -> None:
    """Gives the plan the example priorities P1–P4 and the example 3×3 impact × urgency matrix.

    Idempotent: adds only what is missing (a priority whose code is free, an empty matrix cell) and
    never changes what a lead edited. Called on plan creation and by the demo.
    """
    lock_plan(plan.pk)
    by_code = {priority.code: priority for priority in Priority.objects.filter(plan=plan)}
    for rank, (code, name, definition) in enumerate(EXAMPLE_PRIORITIES, start=1):
        if code not in by_code:
            priority = Priority(plan=plan, code=code, name=name, rank=rank)
            priority.definition = f"{EXAMPLE_LABEL} {definition}"
            priority.full_clean(validate_constraints=False)
            priority.save()
            by_code[code] = priority
    filled = set(PriorityMatrixCell.objects.filter(plan=plan).values_list("impact", "urgency"))
    for impact in Impact.values:
        for urgency in Urgency.values:
            if (impact, urgency) not in filled:
                priority = by_code[example_priority_code(impact=impact, urgency=urgency)]
                PriorityMatrixCell.objects.create(
                    plan=plan, impact=impact, urgency=urgency, priority=priority
                )


PRIORITY_FIELDS = {"code", "name", "definition", "rank"}


def _validate_priority(priority: Priority) -> None:
    errors: Errors = {}
    if is_int(priority.rank) and not 1 <= priority.rank <= 99:
        add_error(errors, "rank", "Rank priorities from 1 (the most urgent) to 99.")
    clean_into(priority, errors, exclude=["plan"])
    if "code" not in errors:
        taken = Priority.objects.filter(plan_id=priority.plan_id, code__iexact=priority.code)
        if taken.exclude(pk=priority.pk).exists():
            add_error(errors, "code", f"This plan already has a priority {priority.code}.")
    raise_errors(errors)


@transaction.atomic
def priority_create(
    *, plan: SupportPlan, code: str, name: str, definition: str = "", rank: int = 1
) -> Priority:
    lock_plan(plan.pk)
    priority = Priority(plan=plan, code=code, name=name, definition=definition, rank=rank)
    _validate_priority(priority)
    priority.save()
    return priority


@transaction.atomic
def priority_update(*, priority: Priority, **fields: Any) -> Priority:
    """Changes a priority. A new code is carried over to the agreements' commitments for the old one."""
    lock_plan(priority.plan_id)
    old_code = Priority.objects.values_list("code", flat=True).get(pk=priority.pk)
    changed = apply_fields(priority, fields, PRIORITY_FIELDS)
    _validate_priority(priority)
    if priority.code != old_code:
        _rename_commitments(plan=priority.plan, old_code=old_code, new_code=priority.code)
    priority.save(update_fields=changed)
    return priority


def _rename_commitments(*, plan: SupportPlan, old_code: str, new_code: str) -> None:
    # Agreements name priorities by code (models_catalog.AgreementCommitment.priority).
    commitments = AgreementCommitment.objects.filter(agreement__plan=plan).select_related("agreement")
    renamed = commitments.filter(priority=old_code)
    clash = commitments.filter(priority=new_code, agreement__in=renamed.values("agreement")).first()
    if clash is not None:
        raise ValidationError(
            {"code": f"“{clash.agreement.name}” already has a commitment for {new_code}; change it first."}
        )
    for commitment in renamed:
        commitment.priority = new_code
        commitment.save(update_fields=["priority"])


@transaction.atomic
def priority_delete(*, priority: Priority) -> None:
    """Removes a priority no SLA target and no matrix cell uses (a matrix cell never goes blank)."""
    lock_plan(priority.plan_id)  # no target or cell can take it up between the checks and the delete
    targets = SlaTarget.objects.filter(priority=priority).select_related("policy")
    if targets.exists():
        names = sorted({target.policy.name for target in targets})
        raise ValidationError(
            f"{priority.code} is used by {len(targets)} SLA target(s) in {', '.join(names)}: "
            "change or remove them first."
        )
    cells = list(PriorityMatrixCell.objects.filter(priority=priority))
    if cells:
        where = ", ".join(
            f"{cell.get_impact_display().split(':')[0]} impact × {cell.urgency} urgency" for cell in cells
        )
        raise ValidationError(
            f"{priority.code} is used by the priority matrix ({where}): choose another priority there first."
        )
    priority.delete()


@transaction.atomic
def matrix_set_cell(
    *, plan: SupportPlan, impact: str, urgency: str, priority: Priority
) -> PriorityMatrixCell:
    """Sets the priority for impact × urgency (creating the cell or replacing its priority)."""
    errors: Errors = {}
    if impact not in Impact.values:
        add_error(errors, "impact", f"Choose an impact: {', '.join(Impact.values)}.")
    if urgency not in Urgency.values:
        add_error(errors, "urgency", f"Choose an urgency: {', '.join(Urgency.values)}.")
    if priority.plan_id != plan.pk:
        add_error(errors, "priority", "Choose a priority of this plan.")
    raise_errors(errors)
    lock_plan(plan.pk)
    cell = (
        PriorityMatrixCell.objects.select_for_update(of=("self",))
        .filter(plan=plan, impact=impact, urgency=urgency)
        .first()
    )
    if cell is None:
        cell = PriorityMatrixCell(plan=plan, impact=impact, urgency=urgency, priority=priority)
        cell.full_clean(validate_constraints=False)
        cell.save()
    elif cell.priority_id != priority.pk:
        cell.priority = priority
        cell.save(update_fields=["priority"])
    return cell


#: A business process's criticality (the scope's answer) → the impact it suggests for a request on
#: it. "critical" and "high" processes both suggest high impact: the impact scale has three steps,
#: and a high-criticality process failing affects many users. A suggestion: whoever logs the
#: request may change it.
CRITICALITY_IMPACT = {
    "critical": Impact.HIGH,
    "high": Impact.HIGH,
    "medium": Impact.MEDIUM,
    "low": Impact.LOW,
}


def priority_suggested_impact(*, criticality: str) -> str:
    """The impact (an ``Impact`` value) suggested for a process of ``criticality``
    ("critical", "high", "medium" or "low"); an unknown criticality is a ``ValidationError``."""
    if criticality not in CRITICALITY_IMPACT:
        raise ValidationError({"criticality": f"Choose a criticality: {', '.join(CRITICALITY_IMPACT)}."})
    return CRITICALITY_IMPACT[criticality].value
