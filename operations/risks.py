"""Gaps and risks in one place: scope gaps, SLA / coverage gaps, staffing gaps, readiness warnings,
access gaps and the open entries of the risk log, each as a ``GapRow`` with its source, severity,
owner and the page to fix it (issue 8 §5).

The sources are computed by their own modules (``operations.gaps``, ``scope.gaps``,
``models_catalog.staffing_plan``, ``scope.readiness_rules``, ``operations.access_selectors``); this
module only translates and merges them, most severe first. "Today" is the server's local date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from supportplan import access
from supportplan.models import SupportPlan

logger = logging.getLogger(__name__)

SEVERITIES = ("high", "medium", "low")
SOURCES = {
    "scope": "Scope",
    "sla-coverage": "SLA and coverage",
    "staffing": "Staffing",
    "readiness": "Readiness",
    "access": "Access",
    "risk-log": "Risk log",
}

#: Short titles of the gap checks of ``operations.gaps`` and ``scope.gaps`` (their messages are the detail).
GAP_TITLES = {
    "round_the_clock_target_without_round_the_clock_team": (
        "Round-the-clock target without a round-the-clock team"
    ),
    "agreement_slower_than_sla": "Agreement slower than the SLA it underpins",
    "location_holiday_is_team_working_day": "Holiday at a location on a day its team works (or the reverse)",
    "priority_without_target": "Priority without an SLA target",
    "scope_item_without_who_or_how": "In-scope item without who or how",
    "scope_party_without_agreement": "Party in scope without an agreement",
    "critical_process_without_out_of_hours_answer": "Critical process without an out-of-hours answer",
    "scope_item_unreviewed": "Scope item due for review",
    "aspect_group_with_nothing_in_scope": "Scope group with nothing in scope",
}


@dataclass(frozen=True)
class GapRow:
    """One line of the "Gaps and risks" page.

    ``source`` is a key of ``SOURCES``; ``severity`` "high" | "medium" | "low"; ``owner`` the person
    who should act (None when nobody is named); ``link`` the path of the page to fix it ("" if none);
    ``code`` the rule's key (or ``risk:<id>`` for a risk-log entry)."""

    source: str
    code: str
    severity: str
    title: str
    detail: str
    owner: Any = None
    link: str = ""

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def owner_name(self) -> str:
        return str(self.owner) if self.owner is not None else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "owner": getattr(self.owner, "pk", None),
            "owner_name": self.owner_name,
            "link": self.link,
        }


def _url(name: str, plan: SupportPlan, *args: Any) -> str:
    try:
        return reverse(name, args=[plan.slug, *args])
    except NoReverseMatch:
        return ""


def _from_gap(gap: Any, *, source: str, plan: SupportPlan, fallback: str) -> GapRow:
    link = next((obj.url for obj in gap.objects if obj.url), "") or _url(fallback, plan)
    return GapRow(
        source=source,
        code=gap.code,
        severity=gap.severity,
        title=GAP_TITLES.get(gap.code, gap.code.replace("_", " ").capitalize()),
        detail=gap.message,
        owner=None,
        link=link,
    )


# --- Sources --------------------------------------------------------------------------------
def scope_rows(*, plan: SupportPlan) -> list[GapRow]:
    from scope.gaps import scope_gap_list

    return [
        _from_gap(gap, source="scope", plan=plan, fallback="scope-matrix")
        for gap in scope_gap_list(plan=plan)
    ]


def sla_coverage_rows(*, plan: SupportPlan) -> list[GapRow]:
    from operations.gaps import CHECKS

    return [
        _from_gap(gap, source="sla-coverage", plan=plan, fallback="plan-gaps")
        for check in CHECKS
        for gap in check(plan=plan)
    ]


#: Spans of one kind named in a staffing row; the rest are counted.
SPANS_LISTED = 4


def _spans(texts: list[str]) -> str:
    """ "Mon 00:00–08:00 (UTC), Tue …" from the calculation's "<prefix> at level n, <span>" lines."""
    # The span follows the last ", " (a location's name before it may hold commas itself).
    spans = [text.rsplit(", ", 1)[-1] for text in texts]
    listed = ", ".join(spans[:SPANS_LISTED])
    more = len(spans) - SPANS_LISTED
    return listed + (f" and {more} more" if more > 0 else "")


def staffing_rows(*, plan: SupportPlan, user: Any) -> list[GapRow]:
    """Staffing gaps of every profile: the FTE shortfall, the hours with nobody on duty, the hours with
    too few people (each kind one row per profile, its spans listed) and people who are never on duty."""
    from models_catalog.staffing_plan import staffing_plan

    rows = []
    team = _url("team", plan)
    for week_plan in staffing_plan(user=user, plan=plan):
        profile = week_plan.profile
        link = _url("staffing-profile-edit", plan, profile.pk) or _url("staffing", plan)
        nobody = [text for text in week_plan.gaps if text.startswith("No ")]
        too_few = [text for text in week_plan.gaps if text.startswith("Too few")]
        for text in week_plan.gaps:
            if text in nobody or text in too_few:
                continue
            short = text.startswith("Level ") and " short by " in text
            rows.append(
                GapRow(
                    source="staffing",
                    code="staffing_fte_short" if short else "staffing_person",
                    severity="high" if short else "medium",
                    title=f"{profile.name}: {'FTE short' if short else 'a person is never on duty'}",
                    detail=text + ".",
                    link=link if short else team,
                )
            )
        if nobody:
            rows.append(
                GapRow(
                    source="staffing",
                    code="staffing_uncovered_hours",
                    severity="high",
                    title=f"{profile.name}: {len(nobody)} span(s) with nobody on duty",
                    detail=f"Nobody at level {profile.level.number} during {_spans(nobody)}.",
                    link=link,
                )
            )
        if too_few:
            rows.append(
                GapRow(
                    source="staffing",
                    code="staffing_too_few",
                    severity="medium",
                    title=f"{profile.name}: {len(too_few)} span(s) with too few people",
                    detail=f"Fewer people than the demand needs at level {profile.level.number} during "
                    f"{_spans(too_few)}.",
                    link=link,
                )
            )
    return rows


def readiness_rows(*, plan: SupportPlan, today: date) -> list[GapRow]:
    """The case study's readiness warnings (``scope.readiness_rules``)."""
    from scope.readiness_rules import readiness_warnings

    return [
        GapRow(
            source="readiness",
            code=warning.rule,
            severity=warning.severity,
            title=warning.title,
            detail=warning.detail,
            owner=warning.owner,
            link=warning.link or _url("readiness", plan),
        )
        for warning in readiness_warnings(plan=plan, today=today)
    ]


def access_rows(*, plan: SupportPlan, today: date) -> list[GapRow]:
    from operations.access_selectors import access_gaps

    return access_gaps(plan=plan, today=today)


def risk_log_rows(*, plan: SupportPlan, editable: bool = True) -> list[GapRow]:
    """Open entries of the risk log; the link edits the entry (leads) or shows it in the log (others)."""
    from scope.models import RiskEntry
    from scope.readiness_models import RiskStatus

    link = _url("risk-log", plan)
    rows = []
    for risk in RiskEntry.objects.filter(plan=plan, status=RiskStatus.OPEN).select_related("owner"):
        detail = risk.description or ""
        if risk.mitigation:
            detail = f"{detail} Mitigation: {risk.mitigation}".strip()
        if risk.due_date:
            detail = f"{detail} Due {risk.due_date:%d %b %Y}.".strip()
        rows.append(
            GapRow(
                source="risk-log",
                code=f"risk:{risk.pk}",
                severity=risk.severity,
                title=risk.title,
                detail=detail,
                owner=risk.owner,
                link=_url("risk-edit", plan, risk.pk) if editable else f"{link}#risk-{risk.pk}",
            )
        )
    return rows


# --- Merged ---------------------------------------------------------------------------------
def gaps_and_risks(
    *, plan: SupportPlan, user: Any, today: date | None = None, source: str = "", severity: str = ""
) -> list[GapRow]:
    """Every source's rows, most severe first (then by source, then title). 404 unless the plan is
    visible; partners are refused (403): gaps expose the whole support model. ``source`` and
    ``severity`` filter (unknown values give nothing)."""
    if not access.can_view(user, plan):
        raise Http404("No such plan.")
    if access.is_partner(user, plan):
        raise PermissionDenied("Partners see only what is assigned to their organisation.")
    today = today or timezone.localdate()
    builders = {
        "scope": lambda: scope_rows(plan=plan),
        "sla-coverage": lambda: sla_coverage_rows(plan=plan),
        "staffing": lambda: staffing_rows(plan=plan, user=user),
        "readiness": lambda: readiness_rows(plan=plan, today=today),
        "access": lambda: access_rows(plan=plan, today=today),
        "risk-log": lambda: risk_log_rows(plan=plan, editable=access.can_configure(user, plan)),
    }
    rows: list[GapRow] = []
    for key, build in builders.items():
        if source and key != source:
            continue
        rows += build()
    if severity:
        rows = [row for row in rows if row.severity == severity]
    order = list(SOURCES)
    return sorted(
        rows,
        key=lambda row: (
            SEVERITIES.index(row.severity) if row.severity in SEVERITIES else len(SEVERITIES),
            order.index(row.source),
            row.title,
        ),
    )


def counts(rows: list[GapRow]) -> dict[str, dict[str, int]]:
    """``{"severity": {"high": n, …}, "source": {"scope": n, …}}`` for the filters."""
    by_severity = dict.fromkeys(SEVERITIES, 0)
    by_source = dict.fromkeys(SOURCES, 0)
    for row in rows:
        by_severity[row.severity] = by_severity.get(row.severity, 0) + 1
        by_source[row.source] = by_source.get(row.source, 0) + 1
    return {"severity": by_severity, "source": by_source}
