"""The SLA compliance report: per priority, party, level or month, how many clocks were met, how many
breached, and the median business time to first response and to resolution.

One query: a ``values()`` pass over the plan's clocks the user may see (partners: the requests their
organisation holds or held), grouped in Python so the medians are exact on every database."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from models_catalog.models import Party, SupportLevel
from models_catalog.raci import neutralise_formula
from operations.models import ClockState, SlaClock, SlaMetric
from supportplan.models import SupportPlan

GROUPINGS = {
    "priority": "Priority",
    "party": "Party",
    "level": "Support level",
    "month": "Month reported",
}
#: The longest period one report covers (a year and a bit: month-by-month comparisons).
MAX_DAYS = 400
NONE_LABEL = {"priority": "No priority", "party": "No party", "level": "No level", "month": ""}


@dataclass
class ComplianceRow:
    """One group: counts of clocks (cancelled ones left out) and medians in business seconds."""

    key: str
    label: str
    sort_key: tuple
    request_ids: set[int] = field(default_factory=set)
    met: int = 0
    breached: int = 0
    running: int = 0
    first_response_seconds: list[int] = field(default_factory=list, repr=False)
    resolution_seconds: list[int] = field(default_factory=list, repr=False)

    @property
    def requests(self) -> int:
        return len(self.request_ids)

    @property
    def measured(self) -> int:
        """Clocks with an outcome: met, or breached (running or not)."""
        return self.met + self.breached

    @property
    def met_percent(self) -> float | None:
        return round(100 * self.met / self.measured, 1) if self.measured else None

    @property
    def median_first_response(self) -> int | None:
        return int(statistics.median(self.first_response_seconds)) if self.first_response_seconds else None

    @property
    def median_resolution(self) -> int | None:
        return int(statistics.median(self.resolution_seconds)) if self.resolution_seconds else None


@dataclass
class ComplianceReport:
    plan: SupportPlan
    start: date
    end: date
    group_by: str
    rows: list[ComplianceRow]
    total: ComplianceRow

    @property
    def group_label(self) -> str:
        return GROUPINGS[self.group_by]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValidationError({"start": "Give the first and the last day as dates."})
    if end < start:
        raise ValidationError({"end": "The last day cannot be before the first."})
    if (end - start).days > MAX_DAYS:
        raise ValidationError({"end": f"One report covers at most {MAX_DAYS} days."})
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def compliance_report(
    *, plan: SupportPlan, user, start: date, end: date, group_by: str, now: datetime | None = None
) -> ComplianceReport:
    """Clocks of requests reported from ``start`` to ``end`` (inclusive, UTC days), grouped by
    ``group_by`` (priority, party, level or month); see ``_holder`` for whom a clock counts. Times are
    business seconds on each clock's calendar. A running clock whose deadline passed before ``now``
    (aware UTC; default now) counts as breached even before its next recompute."""
    if group_by not in GROUPINGS:
        raise ValidationError({"group_by": f"Group by one of: {', '.join(GROUPINGS)}."})
    since, until = _bounds(start, end)
    now = now or timezone.now()
    clocks = (
        SlaClock.objects.for_user(user)
        .filter(plan=plan, request__reported_at__gte=since, request__reported_at__lt=until)
        .exclude(state=ClockState.CANCELLED)
        .values_list(
            "request_id",
            "metric",
            "state",
            "stopped_at",
            "breached_at",
            "breach_at",
            "elapsed_seconds",
            "request__priority_id",
            "request__priority__code",
            "request__priority__name",
            "request__priority__rank",
            "party_id",
            "level_id",
            "request__current_party_id",
            "request__current_level_id",
            "request__reported_at",
        )
    )
    rows: dict[object, ComplianceRow] = {}
    total = ComplianceRow(key="total", label="All", sort_key=())
    labels = _labeller(plan=plan, group_by=group_by)
    for (
        request_id,
        metric,
        state,
        stopped_at,
        breached_at,
        breach_at,
        elapsed,
        priority_id,
        code,
        name,
        rank,
        clock_party,
        clock_level,
        request_party,
        request_level,
        reported_at,
    ) in clocks:
        party_id, level_id = _holder(metric, clock_party, clock_level, request_party, request_level)
        if group_by == "priority":
            key, label, sort_key = priority_id, f"{code} {name}" if code else "", (rank or 99, code or "")
        elif group_by == "party":
            key, label, sort_key = party_id, None, None
        elif group_by == "level":
            key, label, sort_key = level_id, None, None
        else:
            month = reported_at.astimezone(UTC).date().replace(day=1)
            key, label, sort_key = month, f"{month:%B %Y}", (month,)
        row = rows.get(key)
        if row is None:
            label, sort_key = labels(key, label, sort_key)
            row = rows[key] = ComplianceRow(key=str(key or ""), label=label, sort_key=sort_key)
        if breached_at is None and stopped_at is None and breach_at is not None and breach_at <= now:
            breached_at = breach_at  # passed since the last recompute
        for target in (row, total):
            _count(target, request_id, metric, state, stopped_at, breached_at, elapsed)
    ordered = sorted(rows.values(), key=lambda row: row.sort_key)
    return ComplianceReport(plan=plan, start=start, end=end, group_by=group_by, rows=ordered, total=total)


def _holder(metric, clock_party, clock_level, request_party, request_level) -> tuple:
    """Whom a clock counts for: a per-level clock for its level and that level's party; a resolution
    clock for whoever holds (or resolved) the request; a response clock for the holder when it started."""
    if clock_level is not None:
        return clock_party, clock_level
    if metric == SlaMetric.RESOLUTION:
        return request_party, request_level
    return (clock_party or request_party), request_level


def _count(row: ComplianceRow, request_id, metric, state, stopped_at, breached_at, elapsed) -> None:
    row.request_ids.add(request_id)
    breached = breached_at is not None or state == ClockState.BREACHED
    if breached:
        row.breached += 1
    elif state == ClockState.MET:
        row.met += 1
    else:
        row.running += 1
    if stopped_at is not None and state in (ClockState.MET, ClockState.BREACHED):
        if metric == SlaMetric.FIRST_RESPONSE:
            row.first_response_seconds.append(elapsed)
        elif metric == SlaMetric.RESOLUTION:
            row.resolution_seconds.append(elapsed)


def _labeller(*, plan: SupportPlan, group_by: str):
    """Labels and sort keys for party and level ids (one small query each, on first use)."""
    names: dict = {}
    if group_by == "party":
        names = {
            party.pk: (party.name, (0, party.name.lower()))
            for party in Party.objects.filter(plan=plan).only("pk", "name")
        }
    elif group_by == "level":
        names = {
            level.pk: (f"Level {level.number}: {level.name}", (0, level.number))
            for level in SupportLevel.objects.filter(plan=plan).only("pk", "number", "name")
        }

    def label(key, given_label, given_sort):
        if key is None:
            return NONE_LABEL[group_by], (1,)
        if given_label is not None:
            return given_label, given_sort
        return names.get(key, (str(key), (0, str(key))))

    return label


# --- Figures and export --------------------------------------------------------------------
def hours_label(seconds: int | None) -> str:
    """Business time as "h:mm" (e.g. "26:05"), blank when there is nothing to measure."""
    if seconds is None:
        return ""
    minutes = seconds // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


CSV_HEADER = [
    "Group",
    "Requests",
    "Clocks with an outcome",
    "Met",
    "Breached",
    "Met %",
    "Median time to first response (business h:mm)",
    "Median time to resolve (business h:mm)",
]


def _csv_line(row: ComplianceRow) -> list[str]:
    return [
        row.label,
        str(row.requests),
        str(row.measured),
        str(row.met),
        str(row.breached),
        "" if row.met_percent is None else f"{row.met_percent:.1f}",
        hours_label(row.median_first_response),
        hours_label(row.median_resolution),
    ]


def compliance_report_csv(report: ComplianceReport) -> str:
    """The report as CSV text (the caller encodes it): a header, one line per group and a total.
    Cells a spreadsheet would run as a formula (party names are user input) get an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = [f"{report.group_label}", *CSV_HEADER[1:]]
    for line in [header, *(_csv_line(row) for row in report.rows), _csv_line(report.total)]:
        writer.writerow([neutralise_formula(value) for value in line])
    return buffer.getvalue()
