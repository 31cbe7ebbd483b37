"""Choosing a support model: the questionnaire's recommendation and the five-level templates."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from models_catalog import services
from models_catalog.models import ModelKind, Party, Role, SupportLevel
from models_catalog.recommendation import QUESTIONS, recommend, validate_answers

SMALL_PARTNER_LED = {
    "size": "small",
    "critical_processes": "few",
    "internal_skills": "none",
    "customisation": "low",
    "outsourcing_strategy": "outsource",
    "existing_agreements": "yes",
    "it_framework": "none",
}
LARGE_IN_HOUSE = {
    "size": "large",
    "critical_processes": "many",
    "internal_skills": "broad",
    "customisation": "high",
    "outsourcing_strategy": "in_house",
    "existing_agreements": "no",
    "it_framework": "mature",
    "business_units": "yes",
}


def test_a_small_solution_without_internal_skills_is_recommended_partner_led():
    recommendation = recommend(SMALL_PARTNER_LED)
    assert recommendation.kind == ModelKind.OUTSOURCED
    assert "Without internal skills or head count a dedicated team is out of reach." in recommendation.reasons
    assert recommendation.centre_of_excellence is False


def test_a_large_skilled_organisation_preferring_in_house_gets_internal_with_a_coe():
    recommendation = recommend(LARGE_IN_HOUSE)
    assert recommendation.kind == ModelKind.INTERNAL
    assert recommendation.centre_of_excellence is True
    assert any("centre of excellence" in reason for reason in recommendation.reasons)


def test_no_answers_default_to_the_most_common_mixed_model():
    recommendation = recommend({})
    assert recommendation.kind == ModelKind.MIXED
    assert len(recommendation.unanswered) == len(QUESTIONS)


def test_a_few_skilled_people_and_heavy_customisation_point_to_mixed():
    answers = {"internal_skills": "some", "customisation": "high", "size": "medium"}
    assert recommend(answers).kind == ModelKind.MIXED


def test_unknown_questions_and_answers_are_named():
    assert validate_answers({"size": "gigantic", "colour": "blue"}) == {
        "size": "Choose one of: small, medium, large.",
        "colour": "Unknown question.",
    }


@pytest.fixture
def parties(plan):
    return {
        kind: Party.objects.create(plan=plan, name=name, kind=kind)
        for kind, name in [
            ("helpdesk", "Service desk"),
            ("partner", "Contoso"),
            ("microsoft", "Microsoft"),
            ("isv", "WMS vendor"),
            ("business_unit", "Business units"),
        ]
    }


def test_choosing_a_model_proposes_its_five_levels_with_matching_parties_and_roles(plan, parties):
    _model, result = services.support_model_choose(plan=plan, kind=ModelKind.OUTSOURCED)
    assert result.created == [1, 2, 3, 4, 5]
    levels = {level.number: level for level in SupportLevel.objects.filter(plan=plan)}
    assert levels[2].name == "Internal helpdesk"
    assert [p.name for p in levels[3].parties.all()] == ["Contoso"]
    assert {p.name for p in levels[5].parties.all()} == {"Microsoft", "WMS vendor"}
    assert [r.name for r in levels[1].roles.all()] == ["Super user"]
    assert Role.objects.filter(plan=plan).count() == 8


def test_switching_models_rewrites_untouched_levels_but_never_edited_ones_without_asking(plan, parties):
    services.support_model_choose(plan=plan, kind=ModelKind.OUTSOURCED)
    level_4 = SupportLevel.objects.get(plan=plan, number=4)
    services.support_level_update(level=level_4, name="Contoso custom-code team")

    assert services.level_template_conflicts(plan=plan) == [4]
    _model, result = services.support_model_choose(plan=plan, kind=ModelKind.INTERNAL)
    assert result.kept_edited == [4]
    assert SupportLevel.objects.get(plan=plan, number=4).name == "Contoso custom-code team"
    assert SupportLevel.objects.get(plan=plan, number=3).name == "Centre of excellence or project core team"

    _model, result = services.support_model_choose(plan=plan, kind=ModelKind.INTERNAL, overwrite_edited=True)
    assert result.updated == [1, 2, 3, 4, 5]
    level_4.refresh_from_db()
    assert (level_4.name, level_4.edited) == ("Centre of excellence (specialists)", False)


def test_an_unknown_model_kind_is_refused(plan):
    with pytest.raises(ValidationError) as error:
        services.support_model_choose(plan=plan, kind="crowdsourced")
    assert "kind" in error.value.message_dict


def test_a_level_cannot_be_filled_by_another_plans_party(plan, other_plan, parties):
    services.support_model_choose(plan=plan, kind=ModelKind.MIXED)
    stranger = Party.objects.create(plan=other_plan, name="Stranger", kind="partner")
    with pytest.raises(ValidationError) as error:
        services.support_level_update(level=SupportLevel.objects.get(plan=plan, number=4), parties=[stranger])
    assert "parties" in error.value.message_dict


def _login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_model_page_asks_before_replacing_edited_levels(client, bob, plan, parties):
    services.support_model_choose(plan=plan, kind=ModelKind.MIXED)
    services.support_level_update(level=SupportLevel.objects.get(plan=plan, number=2), name="Our own L2")
    url = reverse("support-model", args=["northwind"])
    _login(client, bob)

    asked = client.post(url, {"form": "choose", "kind": "outsourced", "rationale": ""})
    assert asked.status_code == 200
    assert "You edited level 2" in asked.content.decode()
    assert SupportLevel.objects.get(plan=plan, number=2).name == "Our own L2"

    kept = client.post(url, {"form": "choose", "kind": "outsourced", "overwrite_edited": "keep"})
    assert kept.status_code == 302
    assert SupportLevel.objects.get(plan=plan, number=2).name == "Our own L2"
    assert SupportLevel.objects.get(plan=plan, number=3).name == "Partner (triage and resolution)"

    client.post(url, {"form": "choose", "kind": "outsourced", "overwrite_edited": "replace"})
    assert SupportLevel.objects.get(plan=plan, number=2).name == "Internal helpdesk"


def test_the_model_page_shows_the_recommendation_and_the_tier_diagram(client, bob, plan, parties):
    _login(client, bob)
    url = reverse("support-model", args=["northwind"])
    client.post(url, {"form": "questionnaire", **SMALL_PARTNER_LED})
    services.support_model_choose(plan=plan, kind=ModelKind.OUTSOURCED)
    body = client.get(url).content.decode()
    assert "Recommended: Outsourced (partner-led)" in body
    assert body.count('class="tier tier-') == 5
    assert "Contoso" in body


def test_team_members_see_the_model_but_cannot_change_it_and_partners_cannot_see_it(
    client, tina, carol, plan
):
    url = reverse("support-model", args=["northwind"])
    assert _login(client, tina).get(url).status_code == 200
    assert client.post(url, {"form": "choose", "kind": "internal"}).status_code == 403
    assert _login(client, carol).get(url).status_code == 403


def test_editing_a_level_in_the_ui_marks_it_edited(client, alice, plan, parties):
    services.support_model_choose(plan=plan, kind=ModelKind.MIXED)
    _login(client, alice)
    response = client.post(
        reverse("support-level-edit", args=["northwind", 2]),
        {
            "name": "Service desk",
            "description": "",
            "entry_criteria": "",
            "handoff_criteria": "",
            "parties": [parties["helpdesk"].pk],
        },
    )
    assert response.status_code == 302
    level = SupportLevel.objects.get(plan=plan, number=2)
    assert (level.name, level.edited, [p.name for p in level.parties.all()]) == (
        "Service desk",
        True,
        ["Service desk"],
    )
