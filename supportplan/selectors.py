"""Reads for plans, always scoped to what the requester may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, OuterRef, QuerySet, Subquery, Sum, When

from supportplan import access
from supportplan.models import ApiKey, AuditEntry, Location, Membership, PlanRole, SupportPlan


def plans_for(*, user: Any) -> QuerySet[SupportPlan]:
    """The user's plans with their role in each (``my_role``) and location totals."""
    role = Membership.objects.filter(plan=OuterRef("pk"), user_id=getattr(user, "pk", None)).values("role")[
        :1
    ]
    return (
        SupportPlan.objects.for_user(user)
        .annotate(my_role=Subquery(role), location_count=Count("locations", distinct=True))
        .order_by("name")
    )


def plan_locations(*, user: Any, plan: SupportPlan) -> QuerySet[Location]:
    return Location.objects.for_user(user).filter(plan=plan).order_by("name")


def plan_members(*, user: Any, plan: SupportPlan) -> QuerySet[Membership]:
    """Members in the order of PlanRole (leads first), then by username."""
    rank = Case(*(When(role=role, then=index) for index, role in enumerate(PlanRole.values)))
    return (
        Membership.objects.for_user(user)
        .filter(plan=plan)
        .select_related("user")
        .order_by(rank, "user__username")
    )


def plan_user_total(*, plan: SupportPlan) -> int:
    return Location.objects.filter(plan=plan).aggregate(total=Sum("user_count"))["total"] or 0


def plan_api_keys(*, user: Any, plan: SupportPlan) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_user(user).filter(plan=plan).select_related("created_by")


def plan_history(*, user: Any, plan: SupportPlan) -> QuerySet[AuditEntry]:
    """The plan's audit trail, newest first; leads only (others get an empty queryset)."""
    if not access.can_configure(user, plan):
        return AuditEntry.objects.none()
    return (
        AuditEntry.objects.filter(plan_id=plan.pk)
        .select_related("actor", "content_type", "api_key")
        .order_by("-timestamp", "-pk")
    )
