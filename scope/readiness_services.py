"""Writes for go-live readiness, the go-live gate, the transition plan and hypercare. Views, API,
admin and commands call these.

- ``readiness_seed`` gives a plan the checklist (``scope.readiness_catalogue``) and an empty
  hypercare plan; idempotent, and it fills blank due dates once the plan has a go-live date.
- The **gate**: ``gate_check`` lists the open must-have items (not done, not met by derived
  evidence, not "not applicable"); ``gate_enforce`` refuses moving the plan to Operate
  (``supportplan.services.plan_update``) or starting hypercare while any is open, unless a lead has
  recorded an unused override for that action (``gate_override_record``), which it then marks used.
- **Snapshots** (the trend): no beat entry; one row per plan and day, upserted on every change of an
  item, activity, target or the hypercare plan, and taken on a page view when today's is missing.
- **Hypercare**: ``hypercare_start`` passes the gate and sets the plan's hypercare window (which
  decides the SLA phase, ``operations.selectors.phase_on``); ``hypercare_end`` switches the SLA policy
  set: hypercare policies end yesterday and the steady-state policy is in force from today.

"Today" is the server's local date unless given.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scope import readiness_catalogue as catalogue
from scope.readiness_models import (
    GateAction,
    GateOverride,
    HypercarePlan,
    ReadinessItem,
    ReadinessSnapshot,
    ReadinessTarget,
    TransitionActivity,
)
from supportplan.lib.services import apply_fields, lock_plan
from supportplan.models import SupportPlan

#: Evidence files: at most this size, one of these extensions.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_EXTENSIONS = frozenset(
    {".pdf", ".png", ".jpg", ".jpeg", ".gif", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".zip"}
)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _same_plan(plan_id: int, related: Any, field: str) -> None:
    if related is not None and related.plan_id != plan_id:
        raise ValidationError({field: "Choose one from this plan."})


# --- Seeding --------------------------------------------------------------------------------
@transaction.atomic
def readiness_seed(*, plan: SupportPlan) -> int:
    """Creates the plan's missing checklist items and its hypercare plan; fills blank due dates from
    the go-live date. Idempotent. Returns how many items it created."""
    existing = {item.key: item for item in ReadinessItem.objects.filter(plan=plan)}
    missing = [
        ReadinessItem(
            plan=plan,
            key=entry.key,
            group=entry.group,
            position=position,
            title=entry.title,
            description=entry.description,
            must_have=entry.must_have,
            due_date=catalogue.milestone_date(plan.go_live_date, entry.due),
        )
        for position, entry in enumerate(catalogue.ITEMS)
        if entry.key not in existing
    ]
    ReadinessItem.objects.bulk_create(missing, ignore_conflicts=True)
    if plan.go_live_date:
        for key, item in existing.items():
            entry = catalogue.BY_KEY.get(key)
            if entry and item.due_date is None:
                item.due_date = catalogue.milestone_date(plan.go_live_date, entry.due)
                item.save(update_fields=["due_date", "updated_at"])
    HypercarePlan.objects.get_or_create(plan=plan)
    return len(missing)


# --- Items ----------------------------------------------------------------------------------
ITEM_FIELDS = {"owner", "due_date", "status", "evidence_url", "notes"}


@transaction.atomic
def readiness_item_update(*, item: ReadinessItem, today: date | None = None, **fields: Any) -> ReadinessItem:
    """Changes owner, due date, status, evidence link or notes; records today's snapshot."""
    changed = apply_fields(item, fields, ITEM_FIELDS)
    _same_plan(item.plan_id, item.owner, "owner")
    item.full_clean()
    item.save(update_fields=[*changed, "updated_at"])
    readiness_snapshot_take(plan=item.plan, today=_today(today))
    return item


def validate_evidence_file(upload: Any) -> None:
    if upload is None:
        raise ValidationError({"evidence_file": "Choose a file."})
    extension = os.path.splitext(upload.name or "")[1].lower()
    if extension not in EVIDENCE_EXTENSIONS:
        raise ValidationError(
            {
                "evidence_file": f"“{extension or 'no extension'}” files are not accepted; use one of "
                f"{', '.join(sorted(EVIDENCE_EXTENSIONS))}."
            }
        )
    if not upload.size:
        raise ValidationError({"evidence_file": "The file is empty."})
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "evidence_file": f"The file is {upload.size / 1048576:.1f} MB; "
                f"the limit is {EVIDENCE_MAX_BYTES // 1048576} MB."
            }
        )


@transaction.atomic
def readiness_item_attach_evidence(
    *, item: ReadinessItem, upload: Any, today: date | None = None
) -> ReadinessItem:
    """Stores an evidence file on the item (replacing an earlier one); size and type checked first."""
    validate_evidence_file(upload)
    previous = item.evidence_file.name if item.evidence_file else ""
    item.evidence_file.save(os.path.basename(upload.name), upload, save=False)
    item.save(update_fields=["evidence_file", "updated_at"])
    if previous and previous != item.evidence_file.name:
        storage = item.evidence_file.storage
        transaction.on_commit(lambda: storage.delete(previous))
    readiness_snapshot_take(plan=item.plan, today=_today(today))
    return item


# --- The gate -------------------------------------------------------------------------------
GATE_FIELDS = {GateAction.OPERATE: "phase", GateAction.START_HYPERCARE: "hypercare"}


def gate_check(*, plan: SupportPlan, action: str) -> list[ReadinessItem]:
    """The must-have items still open (blocking ``action``), in checklist order."""
    from scope.readiness_selectors import readiness

    if action not in GateAction.values:
        raise ValidationError({"action": f"Unknown action; choose one of {', '.join(GateAction.values)}."})
    return [state.item for state in readiness(plan=plan).open_must_haves]


def gate_unused_override(*, plan: SupportPlan, action: str) -> GateOverride | None:
    return (
        GateOverride.objects.filter(plan=plan, action=action, used_at__isnull=True)
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def gate_override_record(*, plan: SupportPlan, action: str, reason: str, actor: Any) -> GateOverride:
    """A lead's decision to pass the gate once despite open must-haves (audited). Needs a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the gate may be passed with must-have items open."})
    open_items = gate_check(plan=plan, action=action)
    if not open_items:
        raise ValidationError({"action": "Nothing to override: no must-have item is open."})
    override = GateOverride(
        plan=plan,
        action=action,
        reason=reason,
        open_items=[{"key": item.key, "title": item.title} for item in open_items],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    override.full_clean()
    override.save()
    return override


def gate_enforce(*, plan: SupportPlan, action: str) -> GateOverride | None:
    """Raises ValidationError listing the open must-haves, unless none is open (None returned) or an
    unused override exists (marked used and returned). Call inside the caller's transaction."""
    open_items = gate_check(plan=plan, action=action)
    if not open_items:
        return None
    override = (
        GateOverride.objects.select_for_update()
        .filter(plan=plan, action=action, used_at__isnull=True)
        .order_by("created_at")
        .first()
    )
    if override is None:
        titles = "; ".join(item.title for item in open_items)
        raise ValidationError(
            {
                GATE_FIELDS[action]: f"The go-live gate is closed: {len(open_items)} must-have item"
                f"{'s are' if len(open_items) != 1 else ' is'} open ({titles}). Complete them or have a "
                "lead record an override with a reason."
            }
        )
    override.used_at = timezone.now()
    override.save(update_fields=["used_at"])
    return override


# --- Snapshots ------------------------------------------------------------------------------
@transaction.atomic
def readiness_snapshot_take(*, plan: SupportPlan, today: date | None = None) -> ReadinessSnapshot:
    """Upserts the plan's snapshot of ``today``."""
    from scope.readiness_rules import readiness_warnings
    from scope.readiness_selectors import readiness

    today = _today(today)
    current = readiness(plan=plan)
    snapshot, _created = ReadinessSnapshot.objects.update_or_create(
        plan=plan,
        taken_on=today,
        defaults={
            "overall_percent": current.percent,
            "group_percents": current.group_percents(),
            "open_must_haves": len(current.open_must_haves),
            "warnings": len(readiness_warnings(plan=plan, today=today)),
        },
    )
    return snapshot


def readiness_snapshot_ensure(*, plan: SupportPlan, today: date | None = None) -> ReadinessSnapshot | None:
    """Takes today's snapshot if it is missing (page views); None when it already exists."""
    today = _today(today)
    if ReadinessSnapshot.objects.filter(plan=plan, taken_on=today).exists():
        return None
    return readiness_snapshot_take(plan=plan, today=today)


# --- Transition activities ------------------------------------------------------------------
ACTIVITY_FIELDS = {
    "kind",
    "title",
    "phase",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "notes",
}


def _validate_activity(activity: TransitionActivity) -> None:
    errors = {}
    if activity.planned_start and activity.planned_end and activity.planned_end < activity.planned_start:
        errors["planned_end"] = "An activity cannot end before it starts."
    if activity.actual_end and not activity.actual_start:
        errors["actual_start"] = "Give the actual start before the actual end."
    elif activity.actual_end and activity.actual_start and activity.actual_end < activity.actual_start:
        errors["actual_end"] = "The actual end cannot be before the actual start."
    if errors:
        raise ValidationError(errors)
    activity.full_clean()


def _set_people(activity: TransitionActivity, people: Any) -> None:
    if people is None:
        return
    people = list(people)
    if any(person.plan_id != activity.plan_id for person in people):
        raise ValidationError({"people": "Choose people from this plan."})
    activity.people.set(people)


@transaction.atomic
def transition_activity_create(
    *, plan: SupportPlan, people: Any = None, today: date | None = None, **fields: Any
) -> TransitionActivity:
    activity = TransitionActivity(plan=plan)
    apply_fields(activity, fields, ACTIVITY_FIELDS)
    _validate_activity(activity)
    activity.save()
    _set_people(activity, people)
    readiness_snapshot_take(plan=plan, today=_today(today))
    return activity


@transaction.atomic
def transition_activity_update(
    *, activity: TransitionActivity, people: Any = None, today: date | None = None, **fields: Any
) -> TransitionActivity:
    changed = apply_fields(activity, fields, ACTIVITY_FIELDS)
    _validate_activity(activity)
    activity.save(update_fields=changed or None)
    _set_people(activity, people)
    readiness_snapshot_take(plan=activity.plan, today=_today(today))
    return activity


@transaction.atomic
def transition_activity_delete(*, activity: TransitionActivity, today: date | None = None) -> None:
    plan = activity.plan
    activity.delete()
    readiness_snapshot_take(plan=plan, today=_today(today))


# --- Readiness targets ----------------------------------------------------------------------
TARGET_FIELDS = {"name", "target_date", "target_percent", "group"}


@transaction.atomic
def readiness_target_create(*, plan: SupportPlan, **fields: Any) -> ReadinessTarget:
    target = ReadinessTarget(plan=plan)
    apply_fields(target, fields, TARGET_FIELDS)
    target.full_clean()
    target.save()
    return target


@transaction.atomic
def readiness_target_update(*, target: ReadinessTarget, **fields: Any) -> ReadinessTarget:
    changed = apply_fields(target, fields, TARGET_FIELDS)
    target.full_clean()
    target.save(update_fields=changed or None)
    return target


@transaction.atomic
def readiness_target_delete(*, target: ReadinessTarget) -> None:
    target.delete()


# --- Hypercare ------------------------------------------------------------------------------
#: What a lead edits on the hypercare plan, in the order the form and the API show it.
HYPERCARE_FIELDS = (
    "starts_on",
    "planned_end",
    "entry_criteria",
    "exit_criteria_notes",
    "p1_p2_met_threshold",
    "resolved_without_hypercare_threshold",
    "key_processes_working",
    "key_processes_note",
    "partner",
    "committed_project_hours",
    "committed_partner_hours",
    "used_project_hours",
    "used_partner_hours",
)


def hypercare_plan_get(*, plan: SupportPlan) -> HypercarePlan:
    hypercare, _created = HypercarePlan.objects.get_or_create(plan=plan)
    return hypercare


def _validate_hypercare(hypercare: HypercarePlan) -> None:
    errors = {}
    if hypercare.starts_on and hypercare.planned_end and hypercare.planned_end < hypercare.starts_on:
        errors["planned_end"] = "Hypercare cannot end before it starts."
    for name in (
        "committed_project_hours",
        "committed_partner_hours",
        "used_project_hours",
        "used_partner_hours",
    ):
        value = getattr(hypercare, name)
        if value is not None and not isinstance(value, str) and value < 0:
            errors[name] = "Hours cannot be negative."
    if errors:
        raise ValidationError(errors)
    _same_plan(hypercare.plan_id, hypercare.partner, "partner")
    hypercare.full_clean()


@transaction.atomic
def hypercare_plan_update(
    *, hypercare: HypercarePlan, today: date | None = None, **fields: Any
) -> HypercarePlan:
    """Changes the hypercare plan; while hypercare runs, a new planned end moves the plan's window."""
    # The plan row first, as starting and ending hypercare lock it: saving the hypercare row, then
    # the plan, deadlocked with them.
    lock_plan(hypercare.plan_id)
    changed = apply_fields(hypercare, fields, HYPERCARE_FIELDS)
    _validate_hypercare(hypercare)
    hypercare.save(update_fields=[*changed, "updated_at"])
    plan = hypercare.plan
    if "planned_end" in changed and hypercare.started_at and not hypercare.ended_at:
        plan.hypercare_end = hypercare.planned_end
        plan.full_clean()
        plan.save(update_fields=["hypercare_end", "updated_at"])
    readiness_snapshot_take(plan=plan, today=_today(today))
    return hypercare


@transaction.atomic
def hypercare_start(*, plan: SupportPlan, actor: Any, today: date | None = None) -> HypercarePlan:
    """Starts hypercare today through the go-live gate; the plan's hypercare window starts today and
    ends on the planned end (SLA clocks of requests reported from today use the hypercare policy)."""
    today = _today(today)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    hypercare = hypercare_plan_get(plan=plan)
    if hypercare.ended_at:
        raise ValidationError(
            {"hypercare": f"Hypercare ended on {timezone.localtime(hypercare.ended_at):%d %b %Y}."}
        )
    if hypercare.started_at:
        raise ValidationError(
            {"hypercare": f"Hypercare started on {timezone.localtime(hypercare.started_at):%d %b %Y}."}
        )
    if hypercare.planned_end and hypercare.planned_end < today:
        raise ValidationError(
            {"planned_end": "The planned end has passed: move it before starting hypercare."}
        )
    gate_enforce(plan=plan, action=GateAction.START_HYPERCARE)
    hypercare.started_at = timezone.now()
    hypercare.starts_on = today
    hypercare.full_clean()
    hypercare.save(update_fields=["started_at", "starts_on", "updated_at"])
    plan.hypercare_start, plan.hypercare_end = today, hypercare.planned_end
    plan.full_clean()
    plan.save(update_fields=["hypercare_start", "hypercare_end", "updated_at"])
    readiness_snapshot_take(plan=plan, today=today)
    return hypercare


@transaction.atomic
def hypercare_end(
    *, plan: SupportPlan, actor: Any, note: str = "", today: date | None = None
) -> HypercarePlan:
    """Ends hypercare: yesterday is its last day, and the SLA policy set switches — every hypercare
    policy still in force ends yesterday, and the steady-state policy is in force from today (the
    next one is moved to start today when none is). Recorded on the hypercare plan (audited)."""
    from operations import sla_services
    from operations.models import SlaPhase, SlaPolicy

    today = _today(today)
    yesterday = today - timedelta(days=1)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    hypercare = hypercare_plan_get(plan=plan)
    if not hypercare.started_at:
        raise ValidationError({"hypercare": "Hypercare has not started."})
    if hypercare.ended_at:
        raise ValidationError(
            {"hypercare": f"Hypercare already ended on {timezone.localtime(hypercare.ended_at):%d %b %Y}."}
        )
    if plan.hypercare_start and plan.hypercare_start > yesterday:
        raise ValidationError({"hypercare": "Hypercare started today; it can end from tomorrow."})
    in_force = Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    steady_today = SlaPolicy.objects.filter(
        plan=plan, phase=SlaPhase.STEADY_STATE, valid_from__lte=today
    ).filter(in_force)
    if not steady_today.exists():
        upcoming = (
            SlaPolicy.objects.filter(plan=plan, phase=SlaPhase.STEADY_STATE, valid_from__gt=today)
            .order_by("valid_from")
            .first()
        )
        if upcoming is None:
            raise ValidationError(
                {"hypercare": "No steady-state SLA policy to switch to: add one, then end hypercare."}
            )
        sla_services.sla_policy_update(policy=upcoming, valid_from=today)
    for policy in SlaPolicy.objects.filter(
        plan=plan, phase=SlaPhase.HYPERCARE, valid_from__lte=yesterday
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=yesterday)):
        sla_services.sla_policy_update(policy=policy, valid_to=yesterday)
    hypercare.ended_at = timezone.now()
    hypercare.ended_by = actor if getattr(actor, "pk", None) else None
    hypercare.end_note = (note or "").strip()
    hypercare.save(update_fields=["ended_at", "ended_by", "end_note", "updated_at"])
    plan.hypercare_end = yesterday
    plan.full_clean()
    plan.save(update_fields=["hypercare_end", "updated_at"])
    readiness_snapshot_take(plan=plan, today=today)
    return hypercare
