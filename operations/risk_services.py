"""Writes of the risk log: manual entries next to the computed gaps (leads write; the views and the
API check that). ``RiskEntry`` is audited: every change is a row in the plan's history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from scope.models import RiskEntry
from supportplan.lib.services import apply_fields
from supportplan.models import SupportPlan

RISK_FIELDS = {"title", "description", "severity", "status", "owner", "mitigation", "due_date"}


def _check(risk: RiskEntry) -> None:
    risk.title = (risk.title or "").strip()
    if not risk.title:
        raise ValidationError({"title": "Give the risk a short title."})
    if risk.owner_id and risk.owner.plan_id != risk.plan_id:
        raise ValidationError({"owner": "Choose a person of this plan."})
    risk.full_clean()


@transaction.atomic
def risk_create(*, plan: SupportPlan, **fields: Any) -> RiskEntry:
    risk = RiskEntry(plan=plan)
    apply_fields(risk, fields, RISK_FIELDS)
    _check(risk)
    risk.save()
    return risk


@transaction.atomic
def risk_update(*, risk: RiskEntry, **fields: Any) -> RiskEntry:
    risk = RiskEntry.objects.select_for_update().get(pk=risk.pk)
    changed = apply_fields(risk, fields, RISK_FIELDS)
    _check(risk)
    risk.save(update_fields=[*changed, "updated_at"])
    return risk


@transaction.atomic
def risk_delete(*, risk: RiskEntry) -> None:
    risk.delete()
