"""The partner view (/plans/<slug>/partner/): carol, a partner of Contoso Consulting, sees only her
organisation's support requests, maintenance tasks, access requests and grants — on the page and
through the API endpoints the page's querysets come from."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from operations import access_services
from operations.models import MaintenanceTask, RequestEvent
from tests.conftest import api_as
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.access_fixtures import NOW, make_policy, make_request


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _task(plan, title, **fields):
    return MaintenanceTask.objects.create(
        plan=plan,
        title=title,
        rrule="FREQ=MONTHLY;BYMONTHDAY=1",
        starts_on=date(2026, 1, 1),
        local_time=time(9, 0),
        timezone="Europe/London",
        **fields,
    )


@pytest.fixture
def scene(plan, alice, tina, carol_of_partner, partner, isv, policy):
    make_policy(plan, isv, "support_copy")
    ours = make_request(plan, title="Partner holds this", party=partner)
    held_before = make_request(plan, title="Partner held this once", party=isv)
    RequestEvent.objects.create(
        plan=plan, request=held_before, sequence=1, kind="handed_off", occurred_at=NOW, party=partner
    )
    theirs = make_request(plan, title="Only the ISV's", party=isv)
    _task(plan, "Refresh the anonymised copy", responsible_party=partner)
    _task(plan, "WMS index rebuild", responsible_party=isv)
    grant = access_services.access_request_create(
        plan=plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="Our grant",
        duration_hours=5,
    )
    access_services.access_request_decide(access_request=grant, actor=tina, approve=True)
    access_services.access_request_create(
        plan=plan,
        actor=alice,
        party=isv,
        environment="support_copy",
        reason="The ISV's request",
        duration_hours=2,
    )
    return {"ours": ours, "held_before": held_before, "theirs": theirs}


def page(client, user, **query):
    client.force_login(user)
    return client.get(reverse("partner-view", args=["northwind"]), query)


def test_a_partner_sees_their_organisations_requests_tasks_and_grants_and_nothing_else(
    client, scene, carol_of_partner
):
    response = page(client, carol_of_partner)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your organisation" in html and "Contoso Consulting" in html
    for ours in (
        "Partner holds this",
        "Partner held this once",
        "Refresh the anonymised copy",
        "Support copy of production",
    ):
        assert ours in html
    assert "5 h 0 min left" in html
    for theirs in ("Only the ISV", "WMS index rebuild", "The ISV&#x27;s request", "The ISV's request"):
        assert theirs not in html


def test_a_partner_cannot_look_at_another_party_through_the_query(client, scene, carol_of_partner, isv):
    html = page(client, carol_of_partner, party=isv.pk).content.decode()
    assert "WMS index rebuild" not in html
    assert "Partner holds this" in html


def test_staff_preview_what_a_party_sees(client, scene, bob, isv):
    html = page(client, bob, party=isv.pk).content.decode()
    assert "WMS index rebuild" in html and "Only the ISV" in html
    assert "Refresh the anonymised copy" not in html


def test_a_partner_without_an_organisation_is_told_so(client, carol, plan):
    html = page(client, carol).content.decode()
    assert "names no organisation" in html


def test_another_plans_lead_gets_404_and_anonymous_users_sign_in(client, scene, dave):
    assert page(client, dave).status_code == 404
    client.logout()
    response = client.get(reverse("partner-view", args=["northwind"]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_api_gives_a_partner_only_their_organisations_rows(scene, carol_of_partner):
    client = api_as(carol_of_partner)
    requests = client.get(reverse("supportrequest-list"))
    assert requests.status_code == 200
    assert {row["id"] for row in requests.json()["results"]} == {scene["ours"].pk, scene["held_before"].pk}
    tasks = client.get(reverse("maintenancetask-list"))
    assert {row["title"] for row in tasks.json()["results"]} == {"Refresh the anonymised copy"}
    access_rows = client.get(reverse("accessrequest-list")).json()["results"]
    assert {row["reason"] for row in access_rows} == {"Our grant"}
    assert access_rows[0]["time_left_minutes"] == 300
    assert client.get(reverse("supportrequest-detail", args=[scene["theirs"].pk])).status_code == 404


def test_the_grant_shows_less_time_left_as_time_passes(client, scene, carol_of_partner):
    with time_machine.travel(NOW + timedelta(hours=3, minutes=30), tick=False):
        html = page(client, carol_of_partner).content.decode()
    assert "1 h 30 min left" in html
