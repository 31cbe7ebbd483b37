"""Writes for partner access: policies decided before they are needed (party × environment) and access
requests whose approved grants expire on their own (domain 4.8).

Every write goes through ``.save()`` on ``AccessPolicy`` / ``AccessRequest`` (both registered with the
audit log), so each step of a request's life — asked, granted or denied, revoked, cancelled, expired —
is an audit row. Notices go through the reminders outbox (``operations.notify.outbox.publish``) inside
the same transaction: a rolled-back decision never notifies anyone.

All instants are aware UTC (``timezone.now()``); durations are whole hours.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from models_catalog.models import Party, Person
from operations.access_selectors import access_gaps  # noqa: F401 -- part of this module's contract
from operations.models import AccessPolicy, AccessRequest, AccessRequestStatus, DataClass, Environment
from operations.models.notifications import EventType
from operations.models.requests import SupportRequest
from operations.notify.outbox import (
    Recipient,
    dedupe,
    publish,
    recipients_for_all_leads,
    recipients_for_people,
)
from operations.statuses import RequestStatus
from supportplan import access
from supportplan.lib.services import apply_fields
from supportplan.models import Membership, PlanRole, SupportPlan

logger = logging.getLogger(__name__)

#: Statuses of a support request that is no longer open (a P1 in them does not pre-approve access).
CLOSED_REQUEST_STATUSES = frozenset({RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.CANCELLED})
#: Roles that may ask for access (viewers read only).
REQUESTING_ROLES = frozenset(
    {PlanRole.PROJECT_LEAD, PlanRole.SUPPORT_LEAD, PlanRole.TEAM_MEMBER, PlanRole.PARTNER}
)
#: How many expired grants one sweep handles; the next beat tick takes the rest.
EXPIRE_BATCH = 500


# --- Policies -------------------------------------------------------------------------------
#: What a lead edits on an access policy, in the order the form shows it.
POLICY_FIELDS = (
    "party",
    "environment",
    "data_class",
    "approver",
    "preapproved_for_p1",
    "max_duration_hours",
    "notes",
)


def _check_policy(policy: AccessPolicy) -> None:
    errors: dict[str, str] = {}
    if policy.party_id and policy.party.plan_id != policy.plan_id:
        errors["party"] = "Choose a party of this plan."
    if policy.approver_id:
        if policy.approver.plan_id != policy.plan_id:
            errors["approver"] = "Choose a person of this plan."
        elif not policy.approver.user_id:
            errors["approver"] = (
                f"{policy.approver.name} has no SupportPlan login, so could not approve requests; "
                "link their login on the team page or choose someone else."
            )
    if policy.data_class == DataClass.NONE and policy.preapproved_for_p1:
        errors["preapproved_for_p1"] = "A policy that allows no access cannot pre-approve P1 requests."
    if errors:
        raise ValidationError(errors)
    policy.full_clean(validate_constraints=False)
    clash = AccessPolicy.objects.filter(party_id=policy.party_id, environment=policy.environment)
    if policy.pk:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise ValidationError(
            {
                "environment": f"{policy.party} already has a policy for "
                f"{Environment(policy.environment).label.lower()}; change that one instead."
            }
        )


@transaction.atomic
def access_policy_create(*, plan: SupportPlan, **fields: Any) -> AccessPolicy:
    """A policy for one party in one environment (unique). The approver needs a login."""
    policy = AccessPolicy(plan=plan)
    apply_fields(policy, fields, POLICY_FIELDS)
    _check_policy(policy)
    policy.save()
    return policy


@transaction.atomic
def access_policy_update(*, policy: AccessPolicy, **fields: Any) -> AccessPolicy:
    """Changes a policy. Grants already given keep their expiry; new requests follow the new rules."""
    policy = AccessPolicy.objects.select_for_update().get(pk=policy.pk)
    changed = apply_fields(policy, fields, POLICY_FIELDS)
    _check_policy(policy)
    policy.save(update_fields=[*changed, "updated_at"])
    return policy


@transaction.atomic
def access_policy_delete(*, policy: AccessPolicy) -> None:
    """Removes a policy nobody has asked under yet; one with requests keeps their history."""
    used = policy.requests.count()
    if used:
        raise ValidationError(
            {
                "non_field_errors": f"{used} access request(s) were made under this policy; change it to "
                "“No access” instead of removing it, so their history stays."
            }
        )
    policy.delete()


# --- Helpers --------------------------------------------------------------------------------
def _user_actor(actor: Any) -> Any:
    if actor is None or not getattr(actor, "is_authenticated", False) or access.is_api_key(actor):
        raise PermissionDenied("Access is requested and decided by people, not API keys.")
    return actor


def _request_link(access_request: AccessRequest) -> str:
    return reverse("access-request-page", args=[access_request.plan.slug, access_request.pk])


def _environment_label(value: str) -> str:
    return Environment(value).label if value in Environment.values else value


def _approver_recipients(policy: AccessPolicy) -> list[Recipient]:
    return recipients_for_people([policy.approver]) if policy.approver_id else []


def _requester_recipient(access_request: AccessRequest) -> list[Recipient]:
    return [Recipient(user=access_request.requested_by)]


def _context(access_request: AccessRequest) -> dict[str, Any]:
    return {
        "access_request_id": access_request.pk,
        "party": access_request.party.name,
        "environment": access_request.environment,
        "status": access_request.status,
        "expires_at": access_request.expires_at.isoformat() if access_request.expires_at else None,
    }


def _notify(
    access_request: AccessRequest,
    *,
    what: str,
    event_type: str,
    recipients: list[Recipient],
    subject: str,
    body: str,
    now: datetime,
    urgent: bool = True,
    context: dict[str, Any] | None = None,
) -> None:
    """One notice about the request (event ``access:<id>:<what>``, written once), linking to its page."""
    publish(
        plan=access_request.plan,
        event_key=f"access:{access_request.pk}:{what}",
        event_type=event_type,
        recipients=recipients,
        subject=subject,
        body=body,
        link=_request_link(access_request),
        context={**_context(access_request), **(context or {})},
        urgent=urgent,
        now=now,
    )


def _who(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "someone"


def is_open_p1(support_request: SupportRequest | None) -> bool:
    """An open P1: priority rank 1 and not resolved, closed or cancelled."""
    return (
        support_request is not None
        and support_request.priority_id is not None
        and support_request.priority.rank == 1
        and support_request.status not in CLOSED_REQUEST_STATUSES
    )


def may_decide(user: Any, access_request: AccessRequest) -> bool:
    """The policy's approver (their login) or a lead — never the requester themselves."""
    if not access._is_user(user) or user.pk == access_request.requested_by_id:
        return False
    approver = access_request.policy.approver
    return bool(
        (approver is not None and approver.user_id == user.pk)
        or access.can_configure(user, access_request.plan)
    )


# --- Requests -------------------------------------------------------------------------------
@transaction.atomic
def access_request_create(
    *,
    plan: SupportPlan,
    actor: Any,
    party: Party,
    environment: str,
    reason: str,
    duration_hours: int,
    support_request: SupportRequest | None = None,
    now: datetime | None = None,
) -> AccessRequest:
    """Asks for access to ``environment`` for ``party`` for ``duration_hours``.

    Refused (400, nothing stored) when no policy covers the party and environment, the policy allows
    no access, or the duration is longer than the policy allows; a partner may ask only for their own
    organisation (403). Under a policy pre-approved for P1 incidents, a request linked to an open P1 is
    granted at once (until now + duration) and reported to the leads and the approver; otherwise it
    waits for the approver, who is notified with the leads.
    """
    actor = _user_actor(actor)
    now = now or timezone.now()
    role = access.role_in(actor, plan)
    if not actor.is_superuser and role not in REQUESTING_ROLES:
        raise PermissionDenied("Viewers cannot ask for access.")
    if party is None or party.plan_id != plan.pk:
        raise ValidationError({"party": "Choose a party of this plan."})
    if role == PlanRole.PARTNER:
        organisation_id = (
            Membership.objects.filter(plan=plan, user=actor).values_list("organisation_id", flat=True).first()
        )
        if organisation_id is None:
            raise ValidationError(
                {"party": "Your membership names no organisation; ask a lead of the plan to set it."}
            )
        if organisation_id != party.pk:
            raise PermissionDenied("You may ask for access only for your own organisation.")
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Choose one of: {', '.join(Environment.values)}."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why access is needed (what you will do, which request)."})
    if support_request is not None and support_request.plan_id != plan.pk:
        raise ValidationError({"support_request": "Choose a support request of this plan."})
    if not isinstance(duration_hours, int) or isinstance(duration_hours, bool) or duration_hours < 1:
        raise ValidationError({"duration_hours": "Give the duration in whole hours, at least 1."})

    policy = (
        AccessPolicy.objects.filter(plan=plan, party=party, environment=environment)
        .select_related("approver__user")
        .first()
    )
    env_label = _environment_label(environment).lower()
    if policy is None:
        raise ValidationError(
            {
                "environment": f"There is no access policy for {party.name} in {env_label}; "
                "a lead must decide one before access can be requested."
            }
        )
    if policy.data_class == DataClass.NONE:
        why = f" ({policy.notes.strip()})" if policy.notes.strip() else ""
        raise ValidationError(
            {"environment": f"The policy gives {party.name} no access to {env_label}{why}; request refused."}
        )
    if duration_hours > policy.max_duration_hours:
        raise ValidationError(
            {
                "duration_hours": f"The policy allows at most {policy.max_duration_hours} hours for "
                f"{party.name} in {env_label}; ask for {policy.max_duration_hours} hours or fewer."
            }
        )
    already = AccessRequest.objects.filter(
        Q(status=AccessRequestStatus.PENDING) | Q(status=AccessRequestStatus.APPROVED, expires_at__gt=now),
        plan=plan,
        party=party,
        environment=environment,
        requested_by=actor,
    ).first()
    if already is not None:
        state = "is waiting for approval" if already.status == AccessRequestStatus.PENDING else "is active"
        raise ValidationError(
            {"environment": f"Your request #{already.pk} for {env_label} {state}; use or cancel it first."}
        )

    access_request = AccessRequest(
        plan=plan,
        policy=policy,
        party=party,
        environment=environment,
        requested_by=actor,
        reason=reason.strip(),
        support_request=support_request,
        duration_hours=duration_hours,
    )
    auto = policy.preapproved_for_p1 and is_open_p1(support_request)
    if auto:
        access_request.status = AccessRequestStatus.APPROVED
        access_request.auto_approved = True
        access_request.decided_at = now
        access_request.granted_from = now
        access_request.expires_at = now + timedelta(hours=duration_hours)
        access_request.decision_note = (
            f"Granted at once: the policy pre-approves access during P1 incidents "
            f"({support_request.priority.code} “{support_request.title}”)."
        )
    access_request.full_clean()
    access_request.save()

    leads = recipients_for_all_leads(plan=plan)
    who = _who(actor)
    if auto:
        _notify(
            access_request,
            what="decided",
            event_type=EventType.ACCESS_DECIDED,
            recipients=dedupe([*leads, *_approver_recipients(policy)]),
            subject=f"P1 access granted at once: {party.name} → {_environment_label(environment)} "
            f"for {duration_hours} h",
            body=f"{who} was granted access to {env_label} under the P1 pre-approval of the policy, until "
            f"{access_request.expires_at:%Y-%m-%d %H:%M} UTC.\nP1: {support_request.title}\n"
            f"Reason: {access_request.reason}",
            context={"auto_approved": True},
            now=now,
        )
    else:
        _notify(
            access_request,
            what="requested",
            event_type=EventType.ACCESS_REQUESTED,
            recipients=dedupe([*_approver_recipients(policy), *leads]),
            subject=f"Access requested: {party.name} → {_environment_label(environment)} "
            f"for {duration_hours} h",
            body=f"{who} asks for access to {env_label} for {duration_hours} hours.\n"
            f"Reason: {access_request.reason}",
            now=now,
        )
    return access_request


def _locked(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("plan", "party", "policy__approver", "requested_by")
        .get(pk=access_request.pk)
    )


@transaction.atomic
def access_request_decide(
    *, access_request: AccessRequest, actor: Any, approve: bool, note: str = "", now: datetime | None = None
) -> AccessRequest:
    """Approves (grant from now until now + duration) or denies a pending request. Only the policy's
    approver or a lead decides, and never their own request; a denial needs a reason."""
    actor = _user_actor(actor)
    now = now or timezone.now()
    access_request = _locked(access_request)
    if actor.pk == access_request.requested_by_id:
        raise PermissionDenied("You cannot decide your own access request; the approver or a lead does.")
    if not may_decide(actor, access_request):
        raise PermissionDenied("Only the approver named by the policy or a lead of the plan decides.")
    if access_request.status != AccessRequestStatus.PENDING:
        raise ValidationError(
            {"status": f"This request is already {access_request.get_status_display().lower()}."}
        )
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": "Say why the request is denied."})
    policy = access_request.policy
    if approve:
        if policy.data_class == DataClass.NONE:
            raise ValidationError(
                {"status": "The policy now allows no access; the request can only be denied."}
            )
        if access_request.duration_hours > policy.max_duration_hours:
            raise ValidationError(
                {
                    "duration_hours": f"The policy now allows at most {policy.max_duration_hours} hours; "
                    "deny this request and ask for a new one."
                }
            )
        access_request.status = AccessRequestStatus.APPROVED
        access_request.granted_from = now
        access_request.expires_at = now + timedelta(hours=access_request.duration_hours)
    else:
        access_request.status = AccessRequestStatus.DENIED
    access_request.decided_by = actor
    access_request.decided_at = now
    access_request.decision_note = note
    access_request.full_clean()
    access_request.save(
        update_fields=[
            "status",
            "granted_from",
            "expires_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "updated_at",
        ]
    )
    env_label = _environment_label(access_request.environment)
    if approve:
        until = f"{access_request.expires_at:%Y-%m-%d %H:%M} UTC"
        subject = f"Access granted: {access_request.party.name} → {env_label} until {until}"
    else:
        subject = f"Access denied: {access_request.party.name} → {env_label}"
    _notify(
        access_request,
        what="decided",
        event_type=EventType.ACCESS_DECIDED,
        recipients=_requester_recipient(access_request),
        subject=subject,
        body=f"Decided by {_who(actor)}." + (f"\nNote: {note}" if note else ""),
        now=now,
    )
    return access_request


@transaction.atomic
def access_request_revoke(
    *, access_request: AccessRequest, actor: Any, note: str = "", now: datetime | None = None
) -> AccessRequest:
    """Ends an active grant before its expiry (the approver or a lead); the requester is told."""
    actor = _user_actor(actor)
    now = now or timezone.now()
    access_request = _locked(access_request)
    approver = access_request.policy.approver
    is_approver = approver is not None and approver.user_id == actor.pk
    if not (is_approver or access.can_configure(actor, access_request.plan)):
        raise PermissionDenied("Only the approver named by the policy or a lead revokes access.")
    if access_request.status != AccessRequestStatus.APPROVED:
        raise ValidationError(
            {
                "status": "Only active grants can be revoked; this one is "
                f"{access_request.get_status_display().lower()}."
            }
        )
    access_request.status = AccessRequestStatus.REVOKED
    access_request.ended_at = now
    note = (note or "").strip()
    if note:
        access_request.decision_note = f"{access_request.decision_note}\nRevoked: {note}".strip()
    access_request.save(update_fields=["status", "ended_at", "decision_note", "updated_at"])
    _notify(
        access_request,
        what="revoked",
        event_type=EventType.ACCESS_DECIDED,
        recipients=_requester_recipient(access_request),
        subject=f"Access revoked: {access_request.party.name} → "
        f"{_environment_label(access_request.environment)}",
        body=f"Revoked by {_who(actor)}." + (f"\nNote: {note}" if note else ""),
        now=now,
    )
    return access_request


@transaction.atomic
def access_request_cancel(
    *, access_request: AccessRequest, actor: Any, now: datetime | None = None
) -> AccessRequest:
    """The requester withdraws a pending request or hands back an active grant early."""
    actor = _user_actor(actor)
    now = now or timezone.now()
    access_request = _locked(access_request)
    if actor.pk != access_request.requested_by_id:
        raise PermissionDenied("Only the person who asked can cancel a request.")
    if access_request.status not in {AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED}:
        raise ValidationError(
            {"status": f"This request is already {access_request.get_status_display().lower()}."}
        )
    if access_request.status == AccessRequestStatus.APPROVED:
        access_request.ended_at = now
    access_request.status = AccessRequestStatus.CANCELLED
    access_request.save(update_fields=["status", "ended_at", "updated_at"])
    return access_request


def _expire_one(access_request: AccessRequest, now: datetime) -> None:
    access_request.status = AccessRequestStatus.EXPIRED
    access_request.ended_at = now
    access_request.save(update_fields=["status", "ended_at", "updated_at"])
    env_label = _environment_label(access_request.environment)
    _notify(
        access_request,
        what="expired",
        event_type=EventType.ACCESS_EXPIRED,
        recipients=dedupe(
            [*_requester_recipient(access_request), *_approver_recipients(access_request.policy)]
        ),
        subject=f"Access expired: {access_request.party.name} → {env_label}",
        body=f"The grant of {access_request.duration_hours} h to {env_label} ended at "
        f"{access_request.expires_at:%Y-%m-%d %H:%M} UTC. Ask again if more work is needed.",
        now=now,
        urgent=False,
    )


def access_grants_expire(*, now: datetime | None = None, limit: int = EXPIRE_BATCH) -> int:
    """Marks grants whose expiry has passed as expired and notifies the requester and the approver.

    One indexed question (the partial index ``access_grant_expiry_due``: approved rows by
    ``expires_at``), rows claimed with ``select_for_update(skip_locked=True)`` so two sweeps never
    handle one grant; each row in its own savepoint, so a bad row is logged and skipped. Returns how
    many grants expired."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = list(
            AccessRequest.objects.filter(status=AccessRequestStatus.APPROVED, expires_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("plan", "party", "policy__approver__user", "requested_by")
            .order_by("expires_at", "pk")[:limit]
        )
        for access_request in due:
            try:
                with transaction.atomic():
                    _expire_one(access_request, now)
            except Exception:
                logger.exception(
                    "Could not expire access grant %s; the next sweep retries it.", access_request.pk
                )
                continue
            expired += 1
    return expired


def person_for(*, plan: SupportPlan, user: Any) -> Person | None:
    """The user's person in the plan (for "my approvals"), if any."""
    return Person.objects.filter(plan=plan, user=user).first() if access._is_user(user) else None
