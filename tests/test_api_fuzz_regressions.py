"""Inputs the API fuzzer (schemathesis) and hand-made hostile requests once turned into a 500."""

from django.urls import reverse

from supportplan import services
from supportplan.models import ApiKeyScope
from tests.conftest import api_as


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
