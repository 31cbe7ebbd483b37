"""The scope matrix as a spreadsheet (XLSX): export one row per aspect, import the same layout back.

Import checks every row before writing anything; any error and nothing is stored (one
transaction), the ``ValidationError`` carrying one message per problem, naming row and column.
Rows of aspects without an item and without any answer are skipped (an untouched export
imports as no change). Plan-own aspects have no key: they are matched by name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from models_catalog.models import Party, Person, Role, SupportLevel
from operations.models import ServiceCalendar
from scope.models import Aspect, Criticality, ScopeItem, ScopeStatus
from scope.services import scope_item_save
from supportplan.lib.spreadsheets import write_text
from supportplan.models import SupportPlan

COLUMNS = [
    "Group",
    "Aspect key",
    "Aspect",
    "In scope",
    "Out-of-scope reason",
    "Redirect to",
    "What",
    "Details",
    "Roles",
    "People",
    "Parties",
    "Support level",
    "Service calendar",
    "When",
    "Peak relevance",
    "Procedure URL",
    "Tool",
    "Access needs",
    "Criticality",
    "Status",
    "Owner",
    "Last reviewed",
]
#: Columns holding answers: a row with none of them and no stored item is skipped.
ANSWER_COLUMNS = COLUMNS[3:]
#: Bigger files are refused (the catalogue has a few dozen aspects; plans add tens).
MAX_ROWS = 2000
NAME_SEPARATOR = ";"
DETAIL_SEPARATOR = "|"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped: int


# --- Export ---------------------------------------------------------------------------------
def _names(objects) -> str:
    return f"{NAME_SEPARATOR} ".join(sorted(obj.name for obj in objects))


def _details_text(details: list[dict]) -> str:
    return "\n".join(
        f" {DETAIL_SEPARATOR} ".join(
            str(row.get(part) or "").strip() for part in ("task", "standard", "frequency")
        ).rstrip(f" {DETAIL_SEPARATOR}")
        for row in details or []
    )


def _row(aspect: Aspect, item: ScopeItem | None) -> list[str]:
    base = [aspect.group.name, aspect.key, aspect.name]
    if item is None:
        return base + [""] * len(ANSWER_COLUMNS)
    return [
        *base,
        {True: YES, False: NO}.get(item.in_scope, ""),
        item.out_of_scope_reason,
        item.redirect_to,
        item.what,
        _details_text(item.details),
        _names(item.roles.all()),
        _names(item.people.all()),
        _names(item.parties.all()),
        str(item.support_level.number) if item.support_level else "",
        item.service_calendar.name if item.service_calendar else "",
        item.when_text,
        item.peak_relevance,
        item.procedure_url,
        item.tool,
        item.access_needs,
        item.criticality,
        item.status,
        item.owner.name if item.owner else "",
        item.last_reviewed.isoformat() if item.last_reviewed else "",
    ]


def scope_export_table(*, plan: SupportPlan) -> list[list[str]]:
    """Header plus one row per aspect of the plan (catalogue and own), in 6 queries."""
    items = {
        item.aspect_id: item
        for item in ScopeItem.objects.filter(plan=plan)
        .select_related("support_level", "service_calendar", "owner")
        .prefetch_related("roles", "people", "parties")
    }
    aspects = (
        Aspect.objects.for_plan(plan).select_related("group").order_by("group__position", "position", "name")
    )
    return [COLUMNS, *(_row(aspect, items.get(aspect.pk)) for aspect in aspects)]


def scope_export_xlsx(*, plan: SupportPlan) -> bytes:
    """The matrix as a workbook: bold, frozen header; every cell text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    table = scope_export_table(plan=plan)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Scope"
    bold = Font(bold=True)
    top = Alignment(vertical="top", wrap_text=True)
    for row_number, line in enumerate(table, start=1):
        for column_number, value in enumerate(line, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            write_text(cell, value)
            cell.alignment = top
            if row_number == 1:
                cell.font = bold
    sheet.freeze_panes = "A2"
    for column_number, header in enumerate(COLUMNS, start=1):
        width = max(len(header) + 2, 12 if column_number > 3 else 20)
        sheet.column_dimensions[get_column_letter(column_number)].width = min(width, 40)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Import ---------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        lines = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2))
    except Exception as error:  # openpyxl raises zip, XML and key errors for non-workbooks
        raise ValidationError(f"The file is not an Excel workbook (.xlsx): {type(error).__name__}.") from None
    if len(lines) > MAX_ROWS + 1:
        raise ValidationError(f"The file has more than {MAX_ROWS} rows; split it.")
    header = [_text(value) for value in (lines[0] if lines else ())]
    while header and not header[-1]:
        header.pop()
    if [name.lower() for name in header] != [name.lower() for name in COLUMNS]:
        raise ValidationError(f"The columns must be, in this order: {', '.join(COLUMNS)}.")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        values = [_text(value) for value in line[: len(COLUMNS)]]
        values += [""] * (len(COLUMNS) - len(values))
        if any(values):
            rows.append((number, dict(zip(COLUMNS, values, strict=True))))
    return rows


class _Lookup:
    """The plan's named things, loaded once; names compared without case."""

    def __init__(self, plan: SupportPlan):
        def by_name(queryset):
            return {obj.name.casefold(): obj for obj in queryset}

        self.roles = by_name(Role.objects.filter(plan=plan))
        self.people = by_name(Person.objects.filter(plan=plan))
        self.parties = by_name(Party.objects.filter(plan=plan))
        self.calendars = by_name(ServiceCalendar.objects.filter(plan=plan))
        self.levels = {str(level.number): level for level in SupportLevel.objects.filter(plan=plan)}
        aspects = list(Aspect.objects.for_plan(plan))
        self.aspects_by_key = {aspect.key: aspect for aspect in aspects if aspect.key}
        self.own_aspects_by_name = {aspect.name.casefold(): aspect for aspect in aspects if aspect.plan_id}
        self.items = {item.aspect_id: item for item in ScopeItem.objects.filter(plan=plan)}


def _choice(value: str, choices) -> str | None:
    for stored, label in choices:
        if value.casefold() in (stored.casefold(), label.casefold()):
            return stored
    return None


def _parse_row(number: int, row: dict[str, str], lookup: _Lookup, errors: list[str]) -> dict | None:
    """The row as ``scope_item_save`` arguments, or None (errors appended) if it cannot be read."""
    before = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(f"Row {number}, column “{column}”: {message}")

    key, name = row["Aspect key"], row["Aspect"]
    aspect = lookup.aspects_by_key.get(key) if key else lookup.own_aspects_by_name.get(name.casefold())
    if aspect is None:
        if key:
            error("Aspect key", f"no aspect with the key “{key}” in the catalogue or this plan.")
        else:
            error("Aspect", f"no aspect of this plan is called “{name}” (catalogue aspects need their key).")
    fields: dict[str, Any] = {}

    in_scope = row["In scope"].casefold()
    if in_scope in ("", YES, NO, "true", "false"):
        fields["in_scope"] = None if not in_scope else in_scope in (YES, "true")
    else:
        error("In scope", f"write “{YES}”, “{NO}” or leave it blank, not “{row['In scope']}”.")

    for column, field in (
        ("Out-of-scope reason", "out_of_scope_reason"),
        ("Redirect to", "redirect_to"),
        ("What", "what"),
        ("When", "when_text"),
        ("Peak relevance", "peak_relevance"),
        ("Procedure URL", "procedure_url"),
        ("Tool", "tool"),
        ("Access needs", "access_needs"),
    ):
        fields[field] = row[column]

    details = []
    for line in row["Details"].splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(DETAIL_SEPARATOR)]
        if len(parts) > 3 or not parts[0]:
            error("Details", f"write each line as “task | standard | frequency”, not “{line.strip()}”.")
            continue
        parts += [""] * (3 - len(parts))
        details.append({"task": parts[0], "standard": parts[1], "frequency": parts[2]})
    fields["details"] = details

    related = {}
    for column, table, noun in (
        ("Roles", lookup.roles, "role"),
        ("People", lookup.people, "person"),
        ("Parties", lookup.parties, "party"),
    ):
        found = []
        for wanted in filter(None, (part.strip() for part in row[column].split(NAME_SEPARATOR))):
            obj = table.get(wanted.casefold())
            if obj is None:
                error(column, f"no {noun} called “{wanted}” in this plan.")
            else:
                found.append(obj)
        related[column.lower()] = found

    level = row["Support level"]
    fields["support_level"] = lookup.levels.get(level) if level else None
    if level and fields["support_level"] is None:
        error("Support level", f"this plan has no support level {level}.")
    calendar = row["Service calendar"]
    fields["service_calendar"] = lookup.calendars.get(calendar.casefold()) if calendar else None
    if calendar and fields["service_calendar"] is None:
        error("Service calendar", f"no service calendar called “{calendar}” in this plan.")
    owner = row["Owner"]
    fields["owner"] = lookup.people.get(owner.casefold()) if owner else None
    if owner and fields["owner"] is None:
        error("Owner", f"no person called “{owner}” in this plan.")

    criticality = row["Criticality"]
    fields["criticality"] = _choice(criticality, Criticality.choices) if criticality else ""
    if fields["criticality"] is None:
        error("Criticality", f"use one of {', '.join(Criticality.values)}, not “{criticality}”.")
    status = row["Status"]
    fields["status"] = _choice(status, ScopeStatus.choices) if status else ScopeStatus.NOT_STARTED
    if fields["status"] is None:
        error("Status", f"use one of {', '.join(ScopeStatus.values)}, not “{status}”.")
    reviewed = row["Last reviewed"]
    try:
        fields["last_reviewed"] = date.fromisoformat(reviewed[:10]) if reviewed else None
    except ValueError:
        error("Last reviewed", f"write a date as YYYY-MM-DD, not “{reviewed}”.")

    if len(errors) > before:
        return None
    return {"aspect": aspect, **related, **fields}


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()]
    return list(error.messages)


@transaction.atomic
def scope_import_xlsx(*, plan: SupportPlan, data: bytes) -> ImportResult:
    """Creates and updates the plan's items from a workbook laid out as ``scope_export_xlsx`` writes.

    Raises ``ValidationError`` with every row's messages, and stores nothing, if any row fails.
    """
    rows = _read_rows(data)
    lookup = _Lookup(plan)
    errors: list[str] = []
    parsed, seen = [], {}
    for number, row in rows:
        arguments = _parse_row(number, row, lookup, errors)
        if arguments is None:
            continue
        aspect = arguments["aspect"]
        if aspect.pk in seen:
            errors.append(f"Row {number}: “{aspect.name}” is also on row {seen[aspect.pk]}.")
            continue
        seen[aspect.pk] = number
        parsed.append((number, row, arguments))
    if errors:
        raise ValidationError(errors)

    created = updated = skipped = 0
    for number, row, arguments in parsed:
        aspect = arguments.pop("aspect")
        exists = aspect.pk in lookup.items
        if not exists and not any(row[column] for column in ANSWER_COLUMNS if column != "Status"):
            skipped += 1
            continue
        try:
            # A savepoint per row: a failing row must not poison the transaction for the next ones.
            with transaction.atomic():
                scope_item_save(plan=plan, aspect=aspect, **arguments)
        except ValidationError as error:
            errors.extend(f"Row {number}: {message}" for message in _messages(error))
            continue
        if exists:
            updated += 1
        else:
            created += 1
    if errors:
        raise ValidationError(errors)  # rolls the whole import back
    return ImportResult(created=created, updated=updated, skipped=skipped)
