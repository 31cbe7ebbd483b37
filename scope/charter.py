"""The support charter (terms of reference): generated as Markdown from what the plan holds now,
rendered to HTML (a small, escaping converter) and DOCX (python-docx), and issued as immutable,
numbered versions that a lead signs off once.

``charter_markdown`` reads the whole plan unscoped: callers (the charter pages and the API) have
checked that the requester may read it. It costs a fixed number of queries whatever the plan's size.
"""

from __future__ import annotations

import difflib
import html
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Prefetch
from django.utils import timezone

from models_catalog.models import Party, SupportLevel, SupportModel
from models_catalog.raci import _plan_grid
from operations.models import CalendarEvent, EscalationStep, ServiceCalendar, SlaPhase, SlaPolicy, SlaTarget
from operations.sla_services import escalation_ladder_sentence, minutes_in_words
from scope.models import CharterVersion, ScopeItem
from supportplan.lib.services import lock_plan
from supportplan.models import LEAD_ROLES, Membership, SupportPlan

#: The charter's sections, in order: tests and the DOCX check look for these headings.
SECTIONS = (
    "Purpose",
    "Scope",
    "Support model and levels",
    "Roles and RACI",
    "Service hours",
    "SLAs and escalation",
    "Tools",
    "Access policies",
    "Maintenance calendar",
    "Keeping the solution current",
    "Change authority",
)
#: Aspect groups whose items say how the solution is kept current.
CURRENCY_GROUPS = ("update_cycles", "requirements_change")
NEW_FEATURES_KEY = "new_features"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: Any) -> str:
    """User text as inline Markdown: special characters (pipes too) backslash-escaped, one line."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    # A leading "-" or "+" would start a list item.
    return "\\" + escaped if escaped[:1] in ("-", "+") else escaped


def _names(objects: Iterable[Any]) -> str:
    return ", ".join(md(obj.name) for obj in objects)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; cells must already be escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return [*lines, ""]


# --- Reads ----------------------------------------------------------------------------------
@dataclass
class _PlanData:
    plan: SupportPlan
    model: SupportModel | None
    levels: list[SupportLevel]
    parties: list[Party]
    grid: Any
    calendars: list[ServiceCalendar]
    events: list[CalendarEvent]
    policies: list[SlaPolicy]
    items: list[ScopeItem]
    leads: list[Membership]


def _load(plan: SupportPlan) -> _PlanData:
    """Everything the charter needs: about twenty queries, whatever the size of the plan."""
    steps = EscalationStep.objects.select_related("role", "person", "party").order_by("position", "pk")
    targets = (
        SlaTarget.objects.select_related("priority", "calendar", "support_level")
        .prefetch_related(Prefetch("escalation_steps", queryset=steps))
        .order_by("priority__rank", "priority__code", "metric", "request_type", "support_level__number", "pk")
    )
    return _PlanData(
        plan=plan,
        model=SupportModel.objects.filter(plan=plan).first(),
        levels=list(
            SupportLevel.objects.filter(plan=plan).prefetch_related("parties", "roles").order_by("number")
        ),
        parties=list(Party.objects.filter(plan=plan).order_by("kind", "name")),
        grid=_plan_grid(plan),
        calendars=list(
            ServiceCalendar.objects.filter(plan=plan)
            .annotate(holiday_count=Count("holidays"))
            .order_by("name")
        ),
        events=list(CalendarEvent.objects.filter(plan=plan).select_related("calendar").order_by("starts_at")),
        policies=list(
            SlaPolicy.objects.filter(plan=plan)
            .prefetch_related(Prefetch("targets", queryset=targets))
            .order_by("valid_from", "phase", "pk")
        ),
        items=list(
            ScopeItem.objects.filter(plan=plan)
            .select_related("aspect__group", "support_level")
            .prefetch_related("roles", "people", "parties")
            .order_by("aspect__group__position", "aspect__position", "aspect__name")
        ),
        leads=list(
            Membership.objects.filter(plan=plan, role__in=LEAD_ROLES)
            .select_related("user")
            .order_by("role", "pk")
        ),
    )


# --- Sections -------------------------------------------------------------------------------
def _purpose(data: _PlanData) -> list[str]:
    plan = data.plan
    products = ", ".join(plan.get_product_labels()) or "the business application"
    lines = [
        f"This charter (terms of reference) states how **{md(plan.name)}** ({md(products)}) is supported "
        "once it is live: what is in scope, who supports it and at which level, when, to which service "
        "levels, with which tools and access, and how the solution is kept current.",
        "",
        f"Current phase: {plan.get_phase_display()}."
        + (f" Go-live: {plan.go_live_date:%Y-%m-%d}." if plan.go_live_date else " Go-live date not set yet.")
        + (
            f" Hypercare: {plan.hypercare_start:%Y-%m-%d} to {plan.hypercare_end:%Y-%m-%d}."
            if plan.hypercare_start and plan.hypercare_end
            else ""
        ),
        "",
    ]
    if plan.description.strip():
        lines += [md(plan.description), ""]
    return lines


def _who(item: ScopeItem) -> str:
    parts = []
    if item.support_level is not None:
        parts.append(f"L{item.support_level.number} {md(item.support_level.name)}")
    named = [*item.roles.all(), *item.parties.all(), *item.people.all()]
    if named:
        parts.append(_names(named))
    return "; ".join(parts)


def _scope(data: _PlanData) -> list[str]:
    decided = [item for item in data.items if item.in_scope is not None]
    if not decided:
        return ["No scope item decided yet.", ""]
    by_group: dict[Any, list[ScopeItem]] = defaultdict(list)
    for item in decided:
        by_group[item.aspect.group].append(item)
    lines = []
    for group, items in by_group.items():
        lines += [f"### {md(group.name)}", ""]
        inside = [item for item in items if item.in_scope]
        outside = [item for item in items if not item.in_scope]
        lines.append("In scope:" if inside else "Nothing of this group is in scope.")
        for item in inside:
            text = f"- **{md(item.aspect.name)}**" + (f": {md(item.what)}" if item.what.strip() else "")
            who = _who(item)
            lines.append(text + (f" (who: {who})" if who else " (who: not named yet)"))
        if outside:
            lines += ["", "Out of scope:"]
        for item in outside:
            redirect = f" Questions go to: {md(item.redirect_to)}." if item.redirect_to.strip() else ""
            reason = md(item.out_of_scope_reason).rstrip(".")
            lines.append(f"- **{md(item.aspect.name)}**: {reason}.{redirect}")
        lines.append("")
    undecided = len(data.items) - len(decided)
    if undecided:
        lines += [f"{undecided} more aspect(s) not decided yet.", ""]
    return lines


def _support_model(data: _PlanData) -> list[str]:
    model = data.model
    lines = []
    if model is None or not model.kind:
        lines += ["No support model chosen yet.", ""]
    else:
        coe = " with a centre of excellence" if model.centre_of_excellence else ""
        lines += [f"Support model: **{model.get_kind_display()}**{coe}.", ""]
        if model.rationale.strip():
            lines += [f"Why: {md(model.rationale)}", ""]
    if not data.levels:
        return [*lines, "No support levels yet.", ""]
    for level in data.levels:
        lines += [f"### L{level.number} {md(level.name)}", ""]
        if level.description.strip():
            lines += [md(level.description), ""]
        lines.append(f"- Parties: {_names(level.parties.all()) or 'none named yet'}")
        lines.append(f"- Roles: {_names(level.roles.all()) or 'none named yet'}")
        if level.entry_criteria.strip():
            lines.append(f"- Takes: {md(level.entry_criteria)}")
        if level.handoff_criteria.strip():
            lines.append(f"- Hands on: {md(level.handoff_criteria)}")
        lines.append("")
    return lines


def _raci(data: _PlanData) -> list[str]:
    grid = data.grid
    if not grid.rows:
        return ["No RACI yet.", ""]
    # Columns nobody filled in would only widen the table.
    used = [
        column for column in grid.columns if any(grid.letter(row.responsibility, column) for row in grid.rows)
    ]
    if not used:
        return ["No RACI letters yet: nobody is responsible or accountable for anything.", ""]
    lines = ["R = responsible, A = accountable, C = consulted, I = informed.", ""]
    lines += _table(
        ["Responsibility", *(md(column.label) for column in used)],
        [
            [md(row.responsibility.name), *(grid.letter(row.responsibility, column) for column in used)]
            for row in grid.rows
        ],
    )
    if grid.violations:
        lines += [
            "Problems to resolve:",
            *(f"- {md(violation.message)}" for violation in grid.violations),
            "",
        ]
    else:
        lines += ["Every responsibility has exactly one A and at least one R.", ""]
    return lines


def _week(windows: dict) -> str:
    """{"0": [["09:00", "17:00"]], …} → "Mon–Fri 09:00–17:00" (consecutive equal days joined)."""
    days = []
    for index in range(7):
        spans = windows.get(str(index), [])
        days.append(
            ", ".join("all day" if start == end == "00:00" else f"{start}–{end}" for start, end in spans)
        )
    parts, start = [], 0
    while start < 7:
        end = start
        while end + 1 < 7 and days[end + 1] == days[start]:
            end += 1
        if days[start]:
            label = WEEKDAYS[start] if start == end else f"{WEEKDAYS[start]}–{WEEKDAYS[end]}"
            parts.append(f"{label} {days[start]}")
        start = end + 1
    return "; ".join(parts) or "no weekly hours yet"


def _service_hours(data: _PlanData) -> list[str]:
    lines = []
    if not data.calendars:
        lines += ["No service calendar yet.", ""]
    for calendar in data.calendars:
        hours = "24×7" if calendar.is_24x7 else _week(calendar.weekly_windows)
        holidays = calendar.holiday_count
        lines.append(
            f"- **{md(calendar.name)}** ({md(calendar.timezone)}): {md(hours)}; "
            f"{holidays} holiday{'s' if holidays != 1 else ''}"
        )
    if data.calendars:
        lines.append("")
    lines += ["### Period-ends, peaks and freezes", ""]
    if not data.events:
        return [*lines, "No period-ends, peaks or freezes yet.", ""]
    for event in data.events:
        need = f"; needs {md(event.required_service_level)}" if event.required_service_level.strip() else ""
        cover = f"; covered by {md(event.calendar.name)}" if event.calendar_id else ""
        lines.append(
            f"- **{md(event.name)}** ({event.get_kind_display()}): "
            f"{event.starts_at:%Y-%m-%d %H:%M} to {event.ends_at:%Y-%m-%d %H:%M} UTC{need}{cover}"
        )
    return [*lines, ""]


def _slas(data: _PlanData) -> list[str]:
    if not data.policies:
        return ["No SLA policy yet.", ""]
    lines = []
    phases = [SlaPhase.HYPERCARE, SlaPhase.STEADY_STATE]
    for policy in sorted(data.policies, key=lambda policy: phases.index(policy.phase)):
        until = f" to {policy.valid_to:%Y-%m-%d}" if policy.valid_to else ", open-ended"
        phase = policy.get_phase_display()
        title = phase if policy.name.strip().casefold() == phase.casefold() else f"{phase}: {md(policy.name)}"
        lines += [f"### {title}", "", f"In force from {policy.valid_from:%Y-%m-%d}{until}.", ""]
        targets = list(policy.targets.all())
        if not targets:
            lines += ["No targets yet.", ""]
            continue
        lines += _table(
            ["Priority", "Metric", "Target", "Calendar", "Request type", "Level"],
            [
                [
                    md(target.priority.code),
                    target.get_metric_display(),
                    minutes_in_words(target.minutes),
                    md(target.calendar.name),
                    target.get_request_type_display() or "any",
                    f"L{target.support_level.number}" if target.support_level_id else "any",
                ]
                for target in targets
            ],
        )
        ladders = [target for target in targets if target.escalation_steps.all()]
        if ladders:
            lines.append("Escalation:")
            for target in ladders:
                sentence = escalation_ladder_sentence(target.escalation_steps.all())
                lines.append(
                    f"- {md(target.priority.code)} {target.get_metric_display().lower()}: {md(sentence)}."
                )
        else:
            lines.append("No escalation ladder yet.")
        lines.append("")
    return lines


def _tools(data: _PlanData) -> list[str]:
    tools: dict[str, list[str]] = defaultdict(list)
    for item in data.items:
        if item.tool.strip() and item.in_scope is not False:
            tools[item.tool.strip()].append(item.aspect.name)
    for party in data.parties:
        if party.helpdesk_system.strip():
            tools[party.helpdesk_system.strip()].append(f"helpdesk of {party.name}")
    if not tools:
        return ["No tools named yet.", ""]
    return [*(f"- **{md(tool)}**: {md(', '.join(uses))}" for tool, uses in sorted(tools.items())), ""]


def _access(data: _PlanData) -> list[str]:
    restricted = [party for party in data.parties if party.anonymised_data_only]
    if restricted:
        lines = [f"- **{md(party.name)}** may see only anonymised data." for party in restricted]
    else:
        lines = ["No party is restricted to anonymised data yet."]
    lines += ["", "### Access needs", ""]
    needs = [item for item in data.items if item.access_needs.strip() and item.in_scope is not False]
    if not needs:
        return [*lines, "No access needs recorded yet.", ""]
    return [*lines, *(f"- **{md(item.aspect.name)}**: {md(item.access_needs)}" for item in needs), ""]


def _maintenance(data: _PlanData) -> list[str]:
    rows = [
        [
            md(item.aspect.name),
            md(task.get("task", "")),
            md(task.get("standard") or ""),
            md(task.get("frequency") or ""),
        ]
        for item in data.items
        if item.in_scope is not False
        for task in item.details or []
    ]
    if not rows:
        return ["No maintenance tasks yet.", ""]
    return _table(["Aspect", "Task", "Standard", "Frequency"], rows)


def _currency(data: _PlanData) -> list[str]:
    items = [item for item in data.items if item.aspect.group.key in CURRENCY_GROUPS and item.in_scope]
    if not items:
        return ["Nothing recorded yet on updates, new features or requirements.", ""]
    lines = []
    for item in items:
        lines.append(f"- **{md(item.aspect.name)}**" + (f": {md(item.what)}" if item.what.strip() else ""))
        for task in item.details or []:
            frequency = f" ({md(task['frequency'])})" if task.get("frequency") else ""
            lines.append(f"  - {md(task.get('task', ''))}{frequency}")
    return [*lines, ""]


def _change_authority(data: _PlanData) -> list[str]:
    grid = data.grid
    row = next((row for row in grid.rows if row.responsibility.seed_key == NEW_FEATURES_KEY), None)
    if row is None:
        lines = ["The RACI has no “New features and developments” responsibility."]
    else:
        accountable = [cell.column.label for cell in row.cells if cell.letter == "A"]
        lines = [
            f"Accountable for new features and developments: **{md(', '.join(accountable))}**."
            if accountable
            else "Nobody is accountable for new features and developments yet."
        ]
    lines.append("")
    if not data.leads:
        return [*lines, "The plan has no leads yet.", ""]
    for membership in data.leads:
        user = membership.user
        name = user.get_full_name() or user.get_username()
        lines.append(f"- {membership.get_role_display()}: {md(name)}")
    return [*lines, ""]


_BUILDERS = (
    _purpose,
    _scope,
    _support_model,
    _raci,
    _service_hours,
    _slas,
    _tools,
    _access,
    _maintenance,
    _currency,
    _change_authority,
)


def charter_markdown(*, plan: SupportPlan) -> str:
    """The charter of the plan as it stands now, as Markdown. Deterministic: the same plan gives the
    same text (no generation time inside), so versions compare on their substance."""
    data = _load(plan)
    lines = [f"# Support charter: {md(plan.name)}", ""]
    for number, (title, build) in enumerate(zip(SECTIONS, _BUILDERS, strict=True), start=1):
        lines += [f"## {number}. {title}", "", *build(data)]
    return "\n".join(lines).rstrip() + "\n"


# --- Markdown → blocks (the subset charter_markdown writes) ---------------------------------
@dataclass(frozen=True)
class Block:
    kind: str  # heading, paragraph, list, table
    level: int = 0
    text: str = ""
    items: tuple = ()


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*]\s+(.*)$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def split_cells(line: str) -> list[str]:
    """A table row's cells, splitting on unescaped pipes only."""
    cells, current, index = [], [], 0
    body = line.strip()
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            current.append(body[index : index + 2])
            index += 2
            continue
        if char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current).strip())
    if body.startswith("|"):
        cells = cells[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        cells = cells[:-1]
    return cells


def blocks(markdown: str) -> Iterator[Block]:
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        if heading := _HEADING.match(line):
            yield Block("heading", level=len(heading.group(1)), text=heading.group(2).strip())
            index += 1
        elif _BULLET.match(line):
            items = []
            while index < len(lines) and (bullet := _BULLET.match(lines[index])):
                items.append((1 if len(bullet.group(1)) >= 2 else 0, bullet.group(2)))
                index += 1
            yield Block("list", items=tuple(items))
        elif line.lstrip().startswith("|"):
            rows = []
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                if not _SEPARATOR.match(lines[index].strip()):
                    rows.append(tuple(split_cells(lines[index])))
                index += 1
            yield Block("table", items=tuple(rows))
        else:
            paragraph = []
            while (
                index < len(lines)
                and lines[index].strip()
                and not _HEADING.match(lines[index])
                and not _BULLET.match(lines[index])
                and not lines[index].lstrip().startswith("|")
            ):
                paragraph.append(lines[index].strip())
                index += 1
            yield Block("paragraph", text=" ".join(paragraph))


def inline_runs(text: str) -> list[tuple[str, bool]]:
    """Inline Markdown as (text, bold) runs: ``**`` toggles bold, a backslash escapes a character."""
    runs: list[tuple[str, bool]] = []
    current: list[str] = []
    bold, index = False, 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            current.append(text[index + 1])
            index += 2
        elif text.startswith("**", index):
            if current:
                runs.append(("".join(current), bold))
            current, bold = [], not bold
            index += 2
        else:
            current.append(text[index])
            index += 1
    if current:
        runs.append(("".join(current), bold))
    return runs


def _inline_html(text: str) -> str:
    return "".join(
        f"<strong>{html.escape(part)}</strong>" if bold else html.escape(part)
        for part, bold in inline_runs(text)
    )


def charter_html(markdown: str) -> str:
    """Safe HTML for the subset of Markdown the charter uses (headings, paragraphs, bullet lists,
    tables, bold). Every piece of text is escaped; no raw HTML passes through."""
    out = []
    for block in blocks(markdown):
        if block.kind == "heading":
            out.append(f"<h{block.level}>{_inline_html(block.text)}</h{block.level}>")
        elif block.kind == "paragraph":
            out.append(f"<p>{_inline_html(block.text)}</p>")
        elif block.kind == "list":
            out.append(_list_html(block.items))
        else:
            header, *rows = block.items
            head = "".join(f'<th scope="col">{_inline_html(cell)}</th>' for cell in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(cell)}</td>" for cell in row) + "</tr>" for row in rows
            )
            out.append(
                f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>"
            )
    return "\n".join(out)


def _list_html(items: tuple) -> str:
    parts, nested_open = ["<ul>"], False
    for depth, text in items:
        if depth and not nested_open:
            parts[-1] = parts[-1].removesuffix("</li>")
            parts.append("<ul>")
            nested_open = True
        elif not depth and nested_open:
            parts.append("</ul></li>")
            nested_open = False
        parts.append(f"<li>{_inline_html(text)}</li>")
    if nested_open:
        parts.append("</ul></li>")
    parts.append("</ul>")
    return "".join(parts)


def charter_docx(*, markdown: str, title: str) -> bytes:
    """The charter as a Word document: headings, paragraphs, bullet lists and tables."""
    from docx import Document

    document = Document()
    document.core_properties.title = title[:255]
    for block in blocks(markdown):
        if block.kind == "heading":
            paragraph = document.add_heading(level=min(block.level - 1, 9) if block.level > 1 else 0)
            _add_runs(paragraph, block.text)
        elif block.kind == "paragraph":
            _add_runs(document.add_paragraph(), block.text)
        elif block.kind == "list":
            for depth, text in block.items:
                _add_runs(document.add_paragraph(style="List Bullet 2" if depth else "List Bullet"), text)
        else:
            header, *rows = block.items
            table = document.add_table(rows=1 + len(rows), cols=len(header))
            table.style = "Table Grid"
            for row_index, row in enumerate([header, *rows]):
                for column_index, text in enumerate(row[: len(header)]):
                    cell_paragraph = table.cell(row_index, column_index).paragraphs[0]
                    for part, bold in inline_runs(text):
                        cell_paragraph.add_run(part).bold = bold or row_index == 0
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_runs(paragraph, text: str) -> None:
    for part, bold in inline_runs(text):
        run = paragraph.add_run(part)
        if bold:
            run.bold = True


# --- Versions -------------------------------------------------------------------------------
@transaction.atomic
def charter_issue(*, plan: SupportPlan, issued_by: Any) -> CharterVersion:
    """Freezes the current charter as the plan's next version (1, 2, …), issued now (aware UTC).

    Who may issue (the leads) is the caller's check."""
    lock_plan(plan.pk)  # numbers are given in turn
    last = CharterVersion.objects.filter(plan=plan).aggregate(last=Max("number"))["last"] or 0
    version = CharterVersion(
        plan=plan,
        number=last + 1,
        content_markdown=charter_markdown(plan=plan),
        issued_by=issued_by,
        issued_at=timezone.now(),
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def charter_sign_off(*, version: CharterVersion, by: Any) -> CharterVersion:
    """Records who signed the version off, now. Once only: a second sign-off is refused."""
    updated = CharterVersion.objects.filter(pk=version.pk, signed_off_at__isnull=True).update(
        signed_off_by=by, signed_off_at=timezone.now()
    )
    if not updated:
        raise ValidationError(f"Version {version.number} is already signed off.", code="signed_off")
    version.refresh_from_db(fields=["signed_off_by", "signed_off_at"])
    return version


def charter_diff(*, older: CharterVersion, newer: CharterVersion) -> str:
    """A unified text diff of two versions' Markdown ("" when they are the same)."""
    return "".join(
        difflib.unified_diff(
            older.content_markdown.splitlines(keepends=True),
            newer.content_markdown.splitlines(keepends=True),
            fromfile=f"version {older.number}",
            tofile=f"version {newer.number}",
        )
    )
