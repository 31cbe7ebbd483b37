"""Reads of the inbox and of a plan's delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from operations.models import Notification, WebhookDelivery, WebhookEndpoint
from supportplan.models import LEAD_ROLES, PlanRole, SupportPlan

#: Who reads a plan's delivery log and webhook endpoints (partners and viewers do not).
DELIVERY_LOG_ROLES = frozenset({*LEAD_ROLES, PlanRole.TEAM_MEMBER})


def inbox(*, user, plan: SupportPlan | None = None, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notices, newest first (a notice is only ever its recipient's)."""
    if not getattr(user, "pk", None):
        return Notification.objects.none()
    notices = Notification.objects.filter(recipient_user=user).select_related("plan")
    if plan is not None:
        notices = notices.filter(plan=plan)
    if unread is True:
        notices = notices.filter(read_at__isnull=True)
    elif unread is False:
        notices = notices.filter(read_at__isnull=False)
    return notices.order_by("-created_at", "-id")


def unread_count(user, *, plan: SupportPlan | None = None) -> int:
    return inbox(user=user, plan=plan, unread=True).count()


def delivery_log_plans(user) -> QuerySet[SupportPlan]:
    """The plans whose delivery log and endpoints the user reads: leads and team members (and staff)."""
    if not getattr(user, "pk", None) or not user.is_authenticated:
        return SupportPlan.objects.none()
    if user.is_superuser:
        return SupportPlan.objects.all()
    return SupportPlan.objects.filter(memberships__user=user, memberships__role__in=DELIVERY_LOG_ROLES)


def plan_endpoints(*, user, plan: SupportPlan | None = None) -> QuerySet[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.filter(plan__in=delivery_log_plans(user)).select_related("plan")
    return endpoints.filter(plan=plan) if plan is not None else endpoints


def plan_webhook_deliveries(*, user, plan: SupportPlan | None = None) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(plan__in=delivery_log_plans(user)).select_related(
        "endpoint", "plan"
    )
    return deliveries.filter(plan=plan) if plan is not None else deliveries


def plan_email_log(*, user, plan: SupportPlan) -> QuerySet[Notification]:
    """Every notice of the plan with its e-mail status, attempts and last error (for leads/team)."""
    return (
        Notification.objects.filter(plan=plan, plan__in=delivery_log_plans(user))
        .select_related("recipient_user", "recipient_person")
        .order_by("-created_at", "-id")
    )
