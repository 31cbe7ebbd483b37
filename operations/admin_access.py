"""Admin of partner access (imported by operations.admin). Requests are changed through the app (the
services notify and keep the life cycle consistent); the admin shows them read-only."""

from django.contrib import admin

from operations.models import AccessPolicy, AccessRequest


@admin.register(AccessPolicy)
class AccessPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "party",
        "environment",
        "data_class",
        "approver",
        "preapproved_for_p1",
        "max_duration_hours",
        "plan",
    ]
    list_filter = ["environment", "data_class", "preapproved_for_p1", "plan"]
    search_fields = ["party__name", "approver__name", "notes"]
    list_select_related = ["party", "approver", "plan"]
    autocomplete_fields = ["party", "approver"]


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "party",
        "environment",
        "requested_by",
        "status",
        "auto_approved",
        "expires_at",
        "created_at",
        "plan",
    ]
    list_filter = ["status", "environment", "auto_approved", "plan"]
    search_fields = ["party__name", "requested_by__username", "reason"]
    list_select_related = ["party", "requested_by", "plan"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AccessRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
