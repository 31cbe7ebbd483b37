"""Reads for the SLA pages and the API: the overview, the matrix, ladders in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from operations.models import (
    EscalationAction,
    EscalationStep,
    EscalationTrigger,
    Impact,
    Priority,
    PriorityMatrixCell,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from supportplan.models import SupportPlan


def sla_overview(*, user: Any, plan: SupportPlan) -> QuerySet[SlaPolicy]:
    """The plan's policies (oldest first) with their targets and ladders: three queries in all."""
    steps = EscalationStep.objects.select_related("role", "person", "party").order_by("position", "pk")
    targets = (
        SlaTarget.objects.select_related(
            "priority", "calendar", "support_level", "underpinning_agreement__party"
        )
        .prefetch_related(Prefetch("escalation_steps", queryset=steps))
        .order_by("priority__rank", "priority__code", "metric", "request_type", "support_level__number", "pk")
    )
    return (
        SlaPolicy.objects.for_user(user)
        .filter(plan=plan)
        .prefetch_related(Prefetch("targets", queryset=targets))
        .order_by("valid_from", "phase", "pk")
    )


@dataclass(frozen=True)
class MatrixCell:
    impact: str
    urgency: str
    priority: Priority | None


@dataclass(frozen=True)
class MatrixRow:
    impact: str
    label: str
    cells: list[MatrixCell]


def priority_matrix(*, user: Any, plan: SupportPlan) -> tuple[list[Priority], list[MatrixRow]]:
    """The plan's priorities (by rank) and the matrix, high impact first: two queries."""
    priorities = list(Priority.objects.for_user(user).filter(plan=plan).order_by("rank", "code"))
    by_id = {priority.pk: priority for priority in priorities}
    chosen = {
        (impact, urgency): by_id.get(priority_id)
        for impact, urgency, priority_id in PriorityMatrixCell.objects.for_user(user)
        .filter(plan=plan)
        .values_list("impact", "urgency", "priority_id")
    }
    rows = [
        MatrixRow(
            impact=impact,
            label=label,
            cells=[MatrixCell(impact, urgency, chosen.get((impact, urgency))) for urgency in Urgency.values],
        )
        for impact, label in Impact.choices
    ]
    return priorities, rows


def minutes_in_words(value: int) -> str:
    """240 → "4 h", 90 → "90 min", 2880 → "2 days" (durations under two hours stay in minutes)."""
    if value < 120 or value % 60:
        return f"{value} min"
    hours = value // 60
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} h"


def when_in_words(step: EscalationStep) -> str:
    """When a step fires, in words: "at 75 % of the target", "at breach", "30 min after breach"."""
    if step.trigger == EscalationTrigger.PERCENT_ELAPSED:
        return f"at {step.percent} % of the target"
    if step.trigger == EscalationTrigger.AT_BREACH:
        return "at breach"
    return f"{minutes_in_words(step.minutes_after_breach or 0)} after breach"


def escalation_step_sentence(step: EscalationStep) -> str:
    """One step in words, e.g. "30 min after breach, then every 60 min up to 3 times: notify Contoso"."""
    when = when_in_words(step)
    if step.max_repeats and step.repeat_every_minutes:
        every = minutes_in_words(step.repeat_every_minutes)
        when += (
            f", then once more {every} later"
            if step.max_repeats == 1
            else f", then every {every} up to {step.max_repeats} times"
        )
    return f"{when[0].upper()}{when[1:]}: {_action_words(step)}"


def _action_words(step: EscalationStep) -> str:
    action = step.action
    if action == EscalationAction.NOTIFY_ROLE:
        return f"notify the {step.role.name}" if step.role_id else "notify a role"
    if action == EscalationAction.NOTIFY_PERSON:
        return f"notify {step.person.name}" if step.person_id else "notify a person"
    if action == EscalationAction.NOTIFY_PARTY:
        return f"notify {step.party.name}" if step.party_id else "notify a party"
    if action == EscalationAction.NOTIFY_LEVEL_CONTACT:
        return "notify the contact of the level holding the request"
    if action == EscalationAction.RAISE_LEVEL:
        return "raise to the next support level"
    return "raise the priority one step"


def escalation_ladder_sentence(steps: Iterable[EscalationStep]) -> str:
    """The whole ladder as one sentence: "At 75 % of the target: …; at breach: …"; "" for none."""
    parts = [escalation_step_sentence(step) for step in steps]
    return "; ".join(part if index == 0 else part[0].lower() + part[1:] for index, part in enumerate(parts))
