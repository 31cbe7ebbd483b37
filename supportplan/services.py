"""Writes for plans, locations, memberships and API keys. Views, API, admin and commands call these."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from models_catalog.services import catalogue_seed_plan
from operations.sla_services import priorities_seed_defaults
from scope.readiness_models import GateAction
from scope.readiness_services import gate_enforce, readiness_seed
from supportplan.lib import rows
from supportplan.lib.services import apply_fields, lock_plan
from supportplan.models import (
    LEAD_ROLES,
    ApiKey,
    ApiKeyScope,
    Location,
    Membership,
    Phase,
    PlanRole,
    SupportPlan,
)

User = get_user_model()

API_KEY_PREFIX = "sp"
_UNCHANGED = object()


# --- Plans ----------------------------------------------------------------------------------
PLAN_FIELDS = {
    "name",
    "slug",
    "products",
    "phase",
    "go_live_date",
    "hypercare_start",
    "hypercare_end",
    "description",
}


@transaction.atomic
def plan_create(*, created_by: User, **fields: Any) -> SupportPlan:
    """Creates a plan and makes its creator the project lead."""
    plan = SupportPlan()
    apply_fields(plan, fields, PLAN_FIELDS)
    plan.full_clean()
    plan.save()
    Membership.objects.create(plan=plan, user=created_by, role=PlanRole.PROJECT_LEAD)
    catalogue_seed_plan(plan=plan)
    priorities_seed_defaults(plan=plan)
    readiness_seed(plan=plan)
    return plan


@transaction.atomic
def plan_update(*, plan: SupportPlan, **fields: Any) -> SupportPlan:
    # The plan's row first, as every write that locks it does (the go-live gate locks an override
    # next, as starting hypercare does), so they wait for each other instead of deadlocking.
    lock_plan(plan.pk)
    # Read the stored phase: a form may already have set the new one on this instance.
    entering_operate = (
        fields.get("phase") == Phase.OPERATE
        and SupportPlan.objects.filter(pk=plan.pk).exclude(phase=Phase.OPERATE).exists()
    )
    changed = apply_fields(plan, fields, PLAN_FIELDS)
    plan.full_clean()
    if entering_operate:  # the go-live gate: open must-have readiness items block Operate
        gate_enforce(plan=plan, action=GateAction.OPERATE)
    plan.save(update_fields=[*changed, "updated_at"])
    return plan


# --- Locations ------------------------------------------------------------------------------
LOCATION_FIELDS = {"name", "country", "subdivision", "timezone", "languages", "user_count"}


@transaction.atomic
def location_create(*, plan: SupportPlan, **fields: Any) -> Location:
    location = Location(plan=plan)
    apply_fields(location, fields, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_update(*, location: Location, **fields: Any) -> Location:
    changed = apply_fields(location, fields, LOCATION_FIELDS)
    location.full_clean()
    location.save(update_fields=changed)
    return location


@transaction.atomic
def location_delete(*, location: Location) -> None:
    location.delete()


# --- Memberships ----------------------------------------------------------------------------
def _ensure_a_lead_remains(plan: SupportPlan, *, leaving: Membership) -> None:
    others = Membership.objects.filter(plan=plan, role__in=LEAD_ROLES).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError({"role": "A plan needs at least one project or support lead."})


@transaction.atomic
def membership_add(*, plan: SupportPlan, user: User, role: str, organisation=None) -> Membership:
    if Membership.objects.filter(plan=plan, user=user).exists():
        raise ValidationError({"user": f"{user.get_username()} is already a member of this plan."})
    membership = Membership(plan=plan, user=user, role=role, organisation=organisation)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, organisation=_UNCHANGED) -> Membership:
    """Changes the role (and, when given, the partner organisation) of a member."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role in LEAD_ROLES and role not in LEAD_ROLES:
        _ensure_a_lead_remains(membership.plan, leaving=membership)
    membership.role = role
    if organisation is not _UNCHANGED:
        membership.organisation = organisation
    membership.full_clean()
    membership.save(update_fields=["role", "organisation"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if membership.role in LEAD_ROLES:
        _ensure_a_lead_remains(membership.plan, leaving=membership)
    membership.delete()


# --- API keys -------------------------------------------------------------------------------
def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, plan: SupportPlan, name: str, scope: str = ApiKeyScope.READ, created_by: User | None
) -> tuple[ApiKey, str]:
    """Creates a key and returns it with the raw secret, which is never stored nor shown again."""
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(plan=plan, name=name, scope=scope, created_by=created_by, prefix=prefix)
    api_key.key_hash = _hash_key(raw_key)
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


@transaction.atomic
def api_key_rename(*, api_key: ApiKey, name: str) -> ApiKey:
    api_key.name = name
    api_key.full_clean()
    api_key.save(update_fields=["name"])
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@functools.cache
def _active_key_sql() -> str:
    """The statement of ``_active_key`` on PostgreSQL: built once (the select lists are fixed)."""
    quote = connection.ops.quote_name
    selected, _ = rows.json_row(((ApiKey, "k"), (SupportPlan, "p")))  # one column: see json_row
    return (
        f"SELECT {selected} "  # noqa: S608
        f"FROM {rows.table(ApiKey)} k INNER JOIN {rows.table(SupportPlan)} p ON p.{quote('id')} = "
        f"k.{quote('plan_id')} WHERE k.{quote('prefix')} = %s AND k.{quote('revoked_at')} IS NULL "
        f"ORDER BY k.{quote('id')} LIMIT 1"
    )


def _active_key(prefix: str) -> ApiKey | None:
    """The active key with ``prefix``, its plan loaded. Every API request runs this: on PostgreSQL
    one plain statement (``supportplan.lib.rows``), cheaper than building the ORM's query."""
    if connection.vendor != "postgresql":
        return ApiKey.objects.active().select_related("plan").filter(prefix=prefix).first()
    with connection.cursor() as cursor:
        # Built once per process, planned once per connection.
        cursor.execute(*rows.prepared("sp_api_key", _active_key_sql(), [prefix]))
        row = cursor.fetchone()
    if row is None:
        return None
    _, converters = rows.json_row(((ApiKey, "k"), (SupportPlan, "p")))
    values = rows.converted(json.loads(row[0]), converters)
    return rows.instance_with(ApiKey, values, [("plan", SupportPlan)])


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or None. Records when it was last used."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1].isalnum() or len(parts[1]) != 8:
        return None
    api_key = _active_key(parts[1])
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash_key(raw_key)):
        return None
    now = timezone.now()
    resolution = settings.SUPPORTPLAN["API_KEY_LAST_USED_RESOLUTION"]
    if api_key.last_used_at is None or now - api_key.last_used_at >= resolution:
        # A conditional UPDATE: no audit row, no write on every request.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- Health ---------------------------------------------------------------------------------
def heartbeat_record(*, name: str):
    """Stores now (aware UTC) as the last time ``name`` was seen alive; returns it."""
    from supportplan.models import ServiceHeartbeat

    now = timezone.now()
    ServiceHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": now})
    return now
