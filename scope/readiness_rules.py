"""Readiness warnings: the case study's lessons (domain.md 6.3) as named rules.

Each rule is ``warn_<name>(*, plan, today) -> list[ReadinessWarning]``; ``readiness_warnings`` runs
them all (E2's "Gaps and risks" page calls it). Rules, their keys and severities:

- ``no_support_activity_before_uat`` (high): no transition activity for the support team
  (shadowing, design review, test cases, drill, task recordings, training, handover) planned to
  start before UAT (go-live − 6 weeks, see ``scope.readiness_catalogue``). Without a go-live date:
  no such activity at all.
- ``handover_late_or_short`` (high): a handover or training activity planned to start after test
  execution (after UAT ends, go-live − 2 weeks), or handover sessions adding up to fewer than
  ``HANDOVER_MIN_DAYS`` planned days (none at all counts as zero days).
- ``no_uat_drill`` (high): no UAT support drill recorded (a ``uat_drill`` activity, planned or held).
- ``super_users_not_formalised`` (medium): a person holding the super-user role (seed key
  ``super_user``) whose time and objectives are not formalised (``Person.super_user_formalised``).
- ``hypercare_incomplete`` (high): hypercare without an end date, entry or exit criteria, or
  committed partner hours (or no hypercare plan).
- ``team_organised_by_legacy`` (medium): the team still organised by legacy system. Rule: a role,
  support level or internal party (internal team, helpdesk, enterprise IT, business unit) whose name
  mentions "legacy" or a well-known legacy system (``LEGACY_SYSTEM_WORDS``, whole words,
  case-insensitive), or a person whose skills carry the tag "legacy" or "legacy:<system>".
- ``retention_backup_not_reviewed`` (medium): the scope's data retention or disaster-recovery
  (backup) aspect not reviewed for the cloud: no scope item, undecided, or in scope with its
  "what" question unanswered (``scope.selectors.answer_state``).
- ``isv_release_misaligned`` (medium; high when a release lands in a peak): an ISV party without
  an agreement committing to Microsoft's release cadence
  (``Agreement.follows_microsoft_release_cadence``), or an ISV release event (kind ``isv_release``
  with that party) starting after the Microsoft update window it follows — the nearest service
  update or release wave starting within ``ISV_RELEASE_LAG`` before it — or inside a seasonal peak
  or period-end.
- ``peak_collides_with_update`` (high): a seasonal peak or period-end overlapping a window in which
  something is applied to production: a Microsoft service update, an ISV or a custom release
  (``operations.models.calendars.UPDATE_KINDS`` less release waves, which are months-long
  early-access/availability periods, not the moment an update reaches production).

A warning's owner is the owner of the checklist item it concerns; its link is the page to fix it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from scope import readiness_catalogue as catalogue
from scope.readiness_models import HypercarePlan, ReadinessItem, TransitionActivity, TransitionActivityKind
from scope.readiness_selectors import SUPPORT_TEAM_ACTIVITY_KINDS, hypercare_plan_missing
from supportplan.models import SupportPlan

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (HIGH, MEDIUM, LOW)
#: Handover sessions must add up to at least this many planned days (the case study's was cut to 2).
HANDOVER_MIN_DAYS = 5
#: An ISV release this long after a Microsoft update start counts as following (lagging) it.
ISV_RELEASE_LAG = timedelta(days=60)
LEGACY_SYSTEM_WORDS = (
    "legacy",
    "AX 2012",
    "AX2012",
    "AX 2009",
    "Dynamics AX",
    "Navision",
    "NAV",
    "Great Plains",
    "Sage",
    "SAP",
    "JD Edwards",
    "Oracle EBS",
    "Siebel",
    "CRM 2011",
    "CRM 2013",
    "CRM 2015",
    "CRM 2016",
)
_LEGACY = re.compile(
    r"\b(" + "|".join(re.escape(word) for word in LEGACY_SYSTEM_WORDS) + r")\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ReadinessWarning:
    rule: str
    severity: str  # "high" | "medium" | "low"
    title: str
    detail: str
    owner: Any = None  # models_catalog.Person | None
    link: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self) | {"owner": None}
        if self.owner is not None:
            data["owner"] = {"id": self.owner.pk, "name": self.owner.name}
        return data


def _url(name: str, plan: SupportPlan) -> str:
    try:
        return reverse(name, args=[plan.slug])
    except NoReverseMatch:
        return ""


def _owner(plan: SupportPlan, key: str):
    item = ReadinessItem.objects.filter(plan=plan, key=key).select_related("owner").first()
    return item.owner if item else None


def _warning(plan: SupportPlan, *, rule: str, severity: str, title: str, detail: str, item: str, page: str):
    return ReadinessWarning(rule, severity, title, detail, _owner(plan, item), _url(page, plan))


def _day(value: date) -> str:
    return f"{value:%d %b %Y}"


# --- The rules ------------------------------------------------------------------------------
def warn_no_support_activity_before_uat(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    activities = TransitionActivity.objects.filter(plan=plan, kind__in=SUPPORT_TEAM_ACTIVITY_KINDS)
    window = catalogue.uat_window(plan.go_live_date)
    if window is None:
        if activities.exists():
            return []
        detail = "No transition activity is planned for the support team at all."
    else:
        if activities.filter(planned_start__lt=window[0]).exists():
            return []
        detail = (
            f"Nothing is planned for the support team before UAT starts on {_day(window[0])}: "
            "plan shadowing, design reviews or test-case authoring so they learn while the solution is built."
        )
    return [
        _warning(
            plan,
            rule="no_support_activity_before_uat",
            severity=HIGH,
            title="No support-team involvement before UAT",
            detail=detail,
            item="transition_strategy",
            page="readiness-transition",
        )
    ]


def warn_handover_late_or_short(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    window = catalogue.uat_window(plan.go_live_date)
    knowledge = TransitionActivity.objects.filter(
        plan=plan, kind__in=[TransitionActivityKind.HANDOVER, TransitionActivityKind.TRAINING]
    ).order_by("planned_start", "id")
    problems = []
    if window is not None:
        late = [activity for activity in knowledge if activity.planned_start > window[1]]
        if late:
            names = ", ".join(f"“{a.title}” ({_day(a.planned_start)})" for a in late)
            problems.append(f"scheduled after test execution ends on {_day(window[1])}: {names}")
    handover_days = sum(
        (a.planned_end - a.planned_start).days + 1
        for a in knowledge
        if a.kind == TransitionActivityKind.HANDOVER
    )
    if handover_days < HANDOVER_MIN_DAYS:
        problems.append(
            f"handover sessions add up to {handover_days} planned day{'s' if handover_days != 1 else ''}, "
            f"fewer than {HANDOVER_MIN_DAYS}"
        )
    if not problems:
        return []
    return [
        _warning(
            plan,
            rule="handover_late_or_short",
            severity=HIGH,
            title="Handover too late or too short",
            detail="Handover and training " + "; ".join(problems) + ".",
            item="operational_transition",
            page="readiness-transition",
        )
    ]


def warn_no_uat_drill(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    if TransitionActivity.objects.filter(plan=plan, kind=TransitionActivityKind.UAT_DRILL).exists():
        return []
    return [
        _warning(
            plan,
            rule="no_uat_drill",
            severity=HIGH,
            title="The operating model is never rehearsed",
            detail="No UAT support drill is recorded: run the support process with real tools on a sample "
            "of UAT issues before go-live.",
            item="readiness_in_uat",
            page="readiness-transition",
        )
    ]


def warn_super_users_not_formalised(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    from models_catalog.models import Person

    informal = list(
        Person.objects.filter(plan=plan, roles__seed_key="super_user", super_user_formalised=False)
        .distinct()
        .values_list("name", flat=True)
    )
    if not informal:
        return []
    return [
        _warning(
            plan,
            rule="super_users_not_formalised",
            severity=MEDIUM,
            title="Super users not formalised",
            detail=f"No time allocation or objectives agreed for: {', '.join(informal)}.",
            item="support_model",
            page="team",
        )
    ]


def warn_hypercare_incomplete(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    missing = hypercare_plan_missing(HypercarePlan.objects.filter(plan=plan).first())
    if not missing:
        return []
    return [
        _warning(
            plan,
            rule="hypercare_incomplete",
            severity=HIGH,
            title="Hypercare is not fully planned",
            detail="Hypercare lacks " + ", ".join(missing) + ".",
            item="hypercare_strategy",
            page="readiness-hypercare",
        )
    ]


def warn_team_organised_by_legacy(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    from models_catalog.models import Party, PartyKind, Person, Role, SupportLevel

    internal = [PartyKind.INTERNAL_TEAM, PartyKind.HELPDESK, PartyKind.ENTERPRISE_IT, PartyKind.BUSINESS_UNIT]
    named = [
        *(
            f"role “{name}”"
            for name in Role.objects.filter(plan=plan).values_list("name", flat=True)
            if _LEGACY.search(name)
        ),
        *(
            f"level “{name}”"
            for name in SupportLevel.objects.filter(plan=plan).values_list("name", flat=True)
            if _LEGACY.search(name)
        ),
        *(
            f"team “{name}”"
            for name in Party.objects.filter(plan=plan, kind__in=internal).values_list("name", flat=True)
            if _LEGACY.search(name)
        ),
    ]
    for name, skills in Person.objects.filter(plan=plan).values_list("name", "skills"):
        if any(
            isinstance(s, str) and (s.lower() == "legacy" or s.lower().startswith("legacy:"))
            for s in skills or []
        ):
            named.append(f"{name}'s skills")
    if not named:
        return []
    return [
        _warning(
            plan,
            rule="team_organised_by_legacy",
            severity=MEDIUM,
            title="Team still organised by legacy system",
            detail="Organise support by business process, not by the systems being replaced: "
            + ", ".join(named)
            + ".",
            item="support_model",
            page="team",
        )
    ]


RETENTION_ASPECTS = (
    ("data_retention", "Data classification and retention"),
    ("disaster_recovery", "Disaster recovery and backup"),
)


def warn_retention_backup_not_reviewed(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    from scope.models import ScopeItem
    from scope.selectors import ANSWERED, answer_state

    items = {
        item.aspect.key: item
        for item in ScopeItem.objects.filter(plan=plan, aspect__key__in=[key for key, _ in RETENTION_ASPECTS])
        .select_related("aspect")
        .prefetch_related("roles", "people", "parties")
    }
    unreviewed = []
    for key, label in RETENTION_ASPECTS:
        item = items.get(key)
        if item is None or item.in_scope is None or answer_state(item, "what") != ANSWERED:
            unreviewed.append(label)
    if not unreviewed:
        return []
    return [
        _warning(
            plan,
            rule="retention_backup_not_reviewed",
            severity=MEDIUM,
            title="Retention and backup policies not reviewed for the cloud",
            detail="Not yet answered in the support scope: " + ", ".join(unreviewed) + ".",
            item="policy_impact",
            page="scope-matrix",
        )
    ]


def warn_isv_release_misaligned(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    from models_catalog.models import Agreement, Party, PartyKind
    from operations.models import CalendarEvent, CalendarEventKind

    isvs = list(Party.objects.filter(plan=plan, kind=PartyKind.ISV))
    if not isvs:
        return []
    committed = set(
        Agreement.objects.filter(
            plan=plan, party__in=isvs, follows_microsoft_release_cadence=True
        ).values_list("party_id", flat=True)
    )
    events = list(CalendarEvent.objects.filter(plan=plan).order_by("starts_at"))
    microsoft = [
        e for e in events if e.kind in (CalendarEventKind.SERVICE_UPDATE, CalendarEventKind.RELEASE_WAVE)
    ]
    peaks = [e for e in events if e.kind in (CalendarEventKind.SEASONAL_PEAK, CalendarEventKind.PERIOD_END)]
    warnings = []
    for isv in isvs:
        problems, severity = [], MEDIUM
        if isv.pk not in committed:
            problems.append("no agreement commits it to Microsoft's release cadence")
        for release in (
            e for e in events if e.kind == CalendarEventKind.ISV_RELEASE and e.party_id == isv.pk
        ):
            followed = [
                m for m in microsoft if m.starts_at < release.starts_at <= m.starts_at + ISV_RELEASE_LAG
            ]
            if followed:
                problems.append(
                    f"its release “{release.name}” ({release.starts_at:%d %b %Y}) comes after Microsoft's "
                    f"“{followed[-1].name}” ({followed[-1].starts_at:%d %b %Y})"
                )
            in_peak = [p for p in peaks if p.starts_at <= release.starts_at < p.ends_at]
            if in_peak:
                severity = HIGH
                problems.append(f"its release “{release.name}” falls in “{in_peak[0].name}”")
        if problems:
            warnings.append(
                _warning(
                    plan,
                    rule="isv_release_misaligned",
                    severity=severity,
                    title=f"ISV {isv.name} not aligned with Microsoft's releases",
                    detail=f"{isv.name}: " + "; ".join(problems) + ".",
                    item="solution_current",
                    page="calendar-events",
                )
            )
    return warnings


def warn_peak_collides_with_update(*, plan: SupportPlan, today: date) -> list[ReadinessWarning]:
    from operations.models import CalendarEvent, CalendarEventKind
    from operations.models.calendars import UPDATE_KINDS

    events = list(CalendarEvent.objects.filter(plan=plan).order_by("starts_at"))
    peaks = [e for e in events if e.kind in (CalendarEventKind.SEASONAL_PEAK, CalendarEventKind.PERIOD_END)]
    updates = [e for e in events if e.kind in UPDATE_KINDS and e.kind != CalendarEventKind.RELEASE_WAVE]
    collisions = [
        f"“{peak.name}” ({peak.starts_at:%d %b %Y}) with “{update.name}” ({update.starts_at:%d %b %Y})"
        for peak in peaks
        for update in updates
        if peak.starts_at < update.ends_at and update.starts_at < peak.ends_at
    ]
    if not collisions:
        return []
    return [
        _warning(
            plan,
            rule="peak_collides_with_update",
            severity=HIGH,
            title="A peak collides with an update window",
            detail="Move the update or prepare for it: " + "; ".join(collisions) + ".",
            item="hours_time_zones_peaks",
            page="calendar-events",
        )
    ]


RULES = (
    warn_no_support_activity_before_uat,
    warn_handover_late_or_short,
    warn_no_uat_drill,
    warn_super_users_not_formalised,
    warn_hypercare_incomplete,
    warn_team_organised_by_legacy,
    warn_retention_backup_not_reviewed,
    warn_isv_release_misaligned,
    warn_peak_collides_with_update,
)
RULE_KEYS = (
    "no_support_activity_before_uat",
    "handover_late_or_short",
    "no_uat_drill",
    "super_users_not_formalised",
    "hypercare_incomplete",
    "team_organised_by_legacy",
    "retention_backup_not_reviewed",
    "isv_release_misaligned",
    "peak_collides_with_update",
)


def readiness_warnings(*, plan: SupportPlan, today: date | None = None) -> list[ReadinessWarning]:
    """Every rule's warnings, most severe first. No access check: callers check the requester."""
    today = today or timezone.localdate()
    warnings = [warning for rule in RULES for warning in rule(plan=plan, today=today)]
    return sorted(warnings, key=lambda warning: SEVERITIES.index(warning.severity))
