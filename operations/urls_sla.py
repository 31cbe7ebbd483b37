"""Priority and SLA pages (mounted under /plans/<plan_slug>/)."""

from django.urls import path

from operations import views_sla as views

urlpatterns = [
    path("priorities/", views.PriorityMatrixView.as_view(), name="priority-matrix"),
    path("priorities/new/", views.PriorityCreateView.as_view(), name="priority-create"),
    path("priorities/examples/", views.PrioritySeedView.as_view(), name="priority-load-examples"),
    path("priorities/cell/", views.MatrixCellView.as_view(), name="priority-matrix-cell"),
    path("priorities/<int:priority_id>/", views.PriorityEditView.as_view(), name="priority-edit"),
    path("priorities/<int:priority_id>/delete/", views.PriorityDeleteView.as_view(), name="priority-delete"),
    path("sla/", views.SlaOverviewView.as_view(), name="sla-overview"),
    path("sla/policies/new/", views.SlaPolicyCreateView.as_view(), name="sla-policy-create"),
    path("sla/policies/<int:policy_id>/", views.SlaPolicyView.as_view(), name="sla-policy-edit"),
    path(
        "sla/policies/<int:policy_id>/delete/", views.SlaPolicyDeleteView.as_view(), name="sla-policy-delete"
    ),
    path(
        "sla/policies/<int:policy_id>/targets/new/",
        views.SlaTargetCreateView.as_view(),
        name="sla-target-create",
    ),
    path(
        "sla/policies/<int:policy_id>/steps/new/",
        views.EscalationStepCreateView.as_view(),
        name="escalation-step-create",
    ),
    path("sla/targets/<int:target_id>/", views.SlaTargetView.as_view(), name="sla-target-edit"),
    path(
        "sla/targets/<int:target_id>/delete/", views.SlaTargetDeleteView.as_view(), name="sla-target-delete"
    ),
    path(
        "sla/steps/<int:step_id>/delete/",
        views.EscalationStepDeleteView.as_view(),
        name="escalation-step-delete",
    ),
]
