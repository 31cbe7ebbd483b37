"""The calculator page and the gaps page through the test client."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from tests.operations.breach_fixtures import *  # noqa: F403

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def url(plan):
    return reverse("breach-calculator", args=[plan.slug])


@pytest.fixture
def query(steady_state, london):
    return {"priority": "P2", "location": london.pk, "start": "2027-03-25T15:00"}


def form_errors(response) -> dict:
    return response.context["form"].errors


# --- The calculator -------------------------------------------------------------------------
def test_the_calculator_shows_each_deadline_with_its_timeline(client, alice, url, query):
    response = login(client, alice).get(url, query)
    assert response.status_code == 200
    body = response.content.decode()
    assert "P2 High under “Steady state”" in body
    assert "Tue 30 Mar 2027, 13:30 UTC" in body
    assert "Tue 30 Mar 2027, 14:30 BST" in body
    assert "Counted Thu 25 Mar, 15:00 → Thu 25 Mar, 17:30 GMT" in body
    assert "Good Friday" in body and "Easter Monday" in body
    assert "clocks go forward 01:00 → 02:00 Europe/London" in body


def test_the_start_is_read_in_the_locations_zone(client, alice, url, query):
    query["start"] = "2027-06-11T15:00"  # 15:00 BST = 14:00 UTC
    result = login(client, alice).get(url, query).context["result"]
    assert result.start.isoformat() == "2027-06-11T14:00:00+00:00"


def test_a_start_in_the_spring_gap_is_a_form_error(client, alice, url, query):
    query["start"] = "2027-03-28T01:30"
    response = login(client, alice).get(url, query)
    assert response.context["result"] is None
    assert form_errors(response)["start"] == [
        "01:30 on 28 March 2027 does not exist in Europe/London: the clocks go forward from 01:00 to 02:00. "
        "Choose a time before 01:00 or from 02:00."
    ]
    assert "does not exist in Europe/London" in response.content.decode()


def test_a_start_in_the_repeated_autumn_hour_asks_which_one(client, alice, url, query):
    query["start"] = "2027-10-31T01:30"
    response = login(client, alice).get(url, query)
    assert "happens twice" in form_errors(response)["start"][0]
    assert form_errors(response)["occurrence"] == ["Choose the first or the second 01:30."]
    query["occurrence"] = "second"
    result = login(client, alice).get(url, query).context["result"]
    assert result.start.isoformat() == "2027-10-31T01:30:00+00:00"


def test_a_service_error_shows_on_its_field(client, alice, url, query):
    query["priority"] = "P4"
    response = login(client, alice).get(url, query)
    assert form_errors(response)["priority"] == ["“Steady state” has no targets for P4."]


def test_impact_and_urgency_without_a_matrix_cell_show_on_the_impact_field(client, alice, url, query):
    query.update(priority="", impact="low", urgency="low")
    response = login(client, alice).get(url, query)
    assert "no cell for impact low × urgency low" in form_errors(response)["impact"][0]


def test_a_location_or_calendar_is_needed(client, alice, url, query):
    query["location"] = ""
    assert "location" in form_errors(login(client, alice).get(url, query))


@time_machine.travel("2027-06-11 14:00Z", tick=False)
def test_the_empty_form_starts_now_at_the_first_location(client, alice, url, london):
    response = login(client, alice).get(url)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert 'value="2027-06-11T15:00"' in response.content.decode()


def test_a_partner_may_use_the_calculator(client, carol, url, query):
    assert login(client, carol).get(url, query).status_code == 200


def test_another_plans_lead_does_not_find_the_calculator(client, dave, url):
    assert login(client, dave).get(url).status_code == 404


def test_a_visitor_is_sent_to_log_in(client, url):
    assert client.get(url).status_code == 302


# --- The gaps page --------------------------------------------------------------------------
@pytest.fixture
def gaps_url(plan):
    return reverse("plan-gaps", args=[plan.slug])


@time_machine.travel("2027-04-01 12:00Z", tick=False)
def test_a_lead_sees_the_gaps_grouped_by_severity(client, bob, gaps_url, steady_state, service_desk):
    response = login(client, bob).get(gaps_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h2 id="gaps-high">High' in body
    assert "P4 Low has no target in “Steady state”" in body
    assert "Northwind IT Service Desk has no service calendar at all" in body


def test_a_plan_without_gaps_says_so(client, alice, gaps_url):
    assert "No gaps found." in login(client, alice).get(gaps_url).content.decode()


def test_a_partner_may_not_see_the_gaps_page(client, carol, gaps_url):
    assert login(client, carol).get(gaps_url).status_code == 403


def test_another_plans_lead_does_not_find_the_gaps_page(client, dave, gaps_url):
    assert login(client, dave).get(gaps_url).status_code == 404


def test_the_plan_navigation_links_both_pages(client, alice, gaps_url, url):
    body = login(client, alice).get(gaps_url).content.decode()
    assert f'href="{url}"' in body and f'href="{gaps_url}"' in body
