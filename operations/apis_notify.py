"""REST endpoints of notifications (``/api/v1/``): the caller's own inbox (mark read, unread count),
their notification settings, a plan's webhook endpoints (leads write; the secret is shown once, on
create and on rotation; a test delivery is sent by the worker) and the webhook delivery log.

Inbox and settings belong to a signed-in user: API keys have none. Endpoints and deliveries are read
by the plan's leads and team members; partners, viewers and API keys do not see them."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from operations.models import Notification, NotificationSettings, WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify import selectors
from operations.notify import services as notify_services
from operations.notify import webhooks as webhook_services
from supportplan import access
from supportplan.api import ScopedAPIMixin, ScopedModelViewSet, ScopedReadOnlyViewSet
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField


# --- Serializers ----------------------------------------------------------------------------
class NotificationSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "plan",
            "event_type",
            "event_key",
            "subject",
            "body",
            "link",
            "context",
            "created_at",
            "read_at",
            "unread",
            "email_status",
        ]
        read_only_fields = fields

    def get_unread(self, notification) -> bool:
        return notification.read_at is None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notices were unread and are now read.")


class ReadAllRequestSerializer(serializers.Serializer):
    plan = VisiblePlanField(required=False, help_text="Only this plan's notices (default: all).")


class NotificationSettingsSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null until the settings are first saved (defaults)."
    )

    class Meta:
        model = NotificationSettings
        fields = [
            "timezone",
            "email_enabled",
            "digest_mode",
            "digest_time",
            "quiet_start",
            "quiet_end",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "timezone": {
                "help_text": "IANA zone: e-mails show times in it; quiet hours and the digest use it."
            },
            "digest_time": {"help_text": "Local time of the daily digest, e.g. 07:30."},
            "quiet_start": {"help_text": "Local start of quiet hours (give both ends or neither)."},
            "quiet_end": {"help_text": "Local end of quiet hours; may be before the start (overnight)."},
        }


class WebhookEndpointSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        max_length=len(EventType),
        help_text="Event types to receive; empty = all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "plan",
            "name",
            "url",
            "event_types",
            "active",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["disabled_reason", "created_at", "updated_at"]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown only now: verify signatures with it (Standard Webhooks)."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    endpoint_name = serializers.CharField(source="endpoint.name", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "plan",
            "endpoint",
            "endpoint_name",
            "event_type",
            "event_key",
            "webhook_id",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "deliver_after",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


# --- Filters --------------------------------------------------------------------------------
class NotificationFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    event_type = django_filters.ChoiceFilter(choices=EventType.choices)

    class Meta:
        model = Notification
        fields = ["plan", "unread", "event_type"]


class WebhookEndpointFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")

    class Meta:
        model = WebhookEndpoint
        fields = ["plan", "active"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    endpoint = django_filters.NumberFilter(field_name="endpoint_id")
    event_type = django_filters.ChoiceFilter(choices=EventType.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["plan", "status", "endpoint", "event_type"]


# --- Views ----------------------------------------------------------------------------------
def _require_user(request) -> None:
    if access.is_api_key(request.user):
        raise exceptions.PermissionDenied("API keys have no inbox or notification settings.")


class NotificationViewSet(ScopedReadOnlyViewSet):
    """The caller's own notices, newest first."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "read_at"]
    write_access = "assigned"

    def get_queryset(self):
        return selectors.inbox(user=self.request.user)

    def may_write(self, plan: SupportPlan) -> bool:
        return True  # the queryset holds only the caller's own notices; reading one is always theirs

    @extend_schema(request=None, responses={200: NotificationSerializer}, summary="Mark one notice read")
    @action(detail=True, methods=["post"])
    def read(self, request, *args, **kwargs):
        _require_user(request)
        notification = notify_services.notification_mark_read(
            notification=self.get_object(), user=request.user
        )
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=ReadAllRequestSerializer, responses={200: MarkedReadSerializer}, summary="Mark all read"
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request, *args, **kwargs):
        _require_user(request)
        body = ReadAllRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        marked = notify_services.notifications_mark_all_read(
            user=request.user, plan=body.validated_data.get("plan")
        )
        return Response({"marked": marked})

    @extend_schema(responses={200: UnreadCountSerializer}, summary="How many of my notices are unread")
    @action(
        detail=False, methods=["get"], url_path="unread-count", filterset_class=None, pagination_class=None
    )
    def unread_count(self, request, *args, **kwargs):
        return Response({"unread": selectors.unread_count(request.user)})


class NotificationSettingsViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """The caller's own delivery preferences (``me``): defaults until they change them."""

    queryset = NotificationSettings.objects.all()
    serializer_class = NotificationSettingsSerializer
    write_access = "assigned"
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        # An API key is not a person: it has no settings (and must not reach the user filter).
        if access.is_api_key(self.request.user):
            return NotificationSettings.objects.none()
        return NotificationSettings.objects.filter(user=self.request.user)

    def get_object(self):
        # "me" has no pk in its URL; DRF's OPTIONS metadata asks for the object of the PUT form.
        _require_user(self.request)
        return notify_services.notification_settings_for(user=self.request.user)

    @extend_schema(methods=["GET"], responses={200: NotificationSettingsSerializer}, summary="My settings")
    @extend_schema(
        methods=["PUT", "PATCH"],
        request=NotificationSettingsSerializer,
        responses={200: NotificationSettingsSerializer},
        summary="Change my settings",
    )
    @action(detail=False, methods=["get", "put", "patch"])
    def me(self, request, *args, **kwargs):
        _require_user(request)
        current = notify_services.notification_settings_for(user=request.user)
        if request.method == "GET":
            return Response(NotificationSettingsSerializer(current).data)
        body = NotificationSettingsSerializer(current, data=request.data, partial=request.method == "PATCH")
        body.is_valid(raise_exception=True)
        updated = notify_services.notification_settings_update(user=request.user, **body.validated_data)
        return Response(NotificationSettingsSerializer(updated).data)


class WebhookEndpointViewSet(ScopedModelViewSet):
    """A plan's webhook subscriptions. The secret appears only in the create and rotate answers."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilter
    ordering_fields = ["name", "created_at"]
    update_service = staticmethod(webhook_services.webhook_endpoint_update)
    delete_service = staticmethod(webhook_services.webhook_endpoint_delete)
    service_instance_name = "endpoint"

    def get_queryset(self):
        return selectors.plan_endpoints(user=self.request.user)

    def get_serializer_class(self):
        if self.action in {"create", "rotate_secret"}:
            return WebhookEndpointWithSecretSerializer
        return WebhookEndpointSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = webhook_services.webhook_endpoint_create(
            plan=plan, created_by=self.request.user, **data
        )

    @extend_schema(request=None, responses={200: WebhookEndpointWithSecretSerializer}, summary="New secret")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        endpoint = webhook_services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        summary="Send a test delivery (the worker sends it; watch the delivery log)",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, *args, **kwargs):
        delivery = webhook_services.webhook_send_test(endpoint=self.get_object(), actor=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryViewSet(ScopedReadOnlyViewSet):
    """The webhook delivery log: status, attempts, last status code and error of every delivery."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "status", "attempts"]

    def get_queryset(self):
        return selectors.plan_webhook_deliveries(user=self.request.user)


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("notification-settings", NotificationSettingsViewSet, basename="notificationsettings")
    router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhookendpoint")
    router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhookdelivery")
