"""Plan-scoped pages of the support scope (mounted under /plans/<plan_slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("scope.urls_matrix")),
    path("", include("scope.urls_charter")),
    path("", include("scope.urls_transfer")),
    path("", include("scope.urls_readiness")),
]
