"""Pages of readiness, transition and hypercare, mounted under ``/plans/<plan_slug>/``.

Names avoid the API router's ``<basename>-list``/``-detail`` (basenames readinessitem,
readinesssummary, gateoverride, transitionactivity, readinesstarget, hypercareplan).
"""

from django.urls import path

from scope import views_readiness as views

urlpatterns = [
    path("readiness/", views.ReadinessView.as_view(), name="readiness"),
    path("readiness/items/<int:item_id>/", views.ReadinessItemEditView.as_view(), name="readiness-item-edit"),
    path(
        "readiness/items/<int:item_id>/evidence/",
        views.ReadinessEvidenceView.as_view(),
        name="readiness-item-evidence",
    ),
    path("readiness/gate-override/", views.GateOverrideView.as_view(), name="readiness-gate-override"),
    path("readiness/transition/", views.TransitionView.as_view(), name="readiness-transition"),
    path(
        "readiness/transition/activities/new/",
        views.TransitionActivityCreateView.as_view(),
        name="transition-activity-create",
    ),
    path(
        "readiness/transition/activities/<int:activity_id>/",
        views.TransitionActivityEditView.as_view(),
        name="transition-activity-edit",
    ),
    path(
        "readiness/transition/activities/<int:activity_id>/delete/",
        views.TransitionActivityDeleteView.as_view(),
        name="transition-activity-delete",
    ),
    path("readiness/targets/new/", views.ReadinessTargetCreateView.as_view(), name="readiness-target-create"),
    path(
        "readiness/targets/<int:target_id>/delete/",
        views.ReadinessTargetDeleteView.as_view(),
        name="readiness-target-delete",
    ),
    path("readiness/hypercare/", views.HypercareView.as_view(), name="readiness-hypercare"),
    path("readiness/hypercare/start/", views.HypercareStartView.as_view(), name="readiness-hypercare-start"),
    path("readiness/hypercare/end/", views.HypercareEndView.as_view(), name="readiness-hypercare-end"),
]
