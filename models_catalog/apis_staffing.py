"""REST endpoints of the staffing plan: profiles (``/api/v1/staffing-profiles/``) with their week's
plan, and the Erlang C calculator (``/api/v1/staffing/calculate/``)."""

from __future__ import annotations

import math
import re
from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from models_catalog import staffing_plan as plans
from models_catalog.filters import PlanSlugFilter
from models_catalog.models import StaffingProfile, SupportLevel
from models_catalog.staffing import required_agents, required_agents_for_week
from supportplan.api import ScopedAPIMixin, ScopedModelViewSet, validated_without_plan
from supportplan.models import Location
from supportplan.serializers import VisiblePlanField, VisibleRelatedField

#: Most values one calculation may hold, and the most traffic (Erlangs, summed over the distinct
#: values) it may ask for: one Erlang C search costs about one step per Erlang, so this bounds a
#: request to a fraction of a second of CPU.
MAX_CALCULATION_VALUES = 10_000
MAX_CALCULATION_ERLANGS = 1_000_000


# --- Profiles -------------------------------------------------------------------------------
class StaffingProfileFilter(PlanSlugFilter):
    level = django_filters.NumberFilter(field_name="level__number")
    language = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = StaffingProfile
        fields = ["plan", "level", "language", "source"]


class StaffingProfileSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    level = VisibleRelatedField(model=SupportLevel, help_text="Id of a support level of the same plan.")
    level_number = serializers.IntegerField(source="level.number", read_only=True)
    location = VisibleRelatedField(
        model=Location, required=False, allow_null=True, help_text="Id of a location of the same plan."
    )
    language = serializers.CharField(max_length=3, required=False, allow_blank=True, help_text="ISO 639-1.")
    requests_per_hour = serializers.ListField(
        child=serializers.FloatField(min_value=0),
        max_length=plans.HOURS_PER_WEEK,
        required=False,
        help_text="168 numbers, Monday 00:00 … Sunday 23:00 local to `timezone`, when `source` is entered.",
    )
    hourly_shape = serializers.ChoiceField(choices=plans.SHAPE_CHOICES, required=False)
    # Declared: the model's MaxValueValidator(0.99) is a float, which DRF's DecimalField warns about.
    shrinkage = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        required=False,
        help_text="Share of paid time not spent on requests, [0, 1), e.g. 0.3.",
    )

    class Meta:
        model = StaffingProfile
        fields = [
            "id",
            "plan",
            "name",
            "level",
            "level_number",
            "location",
            "language",
            "timezone",
            "source",
            "requests_per_hour",
            "users",
            "requests_per_user_per_month",
            "hourly_shape",
            "handle_time_seconds",
            "service_level",
            "answer_within_seconds",
            "max_occupancy",
            "shrinkage",
            "weekly_contract_hours",
        ]
        validators = []  # (plan, name) uniqueness is the service's check, with a message on `name`


class StaffingHourSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 = Monday … 6 = Sunday.")
    hour = serializers.IntegerField(help_text="Local wall-clock hour, 0–23, in the profile's zone.")
    label = serializers.CharField()
    starts_at = serializers.DateTimeField(help_text="UTC.")
    length_hours = serializers.FloatField(help_text="0 for the hour the clocks skip, 2 for the one repeated.")
    arrivals_per_hour = serializers.FloatField()
    agents_needed = serializers.IntegerField()
    scheduled = serializers.FloatField(help_text="People on duty, weighted by allocation.")
    shortfall = serializers.FloatField()
    service_level = serializers.FloatField(allow_null=True)
    occupancy = serializers.FloatField(allow_null=True)
    average_speed_of_answer = serializers.FloatField(allow_null=True, help_text="Seconds.")


class ProfilePlanSerializer(serializers.Serializer):
    profile = serializers.IntegerField()
    name = serializers.CharField()
    week_start = serializers.DateField(help_text="Monday of the week, local to the profile's zone.")
    timezone = serializers.CharField()
    fte_needed = serializers.FloatField()
    fte_available = serializers.FloatField()
    fte_short = serializers.FloatField()
    people = serializers.ListField(child=serializers.CharField(), help_text="People counted as available.")
    gaps = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(allow_null=True)
    hours = StaffingHourSerializer(many=True)


class WeekQuerySerializer(serializers.Serializer):
    week = serializers.DateField(required=False, help_text="Any day of the week; default: next week.")

    def validate_week(self, value):
        problem = plans.week_start_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


def profile_plan_data(plan: plans.ProfilePlan) -> dict[str, Any]:
    hours = []
    for index in range(plans.HOURS_PER_WEEK):
        result = plan.results[index] if plan.results else None
        hours.append(
            {
                "weekday": index // 24,
                "hour": index % 24,
                "label": plan.hour_label(index),
                "starts_at": plan.hour_starts[index],
                "length_hours": plan.hour_lengths[index],
                "arrivals_per_hour": plan.arrivals[index],
                "agents_needed": plan.needed[index],
                "scheduled": plan.scheduled[index],
                "shortfall": round(plan.shortfall(index), 3),
                "service_level": result.service_level if result else None,
                "occupancy": result.occupancy if result else None,
                "average_speed_of_answer": result.average_speed_of_answer if result else None,
            }
        )
    return {
        "profile": plan.profile.pk,
        "name": plan.profile.name,
        "week_start": plan.week_start,
        "timezone": plan.timezone,
        "fte_needed": round(plan.fte_needed, 2),
        "fte_available": round(plan.fte_available, 2),
        "fte_short": round(plan.fte_short, 1),
        "people": [person.name for person in plan.people],
        "gaps": plan.gaps,
        "error": plan.error,
        "hours": hours,
    }


class StaffingProfileViewSet(ScopedModelViewSet):
    """Staffing profiles: demand on one support level (optionally one location or language)."""

    queryset = StaffingProfile.objects.select_related("plan", "level", "location")
    serializer_class = StaffingProfileSerializer
    filterset_class = StaffingProfileFilter
    ordering_fields = ["name", "level__number"]
    write_access = "configure"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = plans.staffing_profile_create(plan=plan, **data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        plans.staffing_profile_update(profile=serializer.instance, **data)

    def perform_destroy(self, instance):
        plans.staffing_profile_delete(profile=instance)

    @extend_schema(
        parameters=[OpenApiParameter("week", OpenApiTypes.DATE, description="Any day of the week.")],
        responses={200: ProfilePlanSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def plan(self, request, *args, **kwargs):
        """Agents needed and people scheduled for each hour of a week, FTE and gaps."""
        profile = self.get_object()
        query = WeekQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        week_plan = plans.staffing_plan_for_profile(
            profile=profile, week_start=query.validated_data.get("week")
        )
        return Response(ProfilePlanSerializer(profile_plan_data(week_plan)).data)


# --- The calculator -------------------------------------------------------------------------
def _fraction(name: str, value: float | None, *, low_open: bool, high_open: bool) -> None:
    if value is None:
        return
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not (low_ok and high_ok):
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise serializers.ValidationError({name: [f"Give a fraction in {interval}, e.g. 0.8."]})


class StaffingCalculateSerializer(serializers.Serializer):
    arrivals_per_hour = serializers.FloatField(
        required=False, min_value=0, help_text="Requests offered per hour (give this or `arrivals`)."
    )
    arrivals = serializers.ListField(
        child=serializers.FloatField(min_value=0),
        required=False,
        allow_empty=False,
        max_length=MAX_CALCULATION_VALUES,
        help_text=f"Requests per hour for up to {MAX_CALCULATION_VALUES:,} intervals; one result each.",
    )
    handle_time_seconds = serializers.FloatField(help_text="Average handle time, seconds (> 0).")
    service_level = serializers.FloatField(help_text="Target share answered in time, in (0, 1).")
    answer_within_seconds = serializers.FloatField(min_value=0, help_text="The service level's answer time.")
    max_occupancy = serializers.FloatField(
        required=False, allow_null=True, help_text="Optional cap, in (0, 1]."
    )
    shrinkage = serializers.FloatField(
        required=False, default=0.0, help_text="Share of paid time lost, [0, 1)."
    )

    def validate_handle_time_seconds(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError("Give the handle time in seconds, more than 0.")
        return value

    def validate(self, attrs: dict) -> dict:
        if ("arrivals_per_hour" in attrs) == ("arrivals" in attrs):
            message = "Give either `arrivals_per_hour` (one number) or `arrivals` (a list), not both."
            if "arrivals_per_hour" not in attrs:
                message = "Give `arrivals_per_hour` (one number) or `arrivals` (a list of numbers)."
            raise serializers.ValidationError({"arrivals_per_hour": [message]})
        _fraction("service_level", attrs["service_level"], low_open=True, high_open=True)
        _fraction("max_occupancy", attrs.get("max_occupancy"), low_open=True, high_open=False)
        _fraction("shrinkage", attrs.get("shrinkage"), low_open=False, high_open=True)
        if "arrivals" in attrs:
            traffic = math.fsum(set(attrs["arrivals"])) * attrs["handle_time_seconds"] / 3600
            if traffic > MAX_CALCULATION_ERLANGS:
                raise serializers.ValidationError(
                    {
                        "arrivals": [
                            f"Together these intervals need {traffic:,.0f} Erlangs of searching; "
                            f"split the request (at most {MAX_CALCULATION_ERLANGS:,} per call)."
                        ]
                    }
                )
        return attrs


class StaffingResultSerializer(serializers.Serializer):
    arrivals_per_hour = serializers.FloatField()
    agents = serializers.IntegerField(help_text="Agents taking requests (before shrinkage).")
    service_level = serializers.FloatField(help_text="Achieved share answered in time.")
    occupancy = serializers.FloatField()
    average_speed_of_answer = serializers.FloatField(help_text="Seconds.")
    scheduled_staff = serializers.IntegerField(help_text="ceil(agents / (1 − shrinkage)).")


class StaffingResultListSerializer(serializers.Serializer):
    results = StaffingResultSerializer(many=True, help_text="One result per value of `arrivals`, in order.")


_NAMED_FIELD = re.compile(r"^(\w+)")


def _as_field_error(error: ValueError, *, listed: bool) -> exceptions.ValidationError:
    """staffing.py's ValueError starts with the argument it is about; name that field."""
    match = _NAMED_FIELD.match(str(error))
    name = match.group(1) if match else "non_field_errors"
    if name == "arrivals_per_hour" and listed:
        name = "arrivals"
    if name not in StaffingCalculateSerializer().fields:
        name = "non_field_errors"
    return exceptions.ValidationError({name: [str(error)]})


class StaffingCalculateView(ScopedAPIMixin, APIView):
    """Erlang C: the agents a queue needs to meet a service level. Reads no plan data."""

    write_access = "integration"

    def get_permissions(self):
        # A POST here is a calculation, not a write: it reads and stores nothing of any plan, so any
        # authenticated principal may call it, a read-only API key included. The method-based write
        # check of PlanAccessPermission is therefore left out on purpose.
        return [permissions.IsAuthenticated()]

    @extend_schema(
        request=StaffingCalculateSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="StaffingCalculation",
                serializers=[StaffingResultSerializer, StaffingResultListSerializer],
                resource_type_field_name=None,
            )
        },
        description='One result for `arrivals_per_hour`; `{"results": [...]}` for a list of `arrivals`.',
    )
    def post(self, request, *args, **kwargs):
        serializer = StaffingCalculateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        listed = "arrivals" in data
        arrivals = data.pop("arrivals") if listed else [data.pop("arrivals_per_hour")]
        try:
            if listed:
                results = required_agents_for_week(arrivals, **data)
            else:
                results = [required_agents(arrivals_per_hour=arrivals[0], **data)]
        except ValueError as error:
            raise _as_field_error(error, listed=listed) from None
        body = [
            {
                "arrivals_per_hour": value,
                "agents": result.agents,
                "service_level": result.service_level,
                "occupancy": result.occupancy,
                "average_speed_of_answer": result.average_speed_of_answer,
                "scheduled_staff": result.scheduled_staff,
            }
            for value, result in zip(arrivals, results, strict=True)
        ]
        if listed:
            return Response(StaffingResultListSerializer({"results": body}).data)
        return Response(StaffingResultSerializer(body[0]).data)
