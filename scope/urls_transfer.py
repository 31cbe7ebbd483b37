"""The scope spreadsheet's pages (mounted under /plans/<plan_slug>/)."""

from django.urls import path

from scope import views_transfer

urlpatterns = [
    path("scope/export/", views_transfer.ScopeExportView.as_view(), name="scope-export"),
    path("scope/import/", views_transfer.ScopeImportView.as_view(), name="scope-import"),
]
