"""Service-calendar pages, mounted under ``/plans/<plan_slug>/``.

Names avoid the API router's ``<basename>-list``/``-detail`` (basenames servicecalendar,
calendarholiday, extraopenperiod, calendarevent).
"""

from django.urls import path

from operations import views_calendars as views

urlpatterns = [
    path("calendars/", views.CalendarListView.as_view(), name="calendar-list-page"),
    path("calendars/new/", views.CalendarFormView.as_view(), name="calendar-create"),
    path("calendars/<int:calendar_id>/", views.CalendarDetailView.as_view(), name="calendar-detail"),
    path("calendars/<int:calendar_id>/edit/", views.CalendarFormView.as_view(), name="calendar-edit"),
    path("calendars/<int:calendar_id>/delete/", views.CalendarDeleteView.as_view(), name="calendar-delete"),
    path("calendars/<int:calendar_id>/holidays/", views.HolidayAddView.as_view(), name="holiday-add"),
    path(
        "calendars/<int:calendar_id>/holidays/import/",
        views.HolidayImportView.as_view(),
        name="holiday-import",
    ),
    path(
        "calendars/<int:calendar_id>/holidays/<int:holiday_id>/remove/",
        views.HolidayRemoveView.as_view(),
        name="holiday-remove",
    ),
    path(
        "calendars/<int:calendar_id>/extra-periods/",
        views.ExtraPeriodAddView.as_view(),
        name="extra-period-add",
    ),
    path(
        "calendars/<int:calendar_id>/extra-periods/<int:period_id>/remove/",
        views.ExtraPeriodRemoveView.as_view(),
        name="extra-period-remove",
    ),
    path("events/", views.CalendarEventsView.as_view(), name="calendar-events"),
    path("events/<int:event_id>/edit/", views.CalendarEventFormView.as_view(), name="calendar-event-edit"),
    path(
        "events/<int:event_id>/delete/", views.CalendarEventDeleteView.as_view(), name="calendar-event-delete"
    ),
    path("coverage/", views.CoverageView.as_view(), name="coverage"),
]
