"""Admin of the maintenance calendar (imported by operations.admin): tasks with a read-only view of
their next occurrences, occurrences, and feed tokens (the secret is never shown, only its prefix).

Writes that change schedules belong to the services and the app's pages; the admin is for support
staff looking into a plan, so occurrences and tokens are read-only here."""

from __future__ import annotations

from django.contrib import admin

from operations.models import FeedToken, MaintenanceTask, OccurrenceStatus, TaskOccurrence

OCCURRENCE_FIELDS = [
    "original_due_at",
    "due_at",
    "status",
    "moved",
    "closed_at",
    "closed_by",
    "notes",
    "evidence_url",
    "next_remind_at",
    "next_remind_kind",
]


class OccurrenceInline(admin.TabularInline):
    """The task's open occurrences (the first few dozen), read-only."""

    model = TaskOccurrence
    fields = OCCURRENCE_FIELDS
    readonly_fields = OCCURRENCE_FIELDS
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).filter(status=OccurrenceStatus.OPEN).select_related("closed_by")
        )
        ids = list(queryset.order_by("due_at").values_list("pk", flat=True)[:40])
        return queryset.filter(pk__in=ids)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MaintenanceTask)
class MaintenanceTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "plan", "category", "rrule", "timezone", "owner", "backup", "active"]
    list_filter = ["plan", "category", "active", "non_working_day_shift", "evidence_required"]
    search_fields = ["title", "description", "plan__name", "owner__name"]
    list_select_related = ["plan", "owner", "backup"]
    raw_id_fields = [
        "owner",
        "backup",
        "responsible_role",
        "responsible_party",
        "scope_item",
        "working_calendar",
    ]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [OccurrenceInline]


@admin.register(TaskOccurrence)
class TaskOccurrenceAdmin(admin.ModelAdmin):
    list_display = ["task", "plan", "due_at", "status", "moved", "closed_at", "closed_by", "next_remind_at"]
    list_filter = ["status", "moved", "plan", "task__category"]
    search_fields = ["task__title", "notes", "move_reason"]
    date_hierarchy = "due_at"
    list_select_related = ["task", "plan", "closed_by"]
    readonly_fields = [
        "plan",
        "task",
        "original_due_at",
        "due_at",
        "moved",
        "move_reason",
        "status",
        "closed_at",
        "closed_by",
        "notes",
        "evidence_url",
        "next_remind_at",
        "next_remind_kind",
        "late_reminders_sent",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "plan",
        "scope",
        "person",
        "created_by",
        "created_at",
        "revoked_at",
        "last_fetched_at",
    ]
    list_filter = ["scope", "plan"]
    search_fields = ["prefix", "person__name", "plan__name"]
    list_select_related = ["plan", "person", "created_by"]
    readonly_fields = [
        "plan",
        "scope",
        "person",
        "prefix",
        "token_hash",
        "created_by",
        "created_at",
        "revoked_at",
        "last_fetched_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
