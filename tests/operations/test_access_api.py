"""The access matrix of the new endpoints (access-policies, access-requests and their actions, risks,
gaps-and-risks) against the whole cast, and bad input: 4xx with field messages, nothing stored.

alice and bob lead Northwind; tina is a team member and the policy's approver, carol a partner of
Contoso Consulting, victor a viewer; dave leads another plan. Keys are Northwind's."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from models_catalog.models import Person
from operations import access_services
from operations.models import AccessPolicy, AccessRequest
from scope.models import RiskEntry
from supportplan import services
from tests.conftest import api_as
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.access_fixtures import NOW, make_policy

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(
    plan,
    other_plan,
    alice,
    bob,
    tina,
    carol_of_partner,
    victor,
    dave,
    read_key,
    write_key,
    partner,
    isv,
    policy,
):
    isv_policy = make_policy(plan, isv, "support_copy")
    foreign_party = other_plan.parties.create(name="Contoso elsewhere", kind="partner")
    foreign_policy = make_policy(other_plan, foreign_party, "test")
    services.api_key_create(plan=other_plan, name="Contoso helpdesk", created_by=dave)
    partner_request = access_services.access_request_create(
        plan=plan,
        actor=carol_of_partner,
        party=partner,
        environment="support_copy",
        reason="Debug",
        duration_hours=4,
    )
    isv_request = access_services.access_request_create(
        plan=plan, actor=alice, party=isv, environment="support_copy", reason="WMS check", duration_hours=4
    )
    risk = RiskEntry.objects.create(plan=plan, title="Key user leaves before go-live", severity="high")
    return {
        "plan": plan,
        "policy": policy,
        "isv_policy": isv_policy,
        "foreign_policy": foreign_policy,
        "partner_request": partner_request,
        "isv_request": isv_request,
        "risk": risk,
    }


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def expect(actor: str, table: dict) -> int:
    return table.get(actor, table.get("*"))


# --- Reads ----------------------------------------------------------------------------------
POLICY_LIST = {
    "alice": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "bob": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "tina": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "victor": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "read_key": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "write_key": {"support_copy:Contoso Consulting", "support_copy:Wide World WMS"},
    "carol": {"support_copy:Contoso Consulting"},
    "dave": {"test:Contoso elsewhere"},
}


@pytest.mark.parametrize("actor", ACTORS)
def test_policy_lists_hold_only_what_the_actor_may_see(actor, world, request):
    response = client_for(actor, request).get(reverse("accesspolicy-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert {f"{row['environment']}:{row['party_name']}" for row in response.json()["results"]} == POLICY_LIST[
        actor
    ]


REQUEST_LIST = {
    "carol": {"Debug"},
    "dave": set(),
    "*": {"Debug", "WMS check"},
}


@pytest.mark.parametrize("actor", ACTORS)
def test_request_lists_show_a_partner_only_their_organisations_requests(actor, world, request):
    response = client_for(actor, request).get(reverse("accessrequest-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert {row["reason"] for row in response.json()["results"]} == expect(actor, REQUEST_LIST)


@pytest.mark.parametrize("actor", ACTORS)
def test_a_partner_cannot_open_another_organisations_request(actor, world, request):
    response = client_for(actor, request).get(reverse("accessrequest-detail", args=[world["isv_request"].pk]))
    assert response.status_code == expect(actor, {"carol": 404, "dave": 404, "anonymous": 401, "*": 200})


@pytest.mark.parametrize("actor", ACTORS)
def test_risks_are_read_by_staff_and_keys_not_partners(actor, world, request):
    response = client_for(actor, request).get(reverse("riskentry-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    titles = {row["title"] for row in response.json()["results"]}
    assert bool(titles) is (actor not in {"carol", "dave"})


GAPS_STATUS = {"carol": 403, "dave": 400, "anonymous": 401, "*": 200}


@pytest.mark.parametrize("actor", ACTORS)
def test_gaps_and_risks_are_for_staff_not_partners(actor, world, request):
    response = client_for(actor, request).get(reverse("gapsandrisks-list"), {"plan": "northwind"})
    assert response.status_code == expect(actor, GAPS_STATUS)
    if response.status_code == 200:
        rows = response.json()["results"]
        assert any(
            row["source"] == "risk-log" and row["title"] == "Key user leaves before go-live" for row in rows
        )


# --- Policy writes --------------------------------------------------------------------------
LEADS_WRITE = {"alice": 201, "bob": 201, "dave": 400, "anonymous": 401, "*": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_create_policies(actor, world, request, partner):
    body = {
        "plan": "northwind",
        "party": partner.pk,
        "environment": "test",
        "data_class": "full",
        "max_duration_hours": 48,
    }
    response = client_for(actor, request).post(reverse("accesspolicy-list"), body, format="json")
    assert response.status_code == expect(actor, LEADS_WRITE)
    assert AccessPolicy.objects.filter(environment="test", party=partner).exists() is (
        response.status_code == 201
    )


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_policies(actor, world, request):
    url = reverse("accesspolicy-detail", args=[world["policy"].pk])
    response = client_for(actor, request).patch(url, {"max_duration_hours": 12}, format="json")
    assert response.status_code == expect(
        actor, {"alice": 200, "bob": 200, "dave": 404, "anonymous": 401, "*": 403}
    )


def test_a_policy_with_an_approver_without_a_login_is_a_field_error(world, alice, partner, plan):
    nobody = Person.objects.create(plan=plan, name="No Login")
    body = {
        "plan": "northwind",
        "party": partner.pk,
        "environment": "development",
        "data_class": "full",
        "approver": nobody.pk,
        "max_duration_hours": 8,
    }
    response = api_as(alice).post(reverse("accesspolicy-list"), body, format="json")
    assert response.status_code == 400
    assert "approver" in response.json()["error"]["fields"]
    assert not AccessPolicy.objects.filter(environment="development").exists()


# --- Request writes -------------------------------------------------------------------------
CREATE_REQUEST = {
    "carol": 201,
    "alice": 201,
    "bob": 201,
    "tina": 201,
    "victor": 403,
    "dave": 400,
    "anonymous": 401,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_ask_for_access_for_the_partner(actor, world, request, partner):
    body = {
        "plan": "northwind",
        "party": partner.pk,
        "environment": "support_copy",
        "reason": "Trace",
        "duration_hours": 2,
    }
    if actor == "carol":
        AccessRequest.objects.filter(requested_by__username="carol").update(status="cancelled")
    response = client_for(actor, request).post(reverse("accessrequest-list"), body, format="json")
    assert response.status_code == expect(actor, {**CREATE_REQUEST, "read_key": 403, "write_key": 403})
    assert AccessRequest.objects.filter(reason="Trace").exists() is (response.status_code == 201)


def test_a_partner_asking_for_another_organisation_is_refused_and_nothing_is_stored(
    world, carol_of_partner, isv
):
    body = {
        "plan": "northwind",
        "party": isv.pk,
        "environment": "support_copy",
        "reason": "Peek",
        "duration_hours": 2,
    }
    response = api_as(carol_of_partner).post(reverse("accessrequest-list"), body, format="json")
    assert response.status_code == 400
    assert "party" in response.json()["error"]["fields"]
    assert not AccessRequest.objects.filter(reason="Peek").exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"environment": "support_copy", "duration_hours": 25}, "duration_hours", "at most 24 hours"),
        ({"environment": "development", "duration_hours": 2}, "environment", "no access policy"),
        ({"environment": "moon", "duration_hours": 2}, "environment", ""),
        ({"environment": "support_copy", "duration_hours": 0}, "duration_hours", ""),
        ({"environment": "support_copy", "duration_hours": "many"}, "duration_hours", ""),
    ],
)
def test_requests_outside_the_policy_are_400_with_the_reason(world, tina, partner, body, field, words):
    payload = {"plan": "northwind", "party": partner.pk, "reason": "Bad", **body}
    response = api_as(tina).post(reverse("accessrequest-list"), payload, format="json")
    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    assert words in " ".join(messages)
    assert not AccessRequest.objects.filter(reason="Bad").exists()


APPROVE = {
    "alice": 200,
    "bob": 200,
    "tina": 200,
    "carol": 403,
    "victor": 403,
    "dave": 404,
    "anonymous": 401,
    "*": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_approve_a_partners_request(actor, world, request):
    url = reverse("accessrequest-approve", args=[world["partner_request"].pk])
    response = client_for(actor, request).post(url, {"note": "ok"}, format="json")
    assert response.status_code == expect(actor, APPROVE)
    world["partner_request"].refresh_from_db()
    assert (world["partner_request"].status == "approved") is (response.status_code == 200)
    if response.status_code == 200:
        assert response.json()["expires_at"].startswith("2026-07-06T13:00:00")
        assert response.json()["time_left_minutes"] == 240


def test_a_denial_without_a_note_is_400_and_with_one_is_stored(world, tina):
    url = reverse("accessrequest-deny", args=[world["partner_request"].pk])
    assert api_as(tina).post(url, {}, format="json").status_code == 400
    response = api_as(tina).post(url, {"note": "Not now"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "denied"


@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_revoke_a_grant(actor, world, request, tina):
    grant = access_services.access_request_decide(
        access_request=world["partner_request"], actor=tina, approve=True
    )
    response = client_for(actor, request).post(
        reverse("accessrequest-revoke", args=[grant.pk]), {}, format="json"
    )
    assert response.status_code == expect(
        actor, {"alice": 200, "bob": 200, "tina": 200, "dave": 404, "anonymous": 401, "*": 403}
    )


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_requester_cancels(actor, world, request):
    url = reverse("accessrequest-cancel", args=[world["partner_request"].pk])
    response = client_for(actor, request).post(url, format="json")
    assert response.status_code == expect(actor, {"carol": 200, "dave": 404, "anonymous": 401, "*": 403})


# --- Risk writes ----------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_write_the_risk_log(actor, world, request):
    body = {"plan": "northwind", "title": "Cut-over weekend clashes with a peak", "severity": "high"}
    response = client_for(actor, request).post(reverse("riskentry-list"), body, format="json")
    assert response.status_code == expect(actor, LEADS_WRITE)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x", "severity": "apocalyptic"}, "severity"),
        ({"title": "x", "status": "maybe"}, "status"),
        ({"title": "x", "due_date": "tomorrow"}, "due_date"),
    ],
)
def test_bad_risks_are_400_with_the_field_and_nothing_is_stored(world, alice, body, field):
    before = RiskEntry.objects.count()
    response = api_as(alice).post(reverse("riskentry-list"), {"plan": "northwind", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert RiskEntry.objects.count() == before


def test_a_risk_owner_from_another_plan_is_refused(world, alice, other_plan):
    stranger = Person.objects.create(plan=other_plan, name="Stranger")
    body = {"plan": "northwind", "title": "x", "owner": stranger.pk}
    response = api_as(alice).post(reverse("riskentry-list"), body, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_a_risk_is_created_changed_and_removed_through_the_api(world, alice, plan):
    owner = Person.objects.create(plan=plan, name="Owner")
    created = api_as(alice).post(
        reverse("riskentry-list"),
        {"plan": "northwind", "title": "Legacy team", "owner": owner.pk},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["severity"] == "medium"
    url = reverse("riskentry-detail", args=[created.json()["id"]])
    changed = api_as(alice).patch(url, {"status": "mitigated", "mitigation": "Cross-training"}, format="json")
    assert (changed.status_code, changed.json()["status"]) == (200, "mitigated")
    assert api_as(alice).delete(url).status_code == 204
    assert not RiskEntry.objects.filter(title="Legacy team").exists()


def test_the_request_list_costs_a_fixed_number_of_queries(
    world, alice, partner, django_assert_max_num_queries
):
    for number in range(6):
        AccessRequest.objects.create(
            plan=world["plan"],
            policy=world["policy"],
            party=partner,
            environment="support_copy",
            requested_by=alice,
            reason=f"Row {number}",
            duration_hours=1,
        )
    client = api_as(alice)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("accessrequest-list"))
    assert response.json()["count"] == 8


@pytest.mark.parametrize(
    "query", [{"plan": "northwind", "source": "weather"}, {"plan": "northwind", "severity": "9"}, {}]
)
def test_bad_gaps_and_risks_filters_are_400(world, alice, query):
    assert api_as(alice).get(reverse("gapsandrisks-list"), query).status_code == 400
