"""Celery tasks of operations. Celery's autodiscovery imports this module; the tasks live beside
the part of the product they serve, each thin (ids in, one service call)."""

from operations import tasks_access, tasks_maintenance, tasks_notify, tasks_requests  # noqa: F401
