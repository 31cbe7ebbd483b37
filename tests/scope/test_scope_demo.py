"""The demo scope: about 60 % of the catalogue answered, with gaps a reader can see, seeded once."""

from __future__ import annotations

import pytest
import time_machine

from models_catalog.demo import seed_support_model
from operations.models import ServiceCalendar
from scope.demo import seed_scope_demo
from scope.gaps import scope_gap_list
from scope.models import Aspect, ScopeItem
from scope.selectors import scope_coverage


@pytest.fixture
def demo_plan(plan, bob):
    with time_machine.travel("2027-01-15 10:00Z", tick=False):
        seed_support_model(plan=plan)
        ServiceCalendar.objects.create(plan=plan, name="UK office hours", timezone="Europe/London")
        seed_scope_demo(plan=plan)
        yield plan


def test_the_demo_answers_about_sixty_percent_of_the_catalogue(demo_plan):
    catalogue = Aspect.objects.for_plan(demo_plan).count()
    items = ScopeItem.objects.filter(plan=demo_plan)
    assert 0.5 <= items.count() / catalogue <= 0.7
    assert items.filter(in_scope=False).exclude(out_of_scope_reason="").count() >= 2
    assert items.filter(aspect__is_business_process=True).exclude(process_profile={}).count() == 4
    assert items.exclude(people=None).exists() and items.exclude(parties=None).exists()
    assert items.filter(service_calendar__name="UK office hours").exists()


def test_the_demo_mixes_answered_and_partial_items(demo_plan, bob):
    states = {
        state
        for group in scope_coverage(user=bob, plan=demo_plan).groups
        for row in group.rows
        if row.item is not None
        for state in row.states.values()
    }
    assert {"answered", "partial"} <= states


def test_the_demo_shows_the_scope_gaps(demo_plan):
    with time_machine.travel("2027-01-15 10:00Z", tick=False):
        found = scope_gap_list(plan=demo_plan)
    by_code = {gap.code: gap for gap in found}
    assert (
        "Record to report (financial close)"
        in by_code["critical_process_without_out_of_hours_answer"].message
    )
    assert {"scope_item_without_who_or_how", "scope_item_unreviewed"} <= set(by_code)


def test_seeding_twice_adds_nothing_and_keeps_edits(demo_plan):
    item = ScopeItem.objects.get(plan=demo_plan, aspect__key="middleware")
    item.tool = "Edited by a lead"
    item.save()
    count = ScopeItem.objects.filter(plan=demo_plan).count()
    assert seed_scope_demo(plan=demo_plan) == 0
    assert ScopeItem.objects.filter(plan=demo_plan).count() == count
    item.refresh_from_db()
    assert item.tool == "Edited by a lead"


def test_the_demo_skips_quietly_what_the_plan_lacks(other_plan):
    assert seed_scope_demo(plan=other_plan) > 0
    assert not ScopeItem.objects.filter(plan=other_plan).exclude(people=None).exists()
