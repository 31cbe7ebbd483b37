"""The support-model API: access for the whole cast, bad input, and what each endpoint returns."""

import pytest
from django.urls import reverse

from models_catalog import services
from models_catalog.models import Agreement, ModelKind, Party, Person, Role, SupportLevel
from supportplan.models import Membership
from tests.conftest import api_as

ACTORS = ["alice", "bob", "tina", "carol", "victor", "dave", "read_key", "write_key", "anonymous"]


@pytest.fixture
def world(plan, other_plan, alice, bob, tina, carol, victor, dave, read_key, write_key, location):
    partner = services.party_create(
        plan=plan, name="Contoso Consulting", kind="partner", reference_pattern=r"^PRT-\d+$"
    )
    helpdesk = services.party_create(plan=plan, name="Service desk", kind="helpdesk")
    Membership.objects.filter(user=carol).update(organisation=partner)
    services.agreement_create(
        plan=plan,
        party=partner,
        name="Partner contract",
        kind="contract_sla",
        starts_on="2027-01-01",
        commitments=[services.CommitmentInput("P1", 30, 240)],
    )
    services.agreement_create(
        plan=plan, party=helpdesk, name="Desk SDA", kind="service_delivery", starts_on="2027-01-01"
    )
    services.catalogue_seed_plan(plan=plan)
    services.support_model_choose(plan=plan, kind=ModelKind.MIXED)
    services.person_create(plan=plan, name="Lena", party=partner, location=location, languages=["nl"])
    services.person_create(plan=plan, name="Sam", party=helpdesk)
    services.party_create(plan=other_plan, name="Elsewhere", kind="partner")
    return {"partner": partner, "helpdesk": helpdesk}


def client_for(actor, request):
    if actor == "anonymous":
        return api_as()
    if actor.endswith("_key"):
        return api_as(key=request.getfixturevalue(actor))
    return api_as(user=request.getfixturevalue(actor))


# Rows of Northwind each actor sees per endpoint (carol the partner sees her organisation's).
VISIBLE = {
    "party": {"*": 2, "carol": 1, "dave": 0},
    "agreement": {"*": 2, "carol": 1, "dave": 0},
    "person": {"*": 2, "carol": 1, "dave": 0},
    "role": {"*": 8, "carol": 0, "dave": 0},
    "supportlevel": {"*": 5, "carol": 0, "dave": 0},
    "supportmodel": {"*": 1, "carol": 0, "dave": 0},
}


@pytest.mark.parametrize("endpoint", sorted(VISIBLE))
@pytest.mark.parametrize("actor", ACTORS)
def test_lists_hold_only_what_the_actor_may_see(endpoint, actor, world, request):
    response = client_for(actor, request).get(reverse(f"{endpoint}-list"), {"plan": "northwind"})
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    expected = VISIBLE[endpoint].get(actor, VISIBLE[endpoint]["*"])
    assert response.json()["count"] == expected


CONFIGURE = {"alice": 201, "bob": 201, "dave": 400, "anonymous": 401, "*": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_add_parties(actor, world, request):
    body = {"plan": "northwind", "name": "Fabrikam ISV", "kind": "isv"}
    response = client_for(actor, request).post(reverse("party-list"), body, format="json")
    assert response.status_code == CONFIGURE.get(actor, CONFIGURE["*"])


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_change_a_level(actor, world, request, plan):
    level = SupportLevel.objects.get(plan=plan, number=3)
    response = client_for(actor, request).patch(
        reverse("supportlevel-detail", args=[level.pk]), {"name": "Core team"}, format="json"
    )
    expected = {"alice": 200, "bob": 200, "dave": 404, "carol": 404, "anonymous": 401, "*": 403}
    assert response.status_code == expected.get(actor, expected["*"])


@pytest.mark.parametrize("actor", ACTORS)
def test_only_leads_choose_the_model(actor, world, request):
    body = {"plan": "northwind", "kind": "internal"}
    response = client_for(actor, request).post(reverse("supportmodel-choose"), body, format="json")
    expected = {"alice": 200, "bob": 200, "dave": 400, "anonymous": 401, "*": 403}
    assert response.status_code == expected.get(actor, expected["*"])


def test_choosing_through_the_api_reports_kept_levels(world, alice, plan):
    services.support_level_update(level=SupportLevel.objects.get(plan=plan, number=4), name="Ours")
    response = api_as(user=alice).post(
        reverse("supportmodel-choose"), {"plan": "northwind", "kind": "outsourced"}, format="json"
    )
    assert response.json()["kept_edited"] == [4]
    assert response.json()["model"]["kind"] == "outsourced"


def test_any_signed_in_principal_may_ask_for_a_recommendation(world, read_key):
    body = {"answers": {"size": "small", "internal_skills": "none"}}
    response = api_as(key=read_key).post(reverse("supportmodel-recommend"), body, format="json")
    assert response.status_code == 200
    assert response.json()["kind"] == "outsourced"
    bad = api_as(key=read_key).post(
        reverse("supportmodel-recommend"), {"answers": {"size": "huge"}}, format="json"
    )
    assert bad.status_code == 400
    assert "answers.size" in bad.json()["error"]["fields"]


def test_an_invalid_reference_pattern_is_a_400_naming_the_field(world, alice):
    body = {"plan": "northwind", "name": "Bad regex", "kind": "isv", "reference_pattern": "PRT-(\\d+"}
    response = api_as(user=alice).post(reverse("party-list"), body, format="json")
    assert response.status_code == 400
    assert "regular expression" in response.json()["error"]["fields"]["reference_pattern"][0]
    assert not Party.objects.filter(name="Bad regex").exists()


def test_an_agreement_ending_before_it_starts_is_a_400(world, alice):
    body = {
        "plan": "northwind",
        "party": world["partner"].pk,
        "name": "Backwards",
        "kind": "contract_sla",
        "starts_on": "2027-06-01",
        "ends_on": "2027-01-01",
    }
    response = api_as(user=alice).post(reverse("agreement-list"), body, format="json")
    assert response.status_code == 400
    assert "ends_on" in response.json()["error"]["fields"]
    assert not Agreement.objects.filter(name="Backwards").exists()


def test_release_alignment_is_recorded_only_for_isvs(world, alice):
    body = {
        "plan": "northwind",
        "party": world["helpdesk"].pk,
        "name": "Odd",
        "kind": "service_delivery",
        "starts_on": "2027-01-01",
        "follows_microsoft_release_cadence": True,
    }
    response = api_as(user=alice).post(reverse("agreement-list"), body, format="json")
    assert response.status_code == 400
    assert "follows_microsoft_release_cadence" in response.json()["error"]["fields"]


def test_an_agreement_with_commitments_round_trips_and_rejects_duplicates(world, alice):
    url = reverse("agreement-list")
    body = {
        "plan": "northwind",
        "party": world["partner"].pk,
        "name": "Partner 2028",
        "kind": "contract_sla",
        "starts_on": "2028-01-01",
        "budget_hours": "500.0",
        "commitments": [
            {"priority": "P1", "response_minutes": 30, "resolution_minutes": 240},
            {"priority": "P2", "response_minutes": 120, "resolution_minutes": 960},
        ],
    }
    created = api_as(user=alice).post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert [c["priority"] for c in created.json()["commitments"]] == ["P1", "P2"]
    assert created.json()["hours_remaining"] == "500.0"
    body["name"] = "Dup"
    body["commitments"] = [
        {"priority": "P1", "response_minutes": 1},
        {"priority": "P1", "response_minutes": 2},
    ]
    duplicate = api_as(user=alice).post(url, body, format="json")
    assert duplicate.status_code == 400
    assert "commitments" in duplicate.json()["error"]["fields"]
    assert not Agreement.objects.filter(name="Dup").exists()


def test_a_person_cannot_be_tied_to_another_plans_party(world, alice, dave, other_plan):
    Membership.objects.create(plan=other_plan, user=alice, role="viewer")
    elsewhere = Party.objects.get(name="Elsewhere")
    body = {"plan": "northwind", "name": "Mallory", "party": elsewhere.pk}
    response = api_as(user=alice).post(reverse("person-list"), body, format="json")
    assert response.status_code == 400
    assert "party" in response.json()["error"]["fields"]
    assert not Person.objects.filter(name="Mallory").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allocation_percent", 150),
        ("languages", ["xx"]),
        ("working_hours", {"9": [["09:00", "17:00"]]}),
        ("working_hours", {"0": [["25:00", "17:00"]]}),
        ("working_hours", "Mondays"),
    ],
)
def test_bad_person_fields_are_refused_with_their_name(world, alice, field, value):
    body = {"plan": "northwind", "name": "Bad input", field: value}
    response = api_as(user=alice).post(reverse("person-list"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_the_guides_roles_cannot_be_deleted_but_custom_ones_can(world, alice, plan):
    client = api_as(user=alice)
    seeded = Role.objects.get(plan=plan, seed_key="developer")
    assert client.delete(reverse("role-detail", args=[seeded.pk])).status_code == 400
    custom = client.post(reverse("role-list"), {"plan": "northwind", "name": "Data steward"}, format="json")
    assert custom.status_code == 201
    assert client.delete(reverse("role-detail", args=[custom.json()["id"]])).status_code == 204


def test_a_party_with_agreements_cannot_be_removed(world, alice):
    response = api_as(user=alice).delete(reverse("party-detail", args=[world["partner"].pk]))
    assert response.status_code == 400
    assert Party.objects.filter(pk=world["partner"].pk).exists()


def test_people_can_be_filtered_by_language_and_level(world, alice, plan):
    level = SupportLevel.objects.get(plan=plan, number=4)
    services.person_update(person=Person.objects.get(name="Lena"), levels=[level])
    client = api_as(user=alice)
    assert [p["name"] for p in client.get(reverse("person-list"), {"language": "nl"}).json()["results"]] == [
        "Lena"
    ]
    assert [p["name"] for p in client.get(reverse("person-list"), {"level": 4}).json()["results"]] == ["Lena"]


def test_a_lead_binds_a_partner_user_to_their_organisation(world, alice, carol, django_user_model):
    django_user_model.objects.create_user("pat", password="a-long-password-1")
    body = {"plan": "northwind", "user": "pat", "role": "partner", "organisation": world["partner"].pk}
    response = api_as(user=alice).post(reverse("membership-list"), body, format="json")
    assert response.status_code == 201
    assert response.json()["organisation"] == world["partner"].pk
    elsewhere = Party.objects.get(name="Elsewhere")
    membership = Membership.objects.get(user=carol)
    moved = api_as(user=alice).patch(
        reverse("membership-detail", args=[membership.pk]), {"organisation": elsewhere.pk}, format="json"
    )
    assert moved.status_code == 400
    assert "organisation" in moved.json()["error"]["fields"]


def test_support_model_changes_are_audited_with_the_plan(world, alice, plan):
    from supportplan.models import AuditEntry

    api_as(user=alice).patch(
        reverse("party-detail", args=[world["partner"].pk]), {"contact_hours": "24×7"}, format="json"
    )
    entry = (
        AuditEntry.objects.filter(content_type__model="party", object_pk=str(world["partner"].pk))
        .order_by("pk")
        .last()
    )
    assert (entry.actor, entry.plan_id, entry.changes_dict["contact_hours"]) == (alice, plan.pk, ["", "24×7"])
    level = SupportLevel.objects.get(plan=plan, number=4)
    services.support_level_update(level=level, parties=[world["helpdesk"]])
    m2m = (
        AuditEntry.objects.filter(content_type__model="supportlevel", object_pk=str(level.pk))
        .order_by("pk")
        .last()
    )
    assert m2m.plan_id == plan.pk
    assert "parties" in m2m.changes
