"""The access request life cycle: asked → granted with an expiry → expired by the sweep (or denied,
revoked, cancelled); requests outside the policy refused with the reason; P1 pre-approval; who may
decide; notices in the outbox and audit rows for every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from operations import access_services as services
from operations.models import AccessPolicy, AccessRequest, Notification
from operations.models.notifications import EventType
from supportplan.models import AuditEntry, Membership
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.access_fixtures import NOW, make_policy, make_request


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def ask(plan, actor, party, environment="support_copy", hours=8, **extra):
    return services.access_request_create(
        plan=plan,
        actor=actor,
        party=party,
        environment=environment,
        reason="Reproduce the posting error",
        duration_hours=hours,
        **extra,
    )


def notices(access_request, event_type):
    return {
        n.recipient_user.username
        for n in Notification.objects.filter(
            context__access_request_id=access_request.pk, event_type=event_type
        ).select_related("recipient_user")
    }


def audit(obj):
    return list(
        AuditEntry.objects.filter(content_type__model=obj._meta.model_name, object_pk=str(obj.pk)).order_by(
            "pk"
        )
    )


@pytest.fixture
def leads(alice, bob):
    return alice, bob


# --- The life cycle -------------------------------------------------------------------------
def test_a_partner_request_waits_for_the_approver_who_is_told_with_the_leads(
    plan, leads, carol_of_partner, partner, policy
):
    request = ask(plan, carol_of_partner, partner)
    assert request.status == "pending"
    assert request.policy == policy
    assert request.expires_at is None
    assert notices(request, EventType.ACCESS_REQUESTED) == {"tina", "alice", "bob"}


def test_the_approver_grants_access_until_now_plus_the_duration_and_the_requester_is_told(
    plan, leads, carol_of_partner, partner, policy, tina
):
    request = ask(plan, carol_of_partner, partner, hours=8)
    granted = services.access_request_decide(access_request=request, actor=tina, approve=True, note="ok")
    assert granted.status == "approved"
    assert granted.granted_from == NOW
    assert granted.expires_at == NOW + timedelta(hours=8)
    assert granted.decided_by == tina
    assert notices(request, EventType.ACCESS_DECIDED) == {"carol"}


def test_the_sweep_expires_a_grant_once_its_time_is_up_and_tells_requester_and_approver(
    plan, leads, carol_of_partner, partner, policy, tina
):
    request = ask(plan, carol_of_partner, partner, hours=8)
    services.access_request_decide(access_request=request, actor=tina, approve=True)
    assert services.access_grants_expire(now=NOW + timedelta(hours=7, minutes=59)) == 0
    assert services.access_grants_expire(now=NOW + timedelta(hours=8)) == 1
    request.refresh_from_db()
    assert request.status == "expired"
    assert request.ended_at == NOW + timedelta(hours=8)
    assert notices(request, EventType.ACCESS_EXPIRED) == {"carol", "tina"}
    assert services.access_grants_expire(now=NOW + timedelta(hours=9)) == 0
    assert Notification.objects.filter(event_type=EventType.ACCESS_EXPIRED).count() == 2


def test_a_bad_row_is_skipped_and_the_other_grants_still_expire(
    plan, leads, carol_of_partner, partner, policy, production_policy, tina, monkeypatch
):
    first = ask(plan, carol_of_partner, partner, "support_copy", hours=1)
    second = ask(plan, carol_of_partner, partner, "production", hours=1)
    for request in (first, second):
        services.access_request_decide(access_request=request, actor=tina, approve=True)
    real = services._expire_one

    def broken_for_first(access_request, now):
        if access_request.pk == first.pk:
            raise RuntimeError("a broken row")
        real(access_request, now)

    monkeypatch.setattr(services, "_expire_one", broken_for_first)
    assert services.access_grants_expire(now=NOW + timedelta(hours=2)) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("approved", "expired")


def test_a_denial_needs_a_reason_and_keeps_it(plan, leads, carol_of_partner, partner, policy, tina):
    request = ask(plan, carol_of_partner, partner)
    with pytest.raises(ValidationError, match="why"):
        services.access_request_decide(access_request=request, actor=tina, approve=False, note=" ")
    denied = services.access_request_decide(
        access_request=request, actor=tina, approve=False, note="Use the test environment."
    )
    assert (denied.status, denied.decision_note, denied.expires_at) == (
        "denied",
        "Use the test environment.",
        None,
    )
    assert notices(request, EventType.ACCESS_DECIDED) == {"carol"}
    with pytest.raises(ValidationError, match="already denied"):
        services.access_request_decide(access_request=request, actor=tina, approve=True)


def test_a_lead_revokes_an_active_grant_before_it_expires(
    plan, leads, carol_of_partner, partner, policy, tina, bob
):
    request = ask(plan, carol_of_partner, partner)
    services.access_request_decide(access_request=request, actor=tina, approve=True)
    revoked = services.access_request_revoke(access_request=request, actor=bob, note="Work finished")
    assert (revoked.status, revoked.ended_at) == ("revoked", NOW)
    assert "Work finished" in revoked.decision_note
    assert services.access_grants_expire(now=NOW + timedelta(days=2)) == 0


def test_the_requester_cancels_their_own_request_and_nobody_else_does(
    plan, leads, carol_of_partner, partner, policy, bob
):
    request = ask(plan, carol_of_partner, partner)
    with pytest.raises(PermissionDenied):
        services.access_request_cancel(access_request=request, actor=bob)
    assert (
        services.access_request_cancel(access_request=request, actor=carol_of_partner).status == "cancelled"
    )


# --- Outside the policy ---------------------------------------------------------------------
def test_a_request_longer_than_the_policy_allows_is_refused_with_the_maximum(
    plan, carol_of_partner, partner, policy
):
    with pytest.raises(ValidationError) as error:
        ask(plan, carol_of_partner, partner, hours=25)
    assert "at most 24 hours" in error.value.message_dict["duration_hours"][0]
    assert not AccessRequest.objects.exists()


def test_an_environment_without_a_policy_is_refused(plan, carol_of_partner, partner, policy):
    with pytest.raises(ValidationError) as error:
        ask(plan, carol_of_partner, partner, "development")
    assert "no access policy" in error.value.message_dict["environment"][0]
    assert not AccessRequest.objects.exists()


def test_a_policy_that_allows_no_access_refuses_with_its_reason(plan, carol_of_partner, partner):
    make_policy(plan, partner, "production", data_class="none", notes="Production is ours alone")
    with pytest.raises(ValidationError, match="Production is ours alone"):
        ask(plan, carol_of_partner, partner, "production")
    assert not AccessRequest.objects.exists()


def test_a_partner_may_ask_only_for_their_own_organisation(plan, carol_of_partner, isv, policy):
    make_policy(plan, isv, "support_copy")
    with pytest.raises(PermissionDenied):
        ask(plan, carol_of_partner, isv)
    assert not AccessRequest.objects.exists()


def test_a_partner_without_an_organisation_is_told_to_ask_a_lead(plan, carol, partner, policy):
    with pytest.raises(ValidationError, match="names no organisation"):
        ask(plan, carol, partner)


def test_a_viewer_cannot_ask_for_access(plan, victor, partner, policy):
    with pytest.raises(PermissionDenied):
        ask(plan, victor, partner)


def test_a_second_request_while_one_is_pending_is_refused(plan, carol_of_partner, partner, policy):
    first = ask(plan, carol_of_partner, partner)
    with pytest.raises(ValidationError, match=f"#{first.pk}"):
        ask(plan, carol_of_partner, partner)


def test_a_party_of_another_plan_is_refused(plan, alice, other_plan):
    from models_catalog.models import Party

    foreign = Party.objects.create(plan=other_plan, name="Elsewhere", kind="partner")
    with pytest.raises(ValidationError, match="party of this plan"):
        ask(plan, alice, foreign)


# --- P1 pre-approval ------------------------------------------------------------------------
def test_an_open_p1_under_a_preapproved_policy_is_granted_at_once_and_reported(
    plan, leads, carol_of_partner, partner, production_policy, open_p1
):
    request = ask(plan, carol_of_partner, partner, "production", hours=4, support_request=open_p1)
    assert request.status == "approved"
    assert request.auto_approved is True
    assert request.expires_at == NOW + timedelta(hours=4)
    assert "P1" in request.decision_note
    assert notices(request, EventType.ACCESS_DECIDED) == {"alice", "bob", "tina"}
    assert notices(request, EventType.ACCESS_REQUESTED) == set()
    assert Notification.objects.filter(context__auto_approved=True).count() == 3


@pytest.mark.parametrize("status", ["resolved", "closed", "cancelled"])
def test_a_p1_that_is_no_longer_open_does_not_preapprove(
    plan, leads, carol_of_partner, partner, production_policy, p1, status
):
    closed = make_request(plan, priority=p1, status=status)
    request = ask(plan, carol_of_partner, partner, "production", hours=4, support_request=closed)
    assert (request.status, request.auto_approved) == ("pending", False)


def test_a_p2_does_not_preapprove(plan, leads, carol_of_partner, partner, production_policy, p2):
    request = ask(
        plan, carol_of_partner, partner, "production", support_request=make_request(plan, priority=p2)
    )
    assert request.status == "pending"


def test_an_open_p1_under_a_policy_without_preapproval_waits(
    plan, leads, carol_of_partner, partner, policy, open_p1
):
    request = ask(plan, carol_of_partner, partner, support_request=open_p1)
    assert request.status == "pending"


# --- Who decides ----------------------------------------------------------------------------
def test_a_lead_cannot_decide_their_own_request(plan, alice, bob, partner, policy):
    request = ask(plan, alice, partner)
    with pytest.raises(PermissionDenied, match="own"):
        services.access_request_decide(access_request=request, actor=alice, approve=True)
    assert (
        services.access_request_decide(access_request=request, actor=bob, approve=True).status == "approved"
    )


def test_only_the_approver_or_a_lead_decides(
    plan, leads, carol_of_partner, partner, policy, victor, tina, django_user_model
):
    request = ask(plan, carol_of_partner, partner)
    other_member = django_user_model.objects.create(username="tom")
    Membership.objects.create(plan=plan, user=other_member, role="team_member")
    for outsider in (victor, other_member):
        with pytest.raises(PermissionDenied):
            services.access_request_decide(access_request=request, actor=outsider, approve=True)
    request.refresh_from_db()
    assert request.status == "pending"
    assert (
        services.access_request_decide(access_request=request, actor=tina, approve=True).status == "approved"
    )


def test_the_approver_cannot_approve_when_the_policy_was_tightened_meanwhile(
    plan, leads, carol_of_partner, partner, policy, tina
):
    request = ask(plan, carol_of_partner, partner, hours=20)
    services.access_policy_update(policy=policy, max_duration_hours=10)
    with pytest.raises(ValidationError, match="at most 10 hours"):
        services.access_request_decide(access_request=request, actor=tina, approve=True)


# --- Audit ----------------------------------------------------------------------------------
def test_every_step_of_the_life_cycle_is_an_audit_row(plan, leads, carol_of_partner, partner, policy, tina):
    request = ask(plan, carol_of_partner, partner)
    services.access_request_decide(access_request=request, actor=tina, approve=True)
    services.access_grants_expire(now=NOW + timedelta(days=1))
    rows = audit(request)
    assert [row.action for row in rows] == [
        AuditEntry.Action.CREATE,
        AuditEntry.Action.UPDATE,
        AuditEntry.Action.UPDATE,
    ]
    assert rows[1].changes_dict["status"] == ["pending", "approved"]
    assert rows[2].changes_dict["status"] == ["approved", "expired"]
    assert all(row.plan_id == plan.pk for row in rows)
    assert audit(policy)[0].action == AuditEntry.Action.CREATE


# --- Policies -------------------------------------------------------------------------------
def test_a_policy_approver_needs_a_login(plan, partner):
    from models_catalog.models import Person

    nobody = Person.objects.create(plan=plan, name="No Login")
    with pytest.raises(ValidationError, match="no SupportPlan login"):
        services.access_policy_create(
            plan=plan,
            party=partner,
            environment="test",
            data_class="full",
            approver=nobody,
            max_duration_hours=8,
        )
    assert not AccessPolicy.objects.exists()


def test_a_second_policy_for_the_same_party_and_environment_is_refused(plan, partner, policy):
    with pytest.raises(ValidationError, match="already has a policy"):
        services.access_policy_create(
            plan=plan, party=partner, environment="support_copy", data_class="full", max_duration_hours=8
        )


def test_a_no_access_policy_cannot_preapprove_p1(plan, partner):
    with pytest.raises(ValidationError) as error:
        services.access_policy_create(
            plan=plan,
            party=partner,
            environment="production",
            data_class="none",
            preapproved_for_p1=True,
            max_duration_hours=1,
        )
    assert "preapproved_for_p1" in error.value.message_dict


def test_a_policy_with_requests_is_kept_for_their_history(plan, alice, partner, policy):
    ask(plan, alice, partner)
    with pytest.raises(ValidationError, match="history"):
        services.access_policy_delete(policy=policy)
    assert AccessPolicy.objects.filter(pk=policy.pk).exists()


# --- Demo -----------------------------------------------------------------------------------
def test_the_demo_has_partner_and_isv_policies_one_pending_and_one_expired_request_and_converges(
    plan, alice, bob, carol
):
    from models_catalog.demo import seed_support_model
    from operations.access_demo import seed_access_demo

    seed_support_model(plan=plan)
    seed_access_demo(plan=plan)
    seed_access_demo(plan=plan)
    policies = AccessPolicy.objects.filter(plan=plan)
    assert {p.party.name for p in policies} == {"Contoso Consulting", "Wide World Warehousing (WMS ISV)"}
    assert policies.filter(preapproved_for_p1=True).exists()
    assert all(p.approver.user == bob for p in policies.exclude(data_class="none"))
    assert sorted(AccessRequest.objects.filter(plan=plan).values_list("status", flat=True)) == [
        "expired",
        "pending",
    ]
