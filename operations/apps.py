from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations import models
        from supportplan.audit import register

        register(models.ServiceCalendar, m2m_fields=("locations", "parties"))
        register(models.CalendarHoliday)
        register(models.ExtraOpenPeriod)
        register(models.CalendarEvent)
        register(models.Priority)
        register(models.PriorityMatrixCell)
        register(models.SlaPolicy)
        register(models.SlaTarget)
        register(models.EscalationStep)
        # Maintenance tasks and notification configuration. Occurrences are operational records (their
        # row keeps who closed them and when); auditing each materialised row would drown the log.
        register(models.MaintenanceTask, exclude_fields=("updated_at",))
        register(models.FeedToken, exclude_fields=("token_hash", "last_fetched_at"))
        register(models.WebhookEndpoint, exclude_fields=("secret", "updated_at"))
        register(models.NotificationSettings, exclude_fields=("updated_at",))
        # Helpdesk integration configuration; requests and their events are their own log.
        register(models.StatusMapping)
        # Partner access: the policies and every step of a request's life.
        register(models.AccessPolicy, exclude_fields=("updated_at",))
        register(models.AccessRequest, exclude_fields=("updated_at",))
