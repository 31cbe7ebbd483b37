from django.contrib import admin

from models_catalog.models import (
    Agreement,
    AgreementCommitment,
    Party,
    Person,
    RaciAssignment,
    Responsibility,
    Role,
    StaffingProfile,
    SupportLevel,
    SupportModel,
)


@admin.register(SupportModel)
class SupportModelAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "centre_of_excellence", "updated_at"]
    list_filter = ["kind", "centre_of_excellence"]
    search_fields = ["plan__name", "rationale"]
    list_select_related = ["plan"]


@admin.register(SupportLevel)
class SupportLevelAdmin(admin.ModelAdmin):
    list_display = ["plan", "number", "name", "template_kind", "edited"]
    list_filter = ["number", "template_kind", "edited", "plan"]
    search_fields = ["name", "description", "plan__name"]
    filter_horizontal = ["parties", "roles"]
    list_select_related = ["plan"]


class AgreementInline(admin.TabularInline):
    model = Agreement
    extra = 0
    fields = ["name", "kind", "starts_on", "ends_on", "renewal_date", "budget_hours", "hours_used"]
    show_change_link = True


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "plan",
        "contact_name",
        "contact_email",
        "helpdesk_system",
        "anonymised_data_only",
    ]
    list_filter = ["kind", "anonymised_data_only", "plan"]
    search_fields = ["name", "contact_name", "contact_email", "plan__name"]
    list_select_related = ["plan"]
    inlines = [AgreementInline]


class CommitmentInline(admin.TabularInline):
    model = AgreementCommitment
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "party",
        "kind",
        "starts_on",
        "ends_on",
        "renewal_date",
        "hours_used",
        "budget_hours",
    ]
    list_filter = ["kind", "plan", "follows_microsoft_release_cadence"]
    search_fields = ["name", "party__name", "plan__name"]
    list_select_related = ["party", "plan"]
    date_hierarchy = "starts_on"
    inlines = [CommitmentInline]


@admin.register(AgreementCommitment)
class AgreementCommitmentAdmin(admin.ModelAdmin):
    list_display = ["agreement", "priority", "response_minutes", "resolution_minutes", "business_hours_only"]
    list_filter = ["priority", "agreement__plan"]
    search_fields = ["agreement__name", "agreement__party__name"]
    list_select_related = ["agreement"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "seed_key"]
    list_filter = ["plan"]
    search_fields = ["name", "description"]
    list_select_related = ["plan"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "party", "location", "allocation_percent", "super_user_formalised"]
    list_filter = ["plan", "super_user_formalised", "party"]
    search_fields = ["name", "email", "plan__name"]
    filter_horizontal = ["roles", "levels"]
    list_select_related = ["plan", "party", "location"]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "position", "seed_key"]
    list_filter = ["plan"]
    search_fields = ["name", "description"]
    list_select_related = ["plan"]


@admin.register(RaciAssignment)
class RaciAssignmentAdmin(admin.ModelAdmin):
    list_display = ["responsibility", "role", "party", "letter", "plan"]
    list_filter = ["letter", "plan"]
    search_fields = ["responsibility__name", "role__name", "party__name"]
    list_select_related = ["responsibility", "role", "party", "plan"]


@admin.register(StaffingProfile)
class StaffingProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "level", "location", "language", "source", "handle_time_seconds"]
    list_filter = ["plan", "source"]
    search_fields = ["name", "plan__name"]
    list_select_related = ["plan", "level", "location"]
