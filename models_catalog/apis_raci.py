"""REST endpoints of the RACI: ``/api/v1/responsibilities/`` (rows, plus ``violations/``) and
``/api/v1/raci-assignments/`` (cells). Leads write; everyone else who sees the plan reads; API keys
read only (the RACI is configuration)."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog import raci
from models_catalog.filters import PlanSlugFilter
from models_catalog.models import Party, RaciAssignment, RaciLetter, Responsibility, Role
from supportplan.api import ScopedModelViewSet
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField


# --- Serializers ----------------------------------------------------------------------------
class ResponsibilitySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    position = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, help_text="Row order in the grid; new rows go last."
    )
    seed_key = serializers.CharField(
        read_only=True, help_text="The template row it came from; blank for a row the plan added."
    )

    class Meta:
        model = Responsibility
        fields = ["id", "plan", "name", "description", "position", "seed_key"]
        read_only_fields = ["seed_key"]
        validators = []  # the name's uniqueness is the service's check, case-insensitive


class RaciAssignmentSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    responsibility = VisibleRelatedField(model=Responsibility)
    role = VisibleRelatedField(
        model=Role, required=False, allow_null=True, help_text="A role of the same plan (or a party)."
    )
    party = VisibleRelatedField(
        model=Party, required=False, allow_null=True, help_text="A party of the same plan (or a role)."
    )
    letter = serializers.ChoiceField(choices=RaciLetter.choices)

    class Meta:
        model = RaciAssignment
        fields = ["id", "plan", "responsibility", "role", "party", "letter"]
        validators = []  # one cell per role or party: setting an existing cell replaces its letter


class RaciLetterSerializer(serializers.ModelSerializer):
    """A cell's letter is all that changes in place; move a cell by deleting and setting another."""

    letter = serializers.ChoiceField(choices=RaciLetter.choices)

    class Meta:
        model = RaciAssignment
        fields = ["letter"]


class RaciViolationSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The plan's slug.")
    responsibility = serializers.IntegerField()
    responsibility_name = serializers.CharField()
    code = serializers.ChoiceField(choices=["no_accountable", "several_accountable", "no_responsible"])
    message = serializers.CharField()


# --- Filters --------------------------------------------------------------------------------
ResponsibilityFilter = PlanSlugFilter.for_model(Responsibility)


class RaciAssignmentFilter(PlanSlugFilter):
    responsibility = django_filters.NumberFilter(field_name="responsibility_id")
    role = django_filters.NumberFilter(field_name="role_id")
    party = django_filters.NumberFilter(field_name="party_id")
    letter = django_filters.ChoiceFilter(choices=RaciLetter.choices)

    class Meta:
        model = RaciAssignment
        fields = ["plan", "responsibility", "role", "party", "letter"]


# --- Views ----------------------------------------------------------------------------------
class ResponsibilityViewSet(ScopedModelViewSet):
    """The rows of the RACI: the guide's five responsibility areas (seeded) and custom ones."""

    queryset = Responsibility.objects.select_related("plan")
    serializer_class = ResponsibilitySerializer
    filterset_class = ResponsibilityFilter
    ordering_fields = ["position", "name"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = raci.responsibility_create(plan=plan, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("plan", serializer.instance.plan) != serializer.instance.plan:
            raise exceptions.ValidationError({"plan": ["A record cannot move to another plan."]})
        raci.responsibility_update(responsibility=serializer.instance, **data)

    def perform_destroy(self, instance):
        raci.responsibility_delete(responsibility=instance)

    @extend_schema(
        parameters=[OpenApiParameter("plan", OpenApiTypes.STR, description="Only this plan (its slug).")],
        responses={200: RaciViolationSerializer(many=True)},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def violations(self, request, *args, **kwargs):
        """Responsibilities without exactly one A or without an R, in the plans you may see."""
        plans = SupportPlan.objects.for_user(request.user).filter(
            pk__in=Responsibility.objects.for_user(request.user).values("plan_id")
        )
        if request.query_params.get("plan"):
            plans = plans.filter(slug=request.query_params["plan"])
        plans = list(plans.order_by("name"))
        by_plan = raci.raci_violations_by_plan(user=request.user, plans=plans)
        body = [
            {
                "plan": plan.slug,
                "responsibility": violation.responsibility.pk,
                "responsibility_name": violation.responsibility.name,
                "code": violation.code,
                "message": violation.message,
            }
            for plan in plans
            for violation in by_plan[plan.pk]
        ]
        return Response(RaciViolationSerializer(body, many=True).data)


class RaciAssignmentViewSet(ScopedModelViewSet):
    """The cells of the RACI. POST sets a cell (replacing the letter if the cell exists: 200
    instead of 201); a second A or a row without an R is stored and listed by
    ``/responsibilities/violations/``, not refused."""

    queryset = RaciAssignment.objects.select_related("plan", "responsibility")
    serializer_class = RaciAssignmentSerializer
    filterset_class = RaciAssignmentFilter
    ordering_fields = ["responsibility__position", "letter"]
    ordering = ["plan__name", "responsibility__position", "pk"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return RaciLetterSerializer
        return RaciAssignmentSerializer

    @extend_schema(responses={201: RaciAssignmentSerializer, 200: RaciAssignmentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        responsibility = data["responsibility"]
        self.check_plan_writable(responsibility.plan)
        role, party = data.get("role"), data.get("party")
        existed = (role is None) != (party is None) and (
            RaciAssignment.objects.filter(responsibility=responsibility, role=role, party=party).exists()
        )
        cell = raci.raci_set_cell(
            responsibility=responsibility, role=role, party=party, letter=data["letter"]
        )
        body = RaciAssignmentSerializer(cell, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=RaciLetterSerializer, responses={200: RaciAssignmentSerializer})
    def update(self, request, *args, **kwargs):
        cell = self.get_object()
        serializer = RaciLetterSerializer(cell, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        cell = raci.raci_set_cell(
            responsibility=cell.responsibility,
            role=cell.role,
            party=cell.party,
            letter=serializer.validated_data.get("letter", cell.letter),
        )
        return Response(RaciAssignmentSerializer(cell, context=self.get_serializer_context()).data)

    @extend_schema(request=RaciLetterSerializer, responses={200: RaciAssignmentSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        raci.raci_set_cell(
            responsibility=instance.responsibility, role=instance.role, party=instance.party, letter=""
        )
