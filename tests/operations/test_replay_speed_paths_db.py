"""The recompute's shortcuts against the stored world (operations/helpdesk/services/clocks.py): the
target facts kept per query result, and the outbox asked about the running clocks' ladders only."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import time_machine
from django.db.models import F

from operations.engine import engine_for
from operations.helpdesk import services
from operations.helpdesk.replay import PolicyFacts, replay
from operations.helpdesk.services import clocks
from operations.models import Notification, ServiceCalendar, SlaClock, SlaTarget, SupportRequest
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import RES, utc

# The service tests' helpers: a P2 request upserted on a Monday, an event recorded on it.
from tests.operations.test_helpdesk_services import MONDAY_NOON, record, upsert


def straightforward(request: SupportRequest, now):
    """The recompute's replay as it was: every stored clock's ladder looked up in the outbox."""
    policy = request.policy
    targets, calendars = clocks._targets_of_rows.__wrapped__(tuple(clocks._target_rows(policy)))
    events, source_ids = clocks._event_rows(request)
    existing = {(clock.target_id, clock.cycle): clock for clock in clocks._stored_clocks(request)}
    done = clocks._done_keys(request, existing.values(), targets, source_ids)
    result = replay(
        events,
        request_type=request.request_type,
        policy=PolicyFacts(frozenset(policy.pause_statuses or ()), policy.vendor_wait_keeps_vendor_clock),
        targets=targets,
        engines={calendar_id: engine_for(calendar) for calendar_id, calendar in calendars.items()},
        now=now,
        done=done,
    )
    return result, done


@time_machine.travel(MONDAY_NOON, tick=False)
def test_the_outbox_asked_about_the_running_clocks_only_gives_the_full_lookups_clocks(
    needs_postgres, helpdesk, alice, integration
):
    request, _ = upsert(helpdesk, alice, integration, level=2)
    record(request, alice, integration, "public_update", "2027-03-01T09:30Z")
    record(request, alice, integration, "handed_off", "2027-03-01T10:00Z", level=3)
    # Every ladder's first entries are in the outbox: stopped clocks' and running ones'.
    for clock in SlaClock.objects.filter(request=request).select_related("target"):
        for step in clock.target.escalation_steps.all():
            for repeat in (0, 1):
                key = services.step_event_key(clock_id=clock.pk, step_id=step.pk, repeat=repeat)
                Notification.objects.create(
                    plan=helpdesk.plan,
                    dedupe_key=f"{key}:user:1",
                    event_key=key,
                    event_type="sla.warning",
                    subject="A step",
                )
    for now in [utc(2027, 3, 1, 12), utc(2027, 3, 2, 16), utc(2027, 3, 3, 12, 30), utc(2027, 3, 9, 9)]:
        fresh = SupportRequest.objects.get(pk=request.pk)
        computed = clocks._compute(fresh, now=now, keep_policy=True)
        expected, done = straightforward(fresh, now)
        assert asdict(computed.result) == asdict(expected)
        # Entries done for running clocks (they count) and for stopped ones (the shortcut skips them).
        assert any(clock.is_live and done.get(clock.key) for clock in expected.clocks)
        assert any(not clock.is_live and done.get(clock.key) for clock in expected.clocks)


@time_machine.travel(MONDAY_NOON, tick=False)
def test_the_target_facts_kept_per_query_result_follow_a_changed_target_and_calendar(
    needs_postgres, helpdesk, alice, integration
):
    policy = helpdesk.steady_state
    before, calendars = clocks._target_facts(policy)
    assert (before, calendars) == clocks._targets_of_rows.__wrapped__(tuple(clocks._target_rows(policy)))
    target = helpdesk.target("P2", RES)
    SlaTarget.objects.filter(pk=target.pk).update(minutes=F("minutes") + 1)
    ServiceCalendar.objects.filter(pk=target.calendar_id).update(
        updated_at=F("updated_at") + timedelta(seconds=1)
    )
    after, calendars_after = clocks._target_facts(policy)
    assert (after, calendars_after) == clocks._targets_of_rows.__wrapped__(tuple(clocks._target_rows(policy)))
    seconds = {facts.id: facts.seconds for facts in after}
    assert seconds[target.pk] == {facts.id: facts.seconds for facts in before}[target.pk] + 60
    assert calendars_after[target.calendar_id].updated_at == calendars[
        target.calendar_id
    ].updated_at + timedelta(seconds=1)
