"""The scope's gap rules: each fires when it should and stays quiet otherwise."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from models_catalog.models import Agreement, Party, Person, SupportLevel
from operations.gaps import plan_gaps
from scope import gaps
from scope.models import Aspect, ScopeItem
from scope.services import scope_item_save

TODAY = "2027-03-01 10:00Z"


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def partner(plan):
    return Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")


@pytest.fixture
def level(plan):
    return SupportLevel.objects.create(plan=plan, number=2, name="Level 2")


def aspect(key: str) -> Aspect:
    return Aspect.objects.get(plan__isnull=True, key=key)


def complete_item(plan, key, *, parties=(), level=None, **fields) -> ScopeItem:
    person = Person.objects.get_or_create(plan=plan, name="Sam Patel")[0]
    answers = {
        "in_scope": True,
        "what": "Supported.",
        "procedure_url": "https://wiki.example/runbook",
        "tool": "ServiceNow",
        "last_reviewed": date(2027, 2, 1),
        **fields,
    }
    return scope_item_save(
        plan=plan, aspect=aspect(key), people=[person], parties=list(parties), support_level=level, **answers
    )


def codes(found) -> list[str]:
    return [gap.code for gap in found]


# --- 1. No who or how -----------------------------------------------------------------------
def test_an_in_scope_item_without_who_or_how_is_a_gap(plan):
    item = scope_item_save(plan=plan, aspect=aspect("middleware"), in_scope=True, what="The bus.")
    found = gaps.gap_in_scope_item_without_who_or_how(plan=plan)
    assert codes(found) == ["scope_item_without_who_or_how"]
    assert found[0].severity == "high"
    assert "who or how" in found[0].message
    assert found[0].ids("scope_item") == [item.pk]


def test_an_item_naming_who_and_how_or_out_of_scope_is_not(plan):
    complete_item(plan, "middleware")
    scope_item_save(plan=plan, aspect=aspect("reporting"), in_scope=False, out_of_scope_reason="BI team.")
    assert gaps.gap_in_scope_item_without_who_or_how(plan=plan) == []


# --- 2. Party without agreement -------------------------------------------------------------
def test_a_party_named_without_an_agreement_in_force_is_a_gap(plan, partner):
    complete_item(plan, "middleware", parties=[partner])
    complete_item(plan, "integrations", parties=[partner])
    Agreement.objects.create(
        plan=plan,
        party=partner,
        name="Old contract",
        kind="contract_sla",
        starts_on=date(2025, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    found = gaps.gap_who_names_a_party_without_an_agreement(plan=plan)
    assert codes(found) == ["scope_party_without_agreement"]
    assert found[0].ids("party") == [partner.pk]
    assert len(found[0].ids("scope_item")) == 2
    assert "Contoso Consulting" in found[0].message


def test_a_party_with_a_current_agreement_is_not(plan, partner):
    complete_item(plan, "middleware", parties=[partner])
    Agreement.objects.create(
        plan=plan, party=partner, name="Contract", kind="contract_sla", starts_on=date(2027, 1, 1)
    )
    assert gaps.gap_who_names_a_party_without_an_agreement(plan=plan) == []


# --- 3. Critical process without out-of-hours -----------------------------------------------
def test_a_critical_process_without_an_out_of_hours_answer_is_a_gap(plan):
    complete_item(plan, "record_to_report", criticality="critical", process_profile={"usage": "Daily"})
    found = gaps.gap_critical_process_without_out_of_hours_answer(plan=plan)
    assert codes(found) == ["critical_process_without_out_of_hours_answer"]
    assert found[0].severity == "high"


def test_a_critical_process_that_answers_out_of_hours_or_a_high_one_is_not(plan):
    complete_item(
        plan, "record_to_report", criticality="critical", process_profile={"out_of_hours": "P1 on call"}
    )
    complete_item(plan, "order_to_cash", criticality="high", process_profile={})
    assert gaps.gap_critical_process_without_out_of_hours_answer(plan=plan) == []


# --- 4. Unreviewed --------------------------------------------------------------------------
def test_an_item_reviewed_longer_ago_than_the_limit_is_a_gap(plan):
    complete_item(plan, "middleware", last_reviewed=date(2026, 8, 1))
    complete_item(plan, "integrations", last_reviewed=date(2027, 2, 1))
    found = gaps.gap_item_unreviewed_for_days(plan=plan, days=180)
    assert codes(found) == ["scope_item_unreviewed"]
    assert found[0].severity == "low"
    assert gaps.gap_item_unreviewed_for_days(plan=plan, days=365) == []


def test_a_fresh_never_reviewed_item_is_not_yet_a_gap_but_an_old_one_is(plan):
    complete_item(plan, "middleware", last_reviewed=None)
    assert gaps.gap_item_unreviewed_for_days(plan=plan, days=30) == []
    with time_machine.travel("2027-06-01 10:00Z", tick=False):
        assert codes(gaps.gap_item_unreviewed_for_days(plan=plan, days=30)) == ["scope_item_unreviewed"]


# --- 5. Group with nothing in scope ---------------------------------------------------------
def test_groups_with_nothing_in_scope_are_gaps_once_the_scope_has_started(plan):
    assert gaps.gap_aspect_group_with_nothing_in_scope(plan=plan) == []
    complete_item(plan, "middleware")
    scope_item_save(plan=plan, aspect=aspect("reporting"), in_scope=False, out_of_scope_reason="BI team.")
    found = gaps.gap_aspect_group_with_nothing_in_scope(plan=plan)
    labels = {obj.label for gap in found for obj in gap.objects}
    assert "Enterprise architecture" not in labels
    assert "Business processes" in labels
    assert len(found) == 6


# --- All of them ----------------------------------------------------------------------------
def test_the_plans_gaps_include_the_scope_gaps(plan, bob):
    scope_item_save(plan=plan, aspect=aspect("middleware"), in_scope=True, what="The bus.")
    assert "scope_item_without_who_or_how" in codes(plan_gaps(user=bob, plan=plan))
    assert "scope_item_without_who_or_how" in codes(gaps.scope_gaps(user=bob, plan=plan))


def test_partners_and_other_plans_do_not_get_the_scope_gaps(plan, carol, dave):
    with pytest.raises(PermissionDenied):
        gaps.scope_gaps(user=carol, plan=plan)
    with pytest.raises(Http404):
        gaps.scope_gaps(user=dave, plan=plan)


def test_the_scope_gaps_cost_the_same_queries_however_many_items(plan, bob, partner, level):
    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            gaps.scope_gaps(user=bob, plan=plan)
        return len(context.captured_queries)

    complete_item(plan, "middleware", parties=[partner], level=level)
    count()  # the requester's role is cached after the first call
    few = count()
    assert few <= 7
    for key in ("integrations", "reporting", "environments", "record_to_report", "order_to_cash"):
        other = Party.objects.create(plan=plan, name=f"Party {key}", kind="isv")
        complete_item(
            plan, key, parties=[partner, other], criticality="critical", last_reviewed=date(2020, 1, 1)
        )
    assert count() == few
