"""Who may see and change what: the one place the access rules live.

Principals are Django users and API keys (an ``ApiKeyPrincipal`` stands in for ``request.user``
when a helpdesk authenticates with a key). Every queryset starts from ``.for_user(principal)``;
capability checks (``can_configure`` and friends) read the principal's role in the plan.

Rules:
- a user sees only the plans they belong to; superusers see all;
- project and support leads change configuration;
- team members read the plan and update what is assigned to them (later apps ask
  ``can_update_assigned``);
- partners read only what is assigned to their organisation: models opt in with
  ``partner_visible(user)`` on their queryset; by default a partner sees nothing of a model;
- viewers read;
- an API key sees its own plan only, reads with any scope, writes only where an endpoint allows
  keys to write (helpdesk data, never configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from supportplan.models import ApiKey, SupportPlan


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """``request.user`` for a request authenticated with an API key."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    @property
    def plan_id(self) -> int:
        return self.api_key.plan_id

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


def is_api_key(principal: Any) -> bool:
    return isinstance(principal, ApiKeyPrincipal)


def _is_user(principal: Any) -> bool:
    return bool(principal is not None and principal.is_authenticated and not is_api_key(principal))


class SupportPlanQuerySet(models.QuerySet):
    def for_user(self, principal: Any) -> SupportPlanQuerySet:
        if principal is None or not principal.is_authenticated or not principal.is_active:
            return self.none()
        if is_api_key(principal):
            return self.filter(pk=principal.plan_id)
        if principal.is_superuser:
            return self.all()
        return self.filter(memberships__user=principal)

    def configurable_by(self, principal: Any) -> SupportPlanQuerySet:
        from supportplan.models import LEAD_ROLES

        if not _is_user(principal) or not principal.is_active:
            return self.none()
        if principal.is_superuser:
            return self.all()
        return self.filter(memberships__user=principal, memberships__role__in=LEAD_ROLES)


class PlanScopedQuerySet(models.QuerySet):
    """Queryset of a model with a ``plan`` foreign key."""

    #: Whether partners see every row of the model in their plans. Models whose rows are
    #: assigned to organisations override ``partner_visible`` instead.
    partner_sees_all = False

    def for_user(self, principal: Any) -> PlanScopedQuerySet:
        from supportplan.models import PlanRole, SupportPlan

        if principal is None or not principal.is_authenticated or not principal.is_active:
            return self.none()
        if is_api_key(principal):
            return self.filter(plan_id=principal.plan_id)
        if principal.is_superuser:
            return self.all()
        visible_plans = SupportPlan.objects.filter(
            memberships__user=principal, memberships__role__in=set(PlanRole.values) - {PlanRole.PARTNER}
        )
        partner_plans = SupportPlan.objects.filter(
            memberships__user=principal, memberships__role=PlanRole.PARTNER
        )
        return self.filter(plan__in=visible_plans) | self.partner_visible(principal).filter(
            plan__in=partner_plans
        )

    def partner_visible(self, user: Any) -> PlanScopedQuerySet:
        return self.all() if self.partner_sees_all else self.none()

    def for_plan(self, plan: SupportPlan) -> PlanScopedQuerySet:
        return self.filter(plan=plan)


def role_in(principal: Any, plan: SupportPlan) -> str | None:
    """The principal's role in the plan, or None. Cached on the principal for the request."""
    if not _is_user(principal):
        return None
    cache = principal.__dict__.setdefault("_supportplan_roles", {})
    if plan.pk not in cache:
        from supportplan.models import Membership

        cache[plan.pk] = (
            Membership.objects.filter(plan_id=plan.pk, user=principal).values_list("role", flat=True).first()
        )
    return cache[plan.pk]


def can_view(principal: Any, plan: SupportPlan) -> bool:
    if principal is None or not principal.is_authenticated:
        return False
    if is_api_key(principal):
        return principal.plan_id == plan.pk
    return principal.is_superuser or role_in(principal, plan) is not None


def can_configure(principal: Any, plan: SupportPlan) -> bool:
    """Leads (and superusers) change a plan's configuration; API keys never do."""
    from supportplan.models import LEAD_ROLES

    if not _is_user(principal):
        return False
    return principal.is_superuser or role_in(principal, plan) in LEAD_ROLES


def can_update_assigned(principal: Any, plan: SupportPlan) -> bool:
    """Team members (and leads) may update records assigned to them."""
    from supportplan.models import LEAD_ROLES, PlanRole

    if not _is_user(principal):
        return False
    return principal.is_superuser or role_in(principal, plan) in {*LEAD_ROLES, PlanRole.TEAM_MEMBER}


def is_partner(principal: Any, plan: SupportPlan) -> bool:
    from supportplan.models import PlanRole

    return role_in(principal, plan) == PlanRole.PARTNER
