"""REST endpoints for the support model: parties, agreements, roles, people, levels, model choice."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog import services
from models_catalog.filters import AgreementFilter, PartyFilter, PersonFilter, PlanSlugFilter
from models_catalog.models import Agreement, Party, Person, Role, SupportLevel, SupportModel
from models_catalog.recommendation import recommend, validate_answers
from models_catalog.serializers import (
    AgreementSerializer,
    ChooseModelSerializer,
    PartySerializer,
    PersonSerializer,
    RecommendationSerializer,
    RecommendInputSerializer,
    RoleSerializer,
    SupportLevelSerializer,
    SupportModelSerializer,
    TemplateResultSerializer,
)
from supportplan.api import ScopedModelViewSet, ScopedReadOnlyViewSet, validated_without_plan


def _commitments(data: dict):
    items = data.pop("commitments", None)
    if items is None:
        return None
    return [services.CommitmentInput(**item) for item in items]


class PartyViewSet(ScopedModelViewSet):
    queryset = Party.objects.select_related("plan")
    serializer_class = PartySerializer
    filterset_class = PartyFilter
    ordering_fields = ["name", "kind"]

    create_service = staticmethod(services.party_create)
    update_service = staticmethod(services.party_update)
    delete_service = staticmethod(services.party_delete)
    service_instance_name = "party"


class AgreementViewSet(ScopedModelViewSet):
    queryset = Agreement.objects.select_related("plan", "party").prefetch_related("commitments")
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    ordering_fields = ["starts_on", "ends_on", "renewal_date", "name"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        commitments = _commitments(data) or []
        serializer.instance = services.agreement_create(plan=plan, commitments=commitments, **data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        commitments = _commitments(data)
        serializer.instance = services.agreement_update(
            agreement=serializer.instance, commitments=commitments, **data
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.agreement_delete(agreement=instance)


class RoleViewSet(ScopedModelViewSet):
    queryset = Role.objects.select_related("plan")
    serializer_class = RoleSerializer
    filterset_class = PlanSlugFilter.for_model(Role)
    ordering_fields = ["name"]

    create_service = staticmethod(services.role_create)
    update_service = staticmethod(services.role_update)
    delete_service = staticmethod(services.role_delete)
    service_instance_name = "role"


class PersonViewSet(ScopedModelViewSet):
    queryset = Person.objects.select_related("plan", "party", "location").prefetch_related("roles", "levels")
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ["name", "allocation_percent"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = services.person_create(plan=plan, **data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        services.person_update(person=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.person_delete(person=instance)


class SupportLevelViewSet(ScopedModelViewSet):
    """The five levels come from the model's template; edit them here (they are then kept)."""

    queryset = SupportLevel.objects.select_related("plan").prefetch_related("parties", "roles")
    serializer_class = SupportLevelSerializer
    filterset_class = PlanSlugFilter.for_model(SupportLevel)
    ordering_fields = ["number"]
    http_method_names = ["get", "patch", "put", "head", "options"]

    def perform_update(self, serializer):
        services.support_level_update(level=serializer.instance, **serializer.validated_data)


class SupportModelViewSet(ScopedReadOnlyViewSet):
    queryset = SupportModel.objects.select_related("plan").order_by("plan__name")
    serializer_class = SupportModelSerializer
    filterset_class = PlanSlugFilter.for_model(SupportModel)

    @extend_schema(request=ChooseModelSerializer, responses={200: TemplateResultSerializer})
    @action(detail=False, methods=["post"])
    def choose(self, request):
        """Sets the model and proposes its five levels; edited levels are kept unless overwrite_edited."""
        serializer = ChooseModelSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        model, result = services.support_model_choose(plan=plan, **data)
        body = {"model": model, **result.__dict__}
        return Response(TemplateResultSerializer(body, context=self.get_serializer_context()).data)

    @extend_schema(request=RecommendInputSerializer, responses={200: RecommendationSerializer})
    @action(detail=False, methods=["post"])
    def recommend(self, request):
        """Recommends a model from the questionnaire's answers, with reasons. Stores nothing."""
        serializer = RecommendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answers = serializer.validated_data["answers"]
        errors = validate_answers(answers)
        if errors:
            raise exceptions.ValidationError({f"answers.{key}": [message] for key, message in errors.items()})
        recommendation = recommend(answers)
        return Response(RecommendationSerializer(recommendation).data)

    def get_permissions(self):
        # recommend is a calculation over the request body, not a write: any signed-in principal.
        if self.action == "recommend":
            from rest_framework.permissions import IsAuthenticated

            return [IsAuthenticated()]
        return super().get_permissions()
