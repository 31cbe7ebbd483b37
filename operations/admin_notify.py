"""Admin of notifications (imported by operations.admin): the outbox rows with their delivery state,
failed rows findable by filters, a "retry now" action; webhook secrets never shown."""

from django.contrib import admin, messages
from django.db import models
from django.utils import timezone

from operations.models import Notification, NotificationSettings, WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus
from operations.notify.outbox import queue_deliveries

RETRYABLE = [DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.SENDING]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "event_type",
        "plan",
        "recipient_user",
        "recipient_email",
        "email_status",
        "email_attempts",
        "deliver_after",
        "created_at",
        "read_at",
    ]
    list_filter = ["email_status", "event_type", "plan"]
    search_fields = ["subject", "event_key", "dedupe_key", "recipient_email", "recipient_user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["plan", "recipient_user"]
    raw_id_fields = ["recipient_user", "recipient_person", "sent_in_digest"]
    readonly_fields = [
        "dedupe_key",
        "event_key",
        "created_at",
        "claimed_at",
        "email_sent_at",
        "email_last_error",
    ]
    actions = ["retry_now"]

    @admin.action(description="Retry the e-mail now")
    def retry_now(self, request, queryset):
        now = timezone.now()
        ids = list(queryset.filter(email_status__in=RETRYABLE).values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids).update(
            email_status=DeliveryStatus.SENDING, claimed_at=now, deliver_after=now, email_attempts=0
        )
        queue_deliveries(emails=ids)
        self.message_user(request, f"{len(ids)} e-mail(s) queued again.", messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "url", "active", "disabled_reason", "created_at"]
    list_filter = ["active", "plan"]
    search_fields = ["name", "url", "plan__name"]
    list_select_related = ["plan"]
    exclude = ["secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["created_by", "created_at", "updated_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "webhook_id",
        "event_type",
        "endpoint",
        "plan",
        "status",
        "attempts",
        "last_status_code",
        "deliver_after",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "plan"]
    search_fields = ["webhook_id", "event_key", "endpoint__name", "last_error"]
    date_hierarchy = "created_at"
    list_select_related = ["plan", "endpoint"]
    readonly_fields = [
        "webhook_id",
        "event_key",
        "payload",
        "created_at",
        "claimed_at",
        "delivered_at",
        "last_error",
    ]
    actions = ["retry_now"]

    @admin.action(description="Retry the delivery now")
    def retry_now(self, request, queryset):
        now = timezone.now()
        ids = list(queryset.filter(status__in=RETRYABLE, endpoint__active=True).values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENDING, claimed_at=now, deliver_after=now, attempts=0
        )
        queue_deliveries(webhooks=ids)
        self.message_user(request, f"{len(ids)} deliver(ies) queued again.", messages.SUCCESS)


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "timezone",
        "email_enabled",
        "digest_mode",
        "digest_time",
        "quiet_start",
        "quiet_end",
    ]
    list_filter = ["digest_mode", "email_enabled"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
