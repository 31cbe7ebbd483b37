"""The team and parties pages: people, roles, the super-user warning, forms that refuse bad input."""

from django.urls import reverse

from models_catalog import services
from models_catalog.models import Party, Person, Role
from supportplan.models import Membership


def _login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_team_page_warns_about_super_users_without_a_formalised_role(client, bob, plan):
    services.catalogue_seed_plan(plan=plan)
    super_user = Role.objects.get(plan=plan, seed_key="super_user")
    services.person_create(plan=plan, name="Priya", roles=[super_user], super_user_formalised=True)
    services.person_create(plan=plan, name="Jonas", roles=[super_user])
    body = _login(client, bob).get(reverse("team", args=["northwind"])).content.decode()
    assert "Super users without a formalised role:</strong> Jonas." in body
    assert "Priya" in body


def test_adding_a_person_with_bad_working_hours_shows_a_form_error(client, alice, plan):
    response = _login(client, alice).post(
        reverse("person-create", args=["northwind"]),
        {
            "name": "Nina",
            "allocation_percent": "50",
            "weekly_contract_hours": "40",
            "working_hours": "Mon 9-5",
            "languages": "en",
        },
    )
    assert response.status_code == 200
    assert "working_hours" in response.context["form"].errors
    assert not Person.objects.filter(name="Nina").exists()


def test_a_lead_adds_a_person_with_roles_and_levels(client, alice, plan):
    services.catalogue_seed_plan(plan=plan)
    developer = Role.objects.get(plan=plan, seed_key="developer")
    response = _login(client, alice).post(
        reverse("person-create", args=["northwind"]),
        {
            "name": "Nina",
            "allocation_percent": "50",
            "weekly_contract_hours": "40",
            "languages": "en, DE",
            "skills": "X++, integrations",
            "working_hours": '{"0": [["09:00", "17:00"]]}',
            "roles": [developer.pk],
        },
    )
    assert response.status_code == 302
    nina = Person.objects.get(name="Nina")
    assert (nina.languages, nina.skills, [r.name for r in nina.roles.all()]) == (
        ["en", "de"],
        ["X++", "integrations"],
        ["Developer"],
    )


def test_a_party_form_refuses_an_invalid_reference_pattern(client, alice, plan):
    response = _login(client, alice).post(
        reverse("party-create", args=["northwind"]),
        {"name": "ISV", "kind": "isv", "reference_pattern": "[unclosed"},
    )
    assert response.status_code == 200
    assert "reference_pattern" in response.context["form"].errors


def test_an_agreement_form_saves_commitments_per_priority(client, alice, plan):
    party = services.party_create(plan=plan, name="Contoso", kind="partner")
    response = _login(client, alice).post(
        reverse("agreement-create", args=["northwind"]),
        {
            "party": party.pk,
            "name": "Support",
            "kind": "contract_sla",
            "starts_on": "2027-01-01",
            "hours_used": "0",
            "follows_microsoft_release_cadence": "unknown",
            "P1_response": "30",
            "P1_resolution": "240",
            "P2_response": "",
            "P2_resolution": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    agreement = party.agreements.get()
    assert [(c.priority, c.response_minutes, c.resolution_minutes) for c in agreement.commitments.all()] == [
        ("P1", 30, 240)
    ]


def test_a_partner_sees_only_their_own_organisation_on_the_parties_page(client, carol, plan):
    own = services.party_create(plan=plan, name="Contoso", kind="partner")
    services.party_create(plan=plan, name="Other partner", kind="partner")
    Membership.objects.filter(user=carol).update(organisation=own)
    body = _login(client, carol).get(reverse("parties", args=["northwind"])).content.decode()
    assert "Contoso" in body
    assert "Other partner" not in body
    assert client.get(reverse("team", args=["northwind"])).status_code == 403


def test_another_plans_party_is_not_found(client, dave, plan):
    party = services.party_create(plan=plan, name="Contoso", kind="partner")
    assert _login(client, dave).get(reverse("party-edit", args=["northwind", party.pk])).status_code == 404
    assert Party.objects.filter(pk=party.pk).exists()
