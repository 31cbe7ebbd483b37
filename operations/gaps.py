"""Gap checks nobody else makes: promises the support model cannot keep.

Each check is a function ``gap_<name>(*, plan) -> list[Gap]`` that reads the plan's configuration
with a fixed number of queries; ``plan_gaps`` runs them all for a requester (404 for a plan they
cannot see, 403 for partners). Policies that ended before today are ignored; "today" is the
server's local date (``timezone.localdate()``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from models_catalog.models import Agreement, Party, SupportLevel
from operations.models import (
    CalendarHoliday,
    Priority,
    ServiceCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)
from operations.selectors import policy_in_force
from supportplan import access
from supportplan.models import SupportPlan

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (HIGH, MEDIUM, LOW)
MINUTES_PER_WEEK = 7 * 24 * 60
#: How far ahead holidays are compared (gap 3).
HOLIDAY_HORIZON = timedelta(days=365)
#: Dates named in one holiday gap's message; the rest are counted.
DATES_LISTED = 6


@dataclass(frozen=True)
class GapObject:
    """An object a gap is about: what it is, its id, a label, and the page to fix it ("" if none)."""

    kind: str
    id: int
    label: str
    url: str = ""


@dataclass(frozen=True)
class Gap:
    code: str
    severity: str  # "high" | "medium" | "low"
    message: str
    objects: tuple[GapObject, ...] = ()

    def ids(self, kind: str) -> list[int]:
        return [obj.id for obj in self.objects if obj.kind == kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "objects": [asdict(obj) for obj in self.objects],
        }


# --- Helpers --------------------------------------------------------------------------------
def _url(name: str, plan: SupportPlan, *args: Any) -> str:
    """The page's address, or "" while that page does not exist (other parts add theirs later)."""
    try:
        return reverse(name, args=[plan.slug, *args])
    except NoReverseMatch:
        return ""


def _target_obj(plan: SupportPlan, target: SlaTarget) -> GapObject:
    return GapObject("sla_target", target.pk, _target_label(target), _url("sla-overview", plan))


def _calendar_obj(plan: SupportPlan, calendar: ServiceCalendar) -> GapObject:
    return GapObject("service_calendar", calendar.pk, calendar.name, _url("calendar-list-page", plan))


def _party_obj(plan: SupportPlan, party: Party) -> GapObject:
    return GapObject("party", party.pk, party.name, _url("party-edit", plan, party.pk))


def _target_label(target: SlaTarget) -> str:
    parts = [f"{target.priority.code} {target.get_metric_display().lower()}"]
    if target.request_type:
        parts.append(f"for {target.get_request_type_display().lower()}s")
    if target.support_level_id:
        parts.append(f"at level {target.support_level.number}")
    return f"{' '.join(parts)} in “{target.policy.name}”"


def _duration(minutes: int) -> str:
    """E.g. "24 h (1,440 min)", "45 min"."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    text = f"{hours} h" + (f" {rest} min" if rest else "")
    return f"{text} ({minutes:,} min)"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _live_targets(plan: SupportPlan, today: date) -> QuerySet[SlaTarget]:
    """Targets of policies in force today or later."""
    return (
        SlaTarget.objects.filter(policy__plan=plan)
        .exclude(policy__valid_to__lt=today)
        .select_related("policy", "priority", "calendar", "support_level")
        .order_by("policy__valid_from", "priority__rank", "priority__code", "metric", "pk")
    )


def _covers_whole_week(weekly_windows: dict) -> bool:
    """Whether the weekly windows cover all 168 hours of a week (wall clock)."""
    spans = []
    for day, windows in (weekly_windows or {}).items():
        for opens, closes in windows:
            start = int(day) * 1440 + _minute(opens)
            end = int(day) * 1440 + _minute(closes)
            if end <= start:
                end += 1440  # runs past midnight; ("00:00", "00:00") is the whole day
            if end > MINUTES_PER_WEEK:  # Sunday night into Monday morning
                spans.append((0, end - MINUTES_PER_WEEK))
                end = MINUTES_PER_WEEK
            spans.append((start, end))
    reached = 0
    for start, end in sorted(spans):
        if start > reached:
            return False
        reached = max(reached, end)
    return reached >= MINUTES_PER_WEEK


def _minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def is_round_the_clock(calendar: ServiceCalendar) -> bool:
    return calendar.is_24x7 or _covers_whole_week(calendar.weekly_windows)


def _open_weekdays(calendar: ServiceCalendar) -> set[int]:
    return {int(day) for day, windows in (calendar.weekly_windows or {}).items() if windows}


def _levels_with_parties(plan: SupportPlan) -> list[SupportLevel]:
    parties = Party.objects.order_by("name").prefetch_related(
        Prefetch("service_calendars", queryset=ServiceCalendar.objects.order_by("name"))
    )
    return list(
        SupportLevel.objects.filter(plan=plan)
        .order_by("number")
        .prefetch_related(Prefetch("parties", parties))
    )


def _unique(items: Iterable) -> list:
    seen, result = set(), []
    for item in items:
        if item.pk not in seen:
            seen.add(item.pk)
            result.append(item)
    return result


# --- 1. Round-the-clock promise, office-hours team -------------------------------------------
def gap_round_the_clock_target_without_round_the_clock_team(*, plan: SupportPlan) -> list[Gap]:
    """A target whose clock runs 24×7 while no party filling its level (every level when the target
    names none) has a round-the-clock calendar: it promises time nobody is on duty for."""
    today = timezone.localdate()
    targets = [target for target in _live_targets(plan, today) if is_round_the_clock(target.calendar)]
    if not targets:
        return []
    levels = _levels_with_parties(plan)
    all_parties = _unique(party for level in levels for party in level.parties.all())
    gaps = []
    for target in targets:
        if target.support_level_id:
            level = next((lvl for lvl in levels if lvl.pk == target.support_level_id), None)
            parties = list(level.parties.all()) if level else []
            who = f"level {target.support_level.number}"
        else:
            parties, who = all_parties, "any support level"
        if any(is_round_the_clock(cal) for party in parties for cal in party.service_calendars.all()):
            continue
        if parties:
            details = "; ".join(_working_hours_of(party) for party in parties)
            reason = f"no party filling {who} works round the clock: {details}"
        else:
            reason = f"no party fills {who}"
        gaps.append(
            Gap(
                code="round_the_clock_target_without_round_the_clock_team",
                severity=HIGH,
                message=(
                    f"{_target_label(target)} runs round the clock on “{target.calendar.name}”, but {reason}."
                ),
                objects=(
                    _target_obj(plan, target),
                    _calendar_obj(plan, target.calendar),
                    *(_party_obj(plan, party) for party in parties),
                ),
            )
        )
    return gaps


def _working_hours_of(party: Party) -> str:
    calendars = list(party.service_calendars.all())
    if not calendars:
        return f"{party.name} has no service calendar at all"
    names = ", ".join(f"“{calendar.name}”" for calendar in calendars)
    return f"{party.name} works {names} only"


# --- 2. Underpinning agreement slower than the SLA ------------------------------------------
_COMMITMENT_FIELD = {
    SlaMetric.FIRST_RESPONSE: ("response_minutes", "respond to"),
    SlaMetric.RESOLUTION: ("resolution_minutes", "resolve"),
}


def gap_agreement_slower_than_sla(*, plan: SupportPlan) -> list[Gap]:
    """An agreement's commitment (response vs first response, resolution vs resolution, for the
    target's priority code) longer than the SLA target it underpins: the target's
    ``underpinning_agreement``, else every current agreement of the parties filling the target's
    level. Targets for no particular level and without an underpinning agreement are not compared."""
    today = timezone.localdate()
    agreements = Agreement.objects.select_related("party").prefetch_related("commitments")
    targets = list(
        _live_targets(plan, today)
        .filter(metric__in=list(_COMMITMENT_FIELD))
        .filter(Q(underpinning_agreement__isnull=False) | Q(support_level__isnull=False))
        .select_related("underpinning_agreement__party")
        .prefetch_related(
            "underpinning_agreement__commitments",
            Prefetch(
                "support_level__parties",
                Party.objects.order_by("name").prefetch_related(Prefetch("agreements", agreements)),
            ),
        )
    )
    gaps = []
    for target in targets:
        if target.underpinning_agreement_id:
            candidates = [target.underpinning_agreement]
        else:
            candidates = [
                agreement
                for party in target.support_level.parties.all()
                for agreement in party.agreements.all()
            ]
        field, verb = _COMMITMENT_FIELD[target.metric]
        for agreement in candidates:
            if agreement.ends_on is not None and agreement.ends_on < today:
                continue
            commitment = next(
                (c for c in agreement.commitments.all() if c.priority == target.priority.code), None
            )
            promised = getattr(commitment, field, None) if commitment else None
            if promised is None or promised <= target.minutes:
                continue
            message = (
                f"“{agreement.name}” ({agreement.party.name}) commits to {verb} {target.priority.code} "
                f"within {_duration(promised)}, but the SLA target it underpins, {_target_label(target)}, "
                f"allows {_duration(target.minutes)}."
            )
            if commitment.business_hours_only and is_round_the_clock(target.calendar):
                message += (
                    " Worse: the agreement counts business hours only; the SLA clock runs round the clock."
                )
            gaps.append(
                Gap(
                    code="agreement_slower_than_sla",
                    severity=HIGH,
                    message=message,
                    objects=(
                        _target_obj(plan, target),
                        GapObject(
                            "agreement",
                            agreement.pk,
                            agreement.name,
                            _url("agreement-edit", plan, agreement.pk),
                        ),
                        _party_obj(plan, agreement.party),
                    ),
                )
            )
    return gaps


# --- 3. Holidays that differ between a location and its team ---------------------------------
def gap_location_holiday_is_team_working_day(*, plan: SupportPlan) -> list[Gap]:
    """Within the next 12 months: a holiday of a location's calendar that is a working day for a
    calendar serving it (low: the team works while the location is off), and a holiday of the
    serving calendar on a working day of the location (medium: the location works unsupported).

    A location's calendars are those linked to it; the calendars serving it are those of parties
    filling a support level, and the other calendars linked to the same location. Round-the-clock
    calendars are left out on both sides: they are open on holidays by design.
    """
    today = timezone.localdate()
    until = today + HOLIDAY_HORIZON
    calendars = [
        calendar
        for calendar in ServiceCalendar.objects.filter(plan=plan)
        .order_by("name")
        .prefetch_related("locations", "parties")
        if not is_round_the_clock(calendar)
    ]
    if len(calendars) < 2:
        return []
    level_party_ids = set(
        SupportLevel.parties.through.objects.filter(supportlevel__plan=plan).values_list(
            "party_id", flat=True
        )
    )
    team_calendars = [
        calendar
        for calendar in calendars
        if any(party.pk in level_party_ids for party in calendar.parties.all())
    ]
    closed: dict[int, dict[date, str]] = defaultdict(dict)
    for calendar_id, day, name in CalendarHoliday.objects.filter(
        calendar__plan=plan, date__gte=today, date__lt=until
    ).values_list("calendar_id", "date", "name"):
        closed[calendar_id][day] = name

    locations: dict[int, Any] = {}
    by_location: dict[int, list[ServiceCalendar]] = defaultdict(list)
    for calendar in calendars:
        for location in calendar.locations.all():
            locations[location.pk] = location
            by_location[location.pk].append(calendar)

    gaps = []
    for location_id, own_calendars in sorted(by_location.items(), key=lambda item: locations[item[0]].name):
        location = locations[location_id]
        serving = _unique([*team_calendars, *own_calendars])
        for own in own_calendars:
            for team in serving:
                if team.pk == own.pk:
                    continue
                gaps.extend(_holiday_mismatches(plan, location, own, team, closed))
    return gaps


def _works_on(calendar: ServiceCalendar, day: date, closed: dict[int, dict[date, str]]) -> bool:
    return day.weekday() in _open_weekdays(calendar) and day not in closed[calendar.pk]


def _holiday_mismatches(plan, location, own: ServiceCalendar, team: ServiceCalendar, closed) -> list[Gap]:
    own_weekdays, team_weekdays = _open_weekdays(own), _open_weekdays(team)
    location_off = [
        (day, name)
        for day, name in sorted(closed[own.pk].items())
        if day.weekday() in own_weekdays and _works_on(team, day, closed)
    ]
    team_off = [
        (day, name)
        for day, name in sorted(closed[team.pk].items())
        if day.weekday() in team_weekdays and _works_on(own, day, closed)
    ]
    objects = (
        GapObject("location", location.pk, location.name, _url("location-edit", plan, location.pk)),
        _calendar_obj(plan, own),
        _calendar_obj(plan, team),
    )
    gaps = []
    if team_off:
        gaps.append(
            Gap(
                code="location_holiday_is_team_working_day",
                severity=MEDIUM,
                message=(
                    f"“{team.name}”, which serves {location.name}, is off on {_count(team_off)} in the next "
                    f"12 months when {location.name} works (“{own.name}”): {_dates(team_off)}."
                ),
                objects=objects,
            )
        )
    if location_off:
        gaps.append(
            Gap(
                code="location_holiday_is_team_working_day",
                severity=LOW,
                message=(
                    f"{location.name} (“{own.name}”) is off on {_count(location_off)} in the next 12 months "
                    f"when “{team.name}”, which serves it, works: {_dates(location_off)}."
                ),
                objects=objects,
            )
        )
    return gaps


def _count(days: list) -> str:
    return f"{len(days)} working day{'s' if len(days) != 1 else ''}"


def _dates(days: list[tuple[date, str]]) -> str:
    listed = ", ".join(f"{_day(day)} ({name})" for day, name in days[:DATES_LISTED])
    rest = len(days) - DATES_LISTED
    return f"{listed} and {rest} more" if rest > 0 else listed


# --- 4. Priorities without a target ---------------------------------------------------------
def gap_priority_without_target(*, plan: SupportPlan) -> list[Gap]:
    """A priority with no target in a current or future policy (high in the policy in force today,
    medium in the others); with no policy at all, or none in force today once the plan is live
    (go-live date reached), every priority is without a clock (high)."""
    today = timezone.localdate()
    priorities = list(Priority.objects.filter(plan=plan).order_by("rank", "code"))
    if not priorities:
        return []
    policies = list(
        SlaPolicy.objects.filter(plan=plan)
        .exclude(valid_to__lt=today)
        .order_by("valid_from", "name")
        .prefetch_related(Prefetch("targets", SlaTarget.objects.only("pk", "policy_id", "priority_id")))
    )
    in_force = policy_in_force(plan=plan, day=today)
    gaps = []
    if in_force is None and (not policies or (plan.go_live_date and plan.go_live_date <= today)):
        following = (
            f" The next, “{policies[0].name}”, starts on {_day(policies[0].valid_from)}." if policies else ""
        )
        codes = ", ".join(priority.code for priority in priorities)
        gaps.append(
            Gap(
                code="priority_without_target",
                severity=HIGH,
                message=f"No SLA policy is in force today, so no priority ({codes}) has a target.{following}",
                objects=tuple(_priority_obj(plan, priority) for priority in priorities),
            )
        )
    for policy in policies:
        covered = {target.priority_id for target in policy.targets.all()}
        current = in_force is not None and policy.pk == in_force.pk
        when = "the policy in force today" if current else f"from {_day(policy.valid_from)}"
        for priority in priorities:
            if priority.pk in covered:
                continue
            gaps.append(
                Gap(
                    code="priority_without_target",
                    severity=HIGH if current else MEDIUM,
                    message=(
                        f"{priority.code} {priority.name} has no target in “{policy.name}” ({when}): "
                        f"requests of this priority run on no clock."
                    ),
                    objects=(
                        _priority_obj(plan, priority),
                        GapObject("sla_policy", policy.pk, policy.name, _url("sla-overview", plan)),
                    ),
                )
            )
    return gaps


def _priority_obj(plan: SupportPlan, priority: Priority) -> GapObject:
    return GapObject(
        "priority", priority.pk, f"{priority.code} {priority.name}", _url("priority-matrix", plan)
    )


# --- All of them ----------------------------------------------------------------------------
CHECKS = (
    gap_round_the_clock_target_without_round_the_clock_team,
    gap_agreement_slower_than_sla,
    gap_location_holiday_is_team_working_day,
    gap_priority_without_target,
)


def plan_gaps(*, user: Any, plan: SupportPlan) -> list[Gap]:
    """Every check's gaps, most severe first. 404 unless the plan is visible; partners are refused:
    gaps expose the whole support model, not only what is assigned to their organisation."""
    if not access.can_view(user, plan):
        raise Http404("No such plan.")
    if access.is_partner(user, plan):
        raise PermissionDenied("Partners see only what is assigned to their organisation.")
    from scope.gaps import scope_gap_list  # scope imports this module: import here, not at the top

    gaps = [gap for check in CHECKS for gap in check(plan=plan)]
    gaps += scope_gap_list(plan=plan)
    return sorted(gaps, key=lambda gap: SEVERITIES.index(gap.severity))
