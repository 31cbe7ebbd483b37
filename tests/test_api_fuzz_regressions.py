"""Inputs the API fuzzer (schemathesis) and hand-made hostile requests once turned into a 500."""

from django.urls import reverse

from supportplan import services
from supportplan.models import ApiKeyScope
from tests.conftest import api_as
from tests.scope.readiness_fixtures import seeded


def test_a_patch_of_an_api_key_without_a_name_keeps_the_name_instead_of_failing(alice, plan):
    api_key, _raw = services.api_key_create(
        plan=plan, name="Helpdesk", scope=ApiKeyScope.READ, created_by=alice
    )
    response = api_as(user=alice).patch(
        reverse("apikey-detail", args=[api_key.pk]), {"unknown": "ignored"}, format="json"
    )
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.name == "Helpdesk"


def test_hours_used_far_beyond_the_committed_ones_still_read_back(plan, alice):
    # Stored hours that made the percentage overflow its field turned every read of hypercare into a 500.
    seeded(plan)
    client = api_as(user=alice)
    body = {"committed_partner_hours": "0.1", "used_partner_hours": "9999999.9"}
    response = client.patch("/api/v1/hypercare/northwind/", body, format="json")
    assert response.status_code == 200, response.content
    partner = next(row for row in response.json()["hours"] if row["who"] == "Partner")
    assert partner["percent_used"] == "9999999900.0" and partner["remaining"] == "-9999999.8"
    assert client.get("/api/v1/hypercare/").status_code == 200
    assert client.get("/api/v1/hypercare/northwind/").status_code == 200
