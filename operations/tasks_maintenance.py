"""Thin Celery tasks of the maintenance calendar (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from operations.maintenance_services import materialise_all


@shared_task(name="operations.tasks_maintenance.materialise_horizon", acks_late=True)
def materialise_horizon() -> int:
    """Beat: keeps every task's occurrences materialised ~400 days ahead (idempotent; a task that
    fails is logged and skipped). Returns the number of occurrences created."""
    return materialise_all()
