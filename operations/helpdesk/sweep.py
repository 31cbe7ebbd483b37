"""The beat's breach and escalation sweep.

One indexed question: clocks whose ``next_step_at`` has come (the partial index "sla_clock_step_due"),
claimed with ``select_for_update(skip_locked=True)`` so two sweeps never act on one clock. For each
claimed clock the state is re-checked under the lock (nothing for a met, paused or cancelled clock),
the step's action is carried out (notices into the outbox, one per recipient, keyed
``clock:<id>:step:<step id>:<repeat>``, or the level/priority raised through the helpdesk services),
then the clock is advanced to its following step. A bad clock is logged and pushed back; it never
wedges the loop. After downtime every missed step is found again in order and sent once: the event
keys are unique and each pass advances past the step it sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from models_catalog.models import Party
from operations.helpdesk import services as helpdesk_services
from operations.models import ClockState, EscalationAction, EscalationStep, EscalationTrigger, SlaClock
from operations.models.notifications import EventType
from operations.notify.outbox import (
    Recipient,
    dedupe,
    publish,
    recipients_for_party,
    recipients_for_plan_leads,
    recipients_for_role,
)

logger = logging.getLogger(__name__)

#: How long a clock that failed to process waits before the sweep tries it again.
BAD_CLOCK_RETRY = timedelta(minutes=15)
#: States in which a clock's ladder is silent (re-checked under the lock).
SILENT_STATES = frozenset({ClockState.MET, ClockState.PAUSED, ClockState.CANCELLED})
#: Priorities of this rank or more urgent (P1, P2) bypass digests and quiet hours.
URGENT_RANK = 2
#: A clock's steps acted on in one pass at most (a ladder has at most a handful, each repeat bounded).
MAX_STEPS_PER_PASS = 20

NOTIFY_ACTIONS = frozenset(
    {
        EscalationAction.NOTIFY_ROLE,
        EscalationAction.NOTIFY_PERSON,
        EscalationAction.NOTIFY_PARTY,
        EscalationAction.NOTIFY_LEVEL_CONTACT,
    }
)
RAISE_ACTIONS = frozenset({EscalationAction.RAISE_LEVEL, EscalationAction.RAISE_PRIORITY})


def due_clocks(*, now: datetime) -> QuerySet[SlaClock]:
    """The sweep's one question, answered by the partial index "sla_clock_step_due" (the bench
    measures exactly this queryset)."""
    # Ordered by the indexed column alone, so PostgreSQL walks the index and stops at the limit.
    return SlaClock.objects.filter(next_step_at__isnull=False, next_step_at__lte=now).order_by("next_step_at")


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Acts on the due ladder steps of up to ``limit`` clocks; returns how many clocks were processed.

    Safe to run in parallel: clocks locked by another sweep are skipped. ``now`` is aware UTC."""
    now = now or timezone.now()
    processed = 0
    with transaction.atomic():
        ids = list(
            due_clocks(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        clocks = (
            SlaClock.objects.filter(id__in=ids)
            .select_related(
                "plan",
                "request",
                "request__priority",
                "request__current_level",
                "request__current_party",
                "level",
                "next_step",
                "next_step__role",
                "next_step__person",
                "next_step__party",
            )
            .order_by("next_step_at", "id")
        )
        for clock in clocks:
            try:
                with transaction.atomic():
                    clock_step_run(clock=clock, now=now)
            except Exception:
                logger.exception(
                    "SLA clock %s failed in the sweep; retrying in %s.", clock.pk, BAD_CLOCK_RETRY
                )
                SlaClock.objects.filter(pk=clock.pk).update(next_step_at=now + BAD_CLOCK_RETRY)
            processed += 1
    return processed


def clock_step_run(*, clock: SlaClock, now: datetime) -> int:
    """Carries out every due step of one locked clock in order (a breach and a raise due at the same
    minute go out in one pass), advancing it after each. Returns how many steps were acted on (0 for
    a silent clock, whose pending step is dropped)."""
    acted = 0
    while clock.next_step_at is not None and clock.next_step_at <= now and acted < MAX_STEPS_PER_PASS:
        step = clock.next_step
        if clock.state in SILENT_STATES or step is None:
            # Met, paused or cancelled since the step was stored (the services clear it too; this is
            # the check under the lock). A resumed clock gets its step back from the recompute.
            SlaClock.objects.filter(pk=clock.pk).update(next_step_at=None, next_step=None, next_step_repeat=0)
            return acted
        repeat = clock.next_step_repeat
        if step.action in NOTIFY_ACTIONS:
            _notify(clock=clock, step=step, repeat=repeat, now=now)
        elif step.action in RAISE_ACTIONS:
            event = helpdesk_services.escalation_apply(clock=clock, step=step, now=now)
            if event is not None:
                _notify_raise(clock=clock, step=step, repeat=repeat, now=now)
            # The recompute behind the escalation rewrote the request's clocks: read this one again.
            try:
                clock.refresh_from_db()
            except SlaClock.DoesNotExist:  # its target no longer applies: nothing left to advance
                return acted + 1
            clock.next_step, clock.next_step_repeat = step, repeat
        helpdesk_services.clock_step_advance(clock=clock, now=now)
        acted += 1
    return acted


# --- Who is told ---------------------------------------------------------------------------
def step_recipients(*, clock: SlaClock, step: EscalationStep) -> list[Recipient]:
    """The people a notify step reaches: the role's people, the person, the party's people and
    contacts, or the escalation contacts of the parties of the level holding the request."""
    if step.action == EscalationAction.NOTIFY_ROLE and step.role_id:
        return recipients_for_role(plan=clock.plan, role=step.role)
    if step.action == EscalationAction.NOTIFY_PERSON and step.person_id:
        person = step.person
        if not person.user_id and not person.email:
            return []
        return [Recipient(user=person.user if person.user_id else None, person=person, email=person.email)]
    if step.action == EscalationAction.NOTIFY_PARTY and step.party_id:
        return recipients_for_party(party=step.party)
    if step.action == EscalationAction.NOTIFY_LEVEL_CONTACT:
        return level_contacts(clock=clock)
    return []


def level_contacts(*, clock: SlaClock) -> list[Recipient]:
    """Escalation contacts of the parties at the level holding the request now (its party's contact
    when the level names none)."""
    request = clock.request
    level = request.current_level or clock.level
    parties = list(level.parties.order_by("pk")) if level is not None else []
    if not parties and request.current_party is not None:
        parties = [request.current_party]
    recipients = [
        Recipient(email=party.escalation_contact_email or party.contact_email)
        for party in parties
        if party.escalation_contact_email or party.contact_email
    ]
    return dedupe(recipients)


def event_type_for(step: EscalationStep) -> str:
    if step.action in RAISE_ACTIONS or step.trigger == EscalationTrigger.AFTER_BREACH:
        return EventType.SLA_ESCALATED
    if step.trigger == EscalationTrigger.AT_BREACH:
        return EventType.SLA_BREACHED
    return EventType.SLA_WARNING


def is_urgent(clock: SlaClock) -> bool:
    priority = clock.request.priority
    return priority is not None and priority.rank <= URGENT_RANK


def event_key(*, clock: SlaClock, step: EscalationStep, repeat: int) -> str:
    return f"clock:{clock.pk}:step:{step.pk}:{repeat}"


def request_link(clock: SlaClock) -> str:
    try:
        return reverse("request-page", args=[clock.plan.slug, clock.request_id])
    except NoReverseMatch:  # the UI is not mounted (a trimmed deployment)
        return clock.plan.get_absolute_url()


# --- What they are told --------------------------------------------------------------------
def _headline(*, clock: SlaClock, step: EscalationStep, repeat: int) -> str:
    request = clock.request
    code = request.priority.code if request.priority else "—"
    metric = clock.get_metric_display().lower()
    if step.action == EscalationAction.RAISE_LEVEL:
        what = f"{metric} breached: raised to the next support level"
    elif step.action == EscalationAction.RAISE_PRIORITY:
        what = f"{metric} breached: priority raised"
    elif step.trigger == EscalationTrigger.PERCENT_ELAPSED:
        what = f"{step.percent} % of the {metric} time used"
    elif step.trigger == EscalationTrigger.AT_BREACH:
        what = f"{metric} target breached"
    else:
        what = f"{metric} still breached after {step.minutes_after_breach} min"
        if repeat:
            what += f" (reminder {repeat})"
    return f"[{code}] {request.title}: {what}"


def _context(*, clock: SlaClock, step: EscalationStep, repeat: int) -> dict:
    request = clock.request
    return {
        "request_id": request.pk,
        "request": request.title,
        "priority": request.priority.code if request.priority else "",
        "clock_id": clock.pk,
        "metric": clock.metric,
        "state": clock.state,
        "step_id": step.pk,
        "trigger": step.trigger,
        "action": step.action,
        "percent": step.percent,
        "repeat": repeat,
        "breach_at": clock.breach_at.isoformat() if clock.breach_at else None,
        "breached_at": clock.breached_at.isoformat() if clock.breached_at else None,
        "level": request.current_level.number if request.current_level else None,
        "party": request.current_party.name if request.current_party else "",
        "plan": clock.plan.name,
    }


def _body(*, clock: SlaClock, step: EscalationStep, repeat: int) -> str:
    request = clock.request
    lines = [
        f"Request: {request.title}",
        f"Priority: {request.priority.code if request.priority else 'none'} · status: "
        f"{request.get_status_display()}",
        f"Clock: {clock.get_metric_display()} ({clock.target_seconds // 60} min of business time)",
    ]
    if clock.breach_at and clock.state == ClockState.RUNNING and not clock.breached_at:
        lines.append(f"Breaches at: {clock.breach_at:%Y-%m-%d %H:%M} UTC")
    if clock.breached_at:
        lines.append(f"Breached at: {clock.breached_at:%Y-%m-%d %H:%M} UTC")
    holder = ", ".join(
        part
        for part in (
            f"level {request.current_level.number}" if request.current_level else "",
            request.current_party.name if request.current_party else "",
        )
        if part
    )
    if holder:
        lines.append(f"Held by: {holder}")
    return "\n".join(lines)


def _publish(*, clock: SlaClock, step: EscalationStep, repeat: int, recipients, now: datetime) -> None:
    context = _context(clock=clock, step=step, repeat=repeat)
    publish(
        plan=clock.plan,
        event_key=event_key(clock=clock, step=step, repeat=repeat),
        event_type=event_type_for(step),
        recipients=recipients,
        subject=_headline(clock=clock, step=step, repeat=repeat),
        body=_body(clock=clock, step=step, repeat=repeat),
        link=request_link(clock),
        context=context,
        urgent=is_urgent(clock),
        webhook_payload={**context, "plan": clock.plan.slug},
        now=now,
    )


def _notify(*, clock: SlaClock, step: EscalationStep, repeat: int, now: datetime) -> None:
    recipients = step_recipients(clock=clock, step=step)
    if not recipients:
        logger.warning("Step %s of clock %s reaches nobody; telling the plan's leads.", step.pk, clock.pk)
        recipients = recipients_for_plan_leads(plan=clock.plan)
    _publish(clock=clock, step=step, repeat=repeat, recipients=recipients, now=now)


def _notify_raise(*, clock: SlaClock, step: EscalationStep, repeat: int, now: datetime) -> None:
    """A raise is news for the plan's leads and for whoever now holds the request."""
    clock.request.refresh_from_db()
    recipients = recipients_for_plan_leads(plan=clock.plan)
    holder: Party | None = clock.request.current_party
    if holder is not None and holder.escalation_contact_email:
        recipients.append(Recipient(email=holder.escalation_contact_email))
    _publish(clock=clock, step=step, repeat=repeat, recipients=recipients, now=now)
