"""The Celery app. Beat's schedule lives here, in code, with descriptive keys."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")

app = Celery("supportplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Later issues add due-task reminders, SLA checks and occurrence materialisation here.
app.conf.beat_schedule = {
    "record-worker-heartbeat-every-minute": {
        "task": "supportplan.tasks.record_heartbeat",
        "schedule": 60.0,
    },
}
