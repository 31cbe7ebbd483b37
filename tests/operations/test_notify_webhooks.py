"""Webhooks per the Standard Webhooks specification: signed deliveries that verify, a webhook-id stable
across retries, 410 disables the endpoint, 5xx retries with backoff, private and loopback targets
refused, and the test button only writes a delivery: the worker sends it."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from operations.models import WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify import webhooks
from operations.notify.outbox import Recipient, claim_due_webhooks, publish
from operations.notify.webhooks import webhook_deliver, webhook_endpoint_create, webhook_send_test
from tests.conftest import api_as
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import utc

NOW = utc(2026, 3, 10, 12, 0)


@pytest.fixture
def hook(plan, receiver, alice):
    return webhook_endpoint_create(plan=plan, name="Helpdesk", url=receiver.url, created_by=alice)


def publish_late(plan, tina, key="occurrence:1:0:late:1"):
    return publish(
        plan=plan,
        event_key=key,
        event_type=EventType.TASK_LATE,
        recipients=[Recipient(user=tina)],
        subject="Late: backups",
        body="",
        webhook_payload={"occurrence_id": 1, "task": "Backups"},
        now=NOW,
    )


def test_a_delivery_is_signed_so_that_standardwebhooks_verifies_it(plan, tina, hook, receiver):
    delivery_id = publish_late(plan, tina).delivery_ids[0]
    assert webhook_deliver(delivery_id=delivery_id) == "sent"
    request = receiver.requests[0]
    headers = request["headers"]
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert headers["webhook-id"] == delivery.webhook_id
    assert headers["content-type"] == "application/json"
    payload = Webhook(hook.secret).verify(request["body"], headers)
    assert payload == {
        "type": "task.late",
        "timestamp": "2026-03-10T12:00:00+00:00",
        "data": {"occurrence_id": 1, "task": "Backups"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(request["body"], headers)
    assert delivery.status == DeliveryStatus.SENT and delivery.last_status_code == 204


def test_5xx_is_retried_with_backoff_and_the_webhook_id_stays_the_same(plan, tina, hook, receiver, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    receiver.statuses = [503, 500, 502]
    delivery_id = publish_late(plan, tina).delivery_ids[0]
    at = NOW
    for expected_wait in (timedelta(minutes=1), timedelta(minutes=5)):
        assert webhook_deliver(delivery_id=delivery_id, now=at) == "pending"
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.deliver_after - at == expected_wait
        assert claim_due_webhooks(now=delivery.deliver_after - timedelta(seconds=1)) == []
        at = delivery.deliver_after
        assert claim_due_webhooks(now=at) == [delivery_id]
    assert webhook_deliver(delivery_id=delivery_id, now=at) == "failed"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (3, 502, "HTTP 502")
    assert len({request["headers"]["webhook-id"] for request in receiver.requests}) == 1
    assert len({request["headers"]["webhook-signature"] for request in receiver.requests}) == 3


def test_a_connection_error_is_retried_too(plan, tina, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    webhook_endpoint_create(plan=plan, name="Down", url=f"http://127.0.0.1:{port}/hook")
    delivery_id = publish_late(plan, tina).delivery_ids[0]
    assert webhook_deliver(delivery_id=delivery_id, now=NOW) == "pending"
    assert "ConnectionRefusedError" in WebhookDelivery.objects.get().last_error or "URLError" in (
        WebhookDelivery.objects.get().last_error
    )


def test_410_disables_the_endpoint_and_its_pending_deliveries(plan, tina, hook, receiver):
    receiver.statuses = [410]
    first = publish_late(plan, tina, key="a").delivery_ids[0]
    second = publish_late(plan, tina, key="b").delivery_ids[0]
    assert webhook_deliver(delivery_id=first) == "disabled"
    hook.refresh_from_db()
    assert hook.active is False and "410 Gone" in hook.disabled_reason
    assert WebhookDelivery.objects.get(pk=second).status == DeliveryStatus.DISABLED
    assert webhook_deliver(delivery_id=second) == "skipped"
    assert len(receiver.requests) == 1
    assert publish_late(plan, tina, key="c").delivery_ids == []  # no new deliveries to a disabled endpoint


def test_delivering_twice_sends_once(plan, tina, hook, receiver):
    delivery_id = publish_late(plan, tina).delivery_ids[0]
    webhook_deliver(delivery_id=delivery_id)
    assert webhook_deliver(delivery_id=delivery_id) == "skipped"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://localhost/x", "127.0.0.1"),
        ("https://127.0.0.1/x", "loopback, private or reserved"),
        ("https://10.1.2.3/x", "10.1.2.3"),
        ("https://192.168.0.10/x", "192.168.0.10"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("https://[::1]/x", "::1"),
        ("https://crm.internal/x", "10.0.0.5"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
    ],
)
def test_private_loopback_and_plain_http_targets_are_refused_with_400(plan, alice, public_dns, url, message):
    response = api_as(alice).post(
        "/api/v1/webhook-endpoints/", {"plan": "northwind", "name": "Bad", "url": url}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["fields"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_target_is_accepted(plan, alice, public_dns):
    response = api_as(alice).post(
        "/api/v1/webhook-endpoints/",
        {"plan": "northwind", "name": "Helpdesk", "url": "https://hooks.example.com/x"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_target_that_turned_private_is_not_called_at_delivery_time(plan, tina, alice, public_dns):
    endpoint = webhook_endpoint_create(plan=plan, name="Rebinding", url="https://hooks.example.com/x")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://crm.internal/x")
    delivery_id = publish_late(plan, tina).delivery_ids[0]
    assert webhook_deliver(delivery_id=delivery_id, now=NOW) == "pending"
    assert "10.0.0.5" in WebhookDelivery.objects.get().last_error


def test_the_test_button_writes_a_delivery_and_makes_no_http_request_in_the_web_request(
    plan, alice, hook, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(webhooks, "queue_deliveries", lambda **ids: queued.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post(f"/api/v1/webhook-endpoints/{hook.pk}/test/")
    assert response.status_code == 202, response.content
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert response.json()["webhook_id"] == delivery.webhook_id
    assert (delivery.event_type, delivery.status) == (EventType.WEBHOOK_TEST, DeliveryStatus.SENDING)
    assert queued == [{"webhooks": [delivery.pk]}]
    assert webhook_deliver(delivery_id=delivery.pk) == "sent"  # what the worker then does
    assert Webhook(hook.secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])[
        "type"
    ] == ("webhook.test")


def test_the_test_button_of_a_disabled_endpoint_explains_itself(plan, alice, hook):
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)
    response = api_as(alice).post(f"/api/v1/webhook-endpoints/{hook.pk}/test/")
    assert response.status_code == 400
    assert "disabled" in response.json()["error"]["fields"]["endpoint"][0]


def test_send_test_refuses_nothing_stored_for_disabled(plan, hook):
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)
    hook.refresh_from_db()
    with pytest.raises(ValidationError, match="disabled"):
        webhook_send_test(endpoint=hook)
    assert not WebhookDelivery.objects.exists()


class ClosingReceiver:
    """An HTTP/1.1 receiver that answers each connection's first request without "Connection: close"
    and then hangs up, as a server closing an idle kept-alive connection does."""

    def __init__(self, status_line: str = "204 No Content", headers: str = ""):
        import threading

        self.connections = 0
        self.requests: list[bytes] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.reply = f"HTTP/1.1 {status_line}\r\nContent-Length: 0\r\n{headers}\r\n".encode()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with client:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += client.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                while len(body) < length:
                    body += client.recv(65536)
                self.requests.append(body)
                client.sendall(self.reply)

    def close(self) -> None:
        self.server.close()


def test_a_kept_alive_connection_the_receiver_closed_is_opened_again_for_the_next_delivery(
    plan, tina, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = ClosingReceiver()
    try:
        webhook_endpoint_create(plan=plan, name="Closes idle connections", url=receiver.url)
        ids = [publish_late(plan, tina, key=f"k:{number}").delivery_ids[0] for number in range(3)]
        assert webhooks.webhooks_deliver(delivery_ids=ids, now=NOW) == {DeliveryStatus.SENT: 3}
        assert len(receiver.requests) == 3 and receiver.connections == 3
    finally:
        receiver.close()


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(plan, tina, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = ClosingReceiver("307 Temporary Redirect", "Location: http://10.0.0.5/internal\r\n")
    try:
        webhook_endpoint_create(plan=plan, name="Redirects", url=receiver.url)
        delivery_id = publish_late(plan, tina).delivery_ids[0]
        assert webhook_deliver(delivery_id=delivery_id, now=NOW) == DeliveryStatus.PENDING
        delivery = WebhookDelivery.objects.get()
        assert (delivery.last_status_code, delivery.last_error) == (307, "HTTP 307")
        assert receiver.connections == 1  # nothing was sent to the Location
    finally:
        receiver.close()
