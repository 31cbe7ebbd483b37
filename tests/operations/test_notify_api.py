"""The notification API: each user sees only their own notices, marks them read and counts the unread;
settings are validated; webhook endpoints are the plan's leads' to manage, secrets are shown once, and
the delivery log is for leads and team members only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from operations.models import Notification, NotificationSettings, WebhookEndpoint
from operations.models.notifications import EventType
from operations.notify.outbox import Recipient, publish
from operations.notify.webhooks import webhook_endpoint_create
from tests.conftest import api_as
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import utc


def notify(plan, user, key, subject="P1 breached"):
    return publish(
        plan=plan,
        event_key=key,
        event_type=EventType.SLA_BREACHED,
        recipients=[Recipient(user=user)],
        subject=subject,
        body="",
        now=utc(2026, 3, 1),
    ).notification_ids[0]


@pytest.fixture
def inboxes(plan, other_plan, tina, bob, dave):
    return {
        "tina": [notify(plan, tina, "a"), notify(plan, tina, "b")],
        "bob": [notify(plan, bob, "a")],
        "dave": [notify(other_plan, dave, "c")],
    }


def test_a_user_lists_only_their_own_notices(inboxes, tina):
    response = api_as(tina).get("/api/v1/notifications/")
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()["results"]) == sorted(inboxes["tina"])


def test_someone_elses_notice_is_404_even_for_a_lead_of_the_plan(inboxes, alice, tina):
    bobs = inboxes["bob"][0]
    assert api_as(alice).get(f"/api/v1/notifications/{bobs}/").status_code == 404
    assert api_as(tina).post(f"/api/v1/notifications/{bobs}/read/").status_code == 404
    assert Notification.objects.get(pk=bobs).read_at is None


def test_marking_read_lowers_the_unread_count(inboxes, tina):
    client = api_as(tina)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    response = client.post(f"/api/v1/notifications/{inboxes['tina'][0]}/read/")
    assert response.status_code == 200 and response.json()["unread"] is False
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert [row["id"] for row in client.get("/api/v1/notifications/?unread=true").json()["results"]] == [
        inboxes["tina"][1]
    ]


def test_read_all_marks_only_the_callers_notices(inboxes, tina, bob):
    response = api_as(tina).post("/api/v1/notifications/read-all/", {"plan": "northwind"}, format="json")
    assert response.json() == {"marked": 2}
    assert api_as(bob).get("/api/v1/notifications/unread-count/").json() == {"unread": 1}


def test_a_viewer_may_mark_their_own_notice_read(plan, victor):
    notice = notify(plan, victor, "v")
    assert api_as(victor).post(f"/api/v1/notifications/{notice}/read/").status_code == 200


def test_api_keys_have_no_inbox(inboxes, read_key):
    client = api_as(key=read_key)
    assert client.get("/api/v1/notifications/").json()["results"] == []
    assert client.get("/api/v1/notification-settings/me/").status_code == 403


def test_api_keys_have_no_settings_and_never_cause_a_500(plan, read_key, write_key):
    for key in (read_key, write_key):
        client = api_as(key=key)
        url = reverse("notificationsettings-me")
        assert client.options(url).status_code in {200, 403}
        assert client.get(url).status_code == 403
        assert client.put(url, {"timezone": "Europe/Berlin"}, format="json").status_code == 403


def test_settings_default_then_change_and_are_validated(tina):
    client = api_as(tina)
    assert client.get("/api/v1/notification-settings/me/").json()["timezone"] == "UTC"
    response = client.put(
        "/api/v1/notification-settings/me/",
        {
            "timezone": "Europe/Berlin",
            "email_enabled": True,
            "digest_mode": "daily",
            "digest_time": "07:00",
            "quiet_start": "22:00",
            "quiet_end": "06:30",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    stored = NotificationSettings.objects.get(user=tina)
    assert (stored.timezone, stored.digest_mode, str(stored.quiet_end)) == (
        "Europe/Berlin",
        "daily",
        "06:30:00",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end"),
        ({"digest_mode": "hourly"}, "digest_mode"),
        ({"digest_time": "25:00"}, "digest_time"),
    ],
)
def test_bad_settings_are_400_with_the_field_and_nothing_is_stored(tina, body, field):
    response = api_as(tina).patch("/api/v1/notification-settings/me/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not NotificationSettings.objects.filter(user=tina).exists()


def test_a_lead_creates_an_endpoint_and_sees_its_secret_only_once(plan, alice, public_dns):
    client = api_as(alice)
    created = client.post(
        "/api/v1/webhook-endpoints/",
        {
            "plan": "northwind",
            "name": "Helpdesk",
            "url": "https://hooks.example.com/x",
            "event_types": ["task.late"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and secret == WebhookEndpoint.objects.get().secret
    endpoint_id = created.json()["id"]
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").json()
    assert "secret" not in client.get("/api/v1/webhook-endpoints/").json()["results"][0]
    updated = client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"name": "Desk"}, format="json")
    assert updated.status_code == 200 and "secret" not in updated.json()
    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/")
    assert rotated.status_code == 200
    assert (
        rotated.json()["secret"] != secret
        and rotated.json()["secret"] == WebhookEndpoint.objects.get().secret
    )
    assert client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_unknown_event_types_are_400(plan, alice, public_dns):
    response = api_as(alice).post(
        "/api/v1/webhook-endpoints/",
        {
            "plan": "northwind",
            "name": "x",
            "url": "https://hooks.example.com/x",
            "event_types": ["task.exploded"],
        },
        format="json",
    )
    assert response.status_code == 400 and "event_types" in response.json()["error"]["fields"]


def test_team_members_read_endpoints_but_only_leads_change_them(plan, alice, tina, public_dns):
    endpoint = webhook_endpoint_create(plan=plan, name="Helpdesk", url="https://hooks.example.com/x")
    assert api_as(tina).get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 200
    assert api_as(tina).post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/").status_code == 403
    created = api_as(tina).post(
        "/api/v1/webhook-endpoints/",
        {"plan": "northwind", "name": "Mine", "url": "https://hooks.example.com/y"},
        format="json",
    )
    assert created.status_code == 403


def test_partners_viewers_api_keys_and_other_plans_do_not_see_endpoints_or_deliveries(
    plan, carol, victor, dave, read_key, public_dns
):
    endpoint = webhook_endpoint_create(plan=plan, name="Helpdesk", url="https://hooks.example.com/x")
    for client in (api_as(carol), api_as(victor), api_as(dave), api_as(key=read_key)):
        assert client.get("/api/v1/webhook-endpoints/").json()["results"] == []
        assert client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 404
        assert client.get("/api/v1/webhook-deliveries/").json()["results"] == []
    assert api_as(dave).post(f"/api/v1/webhook-endpoints/{endpoint.pk}/test/").status_code == 404


def test_the_delivery_log_filters_by_status_and_endpoint(plan, bob, tina, public_dns):
    endpoint = webhook_endpoint_create(plan=plan, name="Helpdesk", url="https://hooks.example.com/x")
    notify(plan, tina, "k1")
    notify(plan, tina, "k2")
    client = api_as(bob)
    rows = client.get(f"/api/v1/webhook-deliveries/?endpoint={endpoint.pk}&status=sending").json()["results"]
    assert len(rows) == 2 and rows[0]["endpoint_name"] == "Helpdesk" and rows[0]["attempts"] == 0
    assert client.get("/api/v1/webhook-deliveries/?status=failed").json()["results"] == []
