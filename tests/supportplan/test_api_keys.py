"""An API key's life: created by a lead, shown once, stored hashed, scoped, revocable, last use recorded."""

import hashlib

import pytest
import time_machine
from django.urls import reverse

from supportplan.models import ApiKey, AuditEntry
from tests.conftest import api_as


@pytest.fixture
def created(alice, plan):
    response = api_as(user=alice).post(
        reverse("apikey-list"),
        {"plan": "northwind", "name": "ServiceNow", "scope": "read_write"},
        format="json",
    )
    assert response.status_code == 201
    return response.json()


def test_the_secret_is_in_the_create_response_and_nowhere_else(created, alice):
    raw = created["key"]
    assert raw.startswith(f"sp_{created['prefix']}_")
    stored = ApiKey.objects.get(pk=created["id"])
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=stored.pk).values().get())
    listed = api_as(user=alice).get(reverse("apikey-detail", args=[created["id"]])).json()
    assert "key" not in listed
    assert created["prefix"] == listed["prefix"]


def test_a_key_reads_its_plan_and_records_when_it_was_last_used(created):
    client = api_as(key=created["key"])
    with time_machine.travel("2026-11-25 10:00:00Z", tick=False):
        assert client.get(reverse("plan-api-detail", args=["northwind"])).status_code == 200
    assert ApiKey.objects.get(pk=created["id"]).last_used_at.isoformat() == "2026-11-25T10:00:00+00:00"


def test_last_used_is_written_at_most_once_a_minute(created, django_assert_num_queries):
    client = api_as(key=created["key"])
    with time_machine.travel("2026-11-25 10:00:00Z", tick=False):
        client.get(reverse("location-list"))
    with time_machine.travel("2026-11-25 10:00:30Z", tick=False):
        client.get(reverse("location-list"))
    assert ApiKey.objects.get(pk=created["id"]).last_used_at.isoformat() == "2026-11-25T10:00:00+00:00"
    with time_machine.travel("2026-11-25 10:01:30Z", tick=False):
        client.get(reverse("location-list"))
    assert ApiKey.objects.get(pk=created["id"]).last_used_at.isoformat() == "2026-11-25T10:01:30+00:00"


def test_a_key_cannot_see_another_plan(created, other_plan):
    response = api_as(key=created["key"]).get(reverse("plan-api-detail", args=["contoso"]))
    assert response.status_code == 404


def test_a_revoked_key_is_refused_with_401(created, alice):
    assert api_as(user=alice).post(reverse("apikey-revoke", args=[created["id"]])).status_code == 200
    response = api_as(key=created["key"]).get(reverse("location-list"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."
    assert response["WWW-Authenticate"].startswith("Api-Key")


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key sp_deadbeef_wrong",
        "Api-Key nonsense",
        "Bearer sp_00000000_x",
        "Api-Key sp_\x00_abc",
        "Api-Key " + "a" * 500,
    ],
)
def test_a_wrong_or_malformed_key_is_refused_with_401(created, header):
    response = api_as().get(reverse("location-list"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(created):
    forged = f"sp_{created['prefix']}_{'x' * 43}"
    assert api_as(key=forged).get(reverse("location-list")).status_code == 401


def test_a_read_only_key_writing_gets_403(read_key, location):
    response = api_as(key=read_key).patch(
        reverse("location-detail", args=[location.pk]), {"user_count": 1}, format="json"
    )
    assert response.status_code == 403


def test_no_key_changes_configuration_even_with_write_scope(write_key, location):
    response = api_as(key=write_key).patch(
        reverse("location-detail", args=[location.pk]), {"user_count": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "API keys cannot change configuration."


def test_the_audit_trail_records_the_key_without_its_secret(created):
    entries = AuditEntry.objects.filter(content_type__model="apikey", object_pk=str(created["id"]))
    assert entries.count() == 1
    entry = entries.get()
    assert "key_hash" not in (entry.changes or {})
    assert created["key"] not in str(entry.changes) + entry.changes_text + str(entry.additional_data)
    assert entry.actor.username == "alice"


def test_a_lead_renames_a_key_but_cannot_change_its_scope_after_creation(created, alice):
    url = reverse("apikey-detail", args=[created["id"]])
    response = api_as(user=alice).patch(url, {"name": "ServiceNow prod", "scope": "read"}, format="json")
    assert response.status_code == 200
    stored = ApiKey.objects.get(pk=created["id"])
    assert (stored.name, stored.scope) == ("ServiceNow prod", "read_write")
