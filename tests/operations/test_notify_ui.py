"""Notification pages: the header's unread count, the inbox, my settings, the delivery log with
failed rows, and the webhook page with its once-shown secret and a test button that only queues."""

from __future__ import annotations

import pytest
from django.test import Client

from operations.models import Notification, NotificationSettings, WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify import webhooks
from operations.notify.outbox import Recipient, publish
from operations.notify.webhooks import webhook_endpoint_create
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import utc

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def notify(plan, user, key, subject="Late: Rotate the certificate"):
    return publish(
        plan=plan,
        event_key=key,
        event_type=EventType.TASK_LATE,
        recipients=[Recipient(user=user)],
        subject=subject,
        body="",
        link=f"/plans/{plan.slug}/",
        now=utc(2026, 3, 1),
    ).notification_ids[0]


def test_the_header_shows_the_unread_count_and_the_inbox_lists_the_notice(plan, tina):
    notify(plan, tina, "a")
    notify(plan, tina, "b", subject="Due now: Review access")
    page = login(tina).get("/plans/northwind/")
    assert 'aria-label="2 unread"' in page.content.decode()
    inbox = login(tina).get("/plans/northwind/inbox/").content.decode()
    assert "Late: Rotate the certificate" in inbox and "Due now: Review access" in inbox


def test_opening_a_notice_marks_it_read_and_follows_its_link(plan, tina):
    notice = notify(plan, tina, "a")
    response = login(tina).post(f"/plans/northwind/inbox/{notice}/read/", {"next": "link"})
    assert response.status_code == 302 and response["Location"] == "/plans/northwind/"
    assert Notification.objects.get(pk=notice).read_at is not None
    assert 'aria-label="1 unread"' not in login(tina).get("/plans/northwind/").content.decode()


def test_someone_elses_notice_cannot_be_marked_read(plan, tina, bob):
    notice = notify(plan, bob, "a")
    assert login(tina).post(f"/plans/northwind/inbox/{notice}/read/").status_code == 404


def test_my_settings_page_saves_and_shows_errors_without_storing(plan, tina):
    client = login(tina)
    bad = client.post(
        "/plans/northwind/notification-settings/",
        {
            "timezone": "Mars/Olympus",
            "email_enabled": "on",
            "digest_mode": "immediate",
            "digest_time": "07:30",
        },
    )
    assert bad.status_code == 200 and "is not an IANA time zone" in bad.content.decode()
    half = client.post(
        "/plans/northwind/notification-settings/",
        {
            "timezone": "Europe/Berlin",
            "digest_mode": "immediate",
            "digest_time": "07:30",
            "quiet_start": "22:00",
        },
    )
    assert "Give both the start and the end of quiet hours" in half.content.decode()
    assert not NotificationSettings.objects.exists()
    good = client.post(
        "/plans/northwind/notification-settings/",
        {"timezone": "Europe/Berlin", "digest_mode": "daily", "digest_time": "07:00"},
    )
    assert good.status_code == 302
    assert NotificationSettings.objects.get(user=tina).email_enabled is False  # the box was not ticked


def test_the_delivery_log_shows_failed_emails_with_their_error(plan, bob, tina):
    notice = notify(plan, tina, "a")
    Notification.objects.filter(pk=notice).update(
        email_status=DeliveryStatus.FAILED, email_attempts=8, email_last_error="SMTPServerDisconnected: gone"
    )
    page = login(bob).get("/plans/northwind/deliveries/?status=failed").content.decode()
    assert "SMTPServerDisconnected: gone" in page and "Failed" in page


@pytest.mark.parametrize("who", ["carol", "victor"])
def test_partners_and_viewers_do_not_see_the_delivery_log_or_webhooks(plan, request, who):
    client = login(request.getfixturevalue(who))
    assert client.get("/plans/northwind/deliveries/").status_code == 403
    assert client.get("/plans/northwind/webhooks/").status_code == 403


def test_another_plans_lead_gets_404(plan, dave):
    assert login(dave).get("/plans/northwind/deliveries/").status_code == 404


def test_a_lead_adds_an_endpoint_sees_the_secret_once_and_the_test_button_only_queues(
    plan, alice, public_dns, monkeypatch, django_capture_on_commit_callbacks
):
    client = login(alice)
    refused = client.post(
        "/plans/northwind/webhooks/", {"name": "Bad", "url": "https://10.0.0.1/x", "active": "on"}
    )
    assert "loopback, private or reserved" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()
    client.post(
        "/plans/northwind/webhooks/",
        {"name": "Helpdesk", "url": "https://hooks.example.com/x", "active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in client.get("/plans/northwind/webhooks/").content.decode()
    assert endpoint.secret not in client.get("/plans/northwind/webhooks/").content.decode()
    queued = []
    monkeypatch.setattr(webhooks, "queue_deliveries", lambda **ids: queued.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/plans/northwind/webhooks/{endpoint.pk}/test/", follow=True)
    delivery = WebhookDelivery.objects.get()
    assert f"Test delivery {delivery.webhook_id} queued" in response.content.decode()
    assert queued == [{"webhooks": [delivery.pk]}]


def test_a_team_member_reads_the_webhooks_page_but_cannot_add_or_test(plan, tina, public_dns):
    endpoint = webhook_endpoint_create(plan=plan, name="Helpdesk", url="https://hooks.example.com/x")
    client = login(tina)
    page = client.get("/plans/northwind/webhooks/").content.decode()
    assert "Helpdesk" in page and "Send a test delivery" not in page
    assert client.post(f"/plans/northwind/webhooks/{endpoint.pk}/test/").status_code == 403
    client.post("/plans/northwind/webhooks/", {"name": "Mine", "url": "https://hooks.example.com/y"})
    assert WebhookEndpoint.objects.count() == 1


def test_the_admin_retry_now_action_requeues_a_failed_email(
    plan, tina, admin_client, eager_celery, django_capture_on_commit_callbacks
):
    from django.core import mail

    notice = notify(plan, tina, "a")
    Notification.objects.filter(pk=notice).update(
        email_status=DeliveryStatus.FAILED, email_attempts=8, email_last_error="SMTPServerDisconnected"
    )
    listing = admin_client.get("/admin/operations/notification/?email_status__exact=failed")
    assert "Late: Rotate the certificate" in listing.content.decode()
    admin_client.post(
        "/admin/operations/notification/", {"action": "retry_now", "_selected_action": [notice]}
    )
    assert [message.subject for message in mail.outbox] == ["Late: Rotate the certificate"]
    assert Notification.objects.get(pk=notice).email_status == DeliveryStatus.SENT


def test_the_admin_never_shows_a_webhook_secret(plan, admin_client, public_dns):
    endpoint = webhook_endpoint_create(plan=plan, name="Helpdesk", url="https://hooks.example.com/x")
    page = admin_client.get(f"/admin/operations/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert "Helpdesk" in page and endpoint.secret not in page


def test_outside_a_plan_the_header_links_to_the_inbox_with_the_count(plan, tina):
    notify(plan, tina, "a")
    page = login(tina).get("/plans/").content.decode()
    assert 'href="/plans/northwind/inbox/"' in page and 'aria-label="1 unread"' in page
