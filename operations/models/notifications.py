"""The notification outbox. PostgreSQL is the only source of truth: a notice is a row here before any
message is queued, Celery messages carry only ids, and every sweep finds unsent rows again through a
partial index, so a lost message, a dead beat or a wiped broker only delays a notice.

Two kinds of rows share one event key (e.g. ``occurrence:42:late:1`` or ``clock:7:step:3:0``):
``Notification`` is one notice for one recipient (in-app inbox + e-mail); ``WebhookDelivery`` is one
delivery of the event to one subscribed endpoint. Unique constraints make each exist at most once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned, validate_timezone


class EventType(models.TextChoices):
    TASK_DUE_SOON = "task.due_soon", "Task due soon"
    TASK_DUE = "task.due", "Task due"
    TASK_LATE = "task.late", "Task late"
    TASK_DIGEST = "task.digest", "Daily digest"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACHED = "sla.breached", "SLA breached"
    SLA_ESCALATED = "sla.escalated", "SLA escalation"
    ACCESS_REQUESTED = "access.requested", "Access requested"
    ACCESS_DECIDED = "access.decided", "Access approved or denied"
    ACCESS_EXPIRED = "access.expired", "Access expired"
    WEBHOOK_TEST = "webhook.test", "Test delivery"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for deliver_after (quiet hours, digest) or a retry
    SENDING = "sending", "Sending"  # claimed by a sweep, a delivery task is queued or running
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up after the last attempt; visible in the delivery log
    NOT_NEEDED = "not_needed", "Not needed"  # no address, channel off, or folded into a digest
    DISABLED = "disabled", "Endpoint disabled"


class NotificationQuerySet(PlanScopedQuerySet):
    def for_recipient(self, user) -> NotificationQuerySet:
        return self.filter(recipient_user=user)


class Notification(PlanOwned):
    """One notice for one recipient: the in-app inbox item and the e-mail's delivery state."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="notifications"
    )
    #: Unique: ``<event key>:<recipient key>``; inserting it again is a no-op.
    dedupe_key = models.CharField(max_length=200, unique=True)
    event_key = models.CharField(max_length=160, db_index=True)
    event_type = models.CharField(max_length=30, choices=EventType.choices)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient_person = models.ForeignKey(
        "models_catalog.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Path in the app, e.g. /plans/x/….")
    #: Ids and instants (UTC ISO) of what the notice is about; rendered in the recipient's zone.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    #: Not before this instant (quiet hours, the digest hour, the next retry).
    deliver_after = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_last_error = models.TextField(blank=True)
    #: Set when this notice went out inside a digest or a collapsed catch-up e-mail.
    sent_in_digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="digested"
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["deliver_after", "id"],
                name="notification_email_pending",
                condition=models.Q(email_status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["recipient_user", "-created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def message_id(self) -> str:
        """A stable e-mail Message-ID: a receiver can drop a duplicate sent after a crash."""
        return f"<notification-{self.pk}.{self.dedupe_key.replace(':', '.')}@supportplan>"


class DigestMode(models.TextChoices):
    IMMEDIATE = "immediate", "Each notice at once"
    DAILY = "daily", "One digest each morning (task reminders); SLA notices at once"


class NotificationSettings(models.Model):
    """A user's delivery preferences; users without a row get the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone], default="UTC")
    email_enabled = models.BooleanField(default=True)
    digest_mode = models.CharField(max_length=10, choices=DigestMode.choices, default=DigestMode.IMMEDIATE)
    digest_time = models.TimeField(default="07:30", help_text="Local time of the daily digest.")
    quiet_start = models.TimeField(null=True, blank=True, help_text="Local start of quiet hours.")
    quiet_end = models.TimeField(null=True, blank=True, help_text="Local end of quiet hours.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(quiet_start__isnull=True) & models.Q(quiet_end__isnull=True))
                | (models.Q(quiet_start__isnull=False) & models.Q(quiet_end__isnull=False)),
                name="notification_quiet_hours_both_or_none",
                violation_error_message="Give both the start and the end of quiet hours, or neither.",
            )
        ]

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"


class WebhookEndpoint(PlanOwned):
    """A plan's subscription: events are POSTed, signed per the Standard Webhooks specification."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500, help_text="https only; never a loopback or private address.")
    event_types = models.JSONField(default=list, blank=True, help_text="Event types; empty = all.")
    #: ``whsec_`` + base64 secret, as the Standard Webhooks libraries expect. Never shown after creation
    #: except to leads rotating it.
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(PlanOwned):
    """One event to one endpoint. ``webhook_id`` is stable across retries so receivers can dedupe."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_key = models.CharField(max_length=160)
    event_type = models.CharField(max_length=30, choices=EventType.choices)
    webhook_id = models.CharField(max_length=64, unique=True, editable=False)
    #: The thin JSON payload, frozen when the row is written so every retry sends the same bytes.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    deliver_after = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_key"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=["deliver_after", "id"],
                name="webhook_delivery_pending",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
