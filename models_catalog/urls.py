"""Plan-scoped pages of the support model (mounted under /plans/<plan_slug>/)."""

from django.urls import path

from models_catalog import views, views_raci, views_staffing

urlpatterns = [
    path("model/", views.SupportModelView.as_view(), name="support-model"),
    path("model/levels/<int:number>/", views.SupportLevelFormView.as_view(), name="support-level-edit"),
    path("parties/", views.PartyListView.as_view(), name="parties"),
    path("parties/new/", views.PartyFormView.as_view(), name="party-create"),
    path("parties/<int:party_id>/", views.PartyFormView.as_view(), name="party-edit"),
    path("parties/<int:party_id>/delete/", views.PartyDeleteView.as_view(), name="party-delete"),
    path("agreements/new/", views.AgreementFormView.as_view(), name="agreement-create"),
    path("agreements/<int:agreement_id>/", views.AgreementFormView.as_view(), name="agreement-edit"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/people/new/", views.PersonFormView.as_view(), name="person-create"),
    path("team/people/<int:person_id>/", views.PersonFormView.as_view(), name="person-edit"),
    path("team/roles/new/", views.RoleFormView.as_view(), name="role-create"),
    path("team/roles/<int:role_id>/", views.RoleFormView.as_view(), name="role-edit"),
    path("raci/", views_raci.RaciGridView.as_view(), name="raci"),
    path("raci/cell/", views_raci.RaciCellView.as_view(), name="raci-cell"),
    path("raci/export/", views_raci.RaciExportView.as_view(), name="raci-export"),
    path(
        "raci/responsibilities/new/",
        views_raci.ResponsibilityCreateView.as_view(),
        name="responsibility-create",
    ),
    path("staffing/", views_staffing.StaffingView.as_view(), name="staffing"),
    path(
        "staffing/profiles/new/",
        views_staffing.StaffingProfileFormView.as_view(),
        name="staffing-profile-create",
    ),
    path(
        "staffing/profiles/<int:profile_id>/",
        views_staffing.StaffingProfileFormView.as_view(),
        name="staffing-profile-edit",
    ),
]
