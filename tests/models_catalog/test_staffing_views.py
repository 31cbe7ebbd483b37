"""The staffing page and the profile form, through the Django test client."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_catalog.models import StaffingProfile, SupportLevel
from tests.models_catalog.staffing_fixtures import (
    QUIET_WEEK,
    build_team,
    hour_of_week,
    person,
    profile,
    week_of,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def team(plan):
    return build_team(plan)


@pytest.fixture
def german_desk(team):
    """Demand from 07:00 on Monday; Jana, the one German speaker, starts at 09:00."""
    queue = profile(
        team.plan,
        team.level2,
        name="German-speaking helpdesk",
        language="de",
        timezone="Europe/Berlin",
        requests_per_hour=week_of({hour_of_week(0, hour): 0.1 for hour in range(7, 12)}),
    )
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg, languages=["de"])
    return queue


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def staffing_url(**query) -> str:
    url = reverse("staffing", args=["northwind"])
    return f"{url}?week={query['week']}" if "week" in query else url


def grid(rows: list[list[float]]) -> str:
    return "\n".join(", ".join(str(value) for value in row) for row in rows)


def form_data(team, **overrides) -> dict:
    data = {
        "name": "Night desk",
        "level": team.level2.pk,
        "location": "",
        "language": "en",
        "timezone": "Europe/London",
        "source": "entered",
        "requests_per_hour": grid([[0.5] * 24 for _ in range(7)]),
        "users": "0",
        "requests_per_user_per_month": "0",
        "hourly_shape": "office",
        "handle_time_seconds": "900",
        "service_level": "0.8",
        "answer_within_seconds": "60",
        "max_occupancy": "",
        "shrinkage": "0.3",
        "weekly_contract_hours": "37.5",
    }
    return {**data, **overrides}


# --- The page -------------------------------------------------------------------------------
def test_a_lead_sees_each_profile_with_its_heat_map_fte_and_gaps(client, alice, german_desk):
    response = login(client, alice).get(staffing_url(week=QUIET_WEEK.isoformat()))
    body = response.content.decode()
    assert response.status_code == 200
    assert "German-speaking helpdesk" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="heatmap"' in body
    assert "<title>Mon 07:00: needs 1, scheduled 0</title>" in body
    assert "No German speaker at level 2, Monday 07:00–09:00 (Europe/Berlin)" in body
    assert "Monday 17 March 2025" in body
    assert reverse("staffing-profile-edit", args=["northwind", german_desk.pk]) in body
    assert reverse("staffing-profile-create", args=["northwind"]) in body


@pytest.mark.parametrize("member", ["tina", "victor"])
def test_team_members_and_viewers_read_the_page_without_edit_links(client, german_desk, member, request):
    response = login(client, request.getfixturevalue(member)).get(staffing_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "German-speaking helpdesk" in body and "<svg" in body
    assert reverse("staffing-profile-edit", args=["northwind", german_desk.pk]) not in body


def test_a_partner_may_not_open_the_staffing_page(client, carol, german_desk):
    assert login(client, carol).get(staffing_url()).status_code == 403


def test_another_plans_lead_gets_a_404(client, dave, german_desk):
    assert login(client, dave).get(staffing_url()).status_code == 404
    url = reverse("staffing-profile-edit", args=["northwind", german_desk.pk])
    assert client.get(url).status_code == 404


def test_a_visitor_is_sent_to_log_in(client, german_desk):
    response = client.get(staffing_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_plan_without_profiles_says_so(client, alice, team):
    body = login(client, alice).get(staffing_url()).content.decode()
    assert "No staffing profiles yet." in body


@pytest.mark.parametrize("week", ["someday", "0001-01-01", "9999-12-31"])
def test_a_bad_week_is_a_form_error_and_the_page_shows_next_week(client, alice, german_desk, week):
    response = login(client, alice).get(staffing_url(week=week))
    assert response.status_code == 200
    assert "week" in response.context["week_form"].errors
    assert "<svg" in response.content.decode()


def test_profile_names_are_escaped_on_the_page_and_in_the_svg(client, alice, team):
    profile(team.plan, team.level2, name='<img src=x onerror="alert(1)">')
    body = login(client, alice).get(staffing_url()).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_the_page_costs_the_same_queries_for_many_profiles_and_people(client, alice, team):
    profile(team.plan, team.level2)
    person(team.plan, "Amy", levels=[team.level2])
    login(client, alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(staffing_url(week=QUIET_WEEK.isoformat())).status_code == 200
        return len(captured)

    few = queries()
    for number in range(6):
        profile(
            team.plan, team.level1, name=f"Queue {number}", location=team.duisburg if number % 2 else None
        )
    for number in range(15):
        person(team.plan, f"Person {number}", levels=[team.level1, team.level2], location=team.duisburg)
    assert queries() == few


# --- The form -------------------------------------------------------------------------------
def test_a_lead_adds_a_profile_with_168_numbers_as_seven_lines(client, alice, team):
    rows = [[float(hour) for hour in range(24)] for _ in range(7)]
    response = login(client, alice).post(
        reverse("staffing-profile-create", args=["northwind"]), form_data(team, requests_per_hour=grid(rows))
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staffing", args=["northwind"])
    stored = StaffingProfile.objects.get(name="Night desk")
    assert stored.requests_per_hour == [float(hour) for hour in range(24)] * 7
    assert stored.service_level == Decimal("0.8") and stored.level == team.level2


def test_the_edit_form_shows_the_numbers_as_seven_lines(client, alice, team):
    queue = profile(team.plan, team.level2, requests_per_hour=week_of({hour_of_week(0, 9): 2.5}))
    body = (
        login(client, alice)
        .get(reverse("staffing-profile-edit", args=["northwind", queue.pk]))
        .content.decode()
    )
    monday = ", ".join(["0"] * 9 + ["2.5"] + ["0"] * 14)
    assert monday in body
    assert body.count(", ".join(["0"] * 24)) == 6


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"requests_per_hour": grid([[1] * 24] * 6)}, "requests_per_hour", "Give 7 lines"),
        (
            {"requests_per_hour": grid([[1] * 24] * 6 + [[1] * 23])},
            "requests_per_hour",
            "Sunday has 23 numbers",
        ),
        ({"requests_per_hour": grid([[1] * 24] * 6 + [[1] * 23 + ["x"]])}, "requests_per_hour", "“x” is not"),
        ({"requests_per_hour": grid([[1] * 24] * 6 + [[1] * 23 + [-2]])}, "requests_per_hour", "at least 0"),
        ({"requests_per_hour": ""}, "requests_per_hour", "168"),
        ({"service_level": "1.5"}, "service_level", "between 0 and 1"),
        ({"max_occupancy": "0"}, "max_occupancy", "above 0"),
        ({"shrinkage": "1"}, "shrinkage", ""),
        ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
        ({"language": "zz"}, "language", "Unknown language"),
        ({"hourly_shape": "lunar"}, "hourly_shape", "valid choice"),
    ],
)
def test_bad_form_input_is_shown_on_the_field_and_nothing_is_stored(
    client, alice, team, overrides, field, message
):
    response = login(client, alice).post(
        reverse("staffing-profile-create", args=["northwind"]), form_data(team, **overrides)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not StaffingProfile.objects.exists()


def test_a_level_of_another_plan_cannot_be_chosen(client, alice, team, other_plan):
    foreign = SupportLevel.objects.create(plan=other_plan, number=2, name="Contoso helpdesk")
    response = login(client, alice).post(
        reverse("staffing-profile-create", args=["northwind"]), form_data(team, level=foreign.pk)
    )
    assert response.status_code == 200 and "level" in response.context["form"].errors
    assert not StaffingProfile.objects.exists()


def test_a_lead_edits_and_removes_a_profile(client, alice, german_desk, team):
    url = reverse("staffing-profile-edit", args=["northwind", german_desk.pk])
    login(client, alice)
    data = form_data(team, name="Deutscher Helpdesk", language="de", timezone="Europe/Berlin")
    assert client.post(url, data).status_code == 302
    german_desk.refresh_from_db()
    assert german_desk.name == "Deutscher Helpdesk"
    assert client.post(url, {"delete": "1"}).status_code == 302
    assert not StaffingProfile.objects.exists()


def test_a_failed_edit_keeps_the_stored_name_in_the_heading(client, alice, german_desk, team):
    url = reverse("staffing-profile-edit", args=["northwind", german_desk.pk])
    response = login(client, alice).post(url, form_data(team, name="Renamed", service_level="7"))
    assert response.status_code == 200
    assert "Edit staffing profile “German-speaking helpdesk”" in response.content.decode()
    german_desk.refresh_from_db()
    assert german_desk.name == "German-speaking helpdesk"


@pytest.mark.parametrize("member", ["tina", "victor", "carol"])
def test_only_leads_open_the_profile_form(client, german_desk, member, request, team):
    login(client, request.getfixturevalue(member))
    assert client.get(reverse("staffing-profile-create", args=["northwind"])).status_code == 403
    url = reverse("staffing-profile-edit", args=["northwind", german_desk.pk])
    assert client.post(url, {"delete": "1"}).status_code == 403
    assert StaffingProfile.objects.filter(pk=german_desk.pk).exists()
