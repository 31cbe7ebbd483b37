"""Notifications: the outbox (publish, claims), reminders, e-mail, digest, webhooks.

Other parts (SLA breach and escalation, access-grant expiry) call ``operations.notify.outbox.publish``
inside their own transaction; delivery happens in Celery tasks that carry only row ids."""
