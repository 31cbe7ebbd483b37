"""Thin tasks: ids in, one service call."""

from celery import shared_task
from django.utils import timezone

from supportplan.services import heartbeat_record


@shared_task(acks_late=True)
def ping(payload: str) -> dict:
    """A round trip through the broker: returns the payload and when the worker saw it (UTC ISO)."""
    return {"payload": payload, "seen_at": timezone.now().isoformat()}


@shared_task
def record_heartbeat() -> str:
    """Beat sends this every minute; a worker running it proves beat, broker and worker all work."""
    return heartbeat_record(name="worker").isoformat()
