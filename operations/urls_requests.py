"""Support-request pages, mounted under ``/plans/<plan_slug>/``.

Names avoid the API router's ``<basename>-list`` / ``<basename>-detail``."""

from django.urls import path

from operations import views_requests as views

urlpatterns = [
    path("requests/", views.RequestListView.as_view(), name="requests-page"),
    path("requests/compliance/", views.ComplianceReportView.as_view(), name="requests-compliance"),
    path("requests/status-mappings/", views.StatusMappingListView.as_view(), name="status-mappings"),
    path(
        "requests/status-mappings/<int:mapping_id>/edit/",
        views.StatusMappingEditView.as_view(),
        name="status-mapping-edit",
    ),
    path(
        "requests/status-mappings/<int:mapping_id>/delete/",
        views.StatusMappingDeleteView.as_view(),
        name="status-mapping-delete",
    ),
    path("requests/<int:request_id>/", views.RequestDetailView.as_view(), name="request-page"),
]
