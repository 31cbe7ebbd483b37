"""Admin for plans. Writes go through the services, so the admin obeys the same rules as the UI."""

from auditlog.admin import LogEntryAdmin
from auditlog.filters import ResourceTypeFilter
from django.contrib import admin, messages

from supportplan import services
from supportplan.models import ApiKey, AuditEntry, Location, Membership, ServiceHeartbeat, SupportPlan


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(SupportPlan)
class SupportPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "phase", "go_live_date", "hypercare_start", "hypercare_end", "created_at"]
    list_filter = ["phase"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "go_live_date"
    inlines = [LocationInline, MembershipInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "country", "subdivision", "timezone", "user_count"]
    list_filter = ["country", "plan"]
    search_fields = ["name", "plan__name", "timezone"]
    list_select_related = ["plan"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "role", "created_at"]
    list_filter = ["role", "plan"]
    search_fields = ["user__username", "user__email", "plan__name"]
    list_select_related = ["plan", "user"]
    autocomplete_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "plan",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", "plan", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "plan__name"]
    list_select_related = ["plan", "created_by"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = ["plan", "name", "scope", *readonly_fields]
    actions = ["revoke_selected"]

    def has_add_permission(self, request) -> bool:
        # A key's secret is shown once, on the plan's API keys page; the admin can't show it.
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


# django-auditlog registers its own read-only admin for the entry model; ours keeps its change
# rendering, adds the plan and API key, and refuses deletes outright (no cascade exception).
if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(LogEntryAdmin):
    list_display = ["created", "plan", "resource_url", "action", "msg_short", "user_url", "api_key"]
    list_filter = ["action", ResourceTypeFilter, "plan"]
    list_select_related = ["plan", "content_type", "actor", "api_key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "seen_at"]


admin.site.site_header = "SupportPlan administration"
admin.site.site_title = "SupportPlan admin"
