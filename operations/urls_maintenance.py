"""Maintenance-calendar pages, mounted under ``/plans/<plan_slug>/``.

Names start with ``maintenance-`` and avoid the API router's ``<basename>-list``/``-detail``.
"""

from django.urls import path

from operations import views_maintenance as views

urlpatterns = [
    path("maintenance/", views.MonthCalendarView.as_view(), name="maintenance-calendar"),
    path("maintenance/week/", views.WeekCalendarView.as_view(), name="maintenance-week"),
    path("maintenance/occurrences/", views.OccurrenceListView.as_view(), name="maintenance-occurrences"),
    path("maintenance/mine/", views.MyTasksView.as_view(), name="maintenance-mine"),
    path("maintenance/tasks/new/", views.TaskFormView.as_view(), name="maintenance-task-create"),
    path(
        "maintenance/tasks/preview/", views.PatternPreviewView.as_view(), name="maintenance-pattern-preview"
    ),
    path("maintenance/tasks/<int:task_id>/", views.TaskDetailView.as_view(), name="maintenance-task"),
    path("maintenance/tasks/<int:task_id>/edit/", views.TaskFormView.as_view(), name="maintenance-task-edit"),
    path(
        "maintenance/tasks/<int:task_id>/delete/",
        views.TaskDeleteView.as_view(),
        name="maintenance-task-delete",
    ),
    path(
        "maintenance/occurrences/<int:occurrence_id>/complete/",
        views.OccurrenceCompleteView.as_view(),
        name="maintenance-occurrence-complete",
    ),
    path(
        "maintenance/occurrences/<int:occurrence_id>/skip/",
        views.OccurrenceSkipView.as_view(),
        name="maintenance-occurrence-skip",
    ),
    path(
        "maintenance/occurrences/<int:occurrence_id>/move/",
        views.OccurrenceMoveView.as_view(),
        name="maintenance-occurrence-move",
    ),
    path("maintenance/windows/", views.WindowsView.as_view(), name="maintenance-windows"),
    path(
        "maintenance/windows/presets/", views.WindowPresetsView.as_view(), name="maintenance-window-presets"
    ),
    path(
        "maintenance/windows/<int:window_id>/edit/",
        views.WindowFormView.as_view(),
        name="maintenance-window-edit",
    ),
    path(
        "maintenance/windows/<int:window_id>/delete/",
        views.WindowDeleteView.as_view(),
        name="maintenance-window-delete",
    ),
    path("maintenance/conflicts/", views.ConflictsView.as_view(), name="maintenance-conflicts"),
    path(
        "maintenance/conflicts/<int:occurrence_id>/move/",
        views.ConflictMoveView.as_view(),
        name="maintenance-conflict-move",
    ),
    path("maintenance/feeds/", views.FeedsView.as_view(), name="maintenance-feeds"),
    path(
        "maintenance/feeds/<int:token_id>/revoke/",
        views.FeedRevokeView.as_view(),
        name="maintenance-feed-revoke",
    ),
]
