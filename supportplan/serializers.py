from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from models_catalog.models import Party
from supportplan.models import ApiKey, Location, Membership, PlanRole, Product, SupportPlan

#: A time of day as DRF reads and writes it: hours and minutes, seconds and a fraction optional.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class TimeOfDayFieldExtension(OpenApiSerializerFieldExtension):
    """Every ``TimeField`` of the API is a wall-clock time in a named zone (the task's, the user's),
    without an offset. OpenAPI's ``format: time`` is RFC 3339's full-time, whose offset is required:
    a client validating against it rejects our "07:30:00". So the schema gives the pattern instead."""

    target_class = "rest_framework.fields.TimeField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": TIME_OF_DAY_PATTERN, "example": "07:30"}


def username_field(help_text: str, *, nullable: bool = True) -> serializers.SlugRelatedField:
    """A user shown read-only by username. Nullable unless said otherwise: such a column is empty
    until something happens (signed off, decided, ended) or set null when the user is deleted, and
    a schema without ``nullable`` makes every client that validates answers refuse the null."""
    return serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=nullable, help_text=help_text
    )


@extend_schema_field(OpenApiTypes.STR)
class VisiblePlanField(serializers.SlugRelatedField):
    """A plan named by its slug, chosen among the plans the requester may see (others: 'does not exist')."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        super().__init__(**kwargs)

    def get_queryset(self):
        return SupportPlan.objects.for_user(self.context["request"].user)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the rows of ``model`` the requester may see; others read as 'does not exist'.

    Services check that related rows belong to the same plan as the record.
    """

    def __init__(self, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.context["request"].user)


class PlanSerializer(serializers.ModelSerializer):
    products = serializers.ListField(
        child=serializers.ChoiceField(choices=Product.choices), allow_empty=False, max_length=len(Product)
    )
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = SupportPlan
        fields = [
            "slug",
            "name",
            "products",
            "phase",
            "go_live_date",
            "hypercare_start",
            "hypercare_end",
            "description",
            "my_role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_my_role(self, plan: SupportPlan) -> str | None:
        """From the list's annotation (one query for all rows), else looked up for this plan."""
        if hasattr(plan, "my_role"):
            return plan.my_role
        from supportplan.access import role_in

        return role_in(self.context["request"].user, plan)


class LocationSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3), required=False, max_length=50
    )

    class Meta:
        model = Location
        fields = ["id", "plan", "name", "country", "subdivision", "timezone", "languages", "user_count"]


class MembershipSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    role = serializers.ChoiceField(choices=PlanRole.choices)
    organisation = VisibleRelatedField(
        model=Party, allow_null=True, required=False, help_text="For partners: the party they belong to."
    )

    class Meta:
        model = Membership
        fields = ["id", "plan", "user", "role", "organisation", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # uniqueness is the service's check, with a clearer message


class MembershipRoleSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=PlanRole.choices)
    organisation = VisibleRelatedField(model=Party, allow_null=True, required=False)

    class Meta:
        model = Membership
        fields = ["role", "organisation"]


class ApiKeySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    created_by = username_field("Username of who made the key; null if that user was deleted.")
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "plan",
            "name",
            "prefix",
            "scope",
            "is_active",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown this once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["name"]
