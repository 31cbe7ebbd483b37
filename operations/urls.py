"""Plan-scoped pages of operations (mounted under /plans/<plan_slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("operations.urls_calendars")),
    path("", include("operations.urls_sla")),
    path("", include("operations.urls_breach")),
]
