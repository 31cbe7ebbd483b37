"""Reads for partner access: policies as a party × environment matrix, requests (pending first),
active grants with the time left, a partner's own view of their organisation's work, and the access
gaps the "Gaps and risks" page lists. Every read starts from ``.for_user(user)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from models_catalog.models import Party, Person
from operations.models import (
    AccessPolicy,
    AccessRequest,
    AccessRequestStatus,
    DataClass,
    Environment,
    MaintenanceTask,
    OccurrenceStatus,
    RequestEvent,
    SupportRequest,
    TaskOccurrence,
)
from operations.risks import GapRow
from supportplan import access
from supportplan.models import Membership, PlanRole, SupportPlan

#: The maintenance category whose done occurrences (with evidence) prove a recent anonymised copy.
ANONYMISED_REFRESH_CATEGORY = "anonymised_copy_refresh"
#: How recent the last anonymised refresh must be, in days (monthly refresh + a few days' slack).
ANONYMISED_REFRESH_DAYS = 35
#: A pending request older than this is a gap: someone is waiting.
PENDING_TOO_LONG = timedelta(hours=24)


# --- Policies and requests ------------------------------------------------------------------
def access_policies(*, user: Any, plan: SupportPlan) -> QuerySet[AccessPolicy]:
    return (
        AccessPolicy.objects.for_user(user)
        .filter(plan=plan)
        .select_related("party", "approver__user")
        .order_by("party__name", "environment")
    )


@dataclass
class PolicyRow:
    party: Party
    cells: list[tuple[str, AccessPolicy | None]]


def access_policy_matrix(*, user: Any, plan: SupportPlan) -> list[PolicyRow]:
    """One row per party the user may see (external parties first), one cell per environment."""
    policies = {(p.party_id, p.environment): p for p in access_policies(user=user, plan=plan)}
    parties = Party.objects.for_user(user).filter(plan=plan).order_by("name")
    rows = [
        PolicyRow(party=party, cells=[(env, policies.get((party.pk, env))) for env in Environment.values])
        for party in parties
    ]
    return sorted(rows, key=lambda row: (not row.party.is_external, row.party.name))


def access_requests(*, user: Any, plan: SupportPlan, status: str = "") -> QuerySet[AccessRequest]:
    """Requests the user may see, pending first, then active grants, then the rest; newest first."""
    rows = (
        AccessRequest.objects.for_user(user)
        .filter(plan=plan)
        .select_related(
            "party", "policy__approver", "requested_by", "decided_by", "support_request__priority"
        )
        .annotate(
            sort_group=Case(
                When(status=AccessRequestStatus.PENDING, then=Value(0)),
                When(status=AccessRequestStatus.APPROVED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("sort_group", "-created_at", "-pk")
    )
    if status:
        rows = rows.filter(status=status)
    return rows


def access_request_for(*, user: Any, plan: SupportPlan, pk: int) -> AccessRequest:
    """One visible request of the plan, else 404."""
    return get_object_or_404(
        AccessRequest.objects.for_user(user)
        .filter(plan=plan)
        .select_related(
            "party", "policy__approver", "requested_by", "decided_by", "support_request__priority"
        ),
        pk=pk,
    )


def active_grants(*, user: Any, plan: SupportPlan, now: datetime | None = None) -> QuerySet[AccessRequest]:
    now = now or timezone.now()
    return (
        access_requests(user=user, plan=plan)
        .filter(status=AccessRequestStatus.APPROVED, expires_at__gt=now)
        .order_by("expires_at")
    )


def time_left(access_request: AccessRequest, now: datetime | None = None) -> timedelta | None:
    if access_request.status != AccessRequestStatus.APPROVED or access_request.expires_at is None:
        return None
    return max(access_request.expires_at - (now or timezone.now()), timedelta(0))


def format_time_left(left: timedelta | None) -> str:
    """E.g. "3 h 20 min", "2 d 4 h", "expiring"."""
    if left is None:
        return ""
    minutes = int(left.total_seconds() // 60)
    if minutes <= 0:
        return "expiring"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def partner_organisation(*, user: Any, plan: SupportPlan) -> Party | None:
    """The partner's organisation in the plan (their membership's), or None."""
    membership = (
        Membership.objects.filter(plan=plan, user=user, role=PlanRole.PARTNER)
        .select_related("organisation")
        .first()
        if access._is_user(user)
        else None
    )
    return membership.organisation if membership else None


# --- The partner view -----------------------------------------------------------------------
@dataclass
class PartnerView:
    party: Party | None
    support_requests: list[SupportRequest] = field(default_factory=list)
    tasks: list[MaintenanceTask] = field(default_factory=list)
    access_requests: list[AccessRequest] = field(default_factory=list)
    grants: list[AccessRequest] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)


def partner_view(*, user: Any, plan: SupportPlan, party_id: int | None = None) -> PartnerView:
    """What one organisation sees: its support requests, maintenance tasks, access requests and
    grants. A partner always gets their own organisation (``party_id`` is ignored); staff choose an
    external party to preview what it sees. Everything is read through ``.for_user(user)``."""
    if not access.can_view(user, plan):
        raise Http404("No such plan.")
    visible_parties = Party.objects.for_user(user).filter(plan=plan)
    if access.is_partner(user, plan):
        party = partner_organisation(user=user, plan=plan)
        choices: list[Party] = []
    else:
        choices = sorted(visible_parties, key=lambda p: (not p.is_external, p.name))
        party = next((p for p in choices if p.pk == party_id), None)
        if party is None:
            party = next((p for p in choices if p.is_external), None)
    view = PartnerView(party=party, parties=choices)
    if party is None:
        return view
    held = Exists(RequestEvent.objects.filter(request=OuterRef("pk"), party=party))
    view.support_requests = list(
        SupportRequest.objects.for_user(user)
        .filter(plan=plan)
        .filter(Q(current_party=party) | held)
        .select_related("priority", "current_party")
        .order_by("-reported_at", "-pk")[:200]
    )
    view.tasks = list(
        MaintenanceTask.objects.for_user(user)
        .filter(plan=plan)
        .filter(Q(responsible_party=party) | Q(owner__party=party) | Q(backup__party=party))
        .select_related("owner", "responsible_party")
        .distinct()
        .order_by("title")
    )
    requests = list(access_requests(user=user, plan=plan).filter(party=party)[:200])
    now = timezone.now()
    view.access_requests = requests
    view.grants = [r for r in requests if r.status == AccessRequestStatus.APPROVED and r.expires_at > now]
    for grant in view.grants:
        grant.time_left_display = format_time_left(time_left(grant, now))
    return view


# --- Access gaps ----------------------------------------------------------------------------
def _url(name: str, plan: SupportPlan, *args: Any) -> str:
    return reverse(name, args=[plan.slug, *args])


def access_gaps(
    *, plan: SupportPlan, today: date | None = None, refresh_days: int = ANONYMISED_REFRESH_DAYS
) -> list[GapRow]:
    """Access gaps of a plan (no access check: callers do). Three rules:

    - ``anonymised_copy_stale`` (high): a policy allows anonymised data only in an environment, but no
      anonymised-copy refresh task (for that environment or the support copy) has a done occurrence
      with evidence in the last ``refresh_days`` days;
    - ``party_without_production_policy`` (high for external parties, medium for internal ones): a
      party whose people have SupportPlan logins has no policy for production;
    - ``access_request_waiting`` (medium): a request pending for more than 24 hours.

    "Today" is the server's local date; a fixed number of queries.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    rows: list[GapRow] = []
    policies = list(AccessPolicy.objects.filter(plan=plan).select_related("party", "approver"))
    since = timezone.make_aware(datetime.combine(today - timedelta(days=refresh_days), datetime.min.time()))
    proven_envs = set(
        TaskOccurrence.objects.filter(
            plan=plan,
            task__category=ANONYMISED_REFRESH_CATEGORY,
            status=OccurrenceStatus.DONE,
            closed_at__gte=since,
        )
        .exclude(evidence_url="")
        .values_list("task__environment", flat=True)
    )
    refresh_tasks = list(
        MaintenanceTask.objects.filter(
            plan=plan, category=ANONYMISED_REFRESH_CATEGORY, active=True
        ).select_related("owner")
    )
    # Policies left without a recent anonymised copy, grouped by the task that should provide it
    # (None: no task at all), so one late refresh is one row naming every policy it leaves uncovered.
    stale: dict[MaintenanceTask | None, list[AccessPolicy]] = {}
    for policy in policies:
        if policy.data_class != DataClass.ANONYMISED:
            continue
        envs = {policy.environment, Environment.SUPPORT_COPY}
        if proven_envs & envs:
            continue
        task = next((task for task in refresh_tasks if task.environment in envs), None)
        stale.setdefault(task, []).append(policy)
    for task, uncovered in stale.items():
        covers = "; ".join(
            f"{policy.party.name} in {Environment(policy.environment).label.lower()}" for policy in uncovered
        )
        if task is not None:
            detail = (
                f"“{task.title}” has no completed refresh with evidence in the last {refresh_days} days, so "
                f"the copy may be stale or not anonymised. Policies allowing anonymised data only: {covers}."
            )
            title = f"No recent anonymised copy: “{task.title}” is overdue"
            link, owner = _url("maintenance-task", plan, task.pk), task.owner
        else:
            detail = (
                "No maintenance task refreshes an anonymised copy of production: add one (category "
                f"“Anonymised support copy refresh”) with evidence. Policies allowing anonymised data only: "
                f"{covers}."
            )
            title = "No anonymised copy of production is refreshed"
            link, owner = _url("maintenance-task-create", plan), uncovered[0].approver
        rows.append(
            GapRow(
                source="access",
                code="anonymised_copy_stale",
                severity="high",
                title=title,
                detail=detail,
                owner=owner,
                link=link,
            )
        )

    with_production = {p.party_id for p in policies if p.environment == Environment.PRODUCTION}
    login_people = Person.objects.filter(party=OuterRef("pk"), user__isnull=False)
    login_members = Membership.objects.filter(organisation=OuterRef("pk"))
    parties = (
        Party.objects.filter(plan=plan)
        .annotate(has_logins=Exists(login_people) | Exists(login_members))
        .filter(has_logins=True)
        .exclude(pk__in=with_production)
        .order_by("name")
    )
    for party in parties:
        rows.append(
            GapRow(
                source="access",
                code="party_without_production_policy",
                severity="high" if party.is_external else "medium",
                title=f"No production access policy for {party.name}",
                detail=f"{party.name} has people who sign in to SupportPlan but no decided policy for "
                "production: during a P1 someone would have to decide access on the spot.",
                owner=None,
                link=_url("access-policies", plan) + f"?party={party.pk}",
            )
        )

    waiting = (
        AccessRequest.objects.filter(
            plan=plan, status=AccessRequestStatus.PENDING, created_at__lt=now - PENDING_TOO_LONG
        )
        .select_related("party", "policy__approver")
        .order_by("created_at")
    )
    for access_request in waiting:
        hours = int((now - access_request.created_at).total_seconds() // 3600)
        rows.append(
            GapRow(
                source="access",
                code="access_request_waiting",
                severity="medium",
                title=f"Access request #{access_request.pk} waiting for {hours} h",
                detail=f"{access_request.party.name} asked for "
                f"{Environment(access_request.environment).label.lower()} access {hours} hours ago "
                "and nobody has decided yet.",
                owner=access_request.policy.approver,
                link=_url("access-request-page", plan, access_request.pk),
            )
        )
    return rows
