"""REST endpoints for plans, locations, memberships and API keys (``/api/v1/``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from supportplan import access, selectors, services
from supportplan.api import ScopedModelViewSet
from supportplan.filters import ApiKeyFilter, LocationFilter, MembershipFilter, PlanFilter
from supportplan.models import ApiKey, Location, Membership, SupportPlan
from supportplan.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    ApiKeyUpdateSerializer,
    LocationSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    PlanSerializer,
)


class PlanViewSet(ScopedModelViewSet):
    queryset = SupportPlan.objects.all()
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    lookup_field = "slug"
    ordering_fields = ["name", "go_live_date", "created_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.plans_for(user=self.request.user)

    def perform_create(self, serializer):
        if access.is_api_key(self.request.user):
            raise exceptions.PermissionDenied("API keys cannot create plans.")
        serializer.instance = services.plan_create(created_by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.plan_update(plan=serializer.instance, **serializer.validated_data)


class LocationViewSet(ScopedModelViewSet):
    queryset = Location.objects.select_related("plan")
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["name", "country", "user_count"]

    create_service = staticmethod(services.location_create)
    update_service = staticmethod(services.location_update)
    delete_service = staticmethod(services.location_delete)
    service_instance_name = "location"


class MembershipViewSet(ScopedModelViewSet):
    queryset = Membership.objects.select_related("plan", "user")
    filterset_class = MembershipFilter
    ordering_fields = ["role", "created_at"]

    serializer_class = MembershipSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.check_plan_writable(data["plan"])
        serializer.instance = services.membership_add(
            plan=data["plan"], user=data["user"], role=data["role"], organisation=data.get("organisation")
        )

    @extend_schema(request=MembershipRoleSerializer, responses={200: MembershipSerializer})
    def update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = MembershipRoleSerializer(
            membership,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        extra = {"organisation": data["organisation"]} if "organisation" in data else {}
        membership = services.membership_change_role(
            membership=membership, role=data.get("role", membership.role), **extra
        )
        return Response(MembershipSerializer(membership, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance)


class ApiKeyViewSet(ScopedModelViewSet):
    """Keys for helpdesk integrations. The secret is in the create response only."""

    queryset = ApiKey.objects.select_related("plan", "created_by")
    filterset_class = ApiKeyFilter
    ordering_fields = ["created_at", "last_used_at", "name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "partial_update":
            return ApiKeyUpdateSerializer
        return ApiKeySerializer

    @extend_schema(responses={201: ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.check_plan_writable(data["plan"])
        api_key, raw_key = services.api_key_create(
            plan=data["plan"], name=data["name"], scope=data.get("scope", "read"), created_by=request.user
        )
        api_key.key = raw_key
        body = ApiKeyCreatedSerializer(api_key, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        # A PATCH may leave the name out; the key then keeps its name.
        name = serializer.validated_data.get("name", serializer.instance.name)
        services.api_key_rename(api_key=serializer.instance, name=name)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        api_key = self.get_object()
        services.api_key_revoke(api_key=api_key)
        return Response(ApiKeySerializer(api_key, context=self.get_serializer_context()).data)
