"""The browser's middleware is stepped over by API requests with an API key, and only by them."""

import pytest
from django.core import checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from supportplan.middleware import is_api_key_request
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _session_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "django_session" in query["sql"]]


def test_an_api_key_request_reads_no_session_and_sets_no_browser_cookie(alice, write_key):
    client = api_as(user=alice, key=write_key)  # a session cookie too: the key is what counts
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("location-list"))
    assert response.status_code == 200
    assert _session_queries(captured) == []
    assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies
    assert response["X-Frame-Options"] == "DENY"  # the response's own headers still apply
    assert not hasattr(response.wsgi_request, "htmx")


def test_the_same_request_with_its_session_only_goes_through_the_browser_middleware(alice):
    client = api_as(user=alice)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("location-list"))
    assert response.status_code == 200
    assert _session_queries(captured) != []
    assert response.wsgi_request.htmx is not None
    assert response.wsgi_request.user == alice


def test_a_key_is_the_principal_even_with_a_logged_in_session(alice, other_plan, plan):
    from supportplan import services
    from supportplan.models import ApiKeyScope

    _key, raw = services.api_key_create(
        plan=other_plan, name="Other", scope=ApiKeyScope.READ, created_by=alice
    )
    client = api_as(user=alice, key=raw)
    slugs = [row["slug"] for row in client.get(reverse("plan-api-list")).json()["results"]]
    assert slugs == ["contoso"]  # the key's plan, not alice's


def test_a_wrong_key_is_refused_with_401_not_an_error(alice):
    response = api_as(user=alice, key="sp_nope_nope").get(reverse("location-list"))
    assert response.status_code == 401


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_api_key_request_for_an_unknown_api_path_is_a_clean_404(write_key, accept):
    response = api_as(key=write_key).get("/api/v1/no-such-thing/", HTTP_ACCEPT=accept)
    assert response.status_code == 404


def test_the_browsable_api_renders_for_an_api_key(write_key):
    response = api_as(key=write_key).get(reverse("location-list"), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_session_post_to_the_api_still_needs_the_csrf_token(alice, plan):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    body = {"plan": "northwind", "name": "Oslo", "country": "NO", "timezone": "Europe/Oslo"}
    refused = client.post(reverse("location-list"), body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]


def test_pages_keep_the_session_when_an_authorization_header_is_sent(alice, write_key):
    client = api_as(user=alice, key=write_key)
    response = client.get(reverse("plan-list"))
    assert response.status_code == 200
    assert response.wsgi_request.user == alice


@pytest.mark.parametrize(
    ("path", "header", "expected"),
    [
        ("/api/v1/requests/", "Api-Key sp_x", True),
        ("/api/v1/requests/", "api-key sp_x", True),
        ("/api/v1/requests/", "Bearer sp_x", True),
        ("/api/schema/", "Api-Key sp_x", True),
        ("/api/v1/requests/", "Basic dXNlcjpwYXNz", False),
        ("/api/v1/requests/", "", False),
        ("/plans/", "Api-Key sp_x", False),
        ("/admin/", "Bearer sp_x", False),
        ("/apiary/", "Api-Key sp_x", False),
    ],
)
def test_which_requests_step_over_the_browser_middleware(rf, path, header, expected):
    request = rf.get(path, HTTP_AUTHORIZATION=header) if header else rf.get(path)
    assert is_api_key_request(request) is expected


def test_django_s_checks_see_the_middleware_they_require():
    errors = [message for message in checks.run_checks() if message.level >= checks.ERROR]
    assert errors == []
