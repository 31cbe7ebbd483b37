"""The scope matrix as a spreadsheet: export, change a cell, import, same matrix with that change."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from models_catalog.models import Party, Person, Role, SupportLevel
from operations.models import ServiceCalendar
from scope.models import Aspect, ScopeItem
from scope.services import aspect_create, scope_item_save
from scope.transfer import COLUMNS, scope_export_table, scope_export_xlsx, scope_import_xlsx


@pytest.fixture
def answered(plan):
    """Two items with every kind of answer, one out of scope, one plan-own aspect."""
    role = Role.objects.create(plan=plan, name="Technical expert")
    sam = Person.objects.create(plan=plan, name="Sam Patel")
    Person.objects.create(plan=plan, name="Lena de Vries")
    partner = Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")
    level = SupportLevel.objects.create(plan=plan, number=3, name="Level 3")
    calendar = ServiceCalendar.objects.create(plan=plan, name="UK office hours", timezone="Europe/London")
    scope_item_save(
        plan=plan,
        aspect=Aspect.objects.get(key="middleware"),
        in_scope=True,
        what='=HYPERLINK("http://evil")',  # user input that looks like a formula
        details=[{"task": "Check queues", "standard": "Empty by 9", "frequency": "daily"}, {"task": "Patch"}],
        roles=[role],
        people=[sam],
        parties=[partner],
        support_level=level,
        service_calendar=calendar,
        when_text="Office hours",
        procedure_url="https://wiki.example/middleware",
        tool="Azure Monitor",
        status="agreed",
        owner=sam,
        last_reviewed=date(2027, 1, 5),
    )
    scope_item_save(
        plan=plan,
        aspect=Aspect.objects.get(key="reporting"),
        in_scope=False,
        out_of_scope_reason="The BI team runs it.",
        redirect_to="BI service desk",
    )
    own = aspect_create(plan=plan, group=Aspect.objects.get(key="middleware").group, name="Payroll interface")
    scope_item_save(plan=plan, aspect=own, in_scope=True, what="Nightly payroll file.")
    return plan


def matrix(plan) -> list[list[str]]:
    return scope_export_table(plan=plan)


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def column(name: str) -> int:
    return COLUMNS.index(name) + 1


def row_of(sheet, aspect_name: str) -> int:
    return next(cell.row for cell in sheet["C"] if cell.value == aspect_name)


def test_the_export_has_a_bold_frozen_header_and_a_row_per_aspect(answered):
    sheet = sheet_of(scope_export_xlsx(plan=answered))
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.max_row == 1 + Aspect.objects.for_plan(answered).count()
    line = [cell.value for cell in sheet[row_of(sheet, Aspect.objects.get(key="middleware").name)]]
    assert line[COLUMNS.index("Details")] == "Check queues | Empty by 9 | daily\nPatch"
    assert line[COLUMNS.index("Parties")] == "Contoso Consulting"
    assert line[COLUMNS.index("Support level")] == "3"


def test_a_cell_that_looks_like_a_formula_is_exported_as_text(answered):
    sheet = sheet_of(scope_export_xlsx(plan=answered))
    cell = sheet.cell(row_of(sheet, Aspect.objects.get(key="middleware").name), column("What"))
    assert cell.data_type == "s"
    assert cell.quotePrefix


def test_export_change_a_cell_import_gives_the_same_matrix_with_that_change(answered):
    before = matrix(answered)
    data = scope_export_xlsx(plan=answered)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    row = row_of(sheet, Aspect.objects.get(key="middleware").name)
    sheet.cell(row, column("Tool")).value = "Grafana"
    sheet.cell(row, column("People")).value = "Sam Patel; Lena de Vries"
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = scope_import_xlsx(plan=answered, data=buffer.getvalue())

    assert (result.created, result.updated) == (0, 3)
    after = matrix(answered)
    changed = [
        (line_number, position)
        for line_number, (old, new) in enumerate(zip(before, after, strict=True))
        for position, (a, b) in enumerate(zip(old, new, strict=True))
        if a != b
    ]
    assert changed == [
        (row - 1, COLUMNS.index("People")),
        (row - 1, COLUMNS.index("Tool")),
    ]
    assert after[row - 1][COLUMNS.index("Tool")] == "Grafana"
    assert after[row - 1][COLUMNS.index("People")] == "Lena de Vries; Sam Patel"


def test_an_untouched_export_imports_as_no_change_and_a_new_answer_creates_an_item(answered):
    before = matrix(answered)
    sheet_rows = [list(line) for line in before]
    aspect = Aspect.objects.get(key="performance")
    line = next(line for line in sheet_rows if line[1] == "performance")
    line[COLUMNS.index("What")] = "Monitoring"
    line[COLUMNS.index("In scope")] = "yes"
    result = scope_import_xlsx(plan=answered, data=workbook_bytes(sheet_rows))
    assert result.created == 1
    assert ScopeItem.objects.get(plan=answered, aspect=aspect).what == "Monitoring"
    assert ScopeItem.objects.filter(plan=answered).count() == 4


def test_wrong_columns_name_the_expected_ones(answered):
    with pytest.raises(ValidationError) as caught:
        scope_import_xlsx(plan=answered, data=workbook_bytes([["Aspect", "What"], ["middleware", "x"]]))
    assert "Group, Aspect key, Aspect, In scope" in caught.value.messages[0]
    assert "Last reviewed" in caught.value.messages[0]


def test_a_file_that_is_not_a_workbook_is_refused_clearly(answered):
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        scope_import_xlsx(plan=answered, data=b"name,what\nfoo,bar\n")


def test_unknown_aspects_and_people_are_named_by_row_and_nothing_is_stored(answered):
    rows = [list(line) for line in matrix(answered)]
    middleware = next(number for number, line in enumerate(rows) if line[1] == "middleware")
    rows[middleware][COLUMNS.index("Tool")] = "Changed but must not be stored"
    rows.append(["Enterprise architecture", "no_such_aspect", "Ghost", "yes"] + [""] * (len(COLUMNS) - 4))
    bad = next(number for number, line in enumerate(rows) if line[1] == "environments")
    rows[bad][COLUMNS.index("People")] = "Nobody Known"
    rows[bad][COLUMNS.index("In scope")] = "yes"
    before = matrix(answered)

    with pytest.raises(ValidationError) as caught:
        scope_import_xlsx(plan=answered, data=workbook_bytes(rows))

    messages = caught.value.messages
    assert f"Row {bad + 1}, column “People”: no person called “Nobody Known” in this plan." in messages
    assert any(
        message.startswith(f"Row {len(rows)}, column “Aspect key”") and "no_such_aspect" in message
        for message in messages
    )
    assert matrix(answered) == before


def test_a_row_the_model_refuses_rolls_back_the_rows_before_it(answered):
    rows = [list(line) for line in matrix(answered)]
    first = next(number for number, line in enumerate(rows) if line[1] == "enterprise_configuration")
    rows[first][COLUMNS.index("What")] = "Would be created"
    later = next(number for number, line in enumerate(rows) if line[1] == "performance")
    rows[later][COLUMNS.index("In scope")] = "no"  # out of scope without a reason
    with pytest.raises(ValidationError) as caught:
        scope_import_xlsx(plan=answered, data=workbook_bytes(rows))
    assert any(
        message.startswith(f"Row {later + 1}: out_of_scope_reason") for message in caught.value.messages
    )
    assert ScopeItem.objects.filter(plan=answered).count() == 3


# --- The pages ------------------------------------------------------------------------------
def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_staff_download_the_workbook_and_partners_may_not(answered, victor, carol, dave):
    url = reverse("scope-export", args=[answered.slug])
    response = _client(victor).get(url)
    assert response.status_code == 200
    assert [cell.value for cell in sheet_of(response.content)[1]] == COLUMNS
    assert _client(carol).get(url).status_code == 403
    assert _client(dave).get(url).status_code == 404


def test_only_leads_open_the_import_page(answered, bob, tina):
    url = reverse("scope-import", args=[answered.slug])
    assert _client(bob).get(url).status_code == 200
    assert _client(tina).get(url).status_code == 403


def test_the_import_page_lists_the_bad_rows_and_stores_nothing(answered, bob):
    rows = [list(line) for line in matrix(answered)]
    rows[1][COLUMNS.index("Parties")] = "Fabrikam"
    upload = SimpleUploadedFile("scope.xlsx", workbook_bytes(rows))
    before = matrix(answered)
    response = _client(bob).post(reverse("scope-import", args=[answered.slug]), {"file": upload})
    assert response.status_code == 400
    assert "Row 2, column “Parties”: no party called “Fabrikam” in this plan." in response.content.decode()
    assert matrix(answered) == before


def test_a_good_upload_imports_and_says_so(answered, bob):
    rows = [list(line) for line in matrix(answered)]
    line = next(line for line in rows if line[1] == "middleware")
    line[COLUMNS.index("Tool")] = "Grafana"
    upload = SimpleUploadedFile("scope.xlsx", workbook_bytes(rows))
    response = _client(bob).post(reverse("scope-import", args=[answered.slug]), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "3 updated" in response.content.decode()
    assert ScopeItem.objects.get(plan=answered, aspect__key="middleware").tool == "Grafana"
