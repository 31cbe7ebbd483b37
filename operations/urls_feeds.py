"""iCalendar subscriptions, mounted at ``/feeds/``: the secret token in the URL is the credential
(Outlook and Google cannot sign in), so these views are not behind a login."""

from django.urls import path

from operations import views_maintenance as views

urlpatterns = [
    path("<str:token>.ics", views.MaintenanceFeedView.as_view(), name="maintenance-feed"),
]
