"""The support charter's pages (mounted under /plans/<plan_slug>/)."""

from django.urls import path

from scope import views_charter

urlpatterns = [
    path("charter/", views_charter.CharterView.as_view(), name="charter"),
    path("charter/download.<str:fmt>", views_charter.CharterDownloadView.as_view(), name="charter-download"),
    path(
        "charter/versions/<int:number>/", views_charter.CharterVersionView.as_view(), name="charter-version"
    ),
    path(
        "charter/versions/<int:number>/download.<str:fmt>",
        views_charter.CharterVersionDownloadView.as_view(),
        name="charter-version-download",
    ),
    path("charter/compare/", views_charter.CharterCompareView.as_view(), name="charter-compare"),
]
