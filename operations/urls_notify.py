"""Notification pages, mounted under ``/plans/<plan_slug>/``. Names avoid the API router's
``<basename>-list``/``-detail`` (basenames notification, notificationsettings, webhookendpoint,
webhookdelivery)."""

from django.urls import path

from operations import views_notify as views

urlpatterns = [
    path("inbox/", views.InboxView.as_view(), name="notification-inbox"),
    path("inbox/read-all/", views.InboxReadAllView.as_view(), name="inbox-read-all"),
    path("inbox/<int:notification_id>/read/", views.NoticeReadView.as_view(), name="inbox-notice-read"),
    path(
        "notification-settings/", views.NotificationSettingsView.as_view(), name="notification-settings-page"
    ),
    path("deliveries/", views.DeliveryLogView.as_view(), name="delivery-log"),
    path("webhooks/", views.WebhookEndpointsView.as_view(), name="webhook-endpoints-page"),
    path("webhooks/<int:endpoint_id>/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    path("webhooks/<int:endpoint_id>/rotate/", views.WebhookRotateView.as_view(), name="webhook-rotate"),
    path("webhooks/<int:endpoint_id>/toggle/", views.WebhookToggleView.as_view(), name="webhook-toggle"),
    path("webhooks/<int:endpoint_id>/delete/", views.WebhookDeleteView.as_view(), name="webhook-delete"),
]
