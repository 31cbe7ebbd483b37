"""REST endpoints for the iCalendar feed tokens (``/api/v1/feed-tokens/``).

List: the plan feed and my personal feeds (leads: every feed of their plans), active ones, by prefix
only. POST creates a feed URL (and revokes the feed's previous one: that is rotation); the
response carries the URL once. ``POST {id}/revoke/`` stops a URL. Leads manage the plan feed and
anyone's personal feed; a person manages their own; API keys never write (feed_services decides).
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.models import Person
from operations import feed_services
from operations.models import FeedScope, FeedToken
from supportplan import access
from supportplan.api import ScopedAPIMixin
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField, username_field


@extend_schema_field(
    {"type": "string", "pattern": "^(plan|person)$", "description": "`plan` (whole plan) or `person`."}
)
class FeedScopeField(serializers.ChoiceField):
    """The feed's scope. Described by a pattern, not an enum: an API key's ``scope`` enum (other
    values) would collide in the schema's component names."""

    def __init__(self, **kwargs):
        super().__init__(choices=FeedScope.choices, **kwargs)


class FeedTokenSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    person = VisibleRelatedField(model=Person, required=False, allow_null=True)
    scope = FeedScopeField()
    created_by = username_field("Username of who made the link; null if that user was deleted.")

    class Meta:
        model = FeedToken
        fields = [
            "id",
            "plan",
            "scope",
            "person",
            "prefix",
            "created_by",
            "created_at",
            "last_fetched_at",
            "revoked_at",
        ]
        read_only_fields = ["prefix", "created_at", "last_fetched_at", "revoked_at"]
        validators = []  # one active feed per plan / person is the service's job (it rotates)


class FeedTokenCreatedSerializer(FeedTokenSerializer):
    url = serializers.URLField(
        read_only=True, help_text="The secret subscription URL, shown only in this answer."
    )

    class Meta(FeedTokenSerializer.Meta):
        fields = [*FeedTokenSerializer.Meta.fields, "url"]


class FeedTokenViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = FeedToken.objects.filter(revoked_at__isnull=True).select_related(
        "plan", "person", "created_by"
    )
    serializer_class = FeedTokenSerializer
    write_access = "configure"  # API keys never manage feeds; for users the service decides

    def get_queryset(self):
        tokens = super().get_queryset()
        user = self.request.user
        if access.is_api_key(user) or user.is_superuser:
            return tokens
        lead_plans = SupportPlan.objects.configurable_by(user)
        return tokens.filter(Q(plan__in=lead_plans) | Q(scope=FeedScope.PLAN) | Q(person__user=user))

    def may_write(self, plan) -> bool:
        return not access.is_api_key(self.request.user)

    @extend_schema(request=FeedTokenSerializer, responses={201: FeedTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, raw = feed_services.feed_token_create(
            plan=data["plan"], scope=data["scope"], person=data.get("person"), actor=request.user
        )
        token.url = request.build_absolute_uri(reverse("maintenance-feed", args=[raw]))
        return Response(
            FeedTokenCreatedSerializer(token, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=FeedTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        feed_services.feed_token_revoke(token=token, actor=request.user)
        return Response(self.get_serializer(token).data)


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
    router.register("feed-tokens", FeedTokenViewSet, basename="feedtoken")
