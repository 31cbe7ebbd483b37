"""REST endpoints of partner access and the merged gaps and risks (``/api/v1/``):

- ``access-policies``: party × environment policies. Leads write; staff, viewers and API keys read;
  a partner reads only their organisation's policies.
- ``access-requests``: partners ask for their organisation, staff for any party; lists are scoped
  (a partner sees only their organisation's). ``POST {id}/approve/`` and ``{id}/deny/`` (the
  policy's approver or a lead, never the requester), ``{id}/revoke/`` (approver or lead) and
  ``{id}/cancel/`` (the requester). API keys read only: access is asked and decided by people.
- ``risks``: the manual risk log (leads write; partners see none).
- ``gaps-and-risks?plan=<slug>``: the merged list of every gap source and the open risks (read-only;
  partners 403).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.models import Party, Person
from operations import access_services, risk_services
from operations.access_selectors import time_left
from operations.models import AccessPolicy, AccessRequest, AccessRequestStatus, DataClass, Environment
from operations.models.requests import SupportRequest
from operations.risks import SEVERITIES, SOURCES, gaps_and_risks
from scope.models import RiskEntry
from scope.readiness_models import RiskSeverity, RiskStatus
from supportplan import access
from supportplan.api import PlanAccessPermission, ScopedAPIMixin, ScopedModelViewSet
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField, username_field

#: As ``operations.apis_breach.GapSerializer`` spells it: one enum in the schema for all severities.
SEVERITY_CHOICES = [(severity, severity) for severity in SEVERITIES]


# --- Serializers ----------------------------------------------------------------------------
class AccessPolicySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    party = VisibleRelatedField(model=Party)
    approver = VisibleRelatedField(
        model=Person,
        allow_null=True,
        required=False,
        help_text="The person who approves requests (needs a SupportPlan login); leads may always approve.",
    )
    party_name = serializers.CharField(source="party.name", read_only=True)
    approver_name = serializers.SerializerMethodField(help_text="Blank without an approver.")

    class Meta:
        model = AccessPolicy
        fields = [
            "id",
            "plan",
            "party",
            "party_name",
            "environment",
            "data_class",
            "approver",
            "approver_name",
            "preapproved_for_p1",
            "max_duration_hours",
            "notes",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        validators = []  # one policy per party and environment is the service's check, with a clear message

    # A method, not ``source="approver.name"`` with a default: DRF leaves a default out of a partial
    # update's answer, so a PATCH answered without the field.
    def get_approver_name(self, policy: AccessPolicy) -> str:
        return policy.approver.name if policy.approver_id is not None else ""


class AccessRequestSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    party_name = serializers.CharField(source="party.name", read_only=True)
    requested_by = username_field("Username of who asked.", nullable=False)
    decided_by = username_field("Username of who decided; null until decided.")
    time_left_minutes = serializers.SerializerMethodField(
        help_text="Whole minutes until an active grant expires; null unless granted."
    )

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "plan",
            "policy",
            "party",
            "party_name",
            "environment",
            "requested_by",
            "reason",
            "support_request",
            "duration_hours",
            "status",
            "auto_approved",
            "decided_by",
            "decided_at",
            "decision_note",
            "granted_from",
            "expires_at",
            "ended_at",
            "time_left_minutes",
            "created_at",
        ]
        read_only_fields = fields

    def get_time_left_minutes(self, obj: AccessRequest) -> int | None:
        left = time_left(obj)
        return None if left is None else int(left.total_seconds() // 60)


@extend_schema_field(OpenApiTypes.INT)
class VisibleIdField(VisibleRelatedField):
    """An id among the rows the requester may see (typed for the schema)."""


class AccessRequestCreateSerializer(serializers.Serializer):
    plan = VisiblePlanField(help_text="The plan's slug.")
    party = VisibleIdField(
        model=Party, help_text="The organisation that needs access (a partner: their own)."
    )
    environment = serializers.ChoiceField(choices=Environment.choices)
    reason = serializers.CharField(max_length=4000)
    duration_hours = serializers.IntegerField(min_value=1, max_value=8760, help_text="Whole hours.")
    support_request = VisibleIdField(
        model=SupportRequest,
        allow_null=True,
        required=False,
        help_text="The support request the access is for; an open P1 under a pre-approved policy is "
        "granted at once.",
    )


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="Why (required when denying)."
    )


class RiskEntrySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    owner = VisibleRelatedField(model=Person, allow_null=True, required=False)
    # The same choice set as every gap's severity, so the schema has one SeverityEnum.
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES, required=False, help_text="Default medium.")
    owner_name = serializers.SerializerMethodField(help_text="Blank without an owner.")

    class Meta:
        model = RiskEntry
        fields = [
            "id",
            "plan",
            "title",
            "description",
            "severity",
            "status",
            "owner",
            "owner_name",
            "mitigation",
            "due_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_owner_name(self, risk: RiskEntry) -> str:  # a method: see get_approver_name
        return risk.owner.name if risk.owner_id is not None else ""


class GapsAndRisksQuerySerializer(serializers.Serializer):
    plan = VisiblePlanField(help_text="The plan's slug.")
    source = serializers.ChoiceField(choices=list(SOURCES), required=False)
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES, required=False)


class GapRowSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=list(SOURCES))
    code = serializers.CharField(help_text="The rule's key, or risk:<id> for a risk-log entry.")
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES)
    title = serializers.CharField()
    detail = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True, help_text="The owner's person id, if one is named.")
    owner_name = serializers.CharField()
    link = serializers.CharField(help_text="The page to fix it on, or empty.")


# --- Filters --------------------------------------------------------------------------------
class AccessPolicyFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    party = django_filters.NumberFilter(field_name="party_id")
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    data_class = django_filters.ChoiceFilter(choices=DataClass.choices)

    class Meta:
        model = AccessPolicy
        fields = ["plan", "party", "environment", "data_class"]


class AccessRequestFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    party = django_filters.NumberFilter(field_name="party_id")
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    status = django_filters.ChoiceFilter(choices=AccessRequestStatus.choices)
    requested_by = django_filters.CharFilter(field_name="requested_by__username")

    class Meta:
        model = AccessRequest
        fields = ["plan", "party", "environment", "status", "requested_by"]


class RiskEntryFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    status = django_filters.ChoiceFilter(choices=RiskStatus.choices)
    severity = django_filters.ChoiceFilter(choices=RiskSeverity.choices)
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = RiskEntry
        fields = ["plan", "status", "severity", "owner"]


# --- Views ----------------------------------------------------------------------------------
class AccessPolicyViewSet(ScopedModelViewSet):
    queryset = AccessPolicy.objects.select_related("plan", "party", "approver")
    serializer_class = AccessPolicySerializer
    filterset_class = AccessPolicyFilter
    ordering_fields = ["environment", "party__name", "updated_at"]

    create_service = staticmethod(access_services.access_policy_create)
    update_service = staticmethod(access_services.access_policy_update)
    delete_service = staticmethod(access_services.access_policy_delete)
    service_instance_name = "policy"


class AccessRequestPermission(PlanAccessPermission):
    """Reads as everywhere; writes by people only (API keys read). Who may ask, decide, revoke or
    cancel is the service's check (a partner only for their organisation, the approver or a lead
    decides, never the requester), so it answers with the precise reason."""

    def has_permission(self, request, view) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS") and access.is_api_key(request.user):
            self.message = "Access is asked for and decided by people; API keys only read."
            return False
        return super().has_permission(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        return True


class AccessRequestViewSet(ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = AccessRequest.objects.select_related(
        "plan", "party", "policy__approver", "requested_by", "decided_by"
    )
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilter
    ordering_fields = ["created_at", "expires_at", "status"]
    permission_classes = [AccessRequestPermission]

    def may_write(self, plan: SupportPlan) -> bool:
        return access.can_view(self.request.user, plan)

    @extend_schema(request=AccessRequestCreateSerializer, responses={201: AccessRequestSerializer})
    def create(self, request, *args, **kwargs):
        body = AccessRequestCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        created = access_services.access_request_create(plan=plan, actor=request.user, **data)
        return Response(AccessRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    def _decision(self, request, service, **arguments):
        access_request = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        result = service(access_request=access_request, actor=request.user, **arguments, note=note)
        return Response(AccessRequestSerializer(result).data)

    @extend_schema(
        request=DecisionSerializer, responses={200: AccessRequestSerializer}, summary="Approve (grant)"
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        return self._decision(request, access_services.access_request_decide, approve=True)

    @extend_schema(
        request=DecisionSerializer, responses={200: AccessRequestSerializer}, summary="Deny (note required)"
    )
    @action(detail=True, methods=["post"])
    def deny(self, request, *args, **kwargs):
        return self._decision(request, access_services.access_request_decide, approve=False)

    @extend_schema(
        request=DecisionSerializer, responses={200: AccessRequestSerializer}, summary="Revoke a grant"
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        return self._decision(request, access_services.access_request_revoke)

    @extend_schema(request=None, responses={200: AccessRequestSerializer}, summary="Cancel (the requester)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        result = access_services.access_request_cancel(access_request=self.get_object(), actor=request.user)
        return Response(AccessRequestSerializer(result).data)


class RiskEntryViewSet(ScopedModelViewSet):
    queryset = RiskEntry.objects.select_related("plan", "owner")
    serializer_class = RiskEntrySerializer
    filterset_class = RiskEntryFilter
    ordering_fields = ["severity", "status", "due_date", "created_at"]

    create_service = staticmethod(risk_services.risk_create)
    update_service = staticmethod(risk_services.risk_update)
    delete_service = staticmethod(risk_services.risk_delete)
    service_instance_name = "risk"


class GapsAndRisksViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """Every gap source and the open risks of a plan, most severe first (partners: 403)."""

    queryset = SupportPlan.objects.all()
    serializer_class = GapRowSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", OpenApiTypes.STR, required=True, description="The plan's slug."),
            OpenApiParameter("source", OpenApiTypes.STR, enum=list(SOURCES), description="Only this source."),
            OpenApiParameter(
                "severity", OpenApiTypes.STR, enum=list(SEVERITIES), description="Only this severity."
            ),
        ],
        responses={200: GapRowSerializer(many=True)},
    )
    def list(self, request, *args, **kwargs):
        query = GapsAndRisksQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = gaps_and_risks(
            plan=data["plan"],
            user=request.user,
            source=data.get("source", ""),
            severity=data.get("severity", ""),
        )
        page = self.paginate_queryset([row.as_dict() for row in rows])
        return self.get_paginated_response(GapRowSerializer(page, many=True).data)


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
    router.register("access-policies", AccessPolicyViewSet, basename="accesspolicy")
    router.register("access-requests", AccessRequestViewSet, basename="accessrequest")
    router.register("risks", RiskEntryViewSet, basename="riskentry")
    router.register("gaps-and-risks", GapsAndRisksViewSet, basename="gapsandrisks")
