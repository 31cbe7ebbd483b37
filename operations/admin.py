from django.contrib import admin

from operations.models import (
    CalendarEvent,
    CalendarHoliday,
    EscalationStep,
    ExtraOpenPeriod,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
)


class HolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0
    fields = ["date", "name", "source", "source_detail"]


class ExtraPeriodInline(admin.TabularInline):
    model = ExtraOpenPeriod
    extra = 0


@admin.register(ServiceCalendar)
class ServiceCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "timezone", "holiday_country", "holiday_subdivision", "updated_at"]
    list_filter = ["plan", "timezone", "holiday_country"]
    search_fields = ["name", "plan__name", "description"]
    filter_horizontal = ["locations", "parties"]
    list_select_related = ["plan"]
    inlines = [HolidayInline, ExtraPeriodInline]


@admin.register(CalendarHoliday)
class CalendarHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "calendar", "source", "source_detail"]
    list_filter = ["source", "calendar__plan"]
    search_fields = ["name", "calendar__name"]
    date_hierarchy = "date"
    list_select_related = ["calendar"]


@admin.register(ExtraOpenPeriod)
class ExtraOpenPeriodAdmin(admin.ModelAdmin):
    list_display = ["calendar", "starts_at", "ends_at", "reason"]
    list_filter = ["calendar__plan"]
    search_fields = ["reason", "calendar__name"]
    list_select_related = ["calendar"]


@admin.register(CalendarEvent)
class CalendarEventAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "plan", "starts_at", "ends_at", "calendar"]
    list_filter = ["kind", "plan"]
    search_fields = ["name", "required_service_level", "notes"]
    date_hierarchy = "starts_at"
    list_select_related = ["plan", "calendar"]


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "plan", "rank"]
    list_filter = ["plan"]
    search_fields = ["code", "name", "definition"]
    list_select_related = ["plan"]


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(admin.ModelAdmin):
    list_display = ["plan", "impact", "urgency", "priority"]
    list_filter = ["plan", "impact", "urgency"]
    list_select_related = ["plan", "priority"]


class TargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0
    fields = ["priority", "metric", "minutes", "calendar", "request_type", "support_level"]
    show_change_link = True


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "phase", "valid_from", "valid_to"]
    list_filter = ["phase", "plan"]
    search_fields = ["name", "description"]
    list_select_related = ["plan"]
    inlines = [TargetInline]


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ["policy", "priority", "metric", "minutes", "calendar", "request_type", "support_level"]
    list_filter = ["metric", "policy__plan", "policy"]
    search_fields = ["policy__name", "priority__code"]
    list_select_related = ["policy", "priority", "calendar", "support_level"]
    inlines = [StepInline]


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = [
        "target",
        "position",
        "trigger",
        "percent",
        "minutes_after_breach",
        "action",
        "max_repeats",
    ]
    list_filter = ["trigger", "action"]
    list_select_related = ["target", "target__policy", "target__priority"]


# The admin of later parts lives beside them; importing registers it.
from operations import admin_access, admin_maintenance, admin_notify, admin_requests  # noqa: E402, F401
