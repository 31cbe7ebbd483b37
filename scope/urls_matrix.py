"""The coverage matrix, its in-place cell edit, the item form and a plan's own aspects
(mounted under /plans/<plan_slug>/ by scope/urls.py)."""

from django.urls import path

from scope import views_matrix

urlpatterns = [
    path("scope/", views_matrix.ScopeMatrixView.as_view(), name="scope-matrix"),
    path("scope/items/<int:aspect_id>/", views_matrix.ScopeItemEditView.as_view(), name="scope-item-edit"),
    path("scope/cell/", views_matrix.ScopeCellView.as_view(), name="scope-cell"),
    path("scope/aspects/new/", views_matrix.AspectCreateView.as_view(), name="scope-aspect-create"),
]
