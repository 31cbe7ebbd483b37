"""Thin Celery tasks of the helpdesk integration (ids in, one service call)."""

from __future__ import annotations

import importlib
import importlib.util

from celery import shared_task

from operations.helpdesk.sweep import sla_sweep

BATCH = 500
MAX_BATCHES = 40
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="operations.tasks_requests.sweep_sla_clocks", **TASK_OPTIONS)
def sweep_sla_clocks() -> dict:
    """Beat, every minute: clocks reaching a ladder step (warning, breach, after breach) into the
    outbox; a backlog after downtime is worked off in batches. Then expired idempotency keys go."""
    clocks, batches = 0, 0
    while batches < MAX_BATCHES:
        processed = sla_sweep(limit=BATCH)
        clocks, batches = clocks + processed, batches + 1
        if processed < BATCH:
            break
    return {"clocks": clocks, "idempotency_keys_purged": _purge_idempotency_keys()}


def _purge_idempotency_keys() -> int:
    # The ingestion API's key store (operations/helpdesk/idempotency.py) keeps keys >= 72 hours.
    if importlib.util.find_spec("operations.helpdesk.idempotency") is None:
        return 0
    idempotency = importlib.import_module("operations.helpdesk.idempotency")
    purge = getattr(idempotency, "idempotency_purge", None)
    if purge is None:
        return 0
    purged = purge()
    return purged if isinstance(purged, int) else 0
