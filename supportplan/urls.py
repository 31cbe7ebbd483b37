from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from models_catalog import apis as catalog_apis
from models_catalog.apis_raci import RaciAssignmentViewSet, ResponsibilityViewSet
from models_catalog.apis_staffing import StaffingCalculateView, StaffingProfileViewSet
from operations import apis_access as access_apis
from operations import apis_breach as breach_apis
from operations import apis_calendars as calendar_apis
from operations import apis_feeds as feed_apis
from operations import apis_maintenance as maintenance_apis
from operations import apis_notify as notify_apis
from operations import apis_requests as request_apis
from operations import apis_sla as sla_apis
from scope import apis as scope_apis
from scope import apis_charter as charter_apis
from scope import apis_readiness as readiness_apis
from supportplan import apis, views
from supportplan.urlindex import indexed_include

router = DefaultRouter()
router.register("plans", apis.PlanViewSet, basename="plan-api")
router.register("locations", apis.LocationViewSet, basename="location")
router.register("memberships", apis.MembershipViewSet, basename="membership")
router.register("api-keys", apis.ApiKeyViewSet, basename="apikey")
router.register("parties", catalog_apis.PartyViewSet, basename="party")
router.register("agreements", catalog_apis.AgreementViewSet, basename="agreement")
router.register("roles", catalog_apis.RoleViewSet, basename="role")
router.register("people", catalog_apis.PersonViewSet, basename="person")
router.register("support-levels", catalog_apis.SupportLevelViewSet, basename="supportlevel")
router.register("support-models", catalog_apis.SupportModelViewSet, basename="supportmodel")
router.register("responsibilities", ResponsibilityViewSet, basename="responsibility")
router.register("raci-assignments", RaciAssignmentViewSet, basename="raciassignment")
router.register("staffing-profiles", StaffingProfileViewSet, basename="staffingprofile")

for part in (
    calendar_apis,
    sla_apis,
    breach_apis,
    scope_apis,
    charter_apis,
    maintenance_apis,
    notify_apis,
    feed_apis,
    request_apis,
    access_apis,
    readiness_apis,
):
    part.register(router)

plan_patterns = [
    path("", views.PlanDetailView.as_view(), name="plan-detail"),
    path("edit/", views.PlanUpdateView.as_view(), name="plan-edit"),
    path("locations/new/", views.LocationFormView.as_view(), name="location-create"),
    path("locations/<int:location_id>/", views.LocationFormView.as_view(), name="location-edit"),
    path("locations/<int:location_id>/delete/", views.LocationDeleteView.as_view(), name="location-delete"),
    path("members/", views.MemberListView.as_view(), name="plan-members"),
    path("members/<int:member_id>/role/", views.MemberRoleView.as_view(), name="member-role"),
    path("members/<int:member_id>/remove/", views.MemberRemoveView.as_view(), name="member-remove"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="plan-api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("history/", views.PlanHistoryView.as_view(), name="plan-history"),
    path("", include("models_catalog.urls")),
    path("", include("operations.urls")),
    path("", include("scope.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.HealthView.as_view(), name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("plans/", views.PlanListView.as_view(), name="plan-list"),
    path("plans/new/", views.PlanCreateView.as_view(), name="plan-create"),
    path("plans/<slug:plan_slug>/", include(plan_patterns)),
    path("api/v1/staffing/calculate/", StaffingCalculateView.as_view(), name="staffing-calculate"),
    # The router's patterns narrowed by first segment per request (same patterns, order and names).
    indexed_include("api/v1/", router.urls),
    # Calendar subscriptions authenticate with the secret token in the URL (Outlook, Google).
    path("feeds/", include("operations.urls_feeds")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler403 = "supportplan.views.error_403"
handler404 = "supportplan.views.error_404"
handler500 = "supportplan.views.error_500"
