"""The Celery app. Beat's schedule lives here, in code, with descriptive keys."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")

app = Celery("supportplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(**kwargs) -> None:
    """What Django does around each web request, around each task: a connection past CONN_MAX_AGE,
    broken, or left in a changed state is closed; a healthy one is kept (settings.CELERY_DB_REUSE_MAX)."""
    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside its caller's request or test: its connection is not ours
    from django.db import close_old_connections

    close_old_connections()


app.conf.beat_schedule = {
    "record-worker-heartbeat-every-minute": {
        "task": "supportplan.tasks.record_heartbeat",
        "schedule": 60.0,
    },
    "materialise-maintenance-horizon-every-6-hours": {
        "task": "operations.tasks_maintenance.materialise_horizon",
        "schedule": 6 * 3600.0,
    },
    "sweep-due-task-reminders-every-minute": {
        "task": "operations.tasks_notify.sweep_reminders",
        "schedule": 60.0,
    },
    "sweep-notification-outbox-every-minute": {
        "task": "operations.tasks_notify.sweep_outbox",
        "schedule": 60.0,
    },
    "sweep-sla-clocks-every-minute": {
        "task": "operations.tasks_requests.sweep_sla_clocks",
        "schedule": 60.0,
    },
    "expire-access-grants-every-minute": {
        "task": "operations.tasks_access.expire_grants",
        "schedule": 60.0,
    },
}
