"""Phase-aware SLA policies and their targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q

from operations.helpdesk.services import clocks_repair_later
from operations.models import (
    Priority,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
)
from operations.models.calendars import ServiceCalendar
from operations.sla_services._base import (
    MAX_TARGET_MINUTES,
    Errors,
    add_error,
    clean_into,
    day_in_words,
    is_int,
    raise_errors,
)
from operations.sla_services.ladders import escalation_ladder_replace
from operations.statuses import RequestStatus
from supportplan.lib.services import apply_fields, lock_plan
from supportplan.models import SupportPlan

# --- SLA policies ---------------------------------------------------------------------------
POLICY_FIELDS = {
    "name",
    "phase",
    "valid_from",
    "valid_to",
    "pause_statuses",
    "vendor_wait_keeps_vendor_clock",
    "description",
}


def _pause_status_errors(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(status, str) for status in value):
        return ['Give the pausing statuses as a list, e.g. ["awaiting_customer"].']
    unknown = [status for status in value if status not in RequestStatus.values]
    if unknown:
        return [f"Unknown status(es): {', '.join(unknown)}. Choose from: {', '.join(RequestStatus.values)}."]
    if len(set(value)) != len(value):
        return ["A status is listed twice."]
    return []


def _validate_policy(policy: SlaPolicy) -> None:
    errors: Errors = {}
    for message in _pause_status_errors(policy.pause_statuses):
        add_error(errors, "pause_statuses", message)
    if "pause_statuses" not in errors:
        policy.pause_statuses = list(policy.pause_statuses)
    clean_into(policy, errors, exclude=["plan"])
    if "name" not in errors:
        named = SlaPolicy.objects.filter(plan_id=policy.plan_id, name__iexact=policy.name)
        if named.exclude(pk=policy.pk).exists():
            add_error(errors, "name", f"This plan already has a policy called “{policy.name}”.")
    dates_valid = not {"valid_from", "valid_to"} & set(errors)
    if dates_valid and policy.valid_to is not None and policy.valid_to < policy.valid_from:
        add_error(errors, "valid_to", "A policy cannot end before it starts.")
    elif dates_valid and "phase" not in errors:
        other = _overlapping_policy(policy)
        if other is not None:
            span = f"{day_in_words(other.valid_from)} – {day_in_words(other.valid_to)}"
            add_error(
                errors,
                "valid_from",
                f"These dates overlap “{other.name}” ({span}): "
                f"two {SlaPhase(policy.phase).label.lower()} policies cannot be in force on the same day.",
            )
    raise_errors(errors)


def _overlapping_policy(policy: SlaPolicy) -> SlaPolicy | None:
    others = SlaPolicy.objects.filter(plan_id=policy.plan_id, phase=policy.phase).exclude(pk=policy.pk)
    others = others.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=policy.valid_from))
    if policy.valid_to is not None:
        others = others.filter(valid_from__lte=policy.valid_to)
    return others.order_by("valid_from").first()


@transaction.atomic
def sla_policy_create(
    *, plan: SupportPlan, name: str, phase: str, valid_from: date, **fields: Any
) -> SlaPolicy:
    """A policy of one phase in force from ``valid_from`` to ``valid_to`` (inclusive; None = open-ended).

    Refused when it overlaps another policy of the same phase in the plan; phases may overlap (the
    plan's hypercare window decides which one applies, see ``operations.selectors.policy_in_force``).
    """
    lock_plan(plan.pk)
    policy = SlaPolicy(plan=plan)
    apply_fields(policy, {"name": name, "phase": phase, "valid_from": valid_from, **fields}, POLICY_FIELDS)
    _validate_policy(policy)
    policy.save()
    clocks_repair_later(plan_id=policy.plan_id, policy_id=policy.pk)  # issue 7: stored SLA clocks
    return policy


@transaction.atomic
def sla_policy_update(*, policy: SlaPolicy, **fields: Any) -> SlaPolicy:
    lock_plan(policy.plan_id)
    changed = apply_fields(policy, fields, POLICY_FIELDS)
    _validate_policy(policy)
    policy.save(update_fields=changed)
    clocks_repair_later(plan_id=policy.plan_id, policy_id=policy.pk)  # issue 7: stored SLA clocks
    return policy


@transaction.atomic
def sla_policy_delete(*, policy: SlaPolicy) -> None:
    """Removes the policy with its targets and their ladders."""
    lock_plan(policy.plan_id)
    clocks_repair_later(plan_id=policy.plan_id)  # issue 7: stored SLA clocks
    policy.delete()


# --- SLA targets ----------------------------------------------------------------------------
TARGET_FIELDS = {
    "priority",
    "metric",
    "minutes",
    "calendar",
    "request_type",
    "support_level",
    "underpinning_agreement",
}
_PLAN_RELATED = (
    ("priority", "priority"),
    ("calendar", "calendar"),
    ("support_level", "support level"),
    ("underpinning_agreement", "agreement"),
)


def _validate_target(target: SlaTarget) -> None:
    errors: Errors = {}
    if is_int(target.minutes) and not 1 <= target.minutes <= MAX_TARGET_MINUTES:
        message = f"Give the target in minutes, from 1 to {MAX_TARGET_MINUTES:,} (a year)."
        add_error(errors, "minutes", message)
    clean_into(target, errors, exclude=["policy"])
    plan_id = target.policy.plan_id
    for field, noun in _PLAN_RELATED:
        related_id = None if field in errors else getattr(target, f"{field}_id")
        if related_id is not None and getattr(target, field).plan_id != plan_id:
            add_error(errors, field, f"Choose a {noun} of this plan.")
    if not {"priority", "metric", "request_type", "support_level"} & set(errors):
        twin = SlaTarget.objects.filter(
            policy_id=target.policy_id,
            priority_id=target.priority_id,
            metric=target.metric,
            request_type=target.request_type,
            support_level_id=target.support_level_id,
        )
        if twin.exclude(pk=target.pk).exists():
            kind = target.get_request_type_display().lower() if target.request_type else "any request type"
            level = f"level {target.support_level.number}" if target.support_level_id else "any level"
            add_error(
                errors,
                "metric",
                f"This policy already has a {target.priority.code} {target.get_metric_display().lower()} "
                f"target for {kind} at {level}.",
            )
    raise_errors(errors)


def _lock_policy(policy: SlaPolicy) -> SlaPolicy:
    """The plan row first, as every SLA configuration write locks it (``lock_plan``), then the
    policy's own row: locking both in one joined statement took them in the planner's order, and a
    policy update holding the plan deadlocked with it."""
    lock_plan(policy.plan_id)
    return SlaPolicy.objects.select_for_update(of=("self",)).select_related("plan").get(pk=policy.pk)


@transaction.atomic
def sla_target_create(
    *,
    policy: SlaPolicy,
    priority: Priority,
    metric: str,
    minutes: int,
    calendar: ServiceCalendar,
    escalation_steps: Iterable[Mapping[str, Any]] | None = None,
    **fields: Any,
) -> SlaTarget:
    """A target of ``minutes`` (business minutes on ``calendar``) for one metric at one priority,
    optionally only for one request type and one support level; with its ladder when given."""
    policy = _lock_policy(policy)
    target = SlaTarget(policy=policy)
    base = {"priority": priority, "metric": metric, "minutes": minutes, "calendar": calendar}
    apply_fields(target, {**base, **fields}, TARGET_FIELDS)
    _validate_target(target)
    target.save()
    if escalation_steps is not None:
        escalation_ladder_replace(target=target, steps=escalation_steps)
    clocks_repair_later(plan_id=policy.plan_id, policy_id=policy.pk)  # issue 7: stored SLA clocks
    return target


@transaction.atomic
def sla_target_update(
    *, target: SlaTarget, escalation_steps: Iterable[Mapping[str, Any]] | None = None, **fields: Any
) -> SlaTarget:
    """Changes a target; ``escalation_steps`` (when not None) replaces its ladder."""
    target.policy = _lock_policy(target.policy)
    changed = apply_fields(target, fields, TARGET_FIELDS)
    _validate_target(target)
    if changed:
        target.save(update_fields=changed)
    if escalation_steps is not None:
        escalation_ladder_replace(target=target, steps=escalation_steps)
    clocks_repair_later(plan_id=target.policy.plan_id, policy_id=target.policy_id)  # issue 7
    return target


@transaction.atomic
def sla_target_delete(*, target: SlaTarget) -> None:
    lock_plan(target.policy.plan_id)
    clocks_repair_later(plan_id=target.policy.plan_id, policy_id=target.policy_id)  # issue 7
    target.delete()
