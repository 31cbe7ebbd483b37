"""The RACI services: rows, cells, the one-A-at-least-one-R rules, the grid and its exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from models_catalog import raci
from models_catalog.models import Party, PartyKind, RaciAssignment, Responsibility, Role
from tests.models_catalog.raci_fixtures import build_other_plan_raci, build_raci, grow_raci


@pytest.fixture
def grid(plan):
    return build_raci(plan)


@pytest.fixture
def contoso(other_plan):
    return build_other_plan_raci(other_plan)


def letters(responsibility: Responsibility) -> dict[str, str]:
    return {
        str(cell.role or cell.party): cell.letter
        for cell in RaciAssignment.objects.filter(responsibility=responsibility).select_related(
            "role", "party"
        )
    }


def messages_of(plan) -> list[str]:
    return [violation.message for violation in raci.raci_violations(plan=plan)]


# --- Responsibilities -----------------------------------------------------------------------
def test_a_new_responsibility_goes_last_in_the_grid(grid, plan):
    created = raci.responsibility_create(
        plan=plan, name="  Access requests  ", description="Who grants access."
    )
    assert (created.name, created.position, created.seed_key) == ("Access requests", 5, "")
    assert list(Responsibility.objects.filter(plan=plan))[-1] == created


def test_the_first_responsibility_of_a_plan_starts_the_grid(plan):
    assert raci.responsibility_create(plan=plan, name="Data quality").position == 0


def test_a_responsibility_name_is_unique_in_its_plan_whatever_the_case(grid, plan, contoso):
    with pytest.raises(ValidationError) as error:
        raci.responsibility_create(plan=plan, name="data QUALITY maintenance")
    assert error.value.message_dict == {
        "name": ["This plan already has a responsibility called “data QUALITY maintenance”."]
    }
    # Another plan may use the name.
    assert raci.responsibility_create(plan=plan, name="Technical areas (ISV)").pk
    assert raci.responsibility_create(plan=contoso.plan, name="Data quality maintenance").pk


def test_a_responsibility_needs_a_name_of_at_most_160_characters(plan):
    for name in ("", "   ", "x" * 161):
        with pytest.raises(ValidationError) as error:
            raci.responsibility_create(plan=plan, name=name)
        assert "name" in error.value.message_dict
    assert not Responsibility.objects.filter(plan=plan).exists()


def test_a_responsibility_is_renamed_and_moved_but_its_seed_key_stays(grid):
    raci.responsibility_update(responsibility=grid.data_quality, name="Master data quality", position=9)
    grid.data_quality.refresh_from_db()
    assert (grid.data_quality.name, grid.data_quality.position) == ("Master data quality", 9)
    with pytest.raises(ValidationError) as error:
        raci.responsibility_update(responsibility=grid.data_quality, seed_key="custom")
    assert error.value.message_dict == {"seed_key": ["This field cannot be changed here."]}


def test_renaming_onto_another_rows_name_is_refused(grid):
    with pytest.raises(ValidationError, match="already has a responsibility"):
        raci.responsibility_update(responsibility=grid.data_quality, name="Technical Areas")
    # Its own name in another case is fine.
    raci.responsibility_update(responsibility=grid.data_quality, name="DATA quality maintenance")


def test_deleting_a_responsibility_removes_its_cells(grid):
    raci.responsibility_delete(responsibility=grid.technical_areas)
    assert not RaciAssignment.objects.filter(responsibility_id=grid.technical_areas.pk).exists()
    assert RaciAssignment.objects.filter(responsibility=grid.business_processes).count() == 4


# --- Cells ----------------------------------------------------------------------------------
def test_setting_a_cell_stores_it_and_setting_it_again_replaces_the_letter(grid):
    first = raci.raci_set_cell(responsibility=grid.data_quality, role=grid.process_expert, letter="R")
    second = raci.raci_set_cell(responsibility=grid.data_quality, role=grid.process_expert, letter="C")
    assert first.pk == second.pk
    assert first.plan_id == grid.plan.pk
    assert letters(grid.data_quality) == {"Business process expert": "C"}


def test_a_cell_may_name_a_party(grid):
    cell = raci.raci_set_cell(responsibility=grid.data_quality, party=grid.partner, letter="A")
    assert (cell.party, cell.role, cell.letter) == (grid.partner, None, "A")


def test_a_blank_letter_clears_the_cell(grid):
    assert raci.raci_set_cell(responsibility=grid.technical_areas, party=grid.microsoft, letter="") is None
    assert "Microsoft" not in letters(grid.technical_areas)
    # Clearing an empty cell is nothing to do, not an error.
    assert raci.raci_set_cell(responsibility=grid.data_quality, party=grid.microsoft, letter="") is None


@pytest.mark.parametrize("letter", ["X", "r", "RA", " ", "Responsible"])
def test_a_letter_other_than_r_a_c_or_i_is_refused_naming_the_field(grid, letter):
    with pytest.raises(ValidationError) as error:
        raci.raci_set_cell(responsibility=grid.data_quality, role=grid.super_user, letter=letter)
    assert list(error.value.message_dict) == ["letter"]
    assert "use R, A, C or I" in error.value.message_dict["letter"][0]
    assert letters(grid.data_quality) == {}


def test_a_cell_names_a_role_or_a_party_not_both_nor_neither(grid):
    with pytest.raises(ValidationError) as both:
        raci.raci_set_cell(
            responsibility=grid.data_quality, role=grid.super_user, party=grid.partner, letter="R"
        )
    assert set(both.value.message_dict) == {"role", "party"}
    with pytest.raises(ValidationError) as neither:
        raci.raci_set_cell(responsibility=grid.data_quality, letter="R")
    assert set(neither.value.message_dict) == {"role", "party"}
    assert letters(grid.data_quality) == {}


def test_a_role_or_party_of_another_plan_is_refused(grid, contoso):
    with pytest.raises(ValidationError) as role_error:
        raci.raci_set_cell(responsibility=grid.data_quality, role=contoso.role, letter="A")
    assert role_error.value.message_dict == {"role": ["Choose a role of this plan."]}
    with pytest.raises(ValidationError) as party_error:
        raci.raci_set_cell(responsibility=grid.data_quality, party=contoso.party, letter="A")
    assert party_error.value.message_dict == {"party": ["Choose a party of this plan."]}
    assert letters(grid.data_quality) == {}


def test_a_second_a_in_a_row_is_refused_naming_who_is_already_accountable(grid, plan):
    raci.raci_set_cell(responsibility=grid.data_quality, role=grid.support_manager, letter="A")
    with pytest.raises(ValidationError) as error:
        raci.raci_set_cell(responsibility=grid.data_quality, party=grid.partner, letter="A")
    assert error.value.message_dict == {
        "letter": [
            "Support manager is already accountable for Data quality maintenance: exactly one A per "
            "responsibility. Change that cell first."
        ]
    }
    assert letters(grid.data_quality) == {"Support manager": "A"}
    # Moving the A: clear or change the first cell, then set the second.
    raci.raci_set_cell(responsibility=grid.data_quality, role=grid.support_manager, letter="C")
    raci.raci_set_cell(responsibility=grid.data_quality, party=grid.partner, letter="A")
    assert letters(grid.data_quality) == {"Support manager": "C", "Fabrikam Consulting": "A"}


def test_two_as_stored_by_other_means_are_listed(grid, plan):
    from models_catalog.models import RaciAssignment

    for column in ({"role": grid.support_manager}, {"party": grid.partner}):
        RaciAssignment.objects.create(plan=plan, responsibility=grid.data_quality, letter="A", **column)
    assert (
        "Data quality maintenance has two A's (Support manager, Fabrikam Consulting): "
        "exactly one is accountable." in messages_of(plan)
    )


def test_a_cell_change_never_fails_because_of_another_rows_problems(grid, plan):
    # The rows below have no A and no R yet; other rows change freely all the same.
    raci.raci_set_cell(responsibility=grid.user_proficiency, role=grid.super_user, letter="R")
    raci.raci_set_cell(responsibility=grid.business_processes, role=grid.support_manager, letter="C")
    assert letters(grid.user_proficiency) == {"Super user": "R"}
    assert letters(grid.business_processes)["Support manager"] == "C"


# --- Violations -----------------------------------------------------------------------------
def test_every_row_without_one_a_or_without_an_r_is_listed_in_grid_order(grid, plan):
    assert [(v.responsibility.name, v.code) for v in raci.raci_violations(plan=plan)] == [
        ("Data quality maintenance", "no_accountable"),
        ("Data quality maintenance", "no_responsible"),
        ("User proficiency", "no_accountable"),
        ("User proficiency", "no_responsible"),
        ("New features and developments", "no_accountable"),
        ("New features and developments", "no_responsible"),
    ]
    assert messages_of(plan)[:2] == [
        "Data quality maintenance has no A: exactly one role or party must be accountable.",
        "Data quality maintenance has no R: at least one role or party must be responsible.",
    ]


def test_three_as_are_counted_in_words_and_named_in_column_order(grid, plan):
    from models_catalog.models import RaciAssignment

    for column in ({"party": grid.microsoft}, {"role": grid.super_user}, {"role": grid.support_manager}):
        RaciAssignment.objects.create(plan=plan, responsibility=grid.new_features, letter="A", **column)
    assert (
        "New features and developments has three A's (Super user, Support manager, Microsoft): "
        "exactly one is accountable." in messages_of(plan)
    )


def test_filling_in_a_row_clears_its_problems(grid, plan):
    raci.raci_set_cell(responsibility=grid.data_quality, role=grid.support_manager, letter="A")
    raci.raci_set_cell(responsibility=grid.data_quality, party=grid.partner, letter="R")
    assert not [v for v in raci.raci_violations(plan=plan) if v.responsibility == grid.data_quality]


def test_consulted_and_informed_do_not_make_a_row_complete(grid, plan):
    raci.raci_set_cell(responsibility=grid.data_quality, role=grid.support_manager, letter="C")
    raci.raci_set_cell(responsibility=grid.data_quality, role=grid.super_user, letter="I")
    codes = {v.code for v in raci.raci_violations(plan=plan) if v.responsibility == grid.data_quality}
    assert codes == {"no_accountable", "no_responsible"}


def test_a_plan_without_responsibilities_has_no_violations(other_plan):
    assert raci.raci_violations(plan=other_plan) == []


# --- The grid -------------------------------------------------------------------------------
def test_the_grid_has_roles_then_parties_as_columns_and_rows_in_position_order(grid, plan, alice):
    raci.responsibility_update(responsibility=grid.business_processes, position=7)
    table = raci.raci_grid(user=alice, plan=plan)
    assert [(column.kind, column.name) for column in table.columns] == [
        ("role", "Business process expert"),
        ("role", "Super user"),
        ("role", "Support manager"),
        ("role", "Technical expert"),
        ("party", "Fabrikam Consulting"),
        ("party", "Microsoft"),
    ]
    assert [row.responsibility.name for row in table.rows][-1] == "Business process areas"
    technical = table.row(grid.technical_areas)
    assert [cell.letter for cell in technical.cells] == ["", "", "A", "R", "R", "C"]
    assert table.letter(grid.technical_areas, f"party-{grid.microsoft.pk}") == "C"
    assert table.letter(grid.data_quality.pk, table.columns[0]) == ""
    assert len(table.violations) == 6


def test_a_party_named_like_a_role_is_labelled_as_a_party(grid, plan, alice):
    Party.objects.create(plan=plan, name="Super user", kind=PartyKind.BUSINESS_UNIT)
    labels = [column.label for column in raci.raci_grid(user=alice, plan=plan).columns]
    assert "Super user" in labels and "Super user (party)" in labels


def test_the_grid_shows_a_user_only_what_they_may_see(grid, plan, contoso, alice, dave):
    mine = raci.raci_grid(user=alice, plan=plan)
    assert "Contoso Partner" not in [column.name for column in mine.columns]
    foreign = raci.raci_grid(user=dave, plan=plan)
    assert (foreign.columns, foreign.rows) == ([], [])


def test_the_grid_costs_four_queries_however_big_it_is(grid, plan, alice, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        raci.raci_grid(user=alice, plan=plan)
    grow_raci(plan, roles=25, parties=10, rows=40)
    with django_assert_max_num_queries(4):
        table = raci.raci_grid(user=alice, plan=plan)
        assert len(table.rows) == 45 and len(table.columns) == 41
        assert len(table.violations) > 0
    assert len(small) == 4


def test_violations_and_exports_cost_a_fixed_number_of_queries(grid, plan, django_assert_max_num_queries):
    grow_raci(plan, roles=20, parties=5, rows=30)
    with django_assert_max_num_queries(4):
        raci.raci_violations(plan=plan)
    with django_assert_max_num_queries(4):
        raci.raci_export_csv(plan=plan)
    with django_assert_max_num_queries(4):
        raci.raci_export_xlsx(plan=plan)


# --- Exports --------------------------------------------------------------------------------
def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_has_a_header_one_row_per_responsibility_and_a_problems_column(grid, plan):
    table = read_csv(raci.raci_export_csv(plan=plan))
    assert table[0] == [
        "Responsibility",
        "Business process expert",
        "Super user",
        "Support manager",
        "Technical expert",
        "Fabrikam Consulting",
        "Microsoft",
        "Problems",
    ]
    assert table[1] == ["Business process areas", "R", "C", "A", "", "I", "", ""]
    assert table[2] == ["Technical areas", "", "", "A", "R", "R", "C", ""]
    assert table[3][0] == "Data quality maintenance"
    assert table[3][-1] == (
        "Data quality maintenance has no A: exactly one role or party must be accountable.; "
        "Data quality maintenance has no R: at least one role or party must be responsible."
    )
    assert len(table) == 6


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil.example","Click")', "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"],
)
def test_the_csv_neutralises_names_a_spreadsheet_would_run_as_formulas(grid, plan, hostile):
    Role.objects.filter(pk=grid.super_user.pk).update(name=hostile)
    Responsibility.objects.filter(pk=grid.data_quality.pk).update(name=hostile + " row")
    table = read_csv(raci.raci_export_csv(plan=plan))
    assert f"'{hostile}" in table[0]
    row = next(line for line in table if line[0] == f"'{hostile} row")
    assert row[-1].startswith(f"'{hostile} row has no A")
    assert not any(cell.startswith(raci.FORMULA_TRIGGERS) for line in table for cell in line)


def test_the_csv_keeps_commas_quotes_and_accents_intact(grid, plan):
    Party.objects.filter(pk=grid.partner.pk).update(name='Fabrikam, "the" partner — Köln')
    assert 'Fabrikam, "the" partner — Köln' in read_csv(raci.raci_export_csv(plan=plan))[0]


def test_the_xlsx_reads_back_with_a_bold_frozen_header_and_text_only_cells(grid, plan):
    Role.objects.filter(pk=grid.super_user.pk).update(name="=1+1")
    workbook = load_workbook(io.BytesIO(raci.raci_export_xlsx(plan=plan)))
    sheet = workbook["RACI"]
    rows = [[cell.value or "" for cell in line] for line in sheet.iter_rows()]
    assert rows[0][0] == "Responsibility" and rows[0][-1] == "Problems"
    assert rows[2] == ["Technical areas", "", "", "A", "R", "R", "C", ""]
    assert rows[3][-1].startswith("Data quality maintenance has no A")
    assert len(rows) == 6
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "B2"
    # The formula-like name is text shown as typed, never a formula.
    formula_like = next(cell for cell in sheet[1] if cell.value == "=1+1")
    assert formula_like.data_type == "s" and formula_like.quotePrefix
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert sheet.column_dimensions["A"].width >= 18
    assert sheet.column_dimensions["H"].width == 80
    assert sheet["H4"].alignment.wrap_text
