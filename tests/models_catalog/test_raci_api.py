"""The RACI over the API: rows (``responsibilities``), cells (``raci-assignments``) and the
``violations`` list, against the whole cast; then bad input.

alice and bob lead Northwind; tina is a team member, carol a partner, victor a viewer; dave leads
Contoso. Keys are Northwind's read and read-write API keys. The RACI is configuration: only leads
change it, and no API key does.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from models_catalog.models import RaciAssignment, Responsibility
from tests.conftest import api_as
from tests.models_catalog.raci_fixtures import build_other_plan_raci, build_raci

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]


@pytest.fixture
def world(plan, other_plan, alice, bob, tina, carol, victor, dave, read_key, write_key):
    return {"grid": build_raci(plan), "contoso": build_other_plan_raci(other_plan)}


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def _expect(actor: str, table: dict) -> int | str:
    return table.get(actor, table.get("*"))


def _status(outcome, ok_status: int) -> int:
    return ok_status if outcome == "ok" else outcome


def errors_of(response) -> dict[str, list[str]]:
    return response.json()["error"]["fields"]


# --- Reads ----------------------------------------------------------------------------------
# Partners see nothing of the RACI (it is not assigned to their organisation).
SEES_NORTHWIND = {"alice", "bob", "tina", "victor", "read_key", "write_key"}


@pytest.mark.parametrize("endpoint", ["responsibility", "raciassignment"])
@pytest.mark.parametrize("actor", ACTORS)
def test_lists_hold_only_the_rows_the_actor_may_see(endpoint, actor, world, request):
    response = client_for(actor, request).get(reverse(f"{endpoint}-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    plans = {item["plan"] for item in response.json()["results"]}
    assert ("northwind" in plans) is (actor in SEES_NORTHWIND)
    assert ("contoso" in plans) is (actor == "dave")


def test_a_responsibility_reads_with_its_plan_position_and_seed_key(world, tina):
    data_quality = world["grid"].data_quality
    body = api_as(user=tina).get(reverse("responsibility-detail", args=[data_quality.pk])).json()
    assert body == {
        "id": data_quality.pk,
        "plan": "northwind",
        "name": "Data quality maintenance",
        "description": "",
        "position": 2,
        "seed_key": "data_quality",
    }


def test_cells_filter_by_plan_responsibility_and_letter(world, alice):
    grid = world["grid"]
    client = api_as(user=alice)
    cells = client.get(
        reverse("raciassignment-list"), {"responsibility": grid.technical_areas.pk, "letter": "R"}
    ).json()["results"]
    assert {(cell["role"], cell["party"]) for cell in cells} == {
        (grid.technical_expert.pk, None),
        (None, grid.partner.pk),
    }
    assert client.get(reverse("raciassignment-list"), {"plan": "contoso"}).json()["count"] == 0
    assert client.get(reverse("responsibility-list"), {"plan": "northwind"}).json()["count"] == 5


VIOLATIONS_IN_NORTHWIND = {
    "alice": 6,
    "bob": 6,
    "tina": 6,
    "victor": 6,
    "read_key": 6,
    "write_key": 6,
    "*": 0,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_the_violations_list_covers_the_plans_the_actor_may_see(actor, world, request):
    response = client_for(actor, request).get(reverse("responsibility-violations"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    northwind = [item for item in response.json() if item["plan"] == "northwind"]
    assert len(northwind) == _expect(actor, VIOLATIONS_IN_NORTHWIND)
    # Contoso's only row has an A but no R.
    contoso = [item["code"] for item in response.json() if item["plan"] == "contoso"]
    assert contoso == (["no_responsible"] if actor == "dave" else [])


def test_the_violations_list_names_the_row_and_says_what_is_wrong(world, bob):
    data_quality = world["grid"].data_quality
    body = api_as(user=bob).get(reverse("responsibility-violations"), {"plan": "northwind"}).json()
    assert body[0] == {
        "plan": "northwind",
        "responsibility": data_quality.pk,
        "responsibility_name": "Data quality maintenance",
        "code": "no_accountable",
        "message": "Data quality maintenance has no A: exactly one role or party must be accountable.",
    }
    assert api_as(user=bob).get(reverse("responsibility-violations"), {"plan": "contoso"}).json() == []


def test_the_violations_list_costs_a_fixed_number_of_queries(
    world, dave, alice, django_assert_max_num_queries
):
    Responsibility.objects.create(plan=world["contoso"].plan, name="Data quality")
    client = api_as(user=dave)
    client.get(reverse("responsibility-violations"))  # session and throttle set-up
    with django_assert_max_num_queries(8):
        assert len(client.get(reverse("responsibility-violations")).json()) == 3


# --- Writes ---------------------------------------------------------------------------------
CREATE_IN_NORTHWIND = {"alice": "ok", "bob": "ok", "dave": 400, "anonymous": 401, "*": 403}
# Partners see no RACI rows, so a row id is "not found" for them as it is for dave.
CHANGE = {"alice": "ok", "bob": "ok", "carol": 404, "dave": 404, "anonymous": 401, "*": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_responsibilities(actor, world, request):
    body = {"plan": "northwind", "name": "Access requests"}
    response = client_for(actor, request).post(reverse("responsibility-list"), body, format="json")
    assert response.status_code == _status(_expect(actor, CREATE_IN_NORTHWIND), 201)
    assert Responsibility.objects.filter(name="Access requests").exists() is (response.status_code == 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_responsibilities(actor, world, request):
    url = reverse("responsibility-detail", args=[world["grid"].data_quality.pk])
    response = client_for(actor, request).patch(url, {"name": "Master data"}, format="json")
    assert response.status_code == _status(_expect(actor, CHANGE), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_responsibilities(actor, world, request):
    url = reverse("responsibility-detail", args=[world["grid"].data_quality.pk])
    response = client_for(actor, request).delete(url)
    assert response.status_code == _status(_expect(actor, CHANGE), 204)


# A partner names a row they cannot see: "does not exist" (400), as for dave.
SET_CELL = {**CREATE_IN_NORTHWIND, "carol": 400}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_set_cells(actor, world, request):
    grid = world["grid"]
    body = {"responsibility": grid.data_quality.pk, "role": grid.support_manager.pk, "letter": "A"}
    response = client_for(actor, request).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == _status(_expect(actor, SET_CELL), 201)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_a_cells_letter(actor, world, request):
    grid = world["grid"]
    cell = RaciAssignment.objects.get(responsibility=grid.technical_areas, party=grid.microsoft)
    url = reverse("raciassignment-detail", args=[cell.pk])
    response = client_for(actor, request).patch(url, {"letter": "I"}, format="json")
    assert response.status_code == _status(_expect(actor, CHANGE), 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_clear_cells(actor, world, request):
    grid = world["grid"]
    cell = RaciAssignment.objects.get(responsibility=grid.technical_areas, party=grid.microsoft)
    response = client_for(actor, request).delete(reverse("raciassignment-detail", args=[cell.pk]))
    assert response.status_code == _status(_expect(actor, CHANGE), 204)
    assert RaciAssignment.objects.filter(pk=cell.pk).exists() is (response.status_code != 204)


# --- Behaviour and bad input ----------------------------------------------------------------
def test_a_new_responsibility_goes_last_unless_placed(world, alice):
    client = api_as(user=alice)
    last = client.post(reverse("responsibility-list"), {"plan": "northwind", "name": "Access"}, format="json")
    first = client.post(
        reverse("responsibility-list"), {"plan": "northwind", "name": "Go-live", "position": 0}, format="json"
    )
    assert (last.json()["position"], first.json()["position"]) == (5, 0)
    assert last.json()["seed_key"] == ""


def test_a_duplicate_responsibility_name_is_a_400_naming_the_field(world, alice):
    response = api_as(user=alice).post(
        reverse("responsibility-list"), {"plan": "northwind", "name": "TECHNICAL areas"}, format="json"
    )
    assert response.status_code == 400
    assert errors_of(response) == {
        "name": ["This plan already has a responsibility called “TECHNICAL areas”."]
    }


def test_a_responsibility_cannot_move_to_another_plan(world, alice, dave):
    from supportplan.models import Membership, PlanRole

    Membership.objects.create(plan=world["contoso"].plan, user=alice, role=PlanRole.VIEWER)
    url = reverse("responsibility-detail", args=[world["grid"].data_quality.pk])
    response = api_as(user=alice).patch(url, {"plan": "contoso"}, format="json")
    assert response.status_code == 400
    assert "plan" in errors_of(response)


def test_two_as_in_a_row_are_a_400_naming_the_letter_and_nothing_is_stored(world, bob):
    grid = world["grid"]
    client = api_as(user=bob)
    response = client.post(
        reverse("raciassignment-list"),
        {"responsibility": grid.technical_areas.pk, "party": grid.microsoft.pk, "letter": "A"},
        format="json",
    )
    assert response.status_code == 400
    assert "already accountable" in response.json()["error"]["fields"]["letter"][0]
    # Microsoft's cell keeps its C.
    listed = client.get(reverse("raciassignment-list"), {"responsibility": grid.technical_areas.pk}).json()
    assert {item["letter"] for item in listed["results"] if item["party"] == grid.microsoft.pk} == {"C"}


def test_a_new_cell_is_created_and_a_letter_changed_in_place(world, alice):
    grid = world["grid"]
    client = api_as(user=alice)
    created = client.post(
        reverse("raciassignment-list"),
        {"responsibility": grid.data_quality.pk, "role": grid.super_user.pk, "letter": "R"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "plan": "northwind",
        "responsibility": grid.data_quality.pk,
        "role": grid.super_user.pk,
        "party": None,
        "letter": "R",
    }
    url = reverse("raciassignment-detail", args=[created.json()["id"]])
    assert client.put(url, {"letter": "C"}, format="json").json()["letter"] == "C"


@pytest.mark.parametrize("letter", ["X", "r", "", "RA", None, 1])
def test_an_invalid_letter_is_a_400_naming_the_field(world, alice, letter):
    grid = world["grid"]
    body = {"responsibility": grid.data_quality.pk, "role": grid.super_user.pk, "letter": letter}
    response = api_as(user=alice).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["letter"]
    assert not RaciAssignment.objects.filter(responsibility=grid.data_quality).exists()


def test_an_invalid_letter_in_place_is_a_400(world, alice):
    grid = world["grid"]
    cell = RaciAssignment.objects.get(responsibility=grid.technical_areas, party=grid.microsoft)
    response = api_as(user=alice).patch(
        reverse("raciassignment-detail", args=[cell.pk]), {"letter": "Z"}, format="json"
    )
    assert response.status_code == 400
    assert list(errors_of(response)) == ["letter"]
    cell.refresh_from_db()
    assert cell.letter == "C"


def test_a_role_of_another_plan_is_a_400_naming_the_field(world, alice):
    grid, contoso = world["grid"], world["contoso"]
    body = {"responsibility": grid.data_quality.pk, "role": contoso.role.pk, "letter": "A"}
    response = api_as(user=alice).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["role"]
    assert not RaciAssignment.objects.filter(responsibility=grid.data_quality).exists()


def test_a_role_of_another_plan_the_user_also_belongs_to_is_still_refused(world, alice):
    from supportplan.models import Membership, PlanRole

    grid, contoso = world["grid"], world["contoso"]
    Membership.objects.create(plan=contoso.plan, user=alice, role=PlanRole.PROJECT_LEAD)
    body = {"responsibility": grid.data_quality.pk, "party": contoso.party.pk, "letter": "A"}
    response = api_as(user=alice).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == 400
    assert errors_of(response) == {"party": ["Choose a party of this plan."]}


@pytest.mark.parametrize("columns", ["both", "neither"])
def test_a_cell_names_a_role_or_a_party(world, alice, columns):
    grid = world["grid"]
    body = {"responsibility": grid.data_quality.pk, "letter": "A"}
    if columns == "both":
        body.update(role=grid.super_user.pk, party=grid.partner.pk)
    response = api_as(user=alice).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == 400
    assert set(errors_of(response)) == {"role", "party"}


@pytest.mark.parametrize(
    "responsibility",
    ["first", -1, 10**30, None, {"id": 1}],
    ids=["text", "negative", "huge", "null", "object"],
)
def test_a_malformed_responsibility_is_a_400(world, alice, responsibility):
    body = {"responsibility": responsibility, "role": world["grid"].super_user.pk, "letter": "A"}
    response = api_as(user=alice).post(reverse("raciassignment-list"), body, format="json")
    assert response.status_code == 400
    assert "responsibility" in errors_of(response)
