"""The scope API against the cast: aspects, items (CRUD, filters, has_gaps), coverage, gaps, XLSX."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from models_catalog.models import Party, Person
from scope.models import Aspect, ScopeItem
from scope.services import aspect_create, scope_item_save
from scope.transfer import COLUMNS
from supportplan import services
from supportplan.models import Membership
from tests.conftest import api_as

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]
READERS = {"alice", "bob", "tina", "carol", "victor", "read_key", "write_key"}
CONFIGURE = {"alice": "ok", "bob": "ok", "dave": 404, "anonymous": 401, "*": 403}
CREATE_IN_NORTHWIND = {"alice": "ok", "bob": "ok", "dave": 400, "anonymous": 401, "*": 403}
STAFF_READ = {"alice": 200, "bob": 200, "tina": 200, "victor": 200, "read_key": 200, "write_key": 200}
STAFF_READ |= {"carol": 403, "dave": 404, "anonymous": 401}


@pytest.fixture
def world(plan, other_plan, alice, bob, tina, carol, victor, dave, read_key, write_key):
    partner = Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")
    Membership.objects.filter(plan=plan, user=carol).update(organisation=partner)
    sam = Person.objects.create(plan=plan, name="Sam Patel")
    middleware = scope_item_save(
        plan=plan,
        aspect=Aspect.objects.get(key="middleware"),
        in_scope=True,
        what="The integration platform.",
        parties=[partner],
        status="draft",
        owner=sam,
    )
    reporting = scope_item_save(
        plan=plan,
        aspect=Aspect.objects.get(key="reporting"),
        in_scope=False,
        out_of_scope_reason="The BI team runs it.",
        status="agreed",
    )
    other = scope_item_save(plan=other_plan, aspect=Aspect.objects.get(key="middleware"), what="Contoso's")
    own = aspect_create(plan=plan, group=middleware.aspect.group, name="Payroll interface")
    other_own = aspect_create(plan=other_plan, group=middleware.aspect.group, name="Till interface")
    services.api_key_create(plan=other_plan, name="Contoso helpdesk", created_by=dave)
    return {
        "plan": plan,
        "partner": partner,
        "sam": sam,
        "middleware": middleware,
        "reporting": reporting,
        "other": other,
        "own": own,
        "other_own": other_own,
    }


def client_for(actor: str, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


def expect(actor: str, table: dict, ok: int) -> int:
    outcome = table.get(actor, table.get("*"))
    return ok if outcome == "ok" else outcome


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- Reads ----------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_the_item_list_holds_only_what_the_actor_may_see(actor, world, request):
    response = client_for(actor, request).get(reverse("scopeitem-list"))
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    expected = {
        "carol": {world["middleware"].pk},  # her organisation is named on it
        "dave": {world["other"].pk},
    }.get(actor, {world["middleware"].pk, world["reporting"].pk})
    assert ids(response) == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_the_aspects_are_the_catalogue_plus_the_visible_plans_own(actor, world, request):
    response = client_for(actor, request).get(reverse("aspect-list"), {"page_size": 500})
    if actor == "anonymous":
        assert response.status_code == 401
        return
    found = ids(response)
    assert Aspect.objects.get(key="middleware").pk in found
    assert (world["own"].pk in found) is (actor in READERS)
    assert (world["other_own"].pk in found) is (actor == "dave")


def test_aspects_filter_by_plan_and_group(world, bob):
    response = api_as(user=bob).get(
        reverse("aspect-list"), {"plan": "northwind", "group": "enterprise_architecture", "page_size": 500}
    )
    rows = response.json()["results"]
    assert {row["group"] for row in rows} == {"enterprise_architecture"}
    assert world["own"].pk in {row["id"] for row in rows}


def test_another_plans_item_is_not_found(world, bob):
    url = reverse("scopeitem-detail", args=[world["other"].pk])
    assert api_as(user=bob).get(url).status_code == 404
    assert api_as(user=bob).patch(url, {"what": "x"}, format="json").status_code == 404


# --- Writes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_items(actor, world, request):
    body = {"plan": "northwind", "aspect": Aspect.objects.get(key="performance").pk, "in_scope": True}
    body |= {"what": "Monitoring", "parties": [world["partner"].pk], "details": [{"task": "Watch"}]}
    response = client_for(actor, request).post(reverse("scopeitem-list"), body, format="json")
    assert response.status_code == expect(actor, CREATE_IN_NORTHWIND, 201), response.content
    if response.status_code == 201:
        item = ScopeItem.objects.get(plan=world["plan"], aspect__key="performance")
        assert list(item.parties.all()) == [world["partner"]]
        assert response.json()["answers"]["what"] == "answered"


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_items(actor, world, request):
    url = reverse("scopeitem-detail", args=[world["middleware"].pk])
    response = client_for(actor, request).patch(url, {"tool": "Grafana"}, format="json")
    assert response.status_code == expect(actor, CONFIGURE, 200)
    world["middleware"].refresh_from_db()
    assert (world["middleware"].tool == "Grafana") is (response.status_code == 200)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_remove_items(actor, world, request):
    response = client_for(actor, request).delete(reverse("scopeitem-detail", args=[world["middleware"].pk]))
    assert response.status_code == expect(actor, CONFIGURE, 204)


def test_a_second_item_for_the_same_aspect_is_refused(world, bob):
    body = {"plan": "northwind", "aspect": world["middleware"].aspect_id, "what": "Again"}
    response = api_as(user=bob).post(reverse("scopeitem-list"), body, format="json")
    assert response.status_code == 400


def test_an_item_cannot_name_another_plans_aspect_or_move(world, bob):
    body = {"plan": "northwind", "aspect": world["other_own"].pk, "what": "Theirs"}
    assert api_as(user=bob).post(reverse("scopeitem-list"), body, format="json").status_code == 400
    url = reverse("scopeitem-detail", args=[world["middleware"].pk])
    response = api_as(user=bob).patch(url, {"aspect": world["own"].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["aspect"]


def test_out_of_scope_without_a_reason_is_a_field_error(world, bob):
    url = reverse("scopeitem-detail", args=[world["middleware"].pk])
    response = api_as(user=bob).patch(url, {"in_scope": False}, format="json")
    assert response.status_code == 400
    assert "out_of_scope_reason" in response.json()["error"]["fields"]


# --- Filters --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "draft"}, {"middleware"}),
        ({"in_scope": "false"}, {"reporting"}),
        ({"group": "enterprise_architecture"}, {"middleware", "reporting"}),
        ({"group": "business_processes"}, set()),
        ({"has_gaps": "true"}, {"middleware"}),
        ({"has_gaps": "false"}, {"reporting"}),
    ],
)
def test_items_filter(query, expected, world, bob):
    response = api_as(user=bob).get(reverse("scopeitem-list"), {"plan": "northwind", **query})
    assert response.status_code == 200
    assert {world[name].pk for name in expected} == ids(response)


def test_items_filter_by_owner(world, bob):
    response = api_as(user=bob).get(reverse("scopeitem-list"), {"owner": world["sam"].pk})
    assert ids(response) == {world["middleware"].pk}


def test_the_item_list_and_has_gaps_cost_the_same_queries_however_many_items(world, bob, plan):
    client = api_as(user=bob)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("scopeitem-list"), {"has_gaps": "true"}).status_code == 200
        return len(context.captured_queries)

    few = count()
    for key in ("environments", "integrations", "performance", "data_maintenance"):
        scope_item_save(
            plan=plan,
            aspect=Aspect.objects.get(key=key),
            what="x",
            parties=[world["partner"]],
            owner=world["sam"],
        )
    assert count() == few


# --- Coverage and gaps ----------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_coverage_per_group_and_overall(actor, world, request):
    response = client_for(actor, request).get(reverse("scopeitem-coverage"), {"plan": "northwind"})
    assert response.status_code == STAFF_READ[actor]
    if response.status_code != 200:
        return
    body = response.json()
    groups = {group["group"]: group for group in body["groups"]}
    assert groups["business_processes"]["completeness"] == 0.0
    assert groups["enterprise_architecture"]["aspects"] == 11  # ten in the catalogue, one of the plan's
    assert 0 < groups["enterprise_architecture"]["completeness"] < 100
    assert 0 < body["completeness"] < groups["enterprise_architecture"]["completeness"]


def test_coverage_needs_a_plan(world, bob):
    assert api_as(user=bob).get(reverse("scopeitem-coverage")).status_code == 400


@pytest.mark.parametrize("actor", ACTORS)
def test_the_scope_gaps(actor, world, request):
    response = client_for(actor, request).get(reverse("scopeitem-gaps"), {"plan": "northwind"})
    assert response.status_code == STAFF_READ[actor]
    if response.status_code == 200:
        found = {gap["code"] for gap in response.json()["results"]}
        assert {"scope_item_without_who_or_how", "scope_party_without_agreement"} <= found


def test_the_sla_gaps_endpoint_lists_the_scope_gaps_too(world, bob):
    response = api_as(user=bob).get(reverse("slagap-list"), {"plan": "northwind"})
    assert response.status_code == 200, response.content
    assert "scope_item_without_who_or_how" in {gap["code"] for gap in response.json()["results"]}


# --- Spreadsheet ----------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ACTORS)
def test_the_export(actor, world, request):
    response = client_for(actor, request).get(reverse("scopeitem-export"), {"plan": "northwind"})
    assert response.status_code == STAFF_READ[actor]
    if response.status_code == 200:
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [cell.value for cell in sheet[1]] == COLUMNS


def test_text_with_control_characters_exports_them_as_replacement_characters(world, bob):
    """The API stores any text but NUL; a workbook cannot hold the other C0 controls (schemathesis
    wrote some into an answer, and the export was a 500)."""
    response = api_as(user=bob).patch(
        reverse("scopeitem-detail", args=[world["middleware"].pk]),
        {"what": "Queue\x01 monitor\x1f\tand\nalerts"},
        format="json",
    )
    assert response.status_code == 200
    response = api_as(user=bob).get(reverse("scopeitem-export"), {"plan": "northwind"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    row = next(cell.row for cell in sheet["B"] if cell.value == "middleware")
    assert sheet.cell(row, COLUMNS.index("What") + 1).value == "Queue\ufffd monitor\ufffd\tand\nalerts"
    world["middleware"].refresh_from_db()
    assert world["middleware"].what == "Queue\x01 monitor\x1f\tand\nalerts"  # stored as sent


def _exported(bob) -> io.BytesIO:
    content = api_as(user=bob).get(reverse("scopeitem-export"), {"plan": "northwind"}).content
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.active
    row = next(cell.row for cell in sheet["B"] if cell.value == "middleware")
    sheet.cell(row, COLUMNS.index("Tool") + 1).value = "Grafana"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "scope.xlsx"
    return buffer


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_import(actor, world, request, bob):
    upload = _exported(bob)
    response = client_for(actor, request).post(
        reverse("scopeitem-import"), {"plan": "northwind", "file": upload}, format="multipart"
    )
    assert response.status_code == expect(actor, CREATE_IN_NORTHWIND, 200), response.content
    world["middleware"].refresh_from_db()
    assert (world["middleware"].tool == "Grafana") is (response.status_code == 200)
    if response.status_code == 200:
        assert response.json()["updated"] == 2


def test_a_bad_import_answers_with_the_rows_and_stores_nothing(world, bob):
    upload = _exported(bob)
    workbook = load_workbook(upload)
    sheet = workbook.active
    sheet.cell(3, COLUMNS.index("Owner") + 1).value = "Nobody Known"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "scope.xlsx"
    response = api_as(user=bob).post(
        reverse("scopeitem-import"), {"plan": "northwind", "file": buffer}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"] == [
        "Row 3, column “Owner”: no person called “Nobody Known” in this plan."
    ]
    world["middleware"].refresh_from_db()
    assert world["middleware"].tool == ""


def test_an_import_of_something_else_is_a_clear_400(world, bob):
    upload = io.BytesIO(b"not a workbook")
    upload.name = "scope.xlsx"
    response = api_as(user=bob).post(
        reverse("scopeitem-import"), {"plan": "northwind", "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "not an Excel workbook" in response.json()["error"]["fields"]["file"][0]
