"""REST endpoints of the support scope: aspects (read), scope items (CRUD), coverage, gaps, XLSX.

Writes need "configure" (the plan's leads); API keys never change configuration.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from models_catalog.models import Party, Person, Role, SupportLevel
from operations.apis_breach import GapSerializer
from operations.models import ServiceCalendar
from scope import gaps as scope_gap_rules
from scope.models import QUESTIONS, Aspect, Criticality, ScopeItem, ScopeStatus
from scope.selectors import ANSWERED, answer_state, scope_coverage
from scope.services import scope_item_delete, scope_item_save
from scope.transfer import scope_export_xlsx, scope_import_xlsx
from supportplan import access
from supportplan.api import ScopedModelViewSet, ScopedReadOnlyViewSet, validated_without_plan
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLAN_PARAMETER = OpenApiParameter("plan", str, required=True, description="The plan's slug.")


def visible_aspects(user) -> Aspect:
    """The current catalogue plus the own aspects of the plans the requester may see."""
    plans = SupportPlan.objects.for_user(user)
    return Aspect.objects.filter(
        Q(plan__isnull=True, retired_in_version__isnull=True) | Q(plan__in=plans)
    ).select_related("group", "plan")


# --- Serializers ----------------------------------------------------------------------------
class AspectSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="key", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Aspect
        fields = [
            "id",
            "group",
            "plan",
            "key",
            "name",
            "guidance",
            "prompt_what",
            "prompt_detail",
            "prompt_who",
            "prompt_when",
            "prompt_how",
            "is_business_process",
            "position",
            "catalogue_version",
        ]


class VisibleAspectField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return visible_aspects(self.context["request"].user)


class DetailSerializer(serializers.Serializer):
    task = serializers.CharField(max_length=300)
    standard = serializers.CharField(max_length=300, required=False, allow_blank=True)
    frequency = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AnswersSerializer(serializers.Serializer):
    what = serializers.CharField()
    detail = serializers.CharField()
    who = serializers.CharField()
    when = serializers.CharField()
    how = serializers.CharField()


class ScopeItemSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    aspect = VisibleAspectField()
    # Plain choice fields with their own names: ``status``/``criticality`` enums elsewhere in the
    # schema would otherwise collide (see the note on enum names to the lead).
    status = serializers.ChoiceField(choices=ScopeStatus.choices, required=False)
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False, allow_blank=True)
    details = DetailSerializer(many=True, required=False)
    roles = VisibleRelatedField(model=Role, many=True, required=False)
    people = VisibleRelatedField(model=Person, many=True, required=False)
    parties = VisibleRelatedField(model=Party, many=True, required=False)
    support_level = VisibleRelatedField(model=SupportLevel, allow_null=True, required=False)
    service_calendar = VisibleRelatedField(model=ServiceCalendar, allow_null=True, required=False)
    owner = VisibleRelatedField(model=Person, allow_null=True, required=False)
    process_profile = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    answers = serializers.SerializerMethodField()
    has_gaps = serializers.SerializerMethodField()

    class Meta:
        model = ScopeItem
        fields = [
            "id",
            "plan",
            "aspect",
            "in_scope",
            "out_of_scope_reason",
            "redirect_to",
            "what",
            "details",
            "roles",
            "people",
            "parties",
            "support_level",
            "service_calendar",
            "when_text",
            "peak_relevance",
            "procedure_url",
            "tool",
            "access_needs",
            "criticality",
            "process_profile",
            "status",
            "owner",
            "last_reviewed",
            "answers",
            "has_gaps",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    @extend_schema_field(AnswersSerializer)
    def get_answers(self, item: ScopeItem) -> dict[str, str]:
        return {question: answer_state(item, question) for question in QUESTIONS}

    def get_has_gaps(self, item: ScopeItem) -> bool:
        return any(answer_state(item, question) != ANSWERED for question in QUESTIONS)


class CoverageGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    name = serializers.CharField()
    aspects = serializers.IntegerField()
    completeness = serializers.FloatField(help_text="Share of cells answered (partial counts half), 0–100.")


class CoverageSerializer(serializers.Serializer):
    plan = serializers.CharField()
    completeness = serializers.FloatField()
    groups = CoverageGroupSerializer(many=True)


class ImportInputSerializer(serializers.Serializer):
    plan = VisiblePlanField()
    file = serializers.FileField(help_text="An .xlsx laid out as the export writes it.")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()


# --- Filters --------------------------------------------------------------------------------
class AspectFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(method="filter_plan", help_text="The catalogue plus this plan's own.")
    group = django_filters.CharFilter(field_name="group__key")

    class Meta:
        model = Aspect
        fields = ["plan", "group"]

    def filter_plan(self, queryset, name, value):
        return queryset.filter(Q(plan__isnull=True) | Q(plan__slug=value))


class ScopeItemFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    group = django_filters.CharFilter(field_name="aspect__group__key")
    status = django_filters.ChoiceFilter(choices=ScopeStatus.choices)
    in_scope = django_filters.BooleanFilter()
    owner = django_filters.NumberFilter(field_name="owner_id")
    has_gaps = django_filters.BooleanFilter(method="filter_has_gaps", help_text="Any question not answered.")

    class Meta:
        model = ScopeItem
        fields = ["plan", "group", "status", "in_scope", "owner"]

    def filter_has_gaps(self, queryset, name, value):
        # The answer states need the related names: one pass with prefetches (fixed queries), then
        # the ids; the states are not expressible as one portable SQL condition.
        rows = queryset.select_related("aspect").prefetch_related("roles", "people", "parties")
        ids = [
            item.pk
            for item in rows
            if any(answer_state(item, question) != ANSWERED for question in QUESTIONS) is value
        ]
        return queryset.filter(pk__in=ids)


# --- Views ----------------------------------------------------------------------------------
class AspectViewSet(ScopedReadOnlyViewSet):
    """The aspect catalogue and the visible plans' own aspects."""

    queryset = Aspect.objects.all()
    serializer_class = AspectSerializer
    filterset_class = AspectFilter
    ordering_fields = ["position", "name"]

    def get_queryset(self):
        return visible_aspects(self.request.user).order_by("group__position", "plan_id", "position", "name")


def _plan_from_query(request) -> SupportPlan:
    slug = request.query_params.get("plan")
    if not slug:
        raise exceptions.ValidationError({"plan": ["Name the plan: ?plan=<slug>."]})
    return get_object_or_404(SupportPlan.objects.for_user(request.user), slug=slug)


def _refuse_partners(request, plan: SupportPlan) -> None:
    if access.is_partner(request.user, plan):
        raise exceptions.PermissionDenied("Partners see only what is assigned to their organisation.")


class ScopeItemViewSet(ScopedModelViewSet):
    queryset = ScopeItem.objects.select_related("plan", "aspect").prefetch_related(
        "roles", "people", "parties"
    )
    serializer_class = ScopeItemSerializer
    filterset_class = ScopeItemFilter
    ordering_fields = ["status", "last_reviewed", "updated_at"]
    write_access = "configure"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        if ScopeItem.objects.filter(plan=plan, aspect=data["aspect"]).exists():
            raise exceptions.ValidationError({"aspect": ["This plan already has an item for this aspect."]})
        serializer.instance = scope_item_save(plan=plan, **data)

    def perform_update(self, serializer):
        item = serializer.instance
        data = validated_without_plan(serializer, item)
        if data.pop("aspect", item.aspect) != item.aspect:
            raise exceptions.ValidationError({"aspect": ["An item cannot move to another aspect."]})
        scope_item_save(plan=item.plan, aspect=item.aspect, **data)
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_destroy(self, instance):
        scope_item_delete(item=instance)

    @extend_schema(parameters=[PLAN_PARAMETER], responses={200: CoverageSerializer})
    @action(detail=False, methods=["get"], filter_backends=[])
    def coverage(self, request):
        """Completeness per aspect group and overall (answered 1, partial ½, missing 0)."""
        plan = _plan_from_query(request)
        _refuse_partners(request, plan)
        coverage = scope_coverage(user=request.user, plan=plan)
        body = {
            "plan": plan.slug,
            "completeness": coverage.completeness,
            "groups": [
                {
                    "group": group.group.key,
                    "name": group.group.name,
                    "aspects": len(group.rows),
                    "completeness": group.completeness,
                }
                for group in coverage.groups
            ],
        }
        return Response(CoverageSerializer(body).data)

    @extend_schema(parameters=[PLAN_PARAMETER], responses={200: GapSerializer(many=True)})
    @action(detail=False, methods=["get"], filter_backends=[])
    def gaps(self, request):
        """The scope's gaps (the plan's full list, with SLA gaps, is ``/api/v1/sla/gaps/``)."""
        plan = _plan_from_query(request)
        _refuse_partners(request, plan)
        gaps = [gap.as_dict() for gap in scope_gap_rules.scope_gap_list(plan=plan)]
        page = self.paginate_queryset(gaps)
        return self.get_paginated_response(GapSerializer(page, many=True).data)

    @extend_schema(parameters=[PLAN_PARAMETER], responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], filter_backends=[])
    def export(self, request):
        """The scope matrix as an Excel workbook, one row per aspect."""
        plan = _plan_from_query(request)
        _refuse_partners(request, plan)
        response = HttpResponse(scope_export_xlsx(plan=plan), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{plan.slug}-scope.xlsx"'
        return response

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer}, responses={200: ImportResultSerializer}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_xlsx(self, request):
        """Creates and updates items from a workbook; any bad row and nothing is stored (400)."""
        serializer = ImportInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        plan = serializer.validated_data["plan"]
        self.check_plan_writable(plan)
        upload = serializer.validated_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise exceptions.ValidationError({"file": ["Keep the workbook under 5 MB."]})
        try:
            result = scope_import_xlsx(plan=plan, data=upload.read())
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"file": error.messages}) from None
        return Response(ImportResultSerializer(result.__dict__).data)


def register(router) -> None:
    router.register("scope-aspects", AspectViewSet, basename="aspect")
    router.register("scope-items", ScopeItemViewSet, basename="scopeitem")
