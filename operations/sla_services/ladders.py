"""Escalation ladders: one step at a time (placed in time order) or a whole ladder at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from operations.helpdesk.services import clocks_repair_later
from operations.models import (
    EscalationAction,
    EscalationStep,
    EscalationTrigger,
    SlaTarget,
)
from operations.sla_services._base import (
    MAX_LADDER_STEPS,
    MAX_REPEAT_MINUTES,
    MAX_REPEATS,
    MAX_TARGET_MINUTES,
    MIN_REPEAT_MINUTES,
    Errors,
    add_error,
    clean_into,
    is_int,
    raise_errors,
)
from operations.sla_services.reads import when_in_words
from supportplan.lib.services import apply_fields, lock_plan

# --- Escalation ladders ---------------------------------------------------------------------
STEP_FIELDS = {
    "trigger",
    "percent",
    "minutes_after_breach",
    "action",
    "role",
    "person",
    "party",
    "repeat_every_minutes",
    "max_repeats",
}
RECIPIENT_FIELDS = ("role", "person", "party")
RECIPIENT_OF = {
    EscalationAction.NOTIFY_ROLE: "role",
    EscalationAction.NOTIFY_PERSON: "person",
    EscalationAction.NOTIFY_PARTY: "party",
}
_TRIGGER_ORDER = {
    EscalationTrigger.PERCENT_ELAPSED: 0,
    EscalationTrigger.AT_BREACH: 1,
    EscalationTrigger.AFTER_BREACH: 2,
}


def _step_errors(step: EscalationStep, *, plan_id: int) -> Errors:
    """Everything wrong with one step on its own (the ladder's order is checked separately)."""
    errors: Errors = {}
    trigger = step.trigger
    if trigger == EscalationTrigger.PERCENT_ELAPSED:
        if step.percent is None:
            message = "A step at a share of the target needs a percentage between 1 and 100."
            add_error(errors, "percent", message)
        elif is_int(step.percent) and not 1 <= step.percent <= 100:
            add_error(errors, "percent", "Give a percentage between 1 and 100.")
    elif step.percent is not None:
        add_error(errors, "percent", "Only a step at a share of the target takes a percentage.")
    if trigger == EscalationTrigger.AFTER_BREACH:
        if step.minutes_after_breach is None:
            add_error(errors, "minutes_after_breach", "A step after breach needs the minutes after breach.")
        elif is_int(step.minutes_after_breach) and not 1 <= step.minutes_after_breach <= MAX_TARGET_MINUTES:
            message = f"Give 1 to {MAX_TARGET_MINUTES:,} minutes after breach."
            add_error(errors, "minutes_after_breach", message)
    elif step.minutes_after_breach is not None:
        add_error(errors, "minutes_after_breach", "Only a step after breach takes minutes after breach.")

    recipient = RECIPIENT_OF.get(step.action)
    for field in RECIPIENT_FIELDS:
        given = getattr(step, f"{field}_id") is not None
        if field == recipient and not given:
            add_error(errors, field, f"Name the {field} to notify.")
        elif field != recipient and given:
            add_error(errors, field, f"Only a step that notifies a {field} names one.")

    if is_int(step.max_repeats) and not 0 <= step.max_repeats <= MAX_REPEATS:
        add_error(errors, "max_repeats", f"Repeat at most {MAX_REPEATS} times (0 for no repeats).")
    repeating = is_int(step.max_repeats) and step.max_repeats > 0
    every = step.repeat_every_minutes
    if repeating and every is None:
        add_error(
            errors,
            "repeat_every_minutes",
            f"Say how often to repeat (every {MIN_REPEAT_MINUTES} minutes or more).",
        )
    elif is_int(every) and not MIN_REPEAT_MINUTES <= every <= MAX_REPEAT_MINUTES:
        add_error(
            errors,
            "repeat_every_minutes",
            f"Repeat every {MIN_REPEAT_MINUTES} to {MAX_REPEAT_MINUTES:,} minutes (a week).",
        )
    elif every is not None and "max_repeats" not in errors and not repeating:
        add_error(
            errors,
            "max_repeats",
            f"Say how many times to repeat (1–{MAX_REPEATS}), or leave the interval blank.",
        )

    clean_into(step, errors, exclude=["target", "position"])
    for field in RECIPIENT_FIELDS:
        related_id = None if field in errors else getattr(step, f"{field}_id")
        if related_id is not None and getattr(step, field).plan_id != plan_id:
            add_error(errors, field, f"Choose a {field} of this plan.")
    return errors


def _moment(step: EscalationStep) -> tuple[int, int]:
    """When a step fires, comparable along a ladder: shares of the target, then breach, then after."""
    return _TRIGGER_ORDER[step.trigger], step.percent or step.minutes_after_breach or 0


def _ladder_order_messages(steps: Sequence[EscalationStep]) -> list[str]:
    """Steps go in time order: percentages ascending, then at breach, then minutes after breach
    ascending. Several steps may share a moment (e.g. notify a manager and raise the level at breach)."""
    return [
        f"Step {index + 1} ({when_in_words(later)}) comes before step {index} ({when_in_words(earlier)}): "
        "order the ladder in time, percentages ascending."
        for index, (earlier, later) in enumerate(pairwise(steps), start=1)
        if _moment(later) < _moment(earlier)
    ]


def _place(target: SlaTarget, steps: list[EscalationStep]) -> None:
    """Numbers the ladder in time order (ties keep their order) and saves the steps that moved."""
    for position, step in enumerate(sorted(steps, key=_moment)):
        if step.pk is None:
            step.position = position
            step.save()
        elif step.position != position:
            step.position = position
            step.save(update_fields=["position"])


def _lock_target(target: SlaTarget) -> SlaTarget:
    # The plan row first, as every SLA configuration write locks it (``lock_plan``), then the target's
    # own row only: a joined lock of target and policy deadlocked with a target update.
    lock_plan(target.policy.plan_id)
    locked = SlaTarget.objects.select_for_update(of=("self",)).select_related("policy").get(pk=target.pk)
    # Every ladder write locks its target first: the stored SLA clocks' next steps follow (issue 7).
    clocks_repair_later(plan_id=locked.policy.plan_id, policy_id=locked.policy_id)
    return locked


@transaction.atomic
def escalation_step_create(*, target: SlaTarget, trigger: str, action: str, **fields: Any) -> EscalationStep:
    """Adds a step to the target's ladder at its place in time (see ``_ladder_order_messages``)."""
    target = _lock_target(target)
    step = EscalationStep(target=target)
    apply_fields(step, {"trigger": trigger, "action": action, **fields}, STEP_FIELDS)
    raise_errors(_step_errors(step, plan_id=target.policy.plan_id))
    ladder = list(target.escalation_steps.all())
    if len(ladder) >= MAX_LADDER_STEPS:
        raise ValidationError(f"A ladder has at most {MAX_LADDER_STEPS} steps.")
    _place(target, [*ladder, step])
    return step


@transaction.atomic
def escalation_step_update(*, step: EscalationStep, **fields: Any) -> EscalationStep:
    """Changes a step; it moves to its new place in time on the ladder."""
    target = _lock_target(step.target)
    apply_fields(step, fields, STEP_FIELDS)
    raise_errors(_step_errors(step, plan_id=target.policy.plan_id))
    step.save(update_fields=[*fields])
    _place(target, [*target.escalation_steps.exclude(pk=step.pk), step])
    return step


@transaction.atomic
def escalation_step_delete(*, step: EscalationStep) -> None:
    target = _lock_target(step.target)
    step.delete()
    _place(target, list(target.escalation_steps.all()))


@transaction.atomic
def escalation_ladder_replace(
    *, target: SlaTarget, steps: Iterable[Mapping[str, Any]]
) -> list[EscalationStep]:
    """Replaces the target's ladder with ``steps`` (mappings of step fields), in the order given.

    Problems are reported together under ``escalation_steps`` ("Step 2 — percent: …"); nothing is
    stored unless the whole ladder is valid.
    """
    target = _lock_target(target)
    items = list(steps)
    if len(items) > MAX_LADDER_STEPS:
        raise ValidationError({"escalation_steps": [f"A ladder has at most {MAX_LADDER_STEPS} steps."]})
    built: list[EscalationStep] = []
    messages: list[str] = []
    for index, item in enumerate(items, start=1):
        step = EscalationStep(target=target, position=index - 1)
        try:
            apply_fields(step, dict(item), STEP_FIELDS)
        except ValidationError as error:
            messages += [
                f"Step {index} — {field}: {m}" for field, ms in error.message_dict.items() for m in ms
            ]
            continue
        errors = _step_errors(step, plan_id=target.policy.plan_id)
        messages += [f"Step {index} — {field}: {m}" for field, ms in errors.items() for m in ms]
        built.append(step)
    if not messages:
        messages = _ladder_order_messages(built)
    if messages:
        raise ValidationError({"escalation_steps": messages})
    target.escalation_steps.all().delete()
    for step in built:
        step.save()
    return built
