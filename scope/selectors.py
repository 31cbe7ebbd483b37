"""Reads for the support scope: the answer state of each of the five questions, and coverage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from scope.models import QUESTIONS, Aspect, AspectGroup, ScopeItem
from supportplan.models import SupportPlan

ANSWERED, PARTIAL, MISSING = "answered", "partial", "missing"
_POINTS = {ANSWERED: 1.0, PARTIAL: 0.5, MISSING: 0.0}


def answer_state(item: ScopeItem | None, question: str) -> str:
    """answered, partial or missing for one of the five questions (what, detail, who, when, how).

    An item decided out of scope, with its reason, answers everything (there is nothing to support).
    Expects the item's roles, people and parties prefetched.
    """
    if item is None:
        return MISSING
    if item.in_scope is False:
        return ANSWERED if item.out_of_scope_reason else PARTIAL
    if question == "what":
        return ANSWERED if item.what.strip() and item.in_scope else PARTIAL if item.what.strip() else MISSING
    if question == "detail":
        tasks = item.details or []
        if not tasks:
            return MISSING
        complete = all(task.get("standard") or task.get("frequency") for task in tasks)
        return ANSWERED if complete else PARTIAL
    if question == "who":
        named = bool(item.roles.all() or item.people.all() or item.parties.all())
        return (
            ANSWERED
            if named and item.support_level_id
            else PARTIAL
            if named or item.support_level_id
            else MISSING
        )
    if question == "when":
        hours = bool(item.service_calendar_id or item.when_text.strip())
        needs_peaks = item.aspect.is_business_process
        if hours and (item.peak_relevance.strip() or not needs_peaks):
            return ANSWERED
        return PARTIAL if hours or item.peak_relevance.strip() else MISSING
    if question == "how":
        parts = [bool(item.procedure_url), bool(item.tool.strip()), bool(item.access_needs.strip())]
        return ANSWERED if parts[0] and parts[1] else PARTIAL if any(parts) else MISSING
    raise ValueError(f"Unknown question {question!r}; use one of {QUESTIONS}.")


@dataclass(frozen=True)
class CoverageRow:
    aspect: Aspect
    item: ScopeItem | None
    states: dict[str, str]

    @property
    def has_gap(self) -> bool:
        return any(state != ANSWERED for state in self.states.values())


@dataclass(frozen=True)
class CoverageGroup:
    group: AspectGroup
    rows: list[CoverageRow]

    @property
    def completeness(self) -> float:
        """Share of the group's cells answered (partial counts half), 0–100."""
        return _completeness(self.rows)


@dataclass(frozen=True)
class Coverage:
    groups: list[CoverageGroup]

    @property
    def completeness(self) -> float:
        return _completeness([row for group in self.groups for row in group.rows])


def _completeness(rows: list[CoverageRow]) -> float:
    cells = [state for row in rows for state in row.states.values()]
    return round(100 * sum(_POINTS[state] for state in cells) / len(cells), 1) if cells else 0.0


def scope_coverage(*, user: Any, plan: SupportPlan) -> Coverage:
    """Groups × aspects × the five questions for the plan, in a fixed number of queries."""
    items = {
        item.aspect_id: item
        for item in ScopeItem.objects.for_user(user)
        .filter(plan=plan)
        .select_related("aspect")
        .prefetch_related("roles", "people", "parties")
    }
    aspects = Aspect.objects.for_plan(plan).order_by("position", "name")
    groups = AspectGroup.objects.prefetch_related(
        Prefetch("aspects", queryset=aspects, to_attr="plan_aspects")
    )
    return Coverage(
        groups=[
            CoverageGroup(
                group=group,
                rows=[
                    CoverageRow(
                        aspect=aspect,
                        item=items.get(aspect.pk),
                        states={
                            question: answer_state(items.get(aspect.pk), question) for question in QUESTIONS
                        },
                    )
                    for aspect in group.plan_aspects
                ],
            )
            for group in groups
        ]
    )
