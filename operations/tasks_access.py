"""Thin Celery tasks of partner access (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from operations.access_services import EXPIRE_BATCH, access_grants_expire

MAX_BATCHES = 20


@shared_task(name="operations.tasks_access.expire_grants", acks_late=True, reject_on_worker_lost=True)
def expire_grants() -> int:
    """Beat, every minute: grants past their expiry become expired; requester and approver are told.
    A backlog (after downtime) is worked off in batches in one run."""
    total = 0
    for _ in range(MAX_BATCHES):
        expired = access_grants_expire(limit=EXPIRE_BATCH)
        total += expired
        if expired < EXPIRE_BATCH:
            break
    return total
