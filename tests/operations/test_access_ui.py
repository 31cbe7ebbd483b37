"""The access pages: the policies matrix, the policy form, asking for access, deciding with the buttons,
the requests list with pending first, and the nav links."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from operations import access_services
from operations.models import AccessPolicy, AccessRequest
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.access_fixtures import NOW, make_policy


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def url(name, *args):
    return reverse(name, args=["northwind", *args])


def test_the_matrix_shows_each_party_by_environment_and_leads_decide_missing_cells(
    client, alice, partner, isv, policy
):
    client.force_login(alice)
    html = client.get(url("access-policies")).content.decode()
    assert "Contoso Consulting" in html and "Wide World WMS" in html
    assert "Anonymised data only" in html and "Max 24 h" in html
    assert f"{url('access-policy-create')}?party={isv.pk}&amp;environment=production" in html
    assert ">Access</a>" in html and "Gaps &amp; risks" in html


def test_a_partner_sees_only_their_organisations_policies_and_no_gaps_link(
    client, carol_of_partner, isv, policy
):
    make_policy(policy.plan, isv, "test", notes="ISV secret note")
    client.force_login(carol_of_partner)
    html = client.get(url("access-policies")).content.decode()
    assert "Contoso Consulting" in html
    assert "Wide World WMS" not in html
    assert "Gaps &amp; risks" not in html


def test_a_lead_creates_a_policy_from_the_form_and_errors_stay_on_the_form(client, alice, partner, approver):
    client.force_login(alice)
    body = {
        "party": partner.pk,
        "environment": "test",
        "data_class": "full",
        "approver": approver.pk,
        "max_duration_hours": 72,
    }
    assert client.post(url("access-policy-create"), body).status_code == 302
    policy = AccessPolicy.objects.get(environment="test")
    assert (policy.approver, policy.max_duration_hours) == (approver, 72)
    again = client.post(url("access-policy-create"), body)
    assert again.status_code == 200
    assert AccessPolicy.objects.filter(environment="test").count() == 1


@pytest.mark.parametrize(("user", "status"), [("tina", 403), ("carol", 403), ("victor", 403)])
def test_only_leads_open_the_policy_form(client, request, partner, user, status):
    client.force_login(request.getfixturevalue(user))
    assert client.get(url("access-policy-create")).status_code == status


def test_a_partner_asks_for_access_for_their_organisation_only(
    client, alice, carol_of_partner, partner, isv, policy
):
    client.force_login(carol_of_partner)
    form = client.get(url("access-request-create")).content.decode()
    assert "Contoso Consulting" in form and "Wide World WMS" not in form
    body = {"party": partner.pk, "environment": "support_copy", "reason": "Trace", "duration_hours": 6}
    response = client.post(url("access-request-create"), body)
    request = AccessRequest.objects.get()
    assert response.status_code == 302 and response.url == url("access-request-page", request.pk)
    assert request.requested_by == carol_of_partner
    refused = client.post(url("access-request-create"), {**body, "party": isv.pk})
    assert refused.status_code == 200
    assert AccessRequest.objects.count() == 1


def test_a_request_longer_than_the_policy_shows_the_maximum_on_the_form(
    client, carol_of_partner, partner, policy
):
    client.force_login(carol_of_partner)
    body = {"party": partner.pk, "environment": "support_copy", "reason": "Long", "duration_hours": 48}
    response = client.post(url("access-request-create"), body)
    assert response.status_code == 200
    assert "at most 24 hours" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_p1_request_under_pre_approval_is_granted_from_the_form(
    client, alice, carol_of_partner, partner, production_policy, open_p1
):
    client.force_login(carol_of_partner)
    body = {
        "party": partner.pk,
        "environment": "production",
        "reason": "P1",
        "duration_hours": 4,
        "support_request": open_p1.pk,
    }
    response = client.post(url("access-request-create"), body, follow=True)
    assert "Granted at once under the P1 pre-approval" in response.content.decode()
    assert AccessRequest.objects.get().auto_approved


def test_a_viewer_may_not_ask(client, victor, policy):
    client.force_login(victor)
    assert client.get(url("access-request-create")).status_code == 403


def test_the_approver_decides_with_the_buttons(client, alice, tina, carol_of_partner, partner, policy):
    access_request = access_services.access_request_create(
        plan=policy.plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="r",
        duration_hours=3,
    )
    client.force_login(tina)
    page = client.get(url("access-request-page", access_request.pk)).content.decode()
    assert "Approve for 3 h" in page and "Deny" in page
    no_reason = client.post(url("access-request-action", access_request.pk, "deny"), {"note": ""})
    assert no_reason.status_code == 400 and "why" in no_reason.content.decode()
    client.post(url("access-request-action", access_request.pk, "approve"), {"note": "ok"})
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    assert "3 h 0 min left" in client.get(url("access-request-page", access_request.pk)).content.decode()


def test_the_requester_sees_no_decide_buttons_and_cannot_post_a_decision(
    client, carol_of_partner, partner, policy
):
    access_request = access_services.access_request_create(
        plan=policy.plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="r",
        duration_hours=3,
    )
    client.force_login(carol_of_partner)
    page = client.get(url("access-request-page", access_request.pk)).content.decode()
    assert "Approve for" not in page and "Cancel my request" in page
    assert client.post(url("access-request-action", access_request.pk, "approve")).status_code == 403
    access_request.refresh_from_db()
    assert access_request.status == "pending"


def test_an_unknown_action_is_404(client, alice, carol_of_partner, partner, policy):
    access_request = access_services.access_request_create(
        plan=policy.plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="r",
        duration_hours=3,
    )
    client.force_login(alice)
    assert client.post(url("access-request-action", access_request.pk, "explode")).status_code == 404


def test_the_requests_list_puts_pending_first(client, alice, bob, carol_of_partner, partner, policy, tina):
    first = access_services.access_request_create(
        plan=policy.plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="one",
        duration_hours=1,
    )
    access_services.access_request_decide(access_request=first, actor=tina, approve=True)
    second = access_services.access_request_create(
        plan=policy.plan, actor=bob, party=partner, environment="support_copy", reason="two", duration_hours=1
    )
    client.force_login(alice)
    html = client.get(url("access-requests-page")).content.decode()
    assert html.index(f'id="request-{second.pk}"') < html.index(f'id="request-{first.pk}"')
    only_pending = client.get(url("access-requests-page"), {"status": "pending"}).content.decode()
    assert f'id="request-{first.pk}"' not in only_pending


def test_the_requests_page_costs_the_same_queries_for_one_row_or_many(client, alice, partner, policy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(number):
        AccessRequest.objects.create(
            plan=policy.plan,
            policy=policy,
            party=partner,
            environment="support_copy",
            requested_by=alice,
            reason=f"Row {number}",
            duration_hours=1,
        )

    client.force_login(alice)
    add(0)
    client.get(url("access-requests-page"))
    with CaptureQueriesContext(connection) as one:
        client.get(url("access-requests-page"))
    for number in range(1, 8):
        add(number)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("access-requests-page")).status_code == 200
    assert len(many) == len(one)
