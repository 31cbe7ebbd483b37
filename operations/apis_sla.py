"""REST endpoints for priorities, the priority matrix, SLA policies, targets and escalation steps.

Leads write; everyone who sees the plan reads (partners too: SLAs are what they are measured
against); API keys read only (this is configuration). Targets and steps have no plan of their own:
they are scoped through their policy.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.filters import PlanSlugFilter
from models_catalog.models import Agreement, Party, Person, Role, SupportLevel
from operations import selectors
from operations import sla_services as services
from operations.models import (
    EscalationAction,
    EscalationStep,
    EscalationTrigger,
    Impact,
    Priority,
    PriorityMatrixCell,
    RequestType,
    ServiceCalendar,
    SlaMetric,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from operations.statuses import RequestStatus
from supportplan.api import ScopedModelViewSet
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField


def _choices(choices, help_text: str = "", **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices, help_text=help_text, **kwargs)


@extend_schema_field({"type": "string", "pattern": f"^({'|'.join(SlaPhase.values)})$"})
class SlaPhaseField(serializers.ChoiceField):
    """An SLA phase: hypercare or steady_state. Documented as a pattern, not an enum: the plan's own
    ``phase`` has other choices, and the schema would give both enums one component name (an
    ``ENUM_NAME_OVERRIDES`` entry in settings would allow a proper enum)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "hypercare or steady_state.")
        super().__init__(choices=SlaPhase.choices, **kwargs)


# --- Priorities and the matrix --------------------------------------------------------------
class PrioritySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    rank = serializers.IntegerField(
        min_value=1, max_value=99, required=False, help_text="1 is the most urgent."
    )

    class Meta:
        model = Priority
        fields = ["id", "plan", "code", "name", "definition", "rank"]
        validators = []  # the code's uniqueness is the service's check, case-insensitive


class PriorityFilter(PlanSlugFilter):
    code = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Priority
        fields = ["plan", "code"]


class PriorityViewSet(ScopedModelViewSet):
    """A plan's priorities (P1–P4 by default, labelled as examples). DELETE is refused while an
    SLA target or a matrix cell uses the priority."""

    queryset = Priority.objects.select_related("plan")
    serializer_class = PrioritySerializer
    filterset_class = PriorityFilter
    ordering_fields = ["rank", "code"]

    create_service = staticmethod(services.priority_create)
    update_service = staticmethod(services.priority_update)
    delete_service = staticmethod(services.priority_delete)
    service_instance_name = "priority"


class PriorityMatrixCellSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    impact = _choices(Impact.choices)
    urgency = _choices(Urgency.choices)
    priority = VisibleRelatedField(model=Priority, help_text="A priority of the same plan.")

    class Meta:
        model = PriorityMatrixCell
        fields = ["id", "plan", "impact", "urgency", "priority"]
        validators = []  # setting an existing cell replaces its priority


class PriorityMatrixCellPrioritySerializer(serializers.ModelSerializer):
    """A cell's priority is all that changes in place."""

    priority = VisibleRelatedField(model=Priority, help_text="A priority of the same plan.")

    class Meta:
        model = PriorityMatrixCell
        fields = ["priority"]


class PriorityMatrixCellFilter(PlanSlugFilter):
    impact = django_filters.ChoiceFilter(choices=Impact.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    priority = django_filters.NumberFilter(field_name="priority_id")

    class Meta:
        model = PriorityMatrixCell
        fields = ["plan", "impact", "urgency", "priority"]


class PriorityMatrixCellViewSet(ScopedModelViewSet):
    """Impact × urgency → priority. POST sets a cell (200 when it replaced an existing cell's
    priority, 201 when new); cells are not deleted: a matrix has no holes."""

    queryset = PriorityMatrixCell.objects.select_related("plan", "priority")
    serializer_class = PriorityMatrixCellSerializer
    filterset_class = PriorityMatrixCellFilter
    ordering_fields = ["impact", "urgency"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return PriorityMatrixCellPrioritySerializer
        return PriorityMatrixCellSerializer

    @extend_schema(responses={201: PriorityMatrixCellSerializer, 200: PriorityMatrixCellSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.check_plan_writable(data["plan"])
        existed = PriorityMatrixCell.objects.filter(
            plan=data["plan"], impact=data["impact"], urgency=data["urgency"]
        ).exists()
        cell = services.matrix_set_cell(**data)
        body = PriorityMatrixCellSerializer(cell, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=PriorityMatrixCellPrioritySerializer, responses={200: PriorityMatrixCellSerializer}
    )
    def update(self, request, *args, **kwargs):
        cell = self.get_object()
        serializer = PriorityMatrixCellPrioritySerializer(
            cell,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        cell = services.matrix_set_cell(
            plan=cell.plan,
            impact=cell.impact,
            urgency=cell.urgency,
            priority=serializer.validated_data.get("priority", cell.priority),
        )
        return Response(PriorityMatrixCellSerializer(cell, context=self.get_serializer_context()).data)

    @extend_schema(
        request=PriorityMatrixCellPrioritySerializer, responses={200: PriorityMatrixCellSerializer}
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


# --- Escalation steps (nested in targets, and on their own) ---------------------------------
class LadderSerializer(serializers.ListSerializer):
    """A target's ladder: item errors become "Step 2 — percent: …" messages, the shape the
    service uses for ladder-wide problems, instead of a list of per-item dicts."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            # Item errors come as a list (one entry per item) or a dict keyed by item index.
            if isinstance(detail, list):
                detail = dict(enumerate(detail))
            if not all(isinstance(index, int) for index in detail):
                raise
            messages = [
                f"Step {index + 1} — {field}: {message}"
                for index, item in sorted(detail.items())
                if isinstance(item, dict)
                for field, item_messages in item.items()
                for message in (item_messages if isinstance(item_messages, list) else [item_messages])
            ]
            raise serializers.ValidationError(messages) from None


class EscalationStepFields(serializers.ModelSerializer):
    trigger = _choices(EscalationTrigger.choices)
    action = _choices(EscalationAction.choices)
    role = VisibleRelatedField(
        model=Role, allow_null=True, required=False, help_text="For notify_role: a role of the plan."
    )
    person = VisibleRelatedField(
        model=Person, allow_null=True, required=False, help_text="For notify_person: a person of the plan."
    )
    party = VisibleRelatedField(
        model=Party, allow_null=True, required=False, help_text="For notify_party: a party of the plan."
    )
    description = serializers.SerializerMethodField(help_text="The step in words.")

    class Meta:
        model = EscalationStep
        fields = [
            "id",
            "position",
            "trigger",
            "percent",
            "minutes_after_breach",
            "action",
            "role",
            "person",
            "party",
            "repeat_every_minutes",
            "max_repeats",
            "description",
        ]
        read_only_fields = ["position"]
        list_serializer_class = LadderSerializer

    def get_description(self, step: EscalationStep) -> str:
        return services.escalation_step_sentence(step)


@extend_schema_field(OpenApiTypes.INT)
class VisibleTargetField(serializers.PrimaryKeyRelatedField):
    """A target of a policy the requester may see; others read as 'does not exist'."""

    def get_queryset(self):
        return SlaTarget.objects.filter(policy__in=SlaPolicy.objects.for_user(self.context["request"].user))


class EscalationStepSerializer(EscalationStepFields):
    plan = serializers.CharField(source="target.policy.plan.slug", read_only=True)
    target = VisibleTargetField()

    class Meta(EscalationStepFields.Meta):
        fields = ["id", "plan", "target", *EscalationStepFields.Meta.fields[1:]]


class EscalationStepFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="target__policy__plan__slug")
    policy = django_filters.NumberFilter(field_name="target__policy_id")
    target = django_filters.NumberFilter(field_name="target_id")
    trigger = django_filters.ChoiceFilter(choices=EscalationTrigger.choices)
    action = django_filters.ChoiceFilter(choices=EscalationAction.choices)

    class Meta:
        model = EscalationStep
        fields = ["plan", "policy", "target", "trigger", "action"]


class EscalationStepViewSet(ScopedModelViewSet):
    """One rung of a target's ladder. A step takes its place in time on the ladder (``position``
    is computed); to set a whole ladder at once, send ``escalation_steps`` to its target."""

    queryset = EscalationStep.objects.all()
    serializer_class = EscalationStepSerializer
    filterset_class = EscalationStepFilter
    ordering_fields = ["position"]

    def get_queryset(self):
        policies = SlaPolicy.objects.for_user(self.request.user)
        return (
            EscalationStep.objects.filter(target__policy__in=policies)
            .select_related("target__policy__plan", "role", "person", "party")
            .order_by("target_id", "position", "pk")
        )

    def plan_of(self, obj) -> SupportPlan:
        return obj.target.policy.plan

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        target = data.pop("target")
        self.check_plan_writable(target.policy.plan)
        serializer.instance = services.escalation_step_create(target=target, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("target", serializer.instance.target) != serializer.instance.target:
            raise exceptions.ValidationError({"target": ["A step cannot move to another target."]})
        services.escalation_step_update(step=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.escalation_step_delete(step=instance)


# --- SLA targets ----------------------------------------------------------------------------
class SlaTargetSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="policy.plan.slug", read_only=True)
    policy = VisibleRelatedField(model=SlaPolicy)
    priority = VisibleRelatedField(model=Priority, help_text="A priority of the policy's plan.")
    metric = _choices(SlaMetric.choices)
    minutes = serializers.IntegerField(
        min_value=1, max_value=services.MAX_TARGET_MINUTES, help_text="Minutes of open time on the calendar."
    )
    calendar = VisibleRelatedField(model=ServiceCalendar, help_text="The calendar this clock runs on.")
    request_type = _choices(RequestType.choices, "Blank = any.", allow_blank=True, required=False)
    support_level = VisibleRelatedField(
        model=SupportLevel,
        allow_null=True,
        required=False,
        help_text="A per-level clock; null = the whole request.",
    )
    underpinning_agreement = VisibleRelatedField(model=Agreement, allow_null=True, required=False)
    escalation_steps = EscalationStepFields(
        many=True,
        required=False,
        max_length=services.MAX_LADDER_STEPS,
        help_text="The ladder, in time order. Sending it replaces the whole ladder (steps get new ids).",
    )
    ladder = serializers.SerializerMethodField(help_text="The ladder in words.")

    class Meta:
        model = SlaTarget
        fields = [
            "id",
            "plan",
            "policy",
            "priority",
            "metric",
            "minutes",
            "calendar",
            "request_type",
            "support_level",
            "underpinning_agreement",
            "escalation_steps",
            "ladder",
        ]

    def get_ladder(self, target: SlaTarget) -> str:
        return services.escalation_ladder_sentence(target.escalation_steps.all())


class SlaTargetFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="policy__plan__slug")
    policy = django_filters.NumberFilter(field_name="policy_id")
    priority = django_filters.NumberFilter(field_name="priority_id")
    metric = django_filters.ChoiceFilter(choices=SlaMetric.choices)
    request_type = django_filters.ChoiceFilter(choices=RequestType.choices)
    support_level = django_filters.NumberFilter(field_name="support_level_id")
    calendar = django_filters.NumberFilter(field_name="calendar_id")

    class Meta:
        model = SlaTarget
        fields = ["plan", "policy", "priority", "metric", "request_type", "support_level", "calendar"]


def _targets_queryset():
    steps = EscalationStep.objects.select_related("role", "person", "party").order_by("position", "pk")
    return SlaTarget.objects.select_related("policy__plan", "priority").prefetch_related(
        Prefetch("escalation_steps", queryset=steps)
    )


class SlaTargetViewSet(ScopedModelViewSet):
    """Targets of a policy, each with its escalation ladder (``escalation_steps``, writable as a
    whole: it replaces the ladder, validated as one)."""

    queryset = SlaTarget.objects.all()
    serializer_class = SlaTargetSerializer
    filterset_class = SlaTargetFilter
    ordering_fields = ["minutes", "metric", "priority__rank"]

    def get_queryset(self):
        return _targets_queryset().filter(policy__in=SlaPolicy.objects.for_user(self.request.user))

    def plan_of(self, obj) -> SupportPlan:
        return obj.policy.plan

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        policy = data.pop("policy")
        self.check_plan_writable(policy.plan)
        target = services.sla_target_create(policy=policy, **data)
        serializer.instance = self.get_queryset().get(pk=target.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("policy", serializer.instance.policy) != serializer.instance.policy:
            raise exceptions.ValidationError({"policy": ["A target cannot move to another policy."]})
        services.sla_target_update(target=serializer.instance, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.sla_target_delete(target=instance)


# --- SLA policies ---------------------------------------------------------------------------
class SlaPolicySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    phase = SlaPhaseField()
    pause_statuses = serializers.ListField(
        child=_choices(RequestStatus.choices),
        required=False,
        max_length=len(RequestStatus),
        help_text="Request statuses that pause the clock, e.g. awaiting_customer.",
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "plan",
            "name",
            "phase",
            "valid_from",
            "valid_to",
            "pause_statuses",
            "vendor_wait_keeps_vendor_clock",
            "description",
        ]


class SlaPolicyWithTargetsSerializer(SlaPolicySerializer):
    targets = SlaTargetSerializer(many=True, read_only=True)

    class Meta(SlaPolicySerializer.Meta):
        fields = [*SlaPolicySerializer.Meta.fields, "targets"]


class PolicyInForceSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The plan's slug.")
    date = serializers.DateField()
    phase = SlaPhaseField(help_text="The plan's phase that day (hypercare inside its hypercare window).")
    policy = SlaPolicyWithTargetsSerializer(
        allow_null=True, help_text="The policy in force; null when none is valid that day."
    )


class SlaPolicyFilter(PlanSlugFilter):
    phase = django_filters.ChoiceFilter(choices=SlaPhase.choices)
    active_on = django_filters.DateFilter(method="filter_active_on", label="In its date range that day")

    class Meta:
        model = SlaPolicy
        fields = ["plan", "phase"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value).exclude(valid_to__lt=value)


class SlaPolicyViewSet(ScopedModelViewSet):
    """Phase-aware SLA policies: policies of one phase never overlap; ``in-force`` tells which
    one applies on a date."""

    queryset = SlaPolicy.objects.select_related("plan")
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilter
    ordering_fields = ["valid_from", "name", "phase"]

    create_service = staticmethod(services.sla_policy_create)
    update_service = staticmethod(services.sla_policy_update)
    delete_service = staticmethod(services.sla_policy_delete)
    service_instance_name = "policy"

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", OpenApiTypes.STR, required=True, description="The plan's slug."),
            OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD; today (UTC) when omitted."),
        ],
        responses={200: PolicyInForceSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="in-force", pagination_class=None, filter_backends=[])
    def in_force(self, request, *args, **kwargs):
        """The policy that applies on a date: the phase's policy valid that day, else any valid one."""
        slug = request.query_params.get("plan", "")
        if not slug:
            raise exceptions.ValidationError({"plan": ["Name the plan by its slug."]})
        day = timezone.localdate()
        if "date" in request.query_params:
            field = serializers.DateField()
            try:
                day = field.to_internal_value(request.query_params["date"])
            except serializers.ValidationError as error:
                raise exceptions.ValidationError({"date": error.detail}) from None
        plan = SupportPlan.objects.for_user(request.user).filter(slug=slug).first()
        if plan is None:
            raise exceptions.NotFound("No such plan.")
        policy = selectors.policy_in_force(plan=plan, day=day)
        if policy is not None:
            policy = (
                SlaPolicy.objects.select_related("plan")
                .prefetch_related(Prefetch("targets", queryset=_targets_queryset()))
                .get(pk=policy.pk)
            )
        body = {
            "plan": plan.slug,
            "date": day,
            "phase": selectors.phase_on(plan=plan, day=day),
            "policy": policy,
        }
        return Response(PolicyInForceSerializer(body, context=self.get_serializer_context()).data)


def register(router) -> None:
    router.register("priorities", PriorityViewSet, basename="priority")
    router.register("priority-matrix", PriorityMatrixCellViewSet, basename="prioritymatrixcell")
    router.register("sla-policies", SlaPolicyViewSet, basename="slapolicy")
    router.register("sla-targets", SlaTargetViewSet, basename="slatarget")
    router.register("escalation-steps", EscalationStepViewSet, basename="escalationstep")
