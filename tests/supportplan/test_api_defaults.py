"""What every endpoint shares: the schema, throttling per key and per user, pagination, query counts."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from supportplan import services
from supportplan.api_defaults import PrincipalRateThrottle
from tests.conftest import api_as
from tests.factories import LocationFactory

ROOT = Path(__file__).resolve().parents[2]


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "s.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    schema = (tmp_path / "s.yml").read_text()
    for path in (
        "/api/v1/plans/",
        "/api/v1/locations/",
        "/api/v1/memberships/",
        "/api/v1/api-keys/{id}/revoke/",
    ):
        assert path in schema
    assert "ApiKeyAuth" in schema


def test_the_schema_and_docs_are_served_to_signed_in_users(alice):
    client = api_as(user=alice)
    assert client.get(reverse("api-schema")).status_code == 200
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()
    assert "cdn.jsdelivr.net" not in docs.content.decode()


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/minute"})


def test_throttling_counts_each_key_and_each_user_separately(three_a_minute, alice, bob, plan, read_key):
    _other, other_key = services.api_key_create(plan=plan, name="Second helpdesk", created_by=alice)
    url = reverse("location-list")
    first = api_as(key=read_key)
    assert [first.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = first.get(url)
    assert throttled.json()["error"]["code"] == "throttled"
    assert throttled.json()["error"]["retry_after_seconds"] > 0
    assert api_as(key=other_key).get(url).status_code == 200
    alice_client = api_as(user=alice)
    assert [alice_client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api_as(user=bob).get(url).status_code == 200


def test_lists_are_paginated_with_a_bounded_page_size(alice, plan):
    LocationFactory.create_batch(12, plan=plan)
    body = api_as(user=alice).get(reverse("location-list"), {"page_size": 5}).json()
    assert (body["count"], len(body["results"])) == (12, 5)
    assert body["next"].endswith("page=2&page_size=5")
    big = api_as(user=alice).get(reverse("location-list"), {"page_size": 100000}).json()
    assert len(big["results"]) == 12


@pytest.mark.parametrize("endpoint", ["plan-api-list", "location-list", "membership-list", "apikey-list"])
def test_list_endpoints_cost_the_same_few_queries_however_many_rows(
    endpoint, alice, plan, django_assert_max_num_queries
):
    from tests.factories import MembershipFactory, PlanFactory

    for index in range(15):
        other = PlanFactory()
        MembershipFactory(plan=other, user=alice, role="project_lead")
        LocationFactory(plan=other)
        services.api_key_create(plan=other, name=f"Key {index}", created_by=alice)
    client = api_as(user=alice)
    with django_assert_max_num_queries(8):
        response = client.get(reverse(endpoint))
    assert response.status_code == 200
    assert response.json()["count"] >= 15


def test_filters_narrow_a_list_to_one_plan(alice, plan, other_plan, dave):
    from supportplan.models import Membership

    Membership.objects.create(plan=other_plan, user=alice, role="viewer")
    LocationFactory(plan=plan, name="A")
    LocationFactory(plan=other_plan, name="B")
    body = api_as(user=alice).get(reverse("location-list"), {"plan": "contoso"}).json()
    assert [item["name"] for item in body["results"]] == ["B"]


ACCEPT_HEADERS = [
    None,
    "*/*",
    "",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/csv",
    "application/*",
    "image/png",
]


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api", "?format=csv"])
@pytest.mark.parametrize("suffix", [None, "json", "api"])
@pytest.mark.parametrize("first", ["json", "browsable", "csv"])
def test_the_content_negotiation_answers_as_drfs_own(rf, accept, query, suffix, first):
    from rest_framework import renderers
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.request import Request

    from supportplan.api_defaults import ContentNegotiation

    class CSVRenderer(renderers.BaseRenderer):
        media_type, format = "text/csv", "csv"

    order = {
        "json": [renderers.JSONRenderer, renderers.BrowsableAPIRenderer],
        "browsable": [renderers.BrowsableAPIRenderer, renderers.JSONRenderer],
        "csv": [CSVRenderer, renderers.JSONRenderer],
    }[first]
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(rf.get(f"/api/v1/plans/{query}", **headers))

    def outcome(negotiator):
        try:
            renderer, media_type = negotiator.select_renderer(request, [kind() for kind in order], suffix)
        except Exception as error:  # the same refusal (406, 404) is part of the answer
            return type(error)
        return type(renderer), media_type

    assert outcome(ContentNegotiation()) == outcome(DefaultContentNegotiation())


def test_the_api_uses_the_project_negotiation():
    from rest_framework.settings import api_settings

    from supportplan.api_defaults import ContentNegotiation

    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation
