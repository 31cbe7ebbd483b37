"""REST API of readiness, the go-live gate, the transition plan and hypercare (``/api/v1/``).

- ``readiness-items``: the checklist (list, retrieve, update; POST ``{id}/evidence/`` uploads a file);
- ``readiness/{plan_slug}/``: the plan's summary — scores, derived evidence, warnings, gate status,
  trend and targets (read-only);
- ``gate-overrides``: recorded overrides (list, create with a reason);
- ``transition-activities`` and ``readiness-targets``: CRUD;
- ``hypercare/{plan_slug}/``: the hypercare plan (retrieve, update) with live exit metrics; POST
  ``start/`` and ``end/`` actions.

All of it is the plan team's business: partners see none of it (lists are empty, a plan's summary
and hypercare are refused), viewers read, leads write, API keys read.
"""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from models_catalog.models import Party, Person
from scope import readiness_selectors as selectors
from scope import readiness_services as services
from scope.readiness_models import (
    GateAction,
    GateOverride,
    HypercarePlan,
    ReadinessGroup,
    ReadinessItem,
    ReadinessStatus,
    ReadinessTarget,
    TransitionActivity,
    TransitionActivityKind,
)
from scope.readiness_rules import readiness_warnings
from supportplan import access
from supportplan.api import ScopedAPIMixin, ScopedModelViewSet
from supportplan.models import Phase, SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField, username_field


# --- Serializers ----------------------------------------------------------------------------
class EvidenceSerializer(serializers.Serializer):
    met = serializers.BooleanField()
    why = serializers.CharField()


class ReadinessItemSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = VisibleRelatedField(model=Person, allow_null=True, required=False)
    evidence_file = serializers.SerializerMethodField()
    derived = serializers.SerializerMethodField(
        help_text="What the plan's own data says (null: manual only)."
    )
    met = serializers.SerializerMethodField(help_text="Done, or met by derived evidence.")

    class Meta:
        model = ReadinessItem
        fields = [
            "id",
            "plan",
            "key",
            "group",
            "position",
            "title",
            "description",
            "must_have",
            "owner",
            "due_date",
            "status",
            "evidence_url",
            "evidence_file",
            "notes",
            "derived",
            "met",
            "updated_at",
        ]
        read_only_fields = ["key", "group", "position", "title", "description", "must_have", "updated_at"]

    def _evidence(self, item: ReadinessItem):
        cache = self.context.setdefault("_evidence", {})
        if item.plan_id not in cache:
            cache[item.plan_id] = selectors.derived_evidence(plan=item.plan)
        return cache[item.plan_id].get(item.key)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_evidence_file(self, item: ReadinessItem) -> str | None:
        """Download address of the evidence file (session login), or null."""
        if not item.evidence_file:
            return None
        path = reverse("readiness-item-evidence", args=[item.plan.slug, item.pk])
        return self.context["request"].build_absolute_uri(path)

    @extend_schema_field(EvidenceSerializer(allow_null=True))
    def get_derived(self, item: ReadinessItem) -> dict | None:
        evidence = self._evidence(item)
        return None if evidence is None else {"met": evidence.met, "why": evidence.why}

    def get_met(self, item: ReadinessItem) -> bool:
        return selectors.ItemState(item, self._evidence(item)).met


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="At most 10 MB: pdf, png, jpg, gif, docx, xlsx, pptx, txt, md, csv, zip."
    )


class GateOverrideSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    action = serializers.ChoiceField(choices=GateAction.choices)
    reason = serializers.CharField(allow_blank=True, help_text="Required: why the gate may be passed.")
    created_by = username_field("Username of who recorded the override; null if that user was deleted.")
    open_items = serializers.JSONField(
        read_only=True, help_text='The open must-haves then: [{"key", "title"}].'
    )

    class Meta:
        model = GateOverride
        fields = ["id", "plan", "action", "reason", "open_items", "created_by", "created_at", "used_at"]
        read_only_fields = ["created_at", "used_at"]


class TransitionActivitySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    people = VisibleRelatedField(model=Person, many=True, required=False)

    class Meta:
        model = TransitionActivity
        fields = [
            "id",
            "plan",
            "kind",
            "title",
            "phase",
            "people",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "notes",
        ]
        validators = []  # the service checks the dates, with field messages


class ReadinessTargetSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()

    class Meta:
        model = ReadinessTarget
        fields = ["id", "plan", "name", "target_date", "target_percent", "group"]


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    met = serializers.BooleanField()
    figure = serializers.CharField()


class HoursSerializer(serializers.Serializer):
    who = serializers.CharField()
    committed = serializers.DecimalField(max_digits=8, decimal_places=1)
    used = serializers.DecimalField(max_digits=8, decimal_places=1)
    remaining = serializers.DecimalField(max_digits=9, decimal_places=1)
    # Up to 9,999,999.9 hours used of 0.1 committed: 9,999,999,900.0 %.
    percent_used = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)


class HypercareMetricsSerializer(serializers.Serializer):
    since = serializers.DateTimeField(allow_null=True)
    open_p1_without_action_plan = serializers.IntegerField()
    p1_p2_met = serializers.IntegerField()
    p1_p2_breached = serializers.IntegerField()
    p1_p2_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    resolved = serializers.IntegerField()
    resolved_without_hypercare = serializers.IntegerField()
    resolved_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    all_met = serializers.BooleanField()
    criteria = CriterionSerializer(many=True)


class HypercarePlanSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    partner = VisibleRelatedField(model=Party, allow_null=True, required=False)
    ended_by = username_field("Username of who ended hypercare; null while it runs.")
    metrics = serializers.SerializerMethodField()
    hours = serializers.SerializerMethodField()

    class Meta:
        model = HypercarePlan
        fields = [
            "plan",
            *services.HYPERCARE_FIELDS,
            "started_at",
            "ended_at",
            "ended_by",
            "end_note",
            "metrics",
            "hours",
            "updated_at",
        ]
        read_only_fields = ["started_at", "ended_at", "end_note", "updated_at"]
        validators = []

    @extend_schema_field(HypercareMetricsSerializer)
    def get_metrics(self, hypercare: HypercarePlan) -> dict:
        metrics = selectors.hypercare_metrics(plan=hypercare.plan, hypercare=hypercare)
        data = HypercareMetricsSerializer(metrics).data
        data["all_met"] = metrics.all_met
        return data

    @extend_schema_field(HoursSerializer(many=True))
    def get_hours(self, hypercare: HypercarePlan) -> list:
        return HoursSerializer(selectors.hours_figures(hypercare), many=True).data


class HypercareEndSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class GroupScoreSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    met = serializers.IntegerField()
    applicable = serializers.IntegerField()
    percent = serializers.IntegerField()


class SummaryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    group = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    must_have = serializers.BooleanField()
    met = serializers.BooleanField()
    derived = EvidenceSerializer(allow_null=True)


class WarningSerializer(serializers.Serializer):
    rule = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    owner = inline_serializer(
        "ReadinessWarningOwner",
        fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
        allow_null=True,
    )
    link = serializers.CharField()


class GateStatusSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="True when no must-have item blocks the gate.")
    open_items = inline_serializer(
        "GateOpenItem",
        fields={
            "id": serializers.IntegerField(),
            "key": serializers.CharField(),
            "title": serializers.CharField(),
        },
        many=True,
    )
    unused_overrides = serializers.ListField(child=serializers.ChoiceField(choices=GateAction.choices))


class TrendPointSerializer(serializers.Serializer):
    taken_on = serializers.DateField()
    overall_percent = serializers.IntegerField()
    open_must_haves = serializers.IntegerField()
    warnings = serializers.IntegerField()


class TargetStateSerializer(serializers.Serializer):
    name = serializers.CharField()
    target_date = serializers.DateField()
    target_percent = serializers.IntegerField()
    group = serializers.CharField()
    actual = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()


class ReadinessSummarySerializer(serializers.Serializer):
    plan = serializers.CharField()
    phase = serializers.ChoiceField(choices=Phase.choices)
    percent = serializers.IntegerField()
    met = serializers.IntegerField()
    applicable = serializers.IntegerField()
    groups = GroupScoreSerializer(many=True)
    items = SummaryItemSerializer(many=True)
    warnings = WarningSerializer(many=True)
    gate = GateStatusSerializer()
    trend = TrendPointSerializer(many=True)
    targets = TargetStateSerializer(many=True)


def readiness_summary(plan: SupportPlan) -> dict:
    today = timezone.localdate()
    current = selectors.readiness(plan=plan)
    unused = GateOverride.objects.filter(plan=plan, used_at__isnull=True).values_list("action", flat=True)
    return {
        "plan": plan.slug,
        "phase": plan.phase,
        "percent": current.percent,
        "met": current.met,
        "applicable": current.applicable,
        "groups": [
            {"key": g.key, "label": g.label, "met": g.met, "applicable": g.applicable, "percent": g.percent}
            for g in current.groups
        ],
        "items": [
            {
                "id": s.item.pk,
                "key": s.item.key,
                "group": s.item.group,
                "title": s.item.title,
                "status": s.item.status,
                "must_have": s.item.must_have,
                "met": s.met,
                "derived": None if s.evidence is None else {"met": s.evidence.met, "why": s.evidence.why},
            }
            for s in current.items
        ],
        "warnings": [w.as_dict() for w in readiness_warnings(plan=plan, today=today)],
        "gate": {
            "open": not current.open_must_haves,
            "open_items": [
                {"id": s.item.pk, "key": s.item.key, "title": s.item.title} for s in current.open_must_haves
            ],
            "unused_overrides": sorted(set(unused)),
        },
        "trend": [
            {
                "taken_on": s.taken_on,
                "overall_percent": s.overall_percent,
                "open_must_haves": s.open_must_haves,
                "warnings": s.warnings,
            }
            for s in selectors.snapshots(plan=plan)
        ],
        "targets": [
            {
                "name": t.target.name,
                "target_date": t.target.target_date,
                "target_percent": t.target.target_percent,
                "group": t.target.group,
                "actual": t.actual,
                "status": t.status,
            }
            for t in selectors.targets_vs_actual(plan=plan, current=current, today=today)
        ],
    }


# --- Filters --------------------------------------------------------------------------------
class ReadinessItemFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    group = django_filters.ChoiceFilter(choices=ReadinessGroup.choices)
    status = django_filters.ChoiceFilter(choices=ReadinessStatus.choices)
    must_have = django_filters.BooleanFilter()

    class Meta:
        model = ReadinessItem
        fields = ["plan", "group", "status", "must_have"]


class GateOverrideFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    action = django_filters.ChoiceFilter(choices=GateAction.choices)
    used = django_filters.BooleanFilter(field_name="used_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = GateOverride
        fields = ["plan", "action"]


class TransitionActivityFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    kind = django_filters.ChoiceFilter(choices=TransitionActivityKind.choices)
    phase = django_filters.ChoiceFilter(choices=Phase.choices)

    class Meta:
        model = TransitionActivity
        fields = ["plan", "kind", "phase"]


class ReadinessTargetFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")

    class Meta:
        model = ReadinessTarget
        fields = ["plan"]


# --- Views ----------------------------------------------------------------------------------
class ReadinessItemViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The checklist: seeded per plan (no create or delete), updated by leads."""

    queryset = ReadinessItem.objects.select_related("plan", "owner")
    serializer_class = ReadinessItemSerializer
    filterset_class = ReadinessItemFilter
    ordering_fields = ["group", "position", "due_date", "status"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def perform_update(self, serializer):
        serializer.instance = services.readiness_item_update(
            item=serializer.instance, **dict(serializer.validated_data)
        )

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={200: ReadinessItemSerializer},
        summary="Upload an evidence file for the item (replaces the current one)",
    )
    @action(detail=True, methods=["post"], url_path="evidence")
    def evidence(self, request, *args, **kwargs):
        item = self.get_object()
        body = EvidenceUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.readiness_item_attach_evidence(item=item, upload=body.validated_data["file"])
        return Response(self.get_serializer(item).data)


def _refuse_partners(request, plan: SupportPlan) -> None:
    if access.is_partner(request.user, plan):
        raise exceptions.PermissionDenied("Partners see only what is assigned to their organisation.")


class ReadinessOverviewSerializer(serializers.Serializer):
    plan = serializers.CharField()
    name = serializers.CharField()
    phase = serializers.ChoiceField(choices=Phase.choices)
    go_live_date = serializers.DateField(allow_null=True)
    percent = serializers.IntegerField()
    gate_open = serializers.BooleanField()
    open_must_haves = serializers.IntegerField()


class ReadinessSummaryViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """The plan's readiness at a glance (read-only); the list gives each visible plan's score."""

    queryset = SupportPlan.objects.all()
    lookup_field = "slug"
    lookup_url_kwarg = "plan_slug"
    serializer_class = ReadinessSummarySerializer
    filter_backends = []

    @extend_schema(
        responses={200: ReadinessOverviewSerializer(many=True)},
        summary="Readiness score and gate of every plan you may see (partners' plans left out)",
    )
    def list(self, request, *args, **kwargs):
        plans = [
            plan
            for plan in self.get_queryset().distinct().order_by("name")
            if not access.is_partner(request.user, plan)
        ]
        page = self.paginate_queryset(plans)
        rows = []
        for plan in page if page is not None else plans:
            current = selectors.readiness(plan=plan)
            rows.append(
                {
                    "plan": plan.slug,
                    "name": plan.name,
                    "phase": plan.phase,
                    "go_live_date": plan.go_live_date,
                    "percent": current.percent,
                    "gate_open": not current.open_must_haves,
                    "open_must_haves": len(current.open_must_haves),
                }
            )
        data = ReadinessOverviewSerializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(summary="Scores, derived evidence, warnings, gate status, trend and targets of a plan")
    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        _refuse_partners(request, plan)
        return Response(ReadinessSummarySerializer(readiness_summary(plan)).data)


class GateOverrideViewSet(ScopedModelViewSet):
    queryset = GateOverride.objects.select_related("plan", "created_by")
    serializer_class = GateOverrideSerializer
    filterset_class = GateOverrideFilter
    ordering_fields = ["created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        plan = data["plan"]
        self.check_plan_writable(plan)
        serializer.instance = services.gate_override_record(
            plan=plan, action=data["action"], reason=data.get("reason", ""), actor=self.request.user
        )


class TransitionActivityViewSet(ScopedModelViewSet):
    queryset = TransitionActivity.objects.select_related("plan").prefetch_related("people")
    serializer_class = TransitionActivitySerializer
    filterset_class = TransitionActivityFilter
    ordering_fields = ["planned_start", "planned_end", "kind"]

    create_service = staticmethod(services.transition_activity_create)
    update_service = staticmethod(services.transition_activity_update)
    delete_service = staticmethod(services.transition_activity_delete)
    service_instance_name = "activity"


class ReadinessTargetViewSet(ScopedModelViewSet):
    queryset = ReadinessTarget.objects.select_related("plan")
    serializer_class = ReadinessTargetSerializer
    filterset_class = ReadinessTargetFilter
    ordering_fields = ["target_date", "target_percent"]

    create_service = staticmethod(services.readiness_target_create)
    update_service = staticmethod(services.readiness_target_update)
    delete_service = staticmethod(services.readiness_target_delete)
    service_instance_name = "target"


class HypercarePlanViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """One hypercare plan per support plan, addressed by the plan's slug."""

    queryset = HypercarePlan.objects.select_related("plan", "partner", "ended_by")
    serializer_class = HypercarePlanSerializer
    lookup_field = "plan__slug"
    lookup_url_kwarg = "plan_slug"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filter_backends = []

    def perform_update(self, serializer):
        serializer.instance = services.hypercare_plan_update(
            hypercare=serializer.instance, **dict(serializer.validated_data)
        )

    def _respond(self, hypercare: HypercarePlan) -> Response:
        hypercare.refresh_from_db()
        return Response(self.get_serializer(hypercare).data)

    @extend_schema(
        request=None,
        responses={200: HypercarePlanSerializer},
        summary="Start hypercare today (through the go-live gate)",
    )
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        hypercare = self.get_object()
        return self._respond(services.hypercare_start(plan=hypercare.plan, actor=request.user))

    @extend_schema(
        request=HypercareEndSerializer,
        responses={200: HypercarePlanSerializer},
        summary="End hypercare: the steady-state SLA policy is in force from today",
    )
    @action(detail=True, methods=["post"])
    def end(self, request, *args, **kwargs):
        hypercare = self.get_object()
        body = HypercareEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._respond(
            services.hypercare_end(
                plan=hypercare.plan, actor=request.user, note=body.validated_data.get("note", "")
            )
        )


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
    router.register("readiness-items", ReadinessItemViewSet, basename="readinessitem")
    router.register("readiness", ReadinessSummaryViewSet, basename="readinesssummary")
    router.register("gate-overrides", GateOverrideViewSet, basename="gateoverride")
    router.register("transition-activities", TransitionActivityViewSet, basename="transitionactivity")
    router.register("readiness-targets", ReadinessTargetViewSet, basename="readinesstarget")
    router.register("hypercare", HypercarePlanViewSet, basename="hypercareplan")
