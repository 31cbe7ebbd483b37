"""Gap rules of the support scope, listed with the plan's other gaps (``operations.gaps.plan_gaps``).

Each rule is ``gap_<name>(*, plan, ...) -> list[Gap]``; codes and severities:

- ``scope_item_without_who_or_how`` (high): an in-scope item whose *who* or *how* is missing.
- ``scope_party_without_agreement`` (medium): a party named on an in-scope item with no agreement
  in force today (started on or before today, not ended before it).
- ``critical_process_without_out_of_hours_answer`` (high): a business process of criticality
  "critical", not out of scope, whose process profile lacks an "out_of_hours" answer.
- ``scope_item_unreviewed`` (low): an in-scope item last reviewed more than ``days`` days ago, or
  never reviewed and last changed more than ``days`` days ago (fresh drafts are not nagged).
- ``aspect_group_with_nothing_in_scope`` (medium): a group without any in-scope item — only once
  the plan has started its scope (at least one item), so an untouched plan is not flooded.

"Today" is the server's local date (``timezone.localdate()``). ``scope_gaps`` loads the plan's
items once and hands them to every rule: a fixed number of queries whatever the plan's size.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from models_catalog.models import Agreement
from operations.gaps import HIGH, LOW, MEDIUM, SEVERITIES, Gap, GapObject, _party_obj, _url
from scope.models import AspectGroup, Criticality, ScopeItem
from scope.selectors import MISSING, answer_state
from supportplan import access
from supportplan.models import SupportPlan

#: Default age, in days, after which an in-scope item is due for review.
REVIEW_AFTER_DAYS = 180


def _items(plan: SupportPlan) -> list[ScopeItem]:
    """The plan's items with what the rules read (5 queries)."""
    return list(
        ScopeItem.objects.filter(plan=plan)
        .select_related("aspect__group")
        .prefetch_related("roles", "people", "parties")
        .order_by("aspect__group__position", "aspect__position", "aspect__name")
    )


def _item_obj(plan: SupportPlan, item: ScopeItem) -> GapObject:
    return GapObject("scope_item", item.pk, item.aspect.name, _url("scope-matrix", plan))


def gap_in_scope_item_without_who_or_how(
    *, plan: SupportPlan, items: list[ScopeItem] | None = None
) -> list[Gap]:
    """An in-scope item nobody is named for, or with no procedure, tool or access needs at all."""
    items = _items(plan) if items is None else items
    gaps = []
    for item in items:
        if item.in_scope is not True:
            continue
        missing = [question for question in ("who", "how") if answer_state(item, question) == MISSING]
        if not missing:
            continue
        gaps.append(
            Gap(
                code="scope_item_without_who_or_how",
                severity=HIGH,
                message=f"“{item.aspect.name}” is in scope, but nobody answers {' or '.join(missing)}.",
                objects=(_item_obj(plan, item),),
            )
        )
    return gaps


def gap_who_names_a_party_without_an_agreement(
    *, plan: SupportPlan, items: list[ScopeItem] | None = None
) -> list[Gap]:
    """One gap per party named on in-scope items that has no agreement in force today."""
    items = _items(plan) if items is None else items
    named: dict[int, tuple[Any, list[ScopeItem]]] = {}
    for item in items:
        if item.in_scope is not True:
            continue
        for party in item.parties.all():
            named.setdefault(party.pk, (party, []))[1].append(item)
    if not named:
        return []
    today = timezone.localdate()
    covered = set(
        Agreement.objects.filter(plan=plan, party_id__in=list(named), starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list("party_id", flat=True)
    )
    gaps = []
    for party_id, (party, party_items) in sorted(named.items(), key=lambda entry: entry[1][0].name):
        if party_id in covered:
            continue
        names = ", ".join(f"“{item.aspect.name}”" for item in party_items)
        gaps.append(
            Gap(
                code="scope_party_without_agreement",
                severity=MEDIUM,
                message=f"{party.name} is named on {names}, but has no agreement in force today.",
                objects=(_party_obj(plan, party), *(_item_obj(plan, item) for item in party_items)),
            )
        )
    return gaps


def gap_critical_process_without_out_of_hours_answer(
    *, plan: SupportPlan, items: list[ScopeItem] | None = None
) -> list[Gap]:
    """A critical business process whose profile does not say what happens out of hours."""
    items = _items(plan) if items is None else items
    return [
        Gap(
            code="critical_process_without_out_of_hours_answer",
            severity=HIGH,
            message=(
                f"“{item.aspect.name}” is a critical business process, but its profile does not say "
                "what support it needs out of hours and on holidays."
            ),
            objects=(_item_obj(plan, item),),
        )
        for item in items
        if item.aspect.is_business_process
        and item.in_scope is not False
        and item.criticality == Criticality.CRITICAL
        and not str((item.process_profile or {}).get("out_of_hours") or "").strip()
    ]


def gap_item_unreviewed_for_days(
    *, plan: SupportPlan, days: int = REVIEW_AFTER_DAYS, items: list[ScopeItem] | None = None
) -> list[Gap]:
    """An in-scope item last reviewed more than ``days`` days ago (never reviewed: last changed)."""
    items = _items(plan) if items is None else items
    today = timezone.localdate()
    cutoff = today - timedelta(days=days)
    gaps = []
    for item in items:
        if item.in_scope is not True:
            continue
        if item.last_reviewed is not None:
            if item.last_reviewed >= cutoff:
                continue
            since = f"was last reviewed on {item.last_reviewed:%d %B %Y}"
        else:
            if timezone.localdate(item.updated_at) >= cutoff:
                continue
            since = "has never been reviewed"
        gaps.append(
            Gap(
                code="scope_item_unreviewed",
                severity=LOW,
                message=f"“{item.aspect.name}” {since}: review it at least every {days} days.",
                objects=(_item_obj(plan, item),),
            )
        )
    return gaps


def gap_aspect_group_with_nothing_in_scope(
    *, plan: SupportPlan, items: list[ScopeItem] | None = None
) -> list[Gap]:
    """A group without any in-scope item, once the plan has started its scope."""
    items = _items(plan) if items is None else items
    if not items:
        return []
    in_scope_groups = {item.aspect.group_id for item in items if item.in_scope is True}
    return [
        Gap(
            code="aspect_group_with_nothing_in_scope",
            severity=MEDIUM,
            message=(
                f"Nothing in “{group.name}” is in scope: decide its aspects, or say where such questions go."
            ),
            objects=(GapObject("aspect_group", group.pk, group.name, _url("scope-matrix", plan)),),
        )
        for group in AspectGroup.objects.order_by("position")
        if group.pk not in in_scope_groups
    ]


RULES = (
    gap_in_scope_item_without_who_or_how,
    gap_who_names_a_party_without_an_agreement,
    gap_critical_process_without_out_of_hours_answer,
    gap_item_unreviewed_for_days,
    gap_aspect_group_with_nothing_in_scope,
)


def scope_gap_list(*, plan: SupportPlan) -> list[Gap]:
    """Every scope rule's gaps, most severe first; at most 7 queries. No access check (callers do)."""
    items = _items(plan)
    gaps = [gap for rule in RULES for gap in rule(plan=plan, items=items)]
    return sorted(gaps, key=lambda gap: SEVERITIES.index(gap.severity))


def scope_gaps(*, user: Any, plan: SupportPlan) -> list[Gap]:
    """The scope's gaps for a requester: 404 unless the plan is visible; partners are refused."""
    if not access.can_view(user, plan):
        raise Http404("No such plan.")
    if access.is_partner(user, plan):
        raise PermissionDenied("Partners see only what is assigned to their organisation.")
    return scope_gap_list(plan=plan)
