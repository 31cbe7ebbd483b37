"""The staffing heat map: 7 × 24 hours, needed against scheduled, as inline SVG."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from models_catalog.staffing_plan.calculation import (
    HOURS_PER_WEEK,
    WEEKDAYS_SHORT,
    ProfilePlan,
    format_number,
    hour_label,
)

_CELL_W, _CELL_H, _GAP = 26, 20, 2
_LEFT, _TOP = 40, 18
_COLOURS = {"covered": "#9ccbe8", "short": "#e8743b", "none": "#eceff1", "skipped": "#ffffff"}


def _cell(plan: ProfilePlan, index: int) -> tuple[str, str]:
    """(kind, tooltip) of one hour."""
    label = hour_label(index)
    needed, scheduled = plan.needed[index], format_number(plan.scheduled[index])
    if plan.hour_lengths[index] == 0:
        return "skipped", f"{label}: does not occur this week (the clocks go forward)"
    note = " (this hour occurs twice: the clocks go back)" if plan.hour_lengths[index] > 1 else ""
    if needed == 0:
        return "none", f"{label}: no demand, scheduled {scheduled}{note}"
    kind = "short" if plan.shortfall(index) >= 0.05 else "covered"
    return kind, f"{label}: needs {needed}, scheduled {scheduled}{note}"


def _hours(count: int) -> str:
    return f"{count} hour{'' if count == 1 else 's'}"


def heatmap_svg(plan: ProfilePlan) -> SafeString:
    """Inline SVG: 7 rows (Monday first) × 24 hours, coloured by shortfall, a tooltip per cell.

    Short cells also print the missing agents, so colour is not the only signal. All user text is
    escaped here; the result is safe to insert into a page as is.
    """
    key = f"heatmap-{plan.profile.pk or 'new'}"
    width = _LEFT + 24 * (_CELL_W + _GAP)
    grid_bottom = _TOP + 7 * (_CELL_H + _GAP)
    height = grid_bottom + 26
    counts = {"covered": 0, "short": 0, "none": 0, "skipped": 0}
    cells = []
    for index in range(HOURS_PER_WEEK):
        kind, tooltip = _cell(plan, index)
        counts[kind] += 1
        x = _LEFT + (index % 24) * (_CELL_W + _GAP)
        y = _TOP + (index // 24) * (_CELL_H + _GAP)
        stroke = ' stroke="#b0b7bf" stroke-dasharray="2 2"' if kind == "skipped" else ""
        cells.append(
            f'<g class="cell {kind}"><rect x="{x}" y="{y}" width="{_CELL_W}" height="{_CELL_H}" rx="3" '
            f'fill="{_COLOURS[kind]}"{stroke}/><title>{escape(tooltip)}</title>'
        )
        if kind == "short":
            cells.append(
                f'<text x="{x + _CELL_W / 2:g}" y="{y + _CELL_H / 2 + 4:g}" text-anchor="middle" '
                f'font-size="10" fill="#1b1b1b">{format_number(plan.shortfall(index))}</text>'
            )
        cells.append("</g>")
    hours = "".join(
        f'<text x="{_LEFT + hour * (_CELL_W + _GAP) + 2}" y="{_TOP - 5}" font-size="10" fill="#555">'
        f"{hour:02d}</text>"
        for hour in range(0, 24, 3)
    )
    days = "".join(
        f'<text x="0" y="{_TOP + day * (_CELL_H + _GAP) + 14}" font-size="11" fill="#333">{name}</text>'
        for day, name in enumerate(WEEKDAYS_SHORT)
    )
    legend = []
    for offset, (kind, text) in enumerate(
        [("covered", "covered"), ("short", "short (agents missing)"), ("none", "no demand")]
    ):
        x = _LEFT + offset * 180
        legend.append(
            f'<rect x="{x}" y="{grid_bottom + 8}" width="14" height="14" rx="2" fill="{_COLOURS[kind]}"/>'
            f'<text x="{x + 20}" y="{grid_bottom + 19}" font-size="11" fill="#333">{text}</text>'
        )
    title = f"Agents needed against scheduled, {plan.profile.name}"
    desc = (
        f"Each cell is one hour of the week of {plan.week_start.day} {plan.week_start:%B %Y} "
        f"({plan.timezone}), "
        f"Monday at the top: {_hours(counts['short'])} short, {_hours(counts['covered'])} covered, "
        f"{_hours(counts['none'])} without demand."
    )
    return mark_safe(  # noqa: S308 -- every piece of user text above went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{key}-title {key}-desc">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
        f"{hours}{days}{''.join(cells)}{''.join(legend)}</svg>"
    )
