"""The RACI of a plan: responsibilities (rows) against roles and parties (columns), one letter a cell.

Rules (the guide's): every responsibility has exactly one A (accountable) and at least one R
(responsible). Breaking them is allowed while a grid is being filled in: a cell change is stored
and the resulting problems are listed (``raci_violations``), never refused because of the state of
another cell. Only invalid input is refused (a letter that is not R, A, C or I; a role or party of
another plan; a cell naming both or neither).

Views, API, admin and the demo seeding call these functions; reads build a ``RaciGrid`` with a
fixed number of queries whatever the size of the grid.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet

from models_catalog.models import Party, RaciAssignment, RaciLetter, Responsibility, Role
from supportplan.lib.services import apply_fields
from supportplan.lib.spreadsheets import FORMULA_TRIGGERS, write_text
from supportplan.models import SupportPlan

ViolationCode = Literal["no_accountable", "several_accountable", "no_responsible"]


# --- Writes ---------------------------------------------------------------------------------
RESPONSIBILITY_FIELDS = {"name", "description", "position"}


def _refuse_duplicate_name(*, plan: SupportPlan, name: str, exclude_pk: int | None = None) -> None:
    # The database constraint is case-sensitive; "Data quality" and "data quality" would be one
    # row to a reader of the grid.
    same = Responsibility.objects.filter(plan=plan, name__iexact=name.strip()).exclude(pk=exclude_pk)
    if name.strip() and same.exists():
        raise ValidationError({"name": f"This plan already has a responsibility called “{name.strip()}”."})


@transaction.atomic
def responsibility_create(
    *, plan: SupportPlan, name: str, description: str = "", position: int | None = None
) -> Responsibility:
    """Adds a custom responsibility (a RACI row), last in the grid unless ``position`` is given."""
    _refuse_duplicate_name(plan=plan, name=name)
    if position is None:
        last = Responsibility.objects.filter(plan=plan).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    responsibility = Responsibility(
        plan=plan, name=name.strip(), description=description.strip(), position=position
    )
    responsibility.full_clean()
    responsibility.save()
    return responsibility


@transaction.atomic
def responsibility_update(*, responsibility: Responsibility, **fields: Any) -> Responsibility:
    """Renames, re-describes or moves a responsibility (``name``, ``description``, ``position``)."""
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
        _refuse_duplicate_name(plan=responsibility.plan, name=fields["name"], exclude_pk=responsibility.pk)
    changed = apply_fields(responsibility, fields, RESPONSIBILITY_FIELDS)
    responsibility.full_clean()
    if changed:
        responsibility.save(update_fields=changed)
    return responsibility


@transaction.atomic
def responsibility_delete(*, responsibility: Responsibility) -> None:
    """Removes the row and its cells (seeded rows too: a plan may not need all five areas)."""
    # The row's lock first, as a cell write takes it: Django deletes the cells before the row, and
    # without it a cell write holding the row and waiting for a cell deadlocked with the delete.
    Responsibility.objects.select_for_update(of=("self",)).filter(pk=responsibility.pk).first()
    responsibility.delete()


class SecondAccountableError(ValidationError):
    """A second A for a responsibility: the grid shows it in the row instead of refusing the page."""


@transaction.atomic
def raci_set_cell(
    *, responsibility: Responsibility, letter: str, role: Role | None = None, party: Party | None = None
) -> RaciAssignment | None:
    """Sets one cell to R, A, C or I, or clears it (``letter=""``, returns None).

    Raises ``ValidationError`` naming the field for a letter that is not R/A/C/I, a role or party
    of another plan, or a cell naming both or neither, and a second A in the row (exactly one is
    accountable: change the other cell first). Missing A's and R's are not refused — a grid is
    filled in over time — but reported by ``raci_violations``.
    """
    if (role is None) == (party is None):
        if role is None:
            message = "Name either a role or a party for a RACI cell."
        else:
            message = "A RACI cell names a role or a party, not both."
        raise ValidationError({"role": message, "party": message})
    if letter not in {"", *RaciLetter.values}:
        raise ValidationError(
            {"letter": f"“{letter}” is not a RACI letter: use R, A, C or I, or leave the cell blank."}
        )
    if role is not None and role.plan_id != responsibility.plan_id:
        raise ValidationError({"role": "Choose a role of this plan."})
    if party is not None and party.plan_id != responsibility.plan_id:
        raise ValidationError({"party": "Choose a party of this plan."})

    # Cell writes of one row take turns (a row lock), so two people setting the same cell at
    # once update it rather than one of them hitting the unique constraint.
    Responsibility.objects.select_for_update(of=("self",)).filter(pk=responsibility.pk).first()
    column = {"role": role} if role is not None else {"party": party}
    cell = RaciAssignment.objects.filter(responsibility=responsibility, **column).first()
    if letter == RaciLetter.ACCOUNTABLE:
        other = (
            RaciAssignment.objects.filter(responsibility=responsibility, letter=RaciLetter.ACCOUNTABLE)
            .exclude(pk=cell.pk if cell else None)
            .select_related("role", "party")
            .first()
        )
        if other is not None:
            raise SecondAccountableError(
                {
                    "letter": f"{other.role or other.party} is already accountable for {responsibility}: "
                    "exactly one A per responsibility. Change that cell first."
                }
            )
    if not letter:
        if cell is not None:
            cell.delete()
        return None
    if cell is None:
        cell = RaciAssignment(plan_id=responsibility.plan_id, responsibility=responsibility, **column)
    elif cell.letter == letter:
        return cell
    cell.letter = letter
    cell.full_clean()
    cell.save()
    return cell


# --- Reads ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaciColumn:
    """A role or a party of the plan, as a column of the grid."""

    kind: Literal["role", "party"]
    id: int
    name: str
    #: The name, with " (party)" added when a role has the same name.
    label: str

    @property
    def key(self) -> str:
        """Stable within a plan, e.g. ``role-12``: used for HTML ids and lookups."""
        return f"{self.kind}-{self.id}"


@dataclass(frozen=True)
class RaciViolation:
    responsibility: Responsibility
    code: ViolationCode
    message: str


@dataclass(frozen=True)
class RaciCell:
    column: RaciColumn
    assignment: RaciAssignment | None

    @property
    def letter(self) -> str:
        return self.assignment.letter if self.assignment else ""


@dataclass
class RaciRow:
    responsibility: Responsibility
    cells: list[RaciCell]
    violations: list[RaciViolation]


@dataclass
class RaciGrid:
    plan: SupportPlan
    columns: list[RaciColumn]
    rows: list[RaciRow]
    #: (responsibility id, column key) → the cell's assignment.
    cells: dict[tuple[int, str], RaciAssignment] = field(default_factory=dict)

    @property
    def violations(self) -> list[RaciViolation]:
        return [violation for row in self.rows for violation in row.violations]

    @property
    def role_columns(self) -> list[RaciColumn]:
        return [column for column in self.columns if column.kind == "role"]

    @property
    def party_columns(self) -> list[RaciColumn]:
        return [column for column in self.columns if column.kind == "party"]

    def letter(self, responsibility: Responsibility | int, column: RaciColumn | str) -> str:
        responsibility_id = responsibility if isinstance(responsibility, int) else responsibility.pk
        key = column if isinstance(column, str) else column.key
        assignment = self.cells.get((responsibility_id, key))
        return assignment.letter if assignment else ""

    def row(self, responsibility: Responsibility | int) -> RaciRow | None:
        responsibility_id = responsibility if isinstance(responsibility, int) else responsibility.pk
        return next((row for row in self.rows if row.responsibility.pk == responsibility_id), None)


_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _row_violations(responsibility: Responsibility, cells: list[RaciCell]) -> list[RaciViolation]:
    accountable = [cell.column.label for cell in cells if cell.letter == RaciLetter.ACCOUNTABLE]
    responsible = [cell for cell in cells if cell.letter == RaciLetter.RESPONSIBLE]
    name = responsibility.name
    violations = []
    if not accountable:
        violations.append(
            RaciViolation(
                responsibility,
                "no_accountable",
                f"{name} has no A: exactly one role or party must be accountable.",
            )
        )
    elif len(accountable) > 1:
        count = _COUNT_WORDS.get(len(accountable), str(len(accountable)))
        violations.append(
            RaciViolation(
                responsibility,
                "several_accountable",
                f"{name} has {count} A's ({', '.join(accountable)}): exactly one is accountable.",
            )
        )
    if not responsible:
        violations.append(
            RaciViolation(
                responsibility,
                "no_responsible",
                f"{name} has no R: at least one role or party must be responsible.",
            )
        )
    return violations


def _columns(roles: Iterable[Role], parties: Iterable[Party]) -> list[RaciColumn]:
    role_names = {role.name.casefold() for role in roles}
    columns = [RaciColumn("role", role.pk, role.name, role.name) for role in roles]
    for party in parties:
        label = f"{party.name} (party)" if party.name.casefold() in role_names else party.name
        columns.append(RaciColumn("party", party.pk, party.name, label))
    return columns


def _build_grids(
    *,
    plans: Iterable[SupportPlan],
    roles: QuerySet[Role],
    parties: QuerySet[Party],
    responsibilities: QuerySet[Responsibility],
    assignments: QuerySet[RaciAssignment],
) -> dict[int, RaciGrid]:
    """One grid per plan from four queries, however many plans, rows and columns."""
    roles_by_plan: dict[int, list[Role]] = defaultdict(list)
    for role in roles.order_by("plan_id", "name", "pk"):
        roles_by_plan[role.plan_id].append(role)
    parties_by_plan: dict[int, list[Party]] = defaultdict(list)
    for party in parties.order_by("plan_id", "name", "pk"):
        parties_by_plan[party.plan_id].append(party)
    rows_by_plan: dict[int, list[Responsibility]] = defaultdict(list)
    for responsibility in responsibilities.order_by("plan_id", "position", "name", "pk"):
        rows_by_plan[responsibility.plan_id].append(responsibility)
    cells: dict[tuple[int, str], RaciAssignment] = {}
    for assignment in assignments:
        key = f"role-{assignment.role_id}" if assignment.role_id else f"party-{assignment.party_id}"
        cells[(assignment.responsibility_id, key)] = assignment

    grids = {}
    for plan in plans:
        columns = _columns(roles_by_plan[plan.pk], parties_by_plan[plan.pk])
        grid = RaciGrid(plan=plan, columns=columns, rows=[])
        for responsibility in rows_by_plan[plan.pk]:
            row_cells = [RaciCell(column, cells.get((responsibility.pk, column.key))) for column in columns]
            for cell in row_cells:
                if cell.assignment is not None:
                    grid.cells[(responsibility.pk, cell.column.key)] = cell.assignment
            grid.rows.append(RaciRow(responsibility, row_cells, _row_violations(responsibility, row_cells)))
        grids[plan.pk] = grid
    return grids


def raci_grid(*, user: Any, plan: SupportPlan) -> RaciGrid:
    """The plan's grid as ``user`` may see it: columns are roles then parties (each by name), rows
    the responsibilities in position order. Four queries, whatever the size of the grid."""
    return _build_grids(
        plans=[plan],
        roles=Role.objects.for_user(user).filter(plan=plan),
        parties=Party.objects.for_user(user).filter(plan=plan),
        responsibilities=Responsibility.objects.for_user(user).filter(plan=plan),
        assignments=RaciAssignment.objects.for_user(user).filter(plan=plan),
    )[plan.pk]


def _plan_grid(plan: SupportPlan) -> RaciGrid:
    """The whole grid, unscoped: for callers that have checked access (exports, checks, seeding)."""
    return _build_grids(
        plans=[plan],
        roles=Role.objects.filter(plan=plan),
        parties=Party.objects.filter(plan=plan),
        responsibilities=Responsibility.objects.filter(plan=plan),
        assignments=RaciAssignment.objects.filter(plan=plan),
    )[plan.pk]


def raci_violations(*, plan: SupportPlan) -> list[RaciViolation]:
    """Every responsibility without exactly one A or without an R, in grid order."""
    return _plan_grid(plan).violations


def raci_violations_by_plan(*, user: Any, plans: Iterable[SupportPlan]) -> dict[int, list[RaciViolation]]:
    """The violations of several plans as ``user`` sees their grids, from four queries in all."""
    plans = list(plans)
    grids = _build_grids(
        plans=plans,
        roles=Role.objects.for_user(user).filter(plan__in=plans),
        parties=Party.objects.for_user(user).filter(plan__in=plans),
        responsibilities=Responsibility.objects.for_user(user).filter(plan__in=plans),
        assignments=RaciAssignment.objects.for_user(user).filter(plan__in=plans),
    )
    return {plan_id: grid.violations for plan_id, grid in grids.items()}


# --- Exports --------------------------------------------------------------------------------
def neutralise_formula(value: str) -> str:
    """Prefixes an apostrophe to text a spreadsheet would run as a formula (names are user input)."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def _export_table(grid: RaciGrid) -> list[list[str]]:
    header = ["Responsibility", *(column.label for column in grid.columns), "Problems"]
    rows = [
        [
            row.responsibility.name,
            *(cell.letter for cell in row.cells),
            "; ".join(violation.message for violation in row.violations),
        ]
        for row in grid.rows
    ]
    return [header, *rows]


def raci_export_csv(*, plan: SupportPlan) -> str:
    """The grid as CSV text (the caller encodes it): a header row, one row per responsibility and
    a trailing Problems column. Cells that would start a formula get a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _export_table(_plan_grid(plan)):
        writer.writerow([neutralise_formula(value) for value in line])
    return buffer.getvalue()


def raci_export_xlsx(*, plan: SupportPlan) -> bytes:
    """The grid as an Excel workbook: bold header, first row and column frozen, sized columns.

    Every cell is written as text (never a formula), shown exactly as typed.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    table = _export_table(_plan_grid(plan))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "RACI"
    bold = Font(bold=True)
    problem_fill = PatternFill("solid", fgColor="FDECEA")
    centred = Alignment(horizontal="center", vertical="top")
    wrapped = Alignment(wrap_text=True, vertical="top")
    last_column = len(table[0])
    for row_number, line in enumerate(table, start=1):
        for column_number, value in enumerate(line, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            write_text(cell, value)
            if row_number == 1:
                cell.font = bold
                cell.alignment = wrapped
            elif column_number == last_column:
                cell.alignment = wrapped
                if value:
                    cell.fill = problem_fill
            elif column_number > 1:
                cell.alignment = centred
            else:
                cell.alignment = wrapped
    sheet.freeze_panes = "B2"
    first_width = max((len(line[0]) for line in table), default=14)
    sheet.column_dimensions["A"].width = min(max(first_width + 2, 18), 50)
    for column_number in range(2, last_column):
        header_width = len(table[0][column_number - 1])
        sheet.column_dimensions[get_column_letter(column_number)].width = min(max(header_width + 2, 6), 24)
    sheet.column_dimensions[get_column_letter(last_column)].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
