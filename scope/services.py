"""Writes for the support scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from scope.models import Aspect, AspectGroup, ScopeItem
from supportplan.lib.services import apply_fields
from supportplan.models import SupportPlan

ITEM_FIELDS = {
    "in_scope",
    "out_of_scope_reason",
    "redirect_to",
    "what",
    "details",
    "support_level",
    "service_calendar",
    "when_text",
    "peak_relevance",
    "procedure_url",
    "tool",
    "access_needs",
    "criticality",
    "process_profile",
    "status",
    "owner",
    "last_reviewed",
}


@transaction.atomic
def aspect_create(
    *, plan: SupportPlan, group: AspectGroup, name: str, guidance: str = "", is_business_process: bool = False
) -> Aspect:
    """A plan's own aspect (one per integration or business process, say)."""
    aspect = Aspect(
        plan=plan, group=group, name=name, guidance=guidance, is_business_process=is_business_process
    )
    aspect.position = 1000 + Aspect.objects.filter(plan=plan, group=group).count()
    aspect.full_clean()
    aspect.save()
    return aspect


@transaction.atomic
def scope_item_save(
    *,
    plan: SupportPlan,
    aspect: Aspect,
    roles: Iterable | None = None,
    people: Iterable | None = None,
    parties: Iterable | None = None,
    **fields: Any,
) -> ScopeItem:
    """Creates or updates the plan's item for ``aspect`` with the given answers."""
    item = ScopeItem.objects.select_for_update(of=("self",)).filter(plan=plan, aspect=aspect).first()
    item = item or ScopeItem(plan=plan, aspect=aspect)
    apply_fields(item, fields, ITEM_FIELDS)
    item.full_clean()
    item.save()
    for name, related in (("roles", roles), ("people", people), ("parties", parties)):
        if related is None:
            continue
        related = list(related)
        if any(obj.plan_id != plan.pk for obj in related):
            raise ValidationError({name: "Choose only from this plan."})
        getattr(item, name).set(related)
    return item


@transaction.atomic
def scope_item_delete(*, item: ScopeItem) -> None:
    item.delete()
