"""Small helpers every app's services share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError


def apply_fields(instance, fields: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """Sets ``fields`` on ``instance``; names outside ``allowed`` are a field error. Returns the names."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    for name, value in fields.items():
        setattr(instance, name, value)
    return list(fields)


def lock_plan(plan_id: int) -> None:
    """Locks the plan's row until the transaction ends: writes that check something across the
    plan's rows (overlaps, free codes, numbering, the go-live gate) take turns. A write that locks
    the plan takes this lock before any other row lock, so two writes wait for each other instead of
    deadlocking (README, Development: the lock order)."""
    from supportplan.models import SupportPlan

    SupportPlan.objects.select_for_update().filter(pk=plan_id).values_list("pk", flat=True).first()
