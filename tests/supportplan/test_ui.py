"""The browser UI through the Django test client: plans, switching, overview, members, keys."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from supportplan.models import ApiKey, Location, Membership, SupportPlan
from supportplan.views_base import ScopedViewMixin

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


# Views that show no plan data: signing in and out, the redirect home, health, the API root and
# schema (DRF-authenticated, no data); the admin has its own permission system.
# "maintenance-feed": iCalendar subscriptions authenticate with the secret token in the URL (calendar
# clients cannot sign in); an unknown, revoked or rotated token is a 404 (tests/operations/test_feeds.py).
UNSCOPED = {"home", "login", "logout", "healthz", "api-schema", "api-docs", "api-root", "maintenance-feed"}


def test_every_ui_and_api_view_uses_a_scoped_base():
    from supportplan.api import ScopedAPIMixin

    unscoped = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or name in UNSCOPED:
            continue
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is None or not issubclass(view_class, ScopedViewMixin | ScopedAPIMixin):
            unscoped.append(route)
    assert unscoped == []
    assert len(list(_walk(get_resolver().url_patterns))) > 20


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("plan-detail", args=["northwind"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_plan_list_shows_only_my_plans(client, alice, dave):
    body = login(client, alice).get(reverse("plan-list")).content.decode()
    assert "Northwind Distribution" in body
    assert "Contoso Retail" not in body


def test_the_plan_list_costs_a_fixed_number_of_queries(client, alice, django_assert_max_num_queries):
    from tests.factories import MembershipFactory

    for _ in range(10):
        MembershipFactory(user=alice, role="viewer")
    login(client, alice)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("plan-list")).status_code == 200


def test_creating_a_plan_makes_me_its_project_lead(client, tina):
    response = login(client, tina).post(
        reverse("plan-create"),
        {
            "name": "Fabrikam",
            "slug": "fabrikam",
            "products": ["business_central", "power_platform"],
            "phase": "initiate",
        },
    )
    plan = SupportPlan.objects.get(slug="fabrikam")
    assert response["Location"] == plan.get_absolute_url()
    assert Membership.objects.get(plan=plan, user=tina).role == "project_lead"
    assert plan.products == ["business_central", "power_platform"]


def test_a_plan_form_with_errors_shows_them_and_stores_nothing(client, alice, plan):
    response = login(client, alice).post(
        reverse("plan-create"), {"name": "", "slug": "northwind", "products": [], "phase": "initiate"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "slug", "products"}
    assert "This field is required." in response.content.decode()


def test_the_overview_shows_phase_dates_locations_and_people(client, bob, alice, location):
    body = login(client, bob).get(reverse("plan-detail", args=["northwind"])).content.decode()
    assert 'aria-current="step">Initiate' in body
    assert "Head office" in body and "Europe/London" in body
    assert "alice" in body


def test_another_plans_pages_are_404_with_a_friendly_page(client, dave, plan):
    response = login(client, dave).get(reverse("plan-detail", args=["northwind"]))
    assert response.status_code == 404
    assert "belongs to a plan you are not a member of" in response.content.decode()


@pytest.mark.parametrize("url_name", ["plan-edit", "location-create", "plan-api-keys", "plan-history"])
def test_team_members_and_viewers_cannot_open_configuration_pages(client, tina, victor, url_name):
    for user in (tina, victor):
        response = login(client, user).get(reverse(url_name, args=["northwind"]))
        assert response.status_code == 403
        assert "can't do that here" in response.content.decode()


def test_a_partner_sees_the_overview_but_not_the_team(client, carol, alice, location):
    body = login(client, carol).get(reverse("plan-detail", args=["northwind"])).content.decode()
    assert "Head office" in body
    assert "alice" not in body
    assert client.get(reverse("plan-members", args=["northwind"])).status_code == 403


def test_a_lead_adds_and_edits_a_location_with_form_errors_first(client, alice, plan):
    login(client, alice)
    bad = client.post(
        reverse("location-create", args=["northwind"]),
        {"name": "Leeds", "country": "GB", "timezone": "Europe/Leeds", "languages": "en", "user_count": "5"},
    )
    assert bad.status_code == 200
    assert "timezone" in bad.context["form"].errors
    assert not Location.objects.filter(name="Leeds").exists()
    good = client.post(
        reverse("location-create", args=["northwind"]),
        {
            "name": "Leeds",
            "country": "gb",
            "timezone": "Europe/London",
            "languages": "EN, cy",
            "user_count": "5",
        },
    )
    assert good.status_code == 302
    assert Location.objects.get(name="Leeds").languages == ["en", "cy"]


def test_changing_a_role_with_htmx_returns_the_updated_row(client, alice, victor):
    membership = Membership.objects.get(user=victor)
    response = login(client, alice).post(
        reverse("member-role", args=["northwind", membership.pk]),
        {"role": "team_member"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="member-{membership.pk}"' in response.content.decode()
    assert '<option value="team_member" selected>' in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "team_member"


def test_demoting_the_last_lead_with_htmx_shows_the_error_in_the_row(client, alice):
    membership = Membership.objects.get(user=alice)
    response = login(client, alice).post(
        reverse("member-role", args=["northwind", membership.pk]), {"role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "at least one project or support lead" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "project_lead"


def test_a_new_api_key_is_shown_once(client, alice):
    login(client, alice)
    response = client.post(reverse("plan-api-keys", args=["northwind"]), {"name": "Zendesk", "scope": "read"})
    body = response.content.decode()
    key = ApiKey.objects.get(name="Zendesk")
    assert f"sp_{key.prefix}_" in body and "shown this once" in body
    again = client.get(reverse("plan-api-keys", args=["northwind"])).content.decode()
    assert "shown this once" not in again
    assert f"sp_{key.prefix}_…" in again


def test_a_lead_revokes_a_key_from_the_page(client, alice, read_key):
    key = ApiKey.objects.get(name="Helpdesk (read)")
    response = login(client, alice).post(reverse("api-key-revoke", args=["northwind", key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_health_endpoint_answers_without_login(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_htmx_is_served_from_our_own_static_files(client, alice):
    body = login(client, alice).get(reverse("plan-list")).content.decode()
    assert "/static/django_htmx/htmx" in body
    assert "https://" not in body.split("<body")[0]


def test_no_url_name_is_used_twice():
    from collections import Counter

    names = Counter(
        name
        for route, name, _callback in _walk(get_resolver().url_patterns)
        if name and "format" not in route and not route.startswith("admin/")
    )
    assert [name for name, count in names.items() if count > 1] == []
