"""Admin of readiness, transition, hypercare and the risk log (imported by scope.admin).

Gate overrides and snapshots are records of what happened: read-only here."""

from django.contrib import admin

from scope.readiness_models import (
    GateOverride,
    HypercarePlan,
    ReadinessItem,
    ReadinessSnapshot,
    ReadinessTarget,
    RiskEntry,
    TransitionActivity,
)


@admin.register(ReadinessItem)
class ReadinessItemAdmin(admin.ModelAdmin):
    list_display = ["title", "group", "must_have", "status", "owner", "due_date", "plan"]
    list_filter = ["group", "status", "must_have", "plan"]
    search_fields = ["title", "key", "notes"]
    list_select_related = ["owner", "plan"]
    readonly_fields = ["key", "group", "position", "updated_at"]


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(admin.ModelAdmin):
    list_display = ["plan", "taken_on", "overall_percent", "open_must_haves", "warnings"]
    list_filter = ["plan"]
    date_hierarchy = "taken_on"
    readonly_fields = [field.name for field in ReadinessSnapshot._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GateOverride)
class GateOverrideAdmin(admin.ModelAdmin):
    list_display = ["action", "plan", "created_by", "created_at", "used_at"]
    list_filter = ["action", "plan"]
    search_fields = ["reason"]
    list_select_related = ["plan", "created_by"]
    readonly_fields = [field.name for field in GateOverride._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TransitionActivity)
class TransitionActivityAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "phase",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "plan",
    ]
    list_filter = ["kind", "phase", "plan"]
    search_fields = ["title", "notes"]
    list_select_related = ["plan"]
    filter_horizontal = ["people"]


@admin.register(ReadinessTarget)
class ReadinessTargetAdmin(admin.ModelAdmin):
    list_display = ["name", "target_date", "target_percent", "group", "plan"]
    list_filter = ["group", "plan"]
    search_fields = ["name"]


@admin.register(HypercarePlan)
class HypercarePlanAdmin(admin.ModelAdmin):
    list_display = ["plan", "starts_on", "planned_end", "started_at", "ended_at", "committed_partner_hours"]
    list_select_related = ["plan"]
    readonly_fields = ["started_at", "ended_at", "ended_by", "end_note", "updated_at"]


@admin.register(RiskEntry)
class RiskEntryAdmin(admin.ModelAdmin):
    list_display = ["title", "severity", "status", "owner", "due_date", "plan"]
    list_filter = ["severity", "status", "plan"]
    search_fields = ["title", "description", "mitigation"]
    list_select_related = ["owner", "plan"]
