"""Bad and hostile input gets a clear 4xx with field messages and stores nothing; never a 500."""

import json

import pytest
from django.urls import NoReverseMatch, reverse

from supportplan.models import Location, SupportPlan
from tests.conftest import api_as


def test_an_unknown_time_zone_is_a_400_naming_the_field(alice, plan):
    body = {"plan": "northwind", "name": "Mars base", "country": "GB", "timezone": "Mars/Olympus_Mons"}
    response = api_as(user=alice).post(reverse("location-list"), body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "IANA time zone" in error["fields"]["timezone"][0]
    assert not Location.objects.filter(name="Mars base").exists()


def test_a_duplicate_slug_is_a_400(alice, plan):
    body = {"name": "Copy", "slug": "northwind", "products": ["other"]}
    response = api_as(user=alice).post(reverse("plan-api-list"), body, format="json")
    assert response.status_code == 400
    assert "slug" in response.json()["error"]["fields"]
    assert SupportPlan.objects.filter(slug="northwind").count() == 1


def test_a_missing_required_field_is_a_400(alice):
    response = api_as(user=alice).post(reverse("plan-api-list"), {"slug": "no-name"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name", "products"}
    assert not SupportPlan.objects.filter(slug="no-name").exists()


def test_hypercare_ending_before_it_starts_is_refused(alice, plan):
    response = api_as(user=alice).patch(
        reverse("plan-api-detail", args=["northwind"]),
        {"hypercare_start": "2027-05-01", "hypercare_end": "2027-04-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "hypercare_end" in response.json()["error"]["fields"]
    plan.refresh_from_db()
    assert plan.hypercare_start is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "XX", "ISO 3166"),
        ("subdivision", "ZZZ", "ISO 3166-2"),
        ("languages", ["en", "klingon"], "max_length"),
        ("languages", ["en", "qq"], "Unknown language"),
        ("user_count", -5, ""),
        ("user_count", 10**30, ""),
    ],
)
def test_invalid_location_fields_are_refused_with_their_name(alice, location, field, value, message):
    response = api_as(user=alice).patch(
        reverse("location-detail", args=[location.pk]), {field: value}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert field in fields
    location.refresh_from_db()
    assert location.country == "GB"
    assert location.user_count == 100


def test_removing_the_last_lead_is_refused(alice, plan):
    membership = alice.memberships.get()
    response = api_as(user=alice).patch(
        reverse("membership-detail", args=[membership.pk]), {"role": "viewer"}, format="json"
    )
    assert response.status_code == 400
    assert "at least one project or support lead" in response.json()["error"]["fields"]["role"][0]
    assert api_as(user=alice).delete(reverse("membership-detail", args=[membership.pk])).status_code == 400


def test_adding_a_member_twice_is_refused(alice, tina):
    body = {"plan": "northwind", "user": "tina", "role": "viewer"}
    response = api_as(user=alice).post(reverse("membership-list"), body, format="json")
    assert response.status_code == 400
    assert "already a member" in response.json()["error"]["fields"]["user"][0]


def test_a_record_cannot_move_to_another_plan(alice, dave, location, other_plan):
    from supportplan.models import Membership, PlanRole

    Membership.objects.create(plan=other_plan, user=alice, role=PlanRole.PROJECT_LEAD)
    response = api_as(user=alice).patch(
        reverse("location-detail", args=[location.pk]), {"plan": "contoso"}, format="json"
    )
    assert response.status_code == 400
    location.refresh_from_db()
    assert location.plan.slug == "northwind"


HOSTILE_QUERY = [
    {"plan": "north\x00wind"},
    {"page": "99999999999999999999999999"},
    {"page": "-1"},
    {"page_size": "10000000000000000000000"},
    {"phase": "\x00"},
    {"go_live_after": "2026-02-30"},
    {"go_live_before": "not-a-date"},
    {"active": "maybe"},
    {"ordering": "key_hash"},
    {"ordering": "-\x00"},
    {"scope": "root"},
    {"country": "G" * 10000},
]


def _list_endpoints() -> list[str]:
    from supportplan.urls import router

    # Every viewset with a list route; one without (e.g. notification-settings, only "me") has no
    # query to attack and is covered by its own tests.
    names = []
    for _prefix, _viewset, basename in router.registry:
        try:
            reverse(f"{basename}-list")
        except NoReverseMatch:
            continue
        names.append(f"{basename}-list")
    return sorted(names)


def test_every_viewset_but_the_settings_one_has_a_list_route_under_attack():
    assert "notificationsettings-list" not in _list_endpoints()
    assert {"location-list", "supportrequest-list", "notification-list"} <= set(_list_endpoints())


@pytest.mark.parametrize("endpoint", _list_endpoints())
@pytest.mark.parametrize("params", HOSTILE_QUERY, ids=lambda p: repr(p)[:30])
def test_hostile_query_parameters_never_cause_a_500(alice, location, endpoint, params):
    response = api_as(user=alice).get(reverse(endpoint), params)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert "error" in response.json()


HOSTILE_BODIES = [
    ("application/json", '{"name": "a\\u0000b", "slug": "nul", "products": ["other"]}'),
    (
        "application/json",
        '{"name": "x", "slug": "big", "products": ["other"], "go_live_date": "99999-01-01"}',
    ),
    (
        "application/json",
        '{"name": "x", "slug": "bad-date", "products": ["other"], "go_live_date": "2026-13-45"}',
    ),
    ("application/json", '{"name": "x", "slug": "n", "products": "other"}'),
    ("application/json", '{"name": ["x"], "slug": {"a": 1}, "products": [[]]}'),
    ("application/json", "{not json"),
    ("application/json", "[]"),
    ("application/json", '"just a string"'),
    ("application/json", '{"name": "x", "slug": "' + "s" * 5000 + '", "products": ["other"]}'),
    ("text/plain", "name=x"),
    ("application/xml", "<plan/>"),
    ("application/x-www-form-urlencoded", "name=x&slug=form-plan&products=other&go_live_date=%00"),
]


@pytest.mark.parametrize(("content_type", "body"), HOSTILE_BODIES, ids=lambda v: repr(v)[:25])
def test_hostile_bodies_get_a_4xx_and_store_nothing(alice, content_type, body):
    before = SupportPlan.objects.count()
    response = api_as(user=alice).generic("POST", reverse("plan-api-list"), body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert "error" in json.loads(response.content)
    assert SupportPlan.objects.count() == before


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "1e5", "\x00", "%00"])
def test_hostile_object_ids_in_the_path_are_not_found(alice, value):
    response = api_as(user=alice).get(f"/api/v1/locations/{value}/")
    assert response.status_code == 404


def test_hostile_input_in_ui_forms_is_a_form_error(client, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        reverse("plan-create"),
        {
            "name": "a\x00b",
            "slug": "ui-nul",
            "products": ["other"],
            "phase": "initiate",
            "go_live_date": "2026-02-30",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"name", "go_live_date"} <= set(form.errors)
    assert not SupportPlan.objects.filter(slug="ui-nul").exists()
