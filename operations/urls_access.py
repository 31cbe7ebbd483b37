"""Pages of partner access, the partner view, and gaps and risks (mounted under /plans/<plan_slug>/).

Names avoid the API router's ``<basename>-list``/``-detail`` (basenames accesspolicy, accessrequest,
riskentry, gapsandrisks)."""

from django.urls import path

from operations import views_access as views

urlpatterns = [
    path("access/", views.AccessOverviewView.as_view(), name="access-policies"),
    path("access/policies/new/", views.AccessPolicyFormView.as_view(), name="access-policy-create"),
    path("access/policies/<int:policy_id>/", views.AccessPolicyFormView.as_view(), name="access-policy-edit"),
    path(
        "access/policies/<int:policy_id>/delete/",
        views.AccessPolicyDeleteView.as_view(),
        name="access-policy-delete",
    ),
    path("access/requests/", views.AccessRequestListView.as_view(), name="access-requests-page"),
    path("access/requests/new/", views.AccessRequestCreateView.as_view(), name="access-request-create"),
    path(
        "access/requests/<int:request_id>/",
        views.AccessRequestDetailView.as_view(),
        name="access-request-page",
    ),
    path(
        "access/requests/<int:request_id>/<slug:verb>/",
        views.AccessRequestActionView.as_view(),
        name="access-request-action",
    ),
    path("partner/", views.PartnerView.as_view(), name="partner-view"),
    path("gaps-and-risks/", views.GapsAndRisksView.as_view(), name="gaps-and-risks"),
    path("risks/", views.RiskLogView.as_view(), name="risk-log"),
    path("risks/new/", views.RiskFormView.as_view(), name="risk-create"),
    path("risks/<int:risk_id>/", views.RiskFormView.as_view(), name="risk-edit"),
    path("risks/<int:risk_id>/delete/", views.RiskDeleteView.as_view(), name="risk-delete"),
]
