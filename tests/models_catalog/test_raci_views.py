"""The RACI grid in the browser: who sees it, editing a cell in place with htmx, exports, new rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from models_catalog.models import RaciAssignment, Responsibility
from tests.models_catalog.raci_fixtures import build_other_plan_raci, build_raci, grow_raci
from tests.supportplan.test_browser import log_in, page  # noqa: F401 (the browser fixture)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def grid(plan):
    return build_raci(plan)


@pytest.fixture
def contoso(other_plan):
    return build_other_plan_raci(other_plan)


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name: str, slug: str = "northwind") -> str:
    return reverse(name, kwargs={"plan_slug": slug})


def set_cell(client, *, htmx: bool = True, **fields):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url("raci-cell"), fields, **headers)


def letter_of(responsibility, **column) -> str | None:
    cell = RaciAssignment.objects.filter(responsibility=responsibility, **column).first()
    return cell.letter if cell else None


# --- Who sees the grid ----------------------------------------------------------------------
def test_a_lead_sees_the_grid_with_a_letter_picker_in_every_cell(client, alice, grid):
    response = login(client, alice).get(url("raci"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<caption>RACI of Northwind Distribution: 5 responsibilities against 4 roles and 2 parties" in body
    assert body.count('<select name="letter"') == 5 * 6
    assert '<th scope="row" class="raci-name">' in body
    assert '<th scope="colgroup" colspan="4" class="raci-group">Roles</th>' in body
    assert f'hx-post="{url("raci-cell")}"' in body and 'hx-trigger="change"' in body
    assert f'hx-target="#raci-row-{grid.data_quality.pk}"' in body
    assert (
        f'<label class="visually-hidden" for="raci-{grid.data_quality.pk}-role-{grid.super_user.pk}">' in body
    )
    assert f'action="{url("responsibility-create")}"' in body


@pytest.mark.parametrize("member", ["tina", "victor"])
def test_team_members_and_viewers_read_plain_letters(client, grid, member, request):
    response = login(client, request.getfixturevalue(member)).get(url("raci"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<select" not in body
    assert '<abbr title="Accountable">A</abbr>' in body
    assert "Add a responsibility" not in body
    assert "?format=csv" in body and "?format=xlsx" in body


def test_a_partner_may_not_open_the_grid(client, carol, grid):
    assert login(client, carol).get(url("raci")).status_code == 403


def test_another_plans_grid_is_not_found(client, dave, grid):
    assert login(client, dave).get(url("raci")).status_code == 404


def test_a_visitor_is_sent_to_log_in(client, grid):
    response = client.get(url("raci"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_problems_are_listed_above_the_grid_and_their_rows_marked(client, bob, grid):
    body = login(client, bob).get(url("raci")).content.decode()
    assert "6 problems to resolve" in body
    assert "Data quality maintenance has no A: exactly one role or party must be accountable." in body
    assert body.index('id="raci-violations"') < body.index("<table")
    assert f'<tr id="raci-row-{grid.data_quality.pk}" class="raci-problem">' in body
    assert f'<tr id="raci-row-{grid.technical_areas.pk}">' in body
    assert body.count(">2 problems</a>") == 3


def test_a_plan_without_roles_or_parties_says_what_to_do_first(client, alice, plan):
    body = login(client, alice).get(url("raci")).content.decode()
    assert "This plan has no roles or parties yet" in body
    assert "<table" not in body


def test_the_grid_page_costs_a_fixed_number_of_queries(client, alice, grid, django_assert_max_num_queries):
    login(client, alice)
    grow_raci(grid.plan, roles=15, parties=5, rows=20)
    # + 1 query: the header's unread-notification count.
    with django_assert_max_num_queries(10):
        response = client.get(url("raci"))
    assert response.content.decode().count('<select name="letter"') == 25 * 26


# --- Editing a cell -------------------------------------------------------------------------
def test_an_edit_costs_the_same_queries_in_a_big_grid(client, alice, grid, django_assert_max_num_queries):
    login(client, alice)
    grow_raci(grid.plan, roles=15, parties=5, rows=20)
    # Auth and plan, the ids, the validated write and its audit row, then the grid again (4).
    with django_assert_max_num_queries(26):
        response = set_cell(client, responsibility=grid.data_quality.pk, role=grid.super_user.pk, letter="A")
    assert response.content.decode().count('<select name="letter"') == 26


def test_an_htmx_edit_returns_the_row_and_the_problems_out_of_band(client, alice, grid):
    response = set_cell(
        login(client, alice), responsibility=grid.data_quality.pk, role=grid.support_manager.pk, letter="A"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert letter_of(grid.data_quality, role=grid.support_manager) == "A"
    assert body.startswith(f'<tr id="raci-row-{grid.data_quality.pk}" class="raci-problem">')
    assert body.count("<tr") == 1
    assert '<option value="A" selected>A</option>' in body
    assert '<section id="raci-violations"' in body and 'hx-swap-oob="innerHTML"' in body
    assert "5 problems to resolve" in body
    assert "Data quality maintenance has no A" not in body
    assert "Data quality maintenance has no R" in body


def test_completing_a_row_unmarks_it(client, alice, grid):
    login(client, alice)
    set_cell(client, responsibility=grid.data_quality.pk, role=grid.support_manager.pk, letter="A")
    body = set_cell(
        client, responsibility=grid.data_quality.pk, party=grid.partner.pk, letter="R"
    ).content.decode()
    assert body.startswith(f'<tr id="raci-row-{grid.data_quality.pk}">')
    assert "problem" not in body.split("</tr>")[0]


def test_a_second_a_is_refused_and_the_row_comes_back_as_stored_with_the_reason(client, bob, grid):
    response = set_cell(
        login(client, bob), responsibility=grid.technical_areas.pk, party=grid.microsoft.pk, letter="A"
    )
    assert response.status_code == 200
    assert letter_of(grid.technical_areas, party=grid.microsoft) == "C"
    body = response.content.decode()
    assert "Support manager is already accountable for Technical areas" in body
    assert 'role="alert"' in body
    without_htmx = set_cell(
        client, htmx=False, responsibility=grid.technical_areas.pk, party=grid.microsoft.pk, letter="A"
    )
    assert without_htmx.status_code == 400


def test_a_cell_change_is_in_the_plans_history_with_its_author(client, bob, grid):
    from supportplan.models import AuditEntry

    set_cell(login(client, bob), responsibility=grid.technical_areas.pk, party=grid.microsoft.pk, letter="I")
    cell = RaciAssignment.objects.get(responsibility=grid.technical_areas, party=grid.microsoft)
    entry = (
        AuditEntry.objects.filter(content_type__model="raciassignment", object_pk=str(cell.pk))
        .order_by("pk")
        .last()
    )
    assert (entry.actor, entry.plan_id, entry.action) == (bob, grid.plan.pk, AuditEntry.Action.UPDATE)
    assert entry.changes_dict["letter"] == ["C", "I"]


def test_a_blank_letter_clears_the_cell(client, alice, grid):
    response = set_cell(
        login(client, alice), responsibility=grid.technical_areas.pk, party=grid.microsoft.pk, letter=""
    )
    assert response.status_code == 200
    assert letter_of(grid.technical_areas, party=grid.microsoft) is None


def test_without_htmx_an_edit_returns_to_the_grid_with_a_message(client, alice, grid):
    response = set_cell(
        login(client, alice),
        htmx=False,
        responsibility=grid.user_proficiency.pk,
        role=grid.super_user.pk,
        letter="R",
    )
    assert response.status_code == 302 and response["Location"] == url("raci")
    body = client.get(url("raci")).content.decode()
    assert "User proficiency: Super user is now R." in body


def _cell(grid, **fields):
    return {"responsibility": grid.data_quality.pk, "role": grid.super_user.pk, "letter": "R", **fields}


BAD_CELLS = {
    "a letter that is not R, A, C or I": lambda g: _cell(g, letter="X"),
    "a lower-case letter": lambda g: _cell(g, letter="r"),
    "two letters": lambda g: _cell(g, letter="RA"),
    "a responsibility that is not a number": lambda g: _cell(g, responsibility="first"),
    "no responsibility": lambda g: {"role": g.super_user.pk, "letter": "R"},
    "a negative role id": lambda g: _cell(g, role="-1"),
    "a role id too big for any database": lambda g: _cell(g, role="9" * 30),
    "a party that is not a number": lambda g: {
        "responsibility": g.data_quality.pk,
        "party": "x",
        "letter": "R",
    },
    "neither a role nor a party": lambda g: {"responsibility": g.data_quality.pk, "letter": "R"},
    "both a role and a party": lambda g: _cell(g, party=g.partner.pk),
}


@pytest.mark.parametrize("bad", sorted(BAD_CELLS))
def test_bad_input_is_a_400_with_a_message_and_stores_nothing(client, alice, grid, bad):
    before = RaciAssignment.objects.count()
    response = set_cell(login(client, alice), **BAD_CELLS[bad](grid))
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().strip()
    assert RaciAssignment.objects.count() == before


def test_an_invalid_letter_is_explained(client, alice, grid):
    response = set_cell(
        login(client, alice), responsibility=grid.data_quality.pk, role=grid.super_user.pk, letter="X"
    )
    assert response.content.decode() == "“X” is not a RACI letter: use R, A, C or I, or leave the cell blank."


FOREIGN = {
    "responsibility": lambda g, c: {"responsibility": c.responsibility.pk, "role": g.super_user.pk},
    "role": lambda g, c: {"responsibility": g.data_quality.pk, "role": c.role.pk},
    "party": lambda g, c: {"responsibility": g.data_quality.pk, "party": c.party.pk},
}


@pytest.mark.parametrize("foreign", sorted(FOREIGN))
def test_another_plans_ids_are_not_found(client, alice, grid, contoso, foreign):
    response = set_cell(login(client, alice), letter="A", **FOREIGN[foreign](grid, contoso))
    assert response.status_code == 404
    assert list(RaciAssignment.objects.filter(responsibility=contoso.responsibility)) == [contoso.cell]
    assert not RaciAssignment.objects.filter(responsibility=grid.data_quality).exists()


@pytest.mark.parametrize("member", ["tina", "victor", "carol"])
def test_only_leads_edit_cells(client, grid, member, request):
    response = set_cell(
        login(client, request.getfixturevalue(member)),
        responsibility=grid.data_quality.pk,
        role=grid.super_user.pk,
        letter="A",
    )
    assert response.status_code == 403
    assert not RaciAssignment.objects.filter(responsibility=grid.data_quality).exists()


def test_dave_cannot_edit_northwinds_cells(client, dave, grid):
    response = set_cell(
        login(client, dave), responsibility=grid.data_quality.pk, role=grid.super_user.pk, letter="A"
    )
    assert response.status_code == 404


# --- Exports --------------------------------------------------------------------------------
def test_the_csv_export_is_an_attachment_named_after_the_plan(client, tina, grid):
    response = login(client, tina).get(url("raci-export"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="raci-northwind.csv"'
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "Responsibility" and table[0][-1] == "Problems"
    assert len(table) == 6


def test_the_xlsx_export_opens_in_openpyxl(client, victor, grid):
    response = login(client, victor).get(url("raci-export"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="raci-northwind.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content))["RACI"]
    assert sheet["A2"].value == "Business process areas"


def test_a_name_with_a_control_character_still_exports(client, victor, grid):
    Responsibility.objects.filter(pk=grid.business_processes.pk).update(name="Business\x0bprocess areas")
    response = login(client, victor).get(url("raci-export"), {"format": "xlsx"})
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content))["RACI"]["A2"].value == "Business\ufffdprocess areas"


def test_an_unknown_export_format_is_a_400(client, alice, grid):
    response = login(client, alice).get(url("raci-export"), {"format": "pdf"})
    assert response.status_code == 400
    assert "choose csv or xlsx" in response.content.decode()


def test_partners_and_other_plans_get_no_export(client, carol, dave, grid):
    assert login(client, carol).get(url("raci-export"), {"format": "csv"}).status_code == 403
    assert login(client, dave).get(url("raci-export"), {"format": "csv"}).status_code == 404


# --- Adding a responsibility ----------------------------------------------------------------
def test_a_lead_adds_a_responsibility_at_the_end_of_the_grid(client, bob, grid):
    response = login(client, bob).post(
        url("responsibility-create"), {"name": "Access requests", "description": "Who grants access."}
    )
    assert response.status_code == 302 and response["Location"] == url("raci")
    added = Responsibility.objects.get(plan=grid.plan, name="Access requests")
    assert added.position == 5
    body = client.get(url("raci")).content.decode()
    assert "Responsibility “Access requests” added to the RACI." in body
    assert f'id="raci-row-{added.pk}"' in body


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("technical AREAS", "This plan already has a responsibility called “technical AREAS”."),
        ("", "This field is required."),
        ("x" * 161, "Ensure this value has at most 160 characters (it has 161)."),
    ],
)
def test_a_responsibility_form_with_errors_shows_the_grid_again_with_them(client, alice, grid, name, message):
    response = login(client, alice).post(url("responsibility-create"), {"name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<table" in response.content.decode()
    assert Responsibility.objects.filter(plan=grid.plan).count() == 5


def test_only_leads_add_responsibilities(client, tina, grid):
    response = login(client, tina).post(url("responsibility-create"), {"name": "Access requests"})
    assert response.status_code == 403
    assert not Responsibility.objects.filter(name="Access requests").exists()


# --- In a real browser ----------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lead_edits_a_cell_in_place_and_the_problems_update(page, django_user_model, plan):  # noqa: F811
    from supportplan.models import Membership, PlanRole

    alice = django_user_model.objects.create_user("alice", password="alice-long-password")
    Membership.objects.create(plan=plan, user=alice, role=PlanRole.PROJECT_LEAD)
    grid = build_raci(plan)
    log_in(page, "alice", "alice-long-password")
    page.wait_for_url("**/plans/")
    page.goto(url("raci"))
    assert page.get_by_role("heading", name="6 problems to resolve").is_visible()

    picker = page.get_by_label("Support manager for Data quality maintenance")
    with page.expect_response(lambda response: response.url.endswith("/raci/cell/")):
        picker.select_option("A")
    page.get_by_role("heading", name="5 problems to resolve").wait_for()
    assert letter_of(grid.data_quality, role=grid.support_manager) == "A"
    assert page.url.endswith("/raci/")  # changed in place, no navigation
    assert page.get_by_label("Support manager for Data quality maintenance").input_value() == "A"
    assert "raci-problem" in page.locator(f"#raci-row-{grid.data_quality.pk}").get_attribute("class")

    with page.expect_response(lambda response: response.url.endswith("/raci/cell/")):
        page.get_by_label("Fabrikam Consulting for Data quality maintenance").select_option("R")
    page.get_by_role("heading", name="4 problems to resolve").wait_for()
    # htmx adds and removes its own classes while it settles the swap: wait for the final row.
    page.wait_for_selector(f"#raci-row-{grid.data_quality.pk}:not(.raci-problem):not(.htmx-settling)")
    assert page.locator("#raci-violations li").count() == 4
    assert page.locator("table.raci tbody tr").count() == 5
