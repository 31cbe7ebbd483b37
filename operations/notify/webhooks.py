"""Webhook endpoints and deliveries per the Standard Webhooks specification.

Endpoints: https only, and the host must not resolve to a loopback, private, link-local or reserved
address (checked when saved and again before each send, against DNS rebinding) unless
``settings.WEBHOOK_ALLOW_PRIVATE_TARGETS`` (development and tests). Each endpoint has a ``whsec_``
secret; each delivery is signed with ``standardwebhooks.Webhook(secret).sign`` and carries
``webhook-id`` (stable across retries), ``webhook-timestamp`` and ``webhook-signature``.

Deliveries are sent only by the worker (``webhook_deliver``), never from a web request: 2xx is sent,
410 disables the endpoint, anything else is retried over hours and marked failed after the last try."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from operations.models import WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify.outbox import DeliveryLedger, new_webhook_id, queue_deliveries, webhook_body
from supportplan.models import SupportPlan

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
#: Waits after the 1st, 2nd, … failed attempt: retries spread over about a day.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]


def allow_private_targets() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 8))


def retry_delay(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (a seam for tests without DNS)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def validate_endpoint_url(url: str) -> None:
    """Raises ``ValidationError({"url": …})`` unless ``url`` is an https URL of a public host."""
    parts = urlsplit(url or "")
    allowed_schemes = {"https", "http"} if allow_private_targets() else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise ValidationError({"url": "Give an https:// URL."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Leave credentials out of the URL; the signature authenticates us."})
    if allow_private_targets():
        return
    try:
        port = parts.port or 443
        addresses = resolve(parts.hostname, port)
    except (OSError, ValueError):
        raise ValidationError({"url": f"“{parts.hostname}” does not resolve."}) from None
    if not addresses:
        raise ValidationError({"url": f"“{parts.hostname}” does not resolve."})
    refused = [address for address in addresses if not _is_public(address)]
    if refused:
        raise ValidationError(
            {"url": f"“{parts.hostname}” points to a loopback, private or reserved address ({refused[0]})."}
        )


def _clean_event_types(event_types) -> list[str]:
    if event_types in (None, ""):
        return []
    if not isinstance(event_types, list | tuple) or not all(isinstance(e, str) for e in event_types):
        raise ValidationError({"event_types": "Give a list of event types."})
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event type: {', '.join(unknown)}."})
    return sorted(set(event_types))


# --- Endpoint services -------------------------------------------------------------------------
@transaction.atomic
def webhook_endpoint_create(
    *, plan: SupportPlan, name: str, url: str, event_types=None, active: bool = True, created_by=None
) -> WebhookEndpoint:
    """Creates an endpoint with a fresh secret (``endpoint.secret``: show it once)."""
    validate_endpoint_url(url)
    endpoint = WebhookEndpoint(
        plan=plan,
        name=name,
        url=url,
        event_types=_clean_event_types(event_types),
        active=active,
        secret=new_secret(),
        created_by=created_by,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    allowed = {"name", "url", "event_types", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    if "url" in fields and fields["url"] != endpoint.url:
        validate_endpoint_url(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = _clean_event_types(fields["event_types"])
    for name, value in fields.items():
        setattr(endpoint, name, value)
    if fields.get("active"):
        endpoint.disabled_reason = ""
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret at once; deliveries signed from now on use it (``endpoint.secret``: show it once)."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_send_test(
    *, endpoint: WebhookEndpoint, actor=None, now: datetime | None = None
) -> WebhookDelivery:
    """Writes a ``webhook.test`` delivery; the worker sends it after this transaction commits."""
    if not endpoint.active:
        raise ValidationError({"endpoint": "This endpoint is disabled; enable it before testing."})
    now = now or timezone.now()
    event_key = f"webhook.test:{uuid.uuid4().hex}"
    delivery = WebhookDelivery.objects.create(
        plan=endpoint.plan,
        endpoint=endpoint,
        event_key=event_key,
        event_type=EventType.WEBHOOK_TEST,
        webhook_id=new_webhook_id(),
        payload=webhook_body(
            event_type=EventType.WEBHOOK_TEST,
            payload={
                "plan": endpoint.plan.slug,
                "endpoint": endpoint.name,
                "requested_by": str(actor) if actor is not None else "",
            },
            now=now,
        ),
        status=DeliveryStatus.SENDING,
        deliver_after=now,
        claimed_at=now,
    )
    transaction.on_commit(lambda: queue_deliveries(webhooks=[delivery.pk]))
    return delivery


# --- Sending -----------------------------------------------------------------------------------
#: Response bodies are read (to keep the connection) up to this size; a longer one closes it.
MAX_RESPONSE_BYTES = 64 * 1024


def signed_request(*, delivery: WebhookDelivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt: signed anew (the timestamp is part of the signature),
    with the same ``webhook-id`` on every attempt."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    signature = Webhook(delivery.endpoint.secret).sign(delivery.webhook_id, now, body)
    headers = {
        "content-type": "application/json",
        "user-agent": "SupportPlan-Webhooks/1",
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


class Sender:
    """POSTs over kept-alive connections, one per (scheme, host, port), for the length of a batch:
    a new TCP (and TLS) connection per delivery was most of its cost. Redirects are never followed
    (``http.client`` does not); a 3xx is a failed attempt, as a redirect could lead to a private
    address."""

    def __init__(self):
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """Returns the status code (network errors raise OSError)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        reused = key in self._connections
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            return self._post(key, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._drop(key)
            if not reused:
                raise
            # The receiver closed the kept-alive connection while it was idle: one more try on a new
            # one (a receiver that did get the first drops the repeat by its webhook-id).
            return self._post(key, path, body, headers)
        except OSError:
            self._drop(key)
            raise
        except http.client.HTTPException as error:  # a malformed response: a failed attempt like any other
            self._drop(key)
            raise OSError(f"{type(error).__name__}: {error}") from error

    def _post(self, key, path: str, body: bytes, headers: dict[str, str]) -> int:
        connection = self._connections.get(key)
        if connection is None:
            scheme, host, port = key
            if scheme == "https":
                connection = http.client.HTTPSConnection(
                    host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
            self._connections[key] = connection
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        length = response.getheader("content-length")
        if response.will_close or length is None or int(length) > MAX_RESPONSE_BYTES:
            response.read(1024)
            self._drop(key)
        else:
            response.read()
        return response.status

    def _drop(self, key) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self._connections):
            self._drop(key)


def _load(delivery_ids: list[int]) -> dict[int, WebhookDelivery]:
    """The batch's deliveries still "sending", read at once (without locks: each is locked when sent)."""
    # By key alone: with the status in the query too, the planner may AND in the whole pending index.
    deliveries = (
        WebhookDelivery.objects.filter(pk__in=delivery_ids).select_related("endpoint", "plan").order_by()
    )
    return {delivery.pk: delivery for delivery in deliveries if delivery.status == DeliveryStatus.SENDING}


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """Sends one claimed delivery; returns its status afterwards ("skipped" if it was not "sending")."""
    return webhooks_deliver(delivery_ids=[delivery_id], now=now, raise_errors=True).popitem()[0]


def _send_one(
    delivery: WebhookDelivery, *, ledger: DeliveryLedger, sender: Sender, now: datetime | None
) -> str:
    """Locks, sends and records one delivery in its own transaction (``ledger``). Returns its status;
    "disabled" by a 410 also disables the endpoint, once the delivery's transaction is committed."""
    attempts = ledger.lock(delivery.pk)
    if attempts is None:
        return "skipped"
    now = now or timezone.now()
    endpoint = delivery.endpoint
    attempts += 1
    if not endpoint.active:
        ledger.record(delivery.pk, status=DeliveryStatus.DISABLED, attempts=attempts)
        return DeliveryStatus.DISABLED
    code, error = None, ""
    try:
        validate_endpoint_url(endpoint.url)
        code = sender.post(endpoint.url, *signed_request(delivery=delivery, now=now))
    except ValidationError as refused:
        error = "; ".join(refused.messages)
    except (OSError, ValueError) as failure:  # connection refused, timeout, TLS, bad URL
        error = f"{type(failure).__name__}: {failure}"
    if code is not None and 200 <= code < 300:
        ledger.record(
            delivery.pk,
            status=DeliveryStatus.SENT,
            attempts=attempts,
            last_status_code=code,
            delivered_at=now,
            last_error="",
        )
        return DeliveryStatus.SENT
    if code == 410:
        ledger.record(
            delivery.pk,
            status=DeliveryStatus.DISABLED,
            attempts=attempts,
            last_status_code=code,
            last_error="410 Gone: the receiver asked us to stop.",
        )
        return DeliveryStatus.DISABLED
    retry = attempts < max_attempts()
    ledger.record(
        delivery.pk,
        status=DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED,
        attempts=attempts,
        last_status_code=code,
        last_error=(error or f"HTTP {code}")[:2000],
        deliver_after=now + retry_delay(attempts) if retry else delivery.deliver_after,
        claimed_at=None,
    )
    return DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED


def _disable_endpoint(endpoint: WebhookEndpoint, *, reason: str) -> None:
    endpoint.active = False
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["active", "disabled_reason", "updated_at"])
    endpoint.deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).update(
        status=DeliveryStatus.DISABLED, last_error="Endpoint disabled: " + reason[:200]
    )


def webhooks_deliver(
    *, delivery_ids: list[int], now: datetime | None = None, raise_errors: bool = False
) -> dict[str, int]:
    """Sends a batch of claimed deliveries, each in its own transaction (a crash re-sends at most the
    one in flight, with the same ``webhook-id``), over kept-alive connections. Returns the count per
    resulting status."""
    outcome: dict[str, int] = {}
    deliveries = _load(delivery_ids)
    sender = Sender()
    gone: dict[int, WebhookEndpoint] = {}
    try:
        with DeliveryLedger(WebhookDelivery, status_field="status", attempts_field="attempts") as ledger:
            for delivery_id in delivery_ids:
                delivery = deliveries.get(delivery_id)
                if delivery is None:
                    outcome["skipped"] = outcome.get("skipped", 0) + 1
                    continue
                if delivery.endpoint_id in gone:  # answered 410 earlier in this batch: not called again
                    delivery.endpoint.active = False
                try:
                    status = _send_one(delivery, ledger=ledger, sender=sender, now=now)
                except Exception:  # a bad row never blocks the rest of the batch; the sweep reclaims it
                    ledger.abort()
                    if raise_errors:
                        raise
                    logger.exception("Webhook delivery %s failed unexpectedly.", delivery_id)
                    status = "error"
                if status == DeliveryStatus.DISABLED and delivery.endpoint.active:
                    gone[delivery.endpoint_id] = delivery.endpoint
                outcome[status] = outcome.get(status, 0) + 1
    finally:
        sender.close()
    at = now or timezone.now()
    for endpoint in gone.values():
        with transaction.atomic():
            _disable_endpoint(endpoint, reason=f"The receiver answered 410 Gone on {at:%Y-%m-%d %H:%M} UTC.")
    return outcome
