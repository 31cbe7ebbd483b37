"""REST endpoints of the maintenance calendar (``/api/v1/``): recurring tasks, their occurrences
(complete / skip / move / reopen), conflicts with freeze windows, and the task catalogue.

Tasks are configuration: leads write, the plan reads (partners: the tasks of their organisation).
Occurrence actions are allowed by ``maintenance_selectors.can_complete`` (owner, backup, responsible
party, leads, read-write API keys); others get 403. Windows are calendar events (``/calendar-events/``
with ``blocks_maintenance``).
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.models import Party, Person, Role
from operations import maintenance_services as services
from operations.maintenance_catalogue import CATEGORIES, category_choices, category_label
from operations.maintenance_selectors import (
    conflicts_for,
    conflicts_for_task,
    filter_by_state,
    next_occurrences,
    occurrence_state,
)
from operations.models import (
    Environment,
    MaintenanceTask,
    NonWorkingDayShift,
    OccurrenceState,
    OccurrenceStatus,
    ReminderKind,
    ServiceCalendar,
    TaskOccurrence,
)
from operations.recurrence import describe
from scope.models import ScopeItem
from supportplan.api import ScopedAPIMixin, ScopedModelViewSet, ScopedReadOnlyViewSet, validated_without_plan
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField, username_field


# --- Serializers ----------------------------------------------------------------------------
class OccurrenceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskOccurrence
        fields = ["id", "original_due_at", "due_at", "moved", "status"]
        read_only_fields = fields


class TaskConflictSerializer(serializers.Serializer):
    occurrence = serializers.IntegerField(source="occurrence.pk")
    due_at = serializers.DateTimeField(source="occurrence.due_at")
    window = serializers.IntegerField(source="event.pk")
    window_name = serializers.CharField(source="event.name")


NEXT_OCCURRENCES = 5


class MaintenanceTaskSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    category = serializers.ChoiceField(choices=category_choices(), required=False, default="other")
    category_label = serializers.SerializerMethodField()
    owner = VisibleRelatedField(model=Person, required=False, allow_null=True)
    backup = VisibleRelatedField(model=Person, required=False, allow_null=True)
    responsible_role = VisibleRelatedField(model=Role, required=False, allow_null=True)
    responsible_party = VisibleRelatedField(model=Party, required=False, allow_null=True)
    scope_item = VisibleRelatedField(model=ScopeItem, required=False, allow_null=True)
    working_calendar = VisibleRelatedField(model=ServiceCalendar, required=False, allow_null=True)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False, allow_blank=True)
    non_working_day_shift = serializers.ChoiceField(choices=NonWorkingDayShift.choices, required=False)
    pattern = serializers.JSONField(
        required=False,
        help_text='A form pattern, e.g. {"kind": "weekly", "days": ["MO"]} or {"kind": "last_working_day"}; '
        "kinds: daily, weekdays, weekly, monthly_day, monthly_nth_weekday, last_working_day, every_n_months, "
        "quarterly, yearly. Give this or rrule.",
    )
    rrule = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO.",
    )
    rrule_text = serializers.SerializerMethodField(help_text="The rule in words.")
    next_occurrences = serializers.SerializerMethodField()
    conflicts = serializers.SerializerMethodField(
        help_text="Open occurrences inside freeze windows (detail, create, update; null in lists)."
    )
    timezone = serializers.CharField(
        max_length=64, help_text="IANA time zone of local_time, e.g. Europe/Berlin."
    )
    duration_minutes = serializers.IntegerField(required=False, help_text="At least 1.")

    class Meta:
        model = MaintenanceTask
        fields = [
            "id",
            "plan",
            "title",
            "description",
            "category",
            "category_label",
            "owner",
            "backup",
            "responsible_role",
            "responsible_party",
            "environment",
            "scope_item",
            "pattern",
            "rrule",
            "rrule_text",
            "starts_on",
            "local_time",
            "timezone",
            "ends_on",
            "schedule_from_completion",
            "non_working_day_shift",
            "working_calendar",
            "duration_minutes",
            "reminder_lead_minutes",
            "grace_minutes",
            "evidence_required",
            "active",
            "next_occurrences",
            "conflicts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_category_label(self, task: MaintenanceTask) -> str:
        return category_label(task.category)

    def get_rrule_text(self, task: MaintenanceTask) -> str:
        return describe(task.rrule, shift=task.non_working_day_shift)

    @extend_schema_field(OccurrenceBriefSerializer(many=True))
    def get_next_occurrences(self, task: MaintenanceTask) -> list[dict]:
        upcoming = getattr(task, "upcoming", None)  # prefetched by the list
        if upcoming is None:
            upcoming = next_occurrences(task, limit=NEXT_OCCURRENCES)
        return OccurrenceBriefSerializer(upcoming, many=True).data

    @extend_schema_field(TaskConflictSerializer(many=True, allow_null=True))
    def get_conflicts(self, task: MaintenanceTask) -> list[dict] | None:
        if not self.context.get("with_conflicts"):
            return None
        return TaskConflictSerializer(conflicts_for_task(task), many=True).data

    def validate(self, attrs):
        if self.instance is None and not attrs.get("pattern") and not attrs.get("rrule"):
            raise serializers.ValidationError({"rrule": ["Give a pattern or an RRULE."]})
        return attrs


class TaskOccurrenceSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    task_title = serializers.CharField(source="task.title", read_only=True)
    category = serializers.CharField(source="task.category", read_only=True)
    owner = serializers.IntegerField(source="task.owner_id", read_only=True, allow_null=True)
    owner_name = serializers.SerializerMethodField()
    backup = serializers.IntegerField(source="task.backup_id", read_only=True, allow_null=True)
    ends_at = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    closed_by = username_field("Username of who closed it; null while open.")
    evidence_required = serializers.BooleanField(source="task.evidence_required", read_only=True)
    # Declared: a read-only model field would lose its blank, and the schema would refuse "".
    evidence_url = serializers.URLField(
        read_only=True, allow_blank=True, help_text="Where the evidence is; blank when none was given."
    )
    next_remind_kind = serializers.ChoiceField(
        choices=ReminderKind.choices,
        read_only=True,
        allow_blank=True,
        help_text="The next reminder's kind; blank when none is due.",
    )

    class Meta:
        model = TaskOccurrence
        fields = [
            "id",
            "plan",
            "task",
            "task_title",
            "category",
            "owner",
            "owner_name",
            "backup",
            "original_due_at",
            "due_at",
            "ends_at",
            "moved",
            "move_reason",
            "status",
            "state",
            "closed_at",
            "closed_by",
            "notes",
            "evidence_url",
            "evidence_required",
            "next_remind_at",
            "next_remind_kind",
        ]
        read_only_fields = fields

    def get_owner_name(self, occurrence: TaskOccurrence) -> str | None:
        return occurrence.task.owner.name if occurrence.task.owner_id else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_ends_at(self, occurrence: TaskOccurrence):
        return serializers.DateTimeField().to_representation(
            occurrence.due_at + timedelta(minutes=occurrence.task.duration_minutes)
        )

    @extend_schema_field(serializers.ChoiceField(choices=OccurrenceState.choices))
    def get_state(self, occurrence: TaskOccurrence) -> str:
        now = self.context.get("now") or timezone.now()
        return occurrence_state(occurrence, now=now)


class CompleteSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence_url = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Required when the task needs evidence."
    )
    completed_at = serializers.DateTimeField(required=False, help_text="Default now; with an offset.")


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why this occurrence is skipped.")


class MoveSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(help_text="The new due instant, ISO 8601 with an offset.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class WindowBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ConflictSerializer(serializers.Serializer):
    occurrence = TaskOccurrenceSerializer()
    window = WindowBriefSerializer(source="event")


class CategorySerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    pattern = serializers.JSONField()
    rrule = serializers.CharField()
    rrule_text = serializers.SerializerMethodField()
    suggested_lead_minutes = serializers.IntegerField()
    suggested_duration_minutes = serializers.IntegerField()
    evidence_required = serializers.BooleanField()
    suggested = serializers.BooleanField(help_text="The frequency is a product suggestion, not a guide fact.")
    source = serializers.CharField()

    def get_rrule_text(self, category) -> str:
        return describe(category.rrule) if category.rrule else ""


# --- Filters --------------------------------------------------------------------------------
class MaintenanceTaskFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    category = django_filters.ChoiceFilter(choices=category_choices())
    owner = django_filters.NumberFilter(field_name="owner_id")
    active = django_filters.BooleanFilter()

    class Meta:
        model = MaintenanceTask
        fields = ["plan", "category", "owner", "active"]


class TaskOccurrenceFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    task = django_filters.NumberFilter(field_name="task_id")
    owner = django_filters.NumberFilter(method="filter_owner", help_text="A person: owner or backup.")
    category = django_filters.ChoiceFilter(field_name="task__category", choices=category_choices())
    status = django_filters.ChoiceFilter(choices=OccurrenceStatus.choices)
    state = django_filters.ChoiceFilter(choices=OccurrenceState.choices, method="filter_state")
    due_from = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_to = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Tasks I own or back up.")

    class Meta:
        model = TaskOccurrence
        fields = ["plan", "task", "owner", "category", "status", "state", "mine"]

    def filter_owner(self, queryset, name, value):
        return queryset.filter(task__owner_id=value) | queryset.filter(task__backup_id=value)

    def filter_state(self, queryset, name, value):
        return filter_by_state(queryset, value, now=timezone.now())

    def filter_mine(self, queryset, name, value):
        if not value:
            return queryset
        user = self.request.user
        if not getattr(user, "pk", None):
            return queryset.none()
        return queryset.filter(task__owner__user=user) | queryset.filter(task__backup__user=user)


# ``from`` and ``to`` are the documented names (Python keywords, so renamed after the class body).
TaskOccurrenceFilter.base_filters["from"] = TaskOccurrenceFilter.base_filters.pop("due_from")
TaskOccurrenceFilter.base_filters["to"] = TaskOccurrenceFilter.base_filters.pop("due_to")


# --- Views ----------------------------------------------------------------------------------
class MaintenanceTaskViewSet(ScopedModelViewSet):
    """Recurring maintenance tasks; creating or editing one (re)materialises its occurrences."""

    queryset = MaintenanceTask.objects.select_related(
        "plan", "owner", "backup", "responsible_role", "responsible_party", "working_calendar"
    )
    serializer_class = MaintenanceTaskSerializer
    filterset_class = MaintenanceTaskFilter
    ordering_fields = ["title", "category", "starts_on", "updated_at"]

    def get_queryset(self):
        upcoming = TaskOccurrence.objects.filter(status=OccurrenceStatus.OPEN, due_at__gte=timezone.now())
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch(
                    "occurrences", queryset=upcoming.order_by("due_at")[:NEXT_OCCURRENCES], to_attr="upcoming"
                )
            )
        )

    def get_serializer_context(self):
        # Conflicts cost two queries per task: shown on one task, not in lists.
        return {**super().get_serializer_context(), "with_conflicts": self.action != "list"}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = services.task_create(plan=plan, actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        task = services.task_update(task=serializer.instance, actor=self.request.user, **data)
        task.__dict__.pop("upcoming", None)  # rebuilt: read the new ones
        serializer.instance = task

    def perform_destroy(self, instance):
        services.task_delete(task=instance, actor=self.request.user)


class TaskOccurrenceViewSet(ScopedReadOnlyViewSet):
    """Materialised occurrences; POST complete / skip / move / reopen (owner, backup, responsible
    party, leads or a read-write API key)."""

    queryset = TaskOccurrence.objects.select_related("plan", "task", "task__owner", "closed_by")
    serializer_class = TaskOccurrenceSerializer
    filterset_class = TaskOccurrenceFilter
    ordering_fields = ["due_at", "original_due_at", "closed_at"]
    write_access = "assigned"

    def may_write(self, plan: SupportPlan) -> bool:
        # Who may act on an occurrence is the services' question (can_complete → 403).
        return True

    def _respond(self, occurrence: TaskOccurrence) -> Response:
        return Response(self.get_serializer(occurrence).data)

    @extend_schema(request=CompleteSerializer, responses={200: TaskOccurrenceSerializer}, summary="Complete")
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        occurrence = self.get_object()
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        occurrence = services.occurrence_complete(
            occurrence=occurrence, actor=request.user, **body.validated_data
        )
        return self._respond(occurrence)

    @extend_schema(
        request=SkipSerializer, responses={200: TaskOccurrenceSerializer}, summary="Skip with a reason"
    )
    @action(detail=True, methods=["post"])
    def skip(self, request, *args, **kwargs):
        occurrence = self.get_object()
        body = SkipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        occurrence = services.occurrence_skip(
            occurrence=occurrence, actor=request.user, reason=body.validated_data["reason"]
        )
        return self._respond(occurrence)

    @extend_schema(
        request=MoveSerializer, responses={200: TaskOccurrenceSerializer}, summary="Move one occurrence"
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        occurrence = self.get_object()
        raw = request.data.get("due_at") if hasattr(request.data, "get") else None
        if isinstance(raw, str) and raw and not _has_offset(raw):
            raise exceptions.ValidationError(
                {"due_at": ["Give the time with its offset, e.g. 2027-03-01T09:00+01:00."]}
            )
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        occurrence = services.occurrence_move(
            occurrence=occurrence, actor=request.user, **body.validated_data
        )
        return self._respond(occurrence)

    @extend_schema(
        request=None,
        responses={200: TaskOccurrenceSerializer},
        summary="Move out of the freeze windows it falls into (to the end of the last one)",
    )
    @action(detail=True, methods=["post"], url_path="move-out-of-freeze")
    def move_out_of_freeze(self, request, *args, **kwargs):
        occurrence = services.occurrence_move_out_of_freeze(occurrence=self.get_object(), actor=request.user)
        return self._respond(occurrence)

    @extend_schema(
        request=None, responses={200: TaskOccurrenceSerializer}, summary="Reopen a done or skipped one"
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        occurrence = services.occurrence_reopen(occurrence=self.get_object(), actor=request.user)
        return self._respond(occurrence)


def _has_offset(value: str) -> bool:
    """Whether an ISO 8601 date-time names its offset (DRF would silently read it as UTC)."""
    tail = value.strip()[10:]
    return tail.endswith(("Z", "z")) or "+" in tail or "-" in tail


class MaintenanceConflictViewSet(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open occurrences of a plan inside freeze windows (one row per occurrence and window)."""

    queryset = TaskOccurrence.objects.all()
    serializer_class = ConflictSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", str, required=True, description="The plan's slug."),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Due at or after (default now)."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Due before."),
        ]
    )
    def list(self, request, *args, **kwargs):
        slug = request.query_params.get("plan")
        if not slug:
            raise exceptions.ValidationError({"plan": ["Give the plan's slug."]})
        plan = get_object_or_404(SupportPlan.objects.for_user(request.user), slug=slug)
        bounds = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name)
            if raw:
                try:
                    bounds[name] = serializers.DateTimeField().to_internal_value(raw)
                except serializers.ValidationError as error:
                    raise exceptions.ValidationError({name: error.detail}) from None
        found = conflicts_for(plan=plan, start=bounds.get("from", timezone.now()), end=bounds.get("to"))
        visible = set(
            self.get_queryset()
            .filter(pk__in={conflict.occurrence.pk for conflict in found})
            .values_list("pk", flat=True)
        )
        rows = [conflict for conflict in found if conflict.occurrence.pk in visible]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MaintenanceCatalogueViewSet(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The task catalogue (domain 4.5): categories with suggested frequencies."""

    serializer_class = CategorySerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return TaskOccurrence.objects.none()

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(CATEGORIES, many=True).data)


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
    router.register("maintenance-tasks", MaintenanceTaskViewSet, basename="maintenancetask")
    router.register("task-occurrences", TaskOccurrenceViewSet, basename="taskoccurrence")
    router.register("maintenance-conflicts", MaintenanceConflictViewSet, basename="maintenanceconflict")
    router.register("maintenance-catalogue", MaintenanceCatalogueViewSet, basename="maintenancecategory")
