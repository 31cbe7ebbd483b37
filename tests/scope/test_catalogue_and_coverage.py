"""The aspect catalogue and the five-question coverage of a plan's scope."""

import pytest
from django.core.exceptions import ValidationError

from models_catalog import services as catalog_services
from models_catalog.models import ModelKind, SupportLevel
from scope import catalogue, services
from scope.models import Aspect, AspectGroup, ScopeItem
from scope.selectors import ANSWERED, MISSING, PARTIAL, answer_state, scope_coverage


def test_the_migration_seeds_the_guides_seven_groups_and_their_aspects(db):
    assert list(AspectGroup.objects.values_list("key", flat=True)) == [key for key, *_ in catalogue.GROUPS]
    assert Aspect.objects.filter(plan__isnull=True).count() == sum(
        len(group[3]) for group in catalogue.GROUPS
    )
    assert Aspect.objects.filter(group__key="enterprise_architecture").count() == 10
    assert Aspect.objects.filter(group__key="policies").count() == 6
    integrations = Aspect.objects.get(key="integrations")
    assert integrations.prompt_who == "Which roles, people, parties and support level handle it?"
    assert integrations.catalogue_version == 1


def test_syncing_a_new_catalogue_version_retires_dropped_aspects_but_keeps_them(db, monkeypatch):
    groups = [(key, name, guidance, aspects[:1]) for key, name, guidance, aspects in catalogue.GROUPS]
    monkeypatch.setattr(catalogue, "GROUPS", groups)
    catalogue.sync(AspectGroup, Aspect, version=2)
    assert Aspect.objects.filter(plan__isnull=True, retired_in_version__isnull=True).count() == 7
    assert Aspect.objects.get(key="middleware").retired_in_version == 2


@pytest.fixture
def mixed_model(plan):
    helpdesk = catalog_services.party_create(plan=plan, name="Service desk", kind="helpdesk")
    catalog_services.support_model_choose(plan=plan, kind=ModelKind.MIXED)
    return {"helpdesk": helpdesk, "level_2": SupportLevel.objects.get(plan=plan, number=2)}


def test_each_question_is_answered_partial_or_missing(plan, mixed_model):
    aspect = Aspect.objects.get(key="integrations")
    item = services.scope_item_save(plan=plan, aspect=aspect, in_scope=True, what="Banking web service")
    assert [answer_state(item, q) for q in ("what", "detail", "who", "when", "how")] == [
        ANSWERED,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
    ]
    item = services.scope_item_save(
        plan=plan,
        aspect=aspect,
        details=[{"task": "Monitor the queue", "frequency": "daily"}, {"task": "Restart"}],
        parties=[mixed_model["helpdesk"]],
        tool="ServiceNow",
    )
    assert [answer_state(item, q) for q in ("detail", "who", "how")] == [PARTIAL, PARTIAL, PARTIAL]
    item = services.scope_item_save(
        plan=plan,
        aspect=aspect,
        support_level=mixed_model["level_2"],
        procedure_url="https://wiki.example/run",
        when_text="Business hours; on alert",
    )
    assert [answer_state(item, q) for q in ("who", "when", "how")] == [ANSWERED, ANSWERED, ANSWERED]


def test_an_item_out_of_scope_needs_a_reason_and_then_answers_everything(plan):
    aspect = Aspect.objects.get(key="reporting")
    with pytest.raises(ValidationError) as error:
        services.scope_item_save(plan=plan, aspect=aspect, in_scope=False)
    assert "out_of_scope_reason" in error.value.message_dict
    item = services.scope_item_save(
        plan=plan, aspect=aspect, in_scope=False, out_of_scope_reason="BI team", redirect_to="bi@northwind"
    )
    assert {answer_state(item, q) for q in ("what", "detail", "who", "when", "how")} == {ANSWERED}


def test_a_business_process_needs_its_peaks_for_a_full_when(plan):
    aspect = Aspect.objects.get(key="record_to_report")
    item = services.scope_item_save(plan=plan, aspect=aspect, in_scope=True, when_text="Office hours")
    assert answer_state(item, "when") == PARTIAL
    item = services.scope_item_save(
        plan=plan, aspect=aspect, peak_relevance="Month-end close: extended hours"
    )
    assert answer_state(item, "when") == ANSWERED


def test_completeness_counts_partial_answers_as_half(plan, alice, mixed_model):
    aspect = Aspect.objects.get(key="integrations")
    services.scope_item_save(plan=plan, aspect=aspect, in_scope=True, what="Banking", tool="ServiceNow")
    coverage = scope_coverage(user=alice, plan=plan)
    operations = next(group for group in coverage.groups if group.group.key == "dynamics_operations")
    # 5 aspects × 5 questions = 25 cells: what answered (1) + how partial (0.5) = 1.5 / 25.
    assert operations.completeness == 6.0
    total_cells = 5 * Aspect.objects.for_plan(plan).count()
    assert coverage.completeness == round(100 * 1.5 / total_cells, 1)


def test_a_plan_adds_its_own_aspects_which_other_plans_do_not_see(plan, other_plan, alice, dave):
    group = AspectGroup.objects.get(key="dynamics_operations")
    services.aspect_create(plan=plan, group=group, name="Integration: bank statements")
    names = [row.aspect.name for g in scope_coverage(user=alice, plan=plan).groups for row in g.rows]
    assert "Integration: bank statements" in names
    other = [row.aspect.name for g in scope_coverage(user=dave, plan=other_plan).groups for row in g.rows]
    assert "Integration: bank statements" not in other


def test_an_item_cannot_use_another_plans_aspect_or_level(plan, other_plan):
    group = AspectGroup.objects.get(key="business_processes")
    foreign = services.aspect_create(plan=other_plan, group=group, name="Their process")
    with pytest.raises(ValidationError) as error:
        services.scope_item_save(plan=plan, aspect=foreign, in_scope=True)
    assert "aspect" in error.value.message_dict
    assert not ScopeItem.objects.filter(plan=plan).exists()


def test_coverage_costs_the_same_queries_however_many_items(
    plan, alice, mixed_model, django_assert_max_num_queries
):
    for aspect in Aspect.objects.filter(plan__isnull=True)[:20]:
        services.scope_item_save(
            plan=plan, aspect=aspect, in_scope=True, what="x", parties=[mixed_model["helpdesk"]]
        )
    with django_assert_max_num_queries(8):
        coverage = scope_coverage(user=alice, plan=plan)
        assert sum(1 for g in coverage.groups for row in g.rows if row.item) == 20


def test_a_partner_sees_only_the_items_naming_their_organisation(plan, carol):
    from supportplan.models import Membership

    partner = catalog_services.party_create(plan=plan, name="Contoso", kind="partner")
    Membership.objects.filter(user=carol).update(organisation=partner)
    services.scope_item_save(plan=plan, aspect=Aspect.objects.get(key="integrations"), parties=[partner])
    services.scope_item_save(plan=plan, aspect=Aspect.objects.get(key="reporting"))
    assert [item.aspect.key for item in ScopeItem.objects.for_user(carol)] == ["integrations"]
