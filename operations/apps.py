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
