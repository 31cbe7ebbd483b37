from django.contrib import admin

from scope.models import Aspect, AspectGroup, CharterVersion, ScopeItem


@admin.register(AspectGroup)
class AspectGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "position"]
    search_fields = ["name", "key"]


@admin.register(Aspect)
class AspectAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "plan", "is_business_process", "catalogue_version", "retired_in_version"]
    list_filter = ["group", "is_business_process", "catalogue_version"]
    search_fields = ["name", "key", "guidance"]
    list_select_related = ["group", "plan"]


@admin.register(ScopeItem)
class ScopeItemAdmin(admin.ModelAdmin):
    list_display = ["aspect", "plan", "in_scope", "status", "owner", "last_reviewed"]
    list_filter = ["status", "in_scope", "plan", "aspect__group"]
    search_fields = ["aspect__name", "what", "plan__name"]
    filter_horizontal = ["roles", "people", "parties"]
    list_select_related = ["aspect", "plan", "owner"]


@admin.register(CharterVersion)
class CharterVersionAdmin(admin.ModelAdmin):
    """Issued charters are frozen: readable here, never changed."""

    list_display = ["plan", "number", "issued_by", "issued_at", "signed_off_by", "signed_off_at"]
    list_filter = ["plan"]
    readonly_fields = [field.name for field in CharterVersion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Readiness, transition and hypercare admin lives beside them; importing registers it.
from scope import admin_readiness  # noqa: E402, F401
