"""Every readiness warning (the case study's lessons) fires when it should and stays quiet otherwise."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models_catalog.models import PartyKind, Role, SupportLevel
from operations.models import CalendarEventKind
from scope import readiness_rules as rules
from scope.readiness_models import TransitionActivityKind as Kind
from scope.readiness_rules import readiness_warnings
from tests.factories import PlanFactory
from tests.scope.readiness_fixtures import (
    GO_LIVE,
    UAT_END,
    UAT_START,
    activity,
    complete_hypercare,
    event,
    isv,
    person,
    scope_item,
    seeded,
    super_user_role,
    with_go_live,
)

TODAY = date(2026, 11, 25)
pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return seeded(PlanFactory(name="Northwind Distribution", slug="northwind"))


def fired(plan, rule: str) -> list:
    return [warning for warning in readiness_warnings(plan=plan, today=TODAY) if warning.rule == rule]


# --- no support activity before UAT ---------------------------------------------------------
def test_it_warns_when_nothing_is_planned_for_the_support_team_before_uat(plan):
    activity(plan, Kind.TRAINING, UAT_START, 3)
    [warning] = fired(plan, "no_support_activity_before_uat")
    assert warning.severity == "high"
    assert "18 Feb 2027" in warning.detail
    assert warning.link == "/plans/northwind/readiness/transition/"


def test_it_is_quiet_once_support_shadows_the_project_before_uat(plan):
    activity(plan, Kind.SHADOWING, UAT_START - timedelta(days=60), 10)
    assert fired(plan, "no_support_activity_before_uat") == []


def test_without_a_go_live_date_any_support_activity_is_enough(plan):
    with_go_live(plan, None)
    assert fired(plan, "no_support_activity_before_uat")
    activity(plan, Kind.DESIGN_REVIEW, date(2026, 12, 1))
    assert fired(plan, "no_support_activity_before_uat") == []


# --- handover late or short -----------------------------------------------------------------
def test_it_warns_when_the_handover_is_cut_to_two_days_like_the_case_study(plan):
    activity(plan, Kind.HANDOVER, UAT_START, 2)
    [warning] = fired(plan, "handover_late_or_short")
    assert "2 planned days, fewer than 5" in warning.detail


def test_it_warns_when_training_is_scheduled_after_test_execution(plan):
    activity(plan, Kind.HANDOVER, UAT_START, 5)
    activity(plan, Kind.TRAINING, UAT_END + timedelta(days=1), 2, title="Post-UAT training")
    [warning] = fired(plan, "handover_late_or_short")
    assert "after test execution ends on 18 Mar 2027" in warning.detail
    assert "Post-UAT training" in warning.detail


def test_a_long_enough_handover_before_test_execution_ends_is_quiet(plan):
    activity(plan, Kind.HANDOVER, UAT_START, 3)
    activity(plan, Kind.HANDOVER, UAT_END - timedelta(days=1), 2)
    activity(plan, Kind.TRAINING, UAT_END, 1)  # on the last day of UAT: not after it
    assert fired(plan, "handover_late_or_short") == []


# --- no UAT drill ---------------------------------------------------------------------------
def test_it_warns_when_the_operating_model_is_never_rehearsed(plan):
    activity(plan, Kind.TRAINING, UAT_START)
    [warning] = fired(plan, "no_uat_drill")
    assert warning.title == "The operating model is never rehearsed"


def test_a_recorded_uat_drill_silences_the_rehearsal_warning(plan):
    activity(plan, Kind.UAT_DRILL, UAT_START + timedelta(days=7), 2)
    assert fired(plan, "no_uat_drill") == []


# --- super users ----------------------------------------------------------------------------
def test_it_names_super_users_without_time_or_objectives(plan):
    role = super_user_role(plan)
    person(plan, "Sam Super", roles=[role])
    person(plan, "Fran Formal", roles=[role], super_user_formalised=True)
    [warning] = fired(plan, "super_users_not_formalised")
    assert "Sam Super" in warning.detail and "Fran Formal" not in warning.detail


def test_formalised_super_users_and_other_roles_are_quiet(plan):
    role = super_user_role(plan)
    person(plan, "Fran Formal", roles=[role], super_user_formalised=True)
    person(plan, "Ada Architect", roles=[Role.objects.get(plan=plan, seed_key="technical_architect")])
    assert fired(plan, "super_users_not_formalised") == []


# --- hypercare ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"planned_end": None}, "an end date"),
        ({"exit_criteria_notes": ""}, "exit criteria"),
        ({"entry_criteria": " "}, "entry criteria"),
        ({"committed_partner_hours": 0}, "committed partner hours"),
    ],
)
def test_it_warns_about_hypercare_without_what_the_case_study_lacked(plan, change, missing):
    complete_hypercare(plan, **change)
    [warning] = fired(plan, "hypercare_incomplete")
    assert warning.detail == f"Hypercare lacks {missing}."


def test_a_complete_hypercare_plan_is_quiet(plan):
    complete_hypercare(plan)
    assert fired(plan, "hypercare_incomplete") == []


# --- legacy organisation --------------------------------------------------------------------
@pytest.mark.parametrize(
    "build",
    [
        lambda plan: Role.objects.create(plan=plan, name="AX 2012 support analyst"),
        lambda plan: SupportLevel.objects.create(plan=plan, number=2, name="Legacy CRM desk"),
        lambda plan: plan.parties.create(name="Navision team", kind="internal_team"),
        lambda plan: person(plan, "Olga", skills=["finance", "legacy:AX2012"]),
    ],
    ids=["role", "level", "internal-team", "skills"],
)
def test_it_warns_when_the_team_is_still_organised_by_legacy_system(plan, build):
    build(plan)
    [warning] = fired(plan, "team_organised_by_legacy")
    assert warning.severity == "medium"


def test_business_process_names_and_external_parties_are_not_legacy(plan):
    Role.objects.create(plan=plan, name="Procure-to-pay lead")
    SupportLevel.objects.create(
        plan=plan, number=2, name="Navigation and finance desk"
    )  # "Nav" inside a word
    plan.parties.create(name="SAP Consulting GmbH", kind=PartyKind.PARTNER)  # not the internal team
    person(plan, "Olga", skills=["finance"])
    assert fired(plan, "team_organised_by_legacy") == []


# --- retention and backup -------------------------------------------------------------------
def test_it_warns_while_retention_and_backup_are_unanswered(plan):
    scope_item(plan, "data_retention", in_scope=True, what="Retention per class; backups by Microsoft.")
    [warning] = fired(plan, "retention_backup_not_reviewed")
    assert warning.detail.endswith("Disaster recovery and backup.")
    assert "retention" not in warning.detail.split(":")[1].lower()


def test_retention_and_backup_answered_or_ruled_out_are_quiet(plan):
    scope_item(plan, "data_retention", in_scope=True, what="Retention per class; backups by Microsoft.")
    scope_item(plan, "disaster_recovery", in_scope=False, out_of_scope_reason="Microsoft runs DR for SaaS.")
    assert fired(plan, "retention_backup_not_reviewed") == []


# --- ISV release alignment ------------------------------------------------------------------
def test_it_warns_about_an_isv_without_a_release_alignment_commitment(plan):
    isv(plan, aligned=False)
    [warning] = fired(plan, "isv_release_misaligned")
    assert "no agreement commits it to Microsoft's release cadence" in warning.detail


def test_it_warns_when_an_aligned_isv_releases_after_microsofts_update(plan):
    vendor = isv(plan, aligned=True)
    event(plan, CalendarEventKind.SERVICE_UPDATE, date(2027, 5, 8), 2, "10.0.44 update")
    event(plan, CalendarEventKind.ISV_RELEASE, date(2027, 5, 20), 1, "WMS 7.2", party=vendor)
    [warning] = fired(plan, "isv_release_misaligned")
    assert "comes after Microsoft's “10.0.44 update”" in warning.detail


def test_an_isv_release_in_a_seasonal_peak_is_a_high_warning(plan):
    vendor = isv(plan, aligned=True)
    event(plan, CalendarEventKind.SEASONAL_PEAK, date(2027, 9, 1), 60, "Harvest peak")
    event(plan, CalendarEventKind.ISV_RELEASE, date(2027, 9, 15), 1, "WMS 7.3", party=vendor)
    [warning] = fired(plan, "isv_release_misaligned")
    assert warning.severity == "high" and "falls in “Harvest peak”" in warning.detail


def test_an_aligned_isv_releasing_before_the_update_is_quiet(plan):
    vendor = isv(plan, aligned=True)
    event(plan, CalendarEventKind.ISV_RELEASE, date(2027, 4, 20), 1, "WMS 7.2", party=vendor)
    event(plan, CalendarEventKind.SERVICE_UPDATE, date(2027, 5, 8), 2, "10.0.44 update")
    assert fired(plan, "isv_release_misaligned") == []


# --- peaks and update windows ---------------------------------------------------------------
@pytest.mark.parametrize(
    "kind", [CalendarEventKind.SERVICE_UPDATE, CalendarEventKind.ISV_RELEASE, "custom_release"]
)
def test_it_warns_when_a_period_end_collides_with_an_update_window(plan, kind):
    event(plan, CalendarEventKind.PERIOD_END, date(2027, 6, 28), 5, "June close")
    event(plan, kind, date(2027, 7, 1), 2, "10.0.45 update")
    [warning] = fired(plan, "peak_collides_with_update")
    assert "“June close”" in warning.detail and "“10.0.45 update”" in warning.detail


def test_adjacent_peak_and_update_windows_do_not_collide(plan):
    event(plan, CalendarEventKind.SEASONAL_PEAK, date(2027, 6, 1), 30, "June peak")
    event(plan, CalendarEventKind.SERVICE_UPDATE, date(2027, 7, 1), 2, "10.0.45 update")
    event(plan, CalendarEventKind.ONE_OFF, date(2027, 7, 1), 1, "Company day")  # not a peak
    # A release wave's early access runs for months: it is not an update applied to production.
    event(plan, CalendarEventKind.RELEASE_WAVE, date(2027, 6, 1), 60, "2027 wave 2 early access")
    assert fired(plan, "peak_collides_with_update") == []


# --- the whole set --------------------------------------------------------------------------
def test_every_rule_is_named_in_the_key_list_and_warnings_come_most_severe_first(plan):
    assert [rule.__name__.removeprefix("warn_") for rule in rules.RULES] == list(rules.RULE_KEYS)
    warnings = readiness_warnings(plan=plan, today=TODAY)
    severities = [warning.severity for warning in warnings]
    assert severities == sorted(severities, key=rules.SEVERITIES.index)


def test_a_warning_names_the_owner_of_the_item_it_concerns(plan):
    owner = person(plan, "Priya Shah")
    plan.readiness_items.filter(key="readiness_in_uat").update(owner=owner)
    [warning] = fired(plan, "no_uat_drill")
    assert warning.owner == owner
    assert warning.as_dict()["owner"] == {"id": owner.pk, "name": "Priya Shah"}


def test_the_go_live_date_is_what_uat_is_measured_from(plan):
    assert GO_LIVE - timedelta(weeks=6) == UAT_START
