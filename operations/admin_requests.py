"""Admin of the helpdesk integration (imported by operations.admin).

The event log is the truth, so events, idempotency records and clocks are read-only here: a request's
state and clocks are recomputed from its events by the services, never edited by hand."""

from django.contrib import admin

from operations.models import (
    IdempotencyRecord,
    RequestEvent,
    RequestReference,
    SlaClock,
    StatusMapping,
    SupportRequest,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    fields = [
        "occurred_at",
        "sequence",
        "kind",
        "status",
        "external_status",
        "clock_effect",
        "priority",
        "level",
        "party",
        "reference_system",
        "reference",
        "actor_name",
        "received_at",
    ]
    readonly_fields = fields
    ordering = ["occurred_at", "sequence"]
    show_change_link = True


class ReferenceInline(admin.TabularInline):
    model = RequestReference
    extra = 0
    fields = ["system", "reference", "party", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["party"]


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "plan",
        "priority",
        "status",
        "sla_state",
        "current_level",
        "current_party",
        "reported_at",
        "next_breach_at",
    ]
    list_filter = ["status", "sla_state", "request_type", "phase", "plan"]
    search_fields = ["title", "source_id", "references__reference"]
    date_hierarchy = "reported_at"
    list_select_related = ["plan", "priority", "current_level", "current_party"]
    raw_id_fields = ["scope_item", "location", "source_key", "policy"]
    # Derived from the event log by the services: shown, never typed in.
    readonly_fields = [
        "status",
        "priority",
        "current_level",
        "current_party",
        "first_response_at",
        "last_public_update_at",
        "resolved_at",
        "closed_at",
        "phase",
        "policy",
        "sla_state",
        "next_breach_at",
        "event_count",
        "created_at",
        "updated_at",
    ]
    inlines = [ReferenceInline, EventInline]

    def has_add_permission(self, request, obj=None):
        # Requests arrive through the helpdesk API (their "created" event and clocks come with them).
        return False


@admin.register(RequestEvent)
class RequestEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["request", "kind", "occurred_at", "sequence", "status", "party", "level", "received_at"]
    list_filter = ["kind", "plan"]
    search_fields = ["request__title", "source_event_id", "reference", "body"]
    date_hierarchy = "occurred_at"
    list_select_related = ["request", "party", "level"]


@admin.register(RequestReference)
class RequestReferenceAdmin(admin.ModelAdmin):
    list_display = ["reference", "system", "request", "party", "plan", "created_at"]
    list_filter = ["system", "plan"]
    search_fields = ["reference", "request__title"]
    list_select_related = ["request", "party", "plan"]
    raw_id_fields = ["request", "party"]


@admin.register(StatusMapping)
class StatusMappingAdmin(admin.ModelAdmin):
    list_display = ["external_status", "status", "clock_effect", "api_key", "plan"]
    list_filter = ["status", "clock_effect", "plan"]
    search_fields = ["external_status", "api_key__name"]
    list_select_related = ["api_key", "plan"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["principal", "key", "response_status", "created_at", "expires_at"]
    search_fields = ["principal", "key"]
    date_hierarchy = "created_at"


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "request",
        "metric",
        "cycle",
        "state",
        "level",
        "target_seconds",
        "elapsed_seconds",
        "breach_at",
        "breached_at",
        "next_step_at",
    ]
    list_filter = ["state", "metric", "plan"]
    search_fields = ["request__title"]
    list_select_related = ["request", "level"]
