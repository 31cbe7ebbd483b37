from __future__ import annotations

from rest_framework import serializers

from models_catalog.models import (
    Agreement,
    AgreementCommitment,
    ModelKind,
    Party,
    Person,
    Role,
    SupportLevel,
    SupportModel,
)
from models_catalog.recommendation import QUESTIONS
from supportplan.models import Location
from supportplan.serializers import VisiblePlanField, VisibleRelatedField


class PartySerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()

    class Meta:
        model = Party
        fields = [
            "id",
            "plan",
            "name",
            "kind",
            "contact_name",
            "contact_email",
            "contact_phone",
            "contact_hours",
            "helpdesk_system",
            "reference_pattern",
            "escalation_contact_name",
            "escalation_contact_email",
            "escalation_contact_phone",
            "anonymised_data_only",
            "notes",
        ]
        validators = []


class CommitmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementCommitment
        fields = ["priority", "response_minutes", "resolution_minutes", "business_hours_only"]


class AgreementSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    party = VisibleRelatedField(model=Party)
    commitments = CommitmentSerializer(many=True, required=False)
    hours_remaining = serializers.DecimalField(
        max_digits=10, decimal_places=1, read_only=True, allow_null=True
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "plan",
            "party",
            "name",
            "kind",
            "starts_on",
            "ends_on",
            "renewal_date",
            "budget_hours",
            "hours_used",
            "hours_remaining",
            "follows_microsoft_release_cadence",
            "commitments",
            "notes",
        ]


class RoleSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    is_from_guide = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = ["id", "plan", "name", "description", "is_from_guide"]
        validators = []

    def get_is_from_guide(self, role: Role) -> bool:
        return bool(role.seed_key)


class PersonSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    party = VisibleRelatedField(model=Party, allow_null=True, required=False)
    location = VisibleRelatedField(model=Location, allow_null=True, required=False)
    roles = VisibleRelatedField(model=Role, many=True, required=False)
    levels = VisibleRelatedField(model=SupportLevel, many=True, required=False)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3), required=False, max_length=30
    )
    skills = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=50)

    class Meta:
        model = Person
        fields = [
            "id",
            "plan",
            "name",
            "email",
            "party",
            "roles",
            "levels",
            "location",
            "languages",
            "skills",
            "allocation_percent",
            "working_hours",
            "weekly_contract_hours",
            "super_user_formalised",
            "super_user_objectives",
        ]


class SupportLevelSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parties = VisibleRelatedField(model=Party, many=True, required=False)
    roles = VisibleRelatedField(model=Role, many=True, required=False)

    class Meta:
        model = SupportLevel
        fields = [
            "id",
            "plan",
            "number",
            "name",
            "description",
            "entry_criteria",
            "handoff_criteria",
            "parties",
            "roles",
            "template_kind",
            "edited",
        ]
        read_only_fields = ["number", "template_kind", "edited"]


class SupportModelSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SupportModel
        fields = ["id", "plan", "kind", "centre_of_excellence", "rationale", "answers", "updated_at"]


class ChooseModelSerializer(serializers.Serializer):
    plan = VisiblePlanField()
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    centre_of_excellence = serializers.BooleanField(default=False)
    rationale = serializers.CharField(allow_blank=True, required=False, default="", max_length=10_000)
    overwrite_edited = serializers.BooleanField(
        default=False, help_text="Replace levels a person edited with the template (the UI asks first)."
    )


class TemplateResultSerializer(serializers.Serializer):
    model = SupportModelSerializer()
    created = serializers.ListField(child=serializers.IntegerField())
    updated = serializers.ListField(child=serializers.IntegerField())
    kept_edited = serializers.ListField(child=serializers.IntegerField())


class RecommendInputSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(max_length=40),
        help_text="Question key → answer value; keys: " + ", ".join(question.key for question in QUESTIONS),
    )


class RecommendationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    scores = serializers.DictField(child=serializers.IntegerField())
    reasons = serializers.ListField(child=serializers.CharField())
    centre_of_excellence = serializers.BooleanField()
    unanswered = serializers.ListField(child=serializers.CharField())
