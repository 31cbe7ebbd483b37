"""Plan-scoped pages of operations (mounted under /plans/<plan_slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("operations.urls_calendars")),
    path("", include("operations.urls_sla")),
    path("", include("operations.urls_breach")),
    path("", include("operations.urls_maintenance")),
    path("", include("operations.urls_notify")),
    path("", include("operations.urls_requests")),
    path("", include("operations.urls_access")),
]
