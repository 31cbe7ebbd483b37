"""Every endpoint against the whole cast: what each may read and change.

alice and bob lead Northwind; tina is a team member, carol a partner, victor a viewer; dave leads
another plan. Keys are Northwind's read and read-write API keys.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportplan import services
from supportplan.models import ApiKey, Membership
from tests.conftest import api_as

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]


@pytest.fixture
def world(
    plan, other_plan, alice, bob, tina, carol, victor, dave, location, other_location, read_key, write_key
):
    services.api_key_create(plan=other_plan, name="Contoso helpdesk", created_by=dave)
    return {"plan": plan, "location": location, "other_location": other_location}


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def _expect(actor: str, table: dict[str, int]) -> int:
    return table.get(actor, table.get("*"))


# --- Reads ----------------------------------------------------------------------------------
PLAN_LIST_SEES_NORTHWIND = {"dave": False, "anonymous": None, "*": True}


@pytest.mark.parametrize("actor", ACTORS)
def test_the_plan_list_shows_only_the_plans_an_actor_belongs_to(actor, world, request):
    response = client_for(actor, request).get(reverse("plan-api-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    slugs = {item["slug"] for item in response.json()["results"]}
    assert ("northwind" in slugs) is PLAN_LIST_SEES_NORTHWIND.get(actor, True)
    assert ("contoso" in slugs) is (actor == "dave")


@pytest.mark.parametrize("actor", ACTORS)
def test_a_plan_of_another_tenant_is_not_found(actor, world, request):
    response = client_for(actor, request).get(reverse("plan-api-detail", args=["northwind"]))
    assert response.status_code == _expect(actor, {"dave": 404, "anonymous": 401, "*": 200})


LIST_VISIBILITY = {
    # endpoint: actors that see Northwind rows in it
    "location": {"alice", "bob", "tina", "carol", "victor", "read_key", "write_key"},
    "membership": {"alice", "bob", "tina", "carol", "victor"},
    "apikey": {"alice", "bob"},
}


@pytest.mark.parametrize("endpoint", sorted(LIST_VISIBILITY))
@pytest.mark.parametrize("actor", ACTORS)
def test_lists_hold_only_the_rows_the_actor_may_see(endpoint, actor, world, request):
    response = client_for(actor, request).get(reverse(f"{endpoint}-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    plans = {item["plan"] for item in response.json()["results"]}
    assert ("northwind" in plans) is (actor in LIST_VISIBILITY[endpoint])
    assert ("contoso" in plans) is (actor == "dave")


def test_a_partner_sees_only_their_own_membership(world, carol):
    response = api_as(user=carol).get(reverse("membership-list"))
    assert [item["user"] for item in response.json()["results"]] == ["carol"]


# --- Writes ---------------------------------------------------------------------------------
CONFIGURE = {"alice": "ok", "bob": "ok", "dave": 404, "anonymous": 401, "*": 403}


def _status(outcome, ok_status: int) -> int:
    return ok_status if outcome == "ok" else outcome


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_a_plan(actor, world, request):
    response = client_for(actor, request).patch(
        reverse("plan-api-detail", args=["northwind"]), {"description": "Changed"}, format="json"
    )
    assert response.status_code == _status(_expect(actor, CONFIGURE), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_any_signed_in_user_may_create_a_plan_but_no_api_key(actor, world, request):
    body = {"name": f"New plan by {actor}", "slug": f"new-{actor.replace('_', '-')}", "products": ["other"]}
    response = client_for(actor, request).post(reverse("plan-api-list"), body, format="json")
    expected = {"read_key": 403, "write_key": 403, "anonymous": 401, "*": 201}
    assert response.status_code == _expect(actor, expected)


CREATE_IN_NORTHWIND = {"alice": "ok", "bob": "ok", "dave": 400, "anonymous": 401, "*": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_locations(actor, world, request):
    body = {"plan": "northwind", "name": "Leeds", "country": "GB", "timezone": "Europe/London"}
    response = client_for(actor, request).post(reverse("location-list"), body, format="json")
    assert response.status_code == _status(_expect(actor, CREATE_IN_NORTHWIND), 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_locations(actor, world, request):
    url = reverse("location-detail", args=[world["location"].pk])
    response = client_for(actor, request).patch(url, {"user_count": 42}, format="json")
    assert response.status_code == _status(_expect(actor, CONFIGURE), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_locations(actor, world, request):
    response = client_for(actor, request).delete(reverse("location-detail", args=[world["location"].pk]))
    assert response.status_code == _status(_expect(actor, CONFIGURE), 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_members(actor, world, request, django_user_model):
    django_user_model.objects.create_user("newcomer", password="a-long-password-1")
    body = {"plan": "northwind", "user": "newcomer", "role": "viewer"}
    response = client_for(actor, request).post(reverse("membership-list"), body, format="json")
    assert response.status_code == _status(_expect(actor, CREATE_IN_NORTHWIND), 201)


# A partner sees only their own membership, so another member's is simply not there for them.
MEMBER_CHANGE = {**CONFIGURE, "carol": 404}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_roles(actor, world, request, victor):
    url = reverse("membership-detail", args=[Membership.objects.get(user=victor).pk])
    response = client_for(actor, request).patch(url, {"role": "team_member"}, format="json")
    assert response.status_code == _status(_expect(actor, MEMBER_CHANGE), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_members(actor, world, request, victor):
    url = reverse("membership-detail", args=[Membership.objects.get(user=victor).pk])
    response = client_for(actor, request).delete(url)
    assert response.status_code == _status(_expect(actor, MEMBER_CHANGE), 204)


# Only leads see API keys at all; for everyone else a key is simply not there.
KEY_ADMIN = {"alice": "ok", "bob": "ok", "anonymous": 401, "*": 404}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_create_api_keys(actor, world, request):
    body = {"plan": "northwind", "name": "ServiceNow", "scope": "read"}
    response = client_for(actor, request).post(reverse("apikey-list"), body, format="json")
    expected = {"alice": "ok", "bob": "ok", "dave": 400, "anonymous": 401, "*": 403}
    assert response.status_code == _status(_expect(actor, expected), 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_revoke_api_keys(actor, world, request):
    key = ApiKey.objects.get(name="Helpdesk (read)")
    response = client_for(actor, request).post(reverse("apikey-revoke", args=[key.pk]))
    # Keys authenticate before the lookup: the read key is refused for writing, the write key
    # finds no key to revoke (keys never see keys).
    expected = {**KEY_ADMIN, "read_key": 403, "write_key": 403}
    assert response.status_code == _status(_expect(actor, expected), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_read_an_api_key(actor, world, request):
    key = ApiKey.objects.get(name="Helpdesk (read)")
    response = client_for(actor, request).get(reverse("apikey-detail", args=[key.pk]))
    assert response.status_code == _status(_expect(actor, KEY_ADMIN), 200)
