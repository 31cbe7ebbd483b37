"""REST endpoints of the breach calculator (``POST /api/v1/sla/breach/``) and the plan's gap checks
(``GET /api/v1/sla/gaps/?plan=<slug>``)."""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from operations.breach import breach_calculate
from operations.gaps import SEVERITIES, plan_gaps
from operations.models import Impact, RequestType, ServiceCalendar, SlaMetric, SlaPhase, Urgency
from supportplan.api import ScopedAPIMixin
from supportplan.models import Location, SupportPlan
from supportplan.serializers import VisiblePlanField, VisibleRelatedField


def register(router) -> None:
    router.register("sla/breach", BreachViewSet, basename="slabreach")
    router.register("sla/gaps", GapViewSet, basename="slagap")


# --- Request --------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 date-time with its UTC offset. A naive one is refused, not read as UTC: it could be
    any of several instants, and guessing is how deadlines end up an hour out."""

    validates_value_only = True  # FastCopySerializer may validate with an unbound field (no context)

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time, e.g. 2027-03-26T15:00:00+00:00.",
        "naive": "Give the start with its UTC offset (e.g. 2027-03-26T15:00:00+00:00 or …Z): a local time "
        "without one could be any of several instants.",
    }

    def to_internal_value(self, data) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None:
            self.fail("naive")
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.INT)
class VisibleIdField(VisibleRelatedField):
    """An id among the rows the requester may see (typed for the schema)."""


class BreachRequestSerializer(serializers.Serializer):
    plan = VisiblePlanField(help_text="The plan's slug.")
    start = AwareDateTimeField(help_text="When the request was logged: ISO 8601 with its UTC offset.")
    priority = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="A priority code, e.g. P2 (or give impact and urgency).",
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    location = VisibleIdField(
        model=Location,
        required=False,
        allow_null=True,
        help_text="Id of a location of the plan: deadlines are shown in its time zone.",
    )
    calendar = VisibleIdField(
        model=ServiceCalendar,
        required=False,
        allow_null=True,
        help_text="Id of a calendar to run every clock on (default: each target's own calendar).",
    )
    request_type = serializers.ChoiceField(choices=RequestType.choices, required=False, allow_blank=True)
    support_level = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=5, help_text="A support level number, 1–5."
    )


# --- Response -------------------------------------------------------------------------------
class PriorityBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PolicyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phase = serializers.ChoiceField(choices=SlaPhase.choices)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class CalendarBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class SegmentSerializer(serializers.Serializer):
    start_utc = serializers.CharField(help_text="ISO 8601, +00:00.")
    end_utc = serializers.CharField()
    start_local = serializers.CharField(help_text="ISO 8601 with the display zone's offset.")
    end_local = serializers.CharField()
    minutes = serializers.FloatField()


class SkippedHolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()
    calendar = serializers.CharField()


class DstChangeSerializer(serializers.Serializer):
    at_utc = serializers.CharField(help_text="The instant the offset changes, ISO 8601 UTC.")
    zone = serializers.CharField()
    direction = serializers.ChoiceField(choices=[("forward", "forward"), ("back", "back")])
    wall_clock_before = serializers.CharField(help_text="Local wall-clock time the clocks jump from.")
    wall_clock_after = serializers.CharField(help_text="Local wall-clock time the clocks jump to.")
    description = serializers.CharField()


class TargetDeadlineSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="The SLA target's id.")
    metric = serializers.ChoiceField(choices=SlaMetric.choices)
    minutes = serializers.IntegerField(help_text="Business minutes allowed on the calendar.")
    request_type = serializers.CharField()
    support_level = serializers.IntegerField(allow_null=True)
    calendar = CalendarBriefSerializer()
    deadline_utc = serializers.CharField(help_text="ISO 8601, +00:00.")
    deadline_local = serializers.CharField(help_text="ISO 8601 with the display zone's offset.")
    segments = SegmentSerializer(many=True, help_text="The open time counted, in order.")
    segments_omitted = serializers.IntegerField(help_text="Segments left out of a very long list.")
    holidays = SkippedHolidaySerializer(many=True, help_text="Holidays that closed the calendar's hours.")
    dst_changes = DstChangeSerializer(
        many=True, help_text="Offset changes of the display and calendar zones."
    )


class BreachResultSerializer(serializers.Serializer):
    plan = serializers.CharField()
    start_utc = serializers.CharField()
    start_local = serializers.CharField()
    display_zone = serializers.CharField()
    priority = PriorityBriefSerializer()
    policy = PolicyBriefSerializer()
    location = serializers.IntegerField(allow_null=True)
    calendar = serializers.IntegerField(allow_null=True)
    request_type = serializers.CharField()
    support_level = serializers.IntegerField(allow_null=True)
    targets = TargetDeadlineSerializer(many=True)


class BreachViewSet(ScopedAPIMixin, viewsets.ViewSet):
    """“When does it breach?”: each SLA target's deadline for a request logged at ``start``."""

    def get_permissions(self):
        # A POST here is a calculation, not a write: it stores nothing, and reads only what the
        # requester may read (the plan and its objects are chosen among the visible ones). So any
        # authenticated principal may call it, read-only API keys included; PlanAccessPermission's
        # method-based write check is left out on purpose.
        return [permissions.IsAuthenticated()]

    @extend_schema(
        request=BreachRequestSerializer,
        responses={200: BreachResultSerializer},
        description="Give `priority` or `impact` + `urgency`, and `location` or `calendar`. Every invalid "
        "input is a 400 with field messages.",
    )
    def create(self, request, *args, **kwargs):
        serializer = BreachRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        result = breach_calculate(
            plan=data.pop("plan"),
            start=data.pop("start"),
            priority=data.pop("priority", None) or None,
            **data,
        )
        return Response(BreachResultSerializer(result.as_dict()).data)


# --- Gaps -----------------------------------------------------------------------------------
class GapQuerySerializer(serializers.Serializer):
    plan = VisiblePlanField(help_text="The plan's slug.")


class GapObjectSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="e.g. sla_target, service_calendar, party, agreement, location.")
    id = serializers.IntegerField()
    label = serializers.CharField()
    url = serializers.CharField(help_text="The page to fix it on, or empty.")


class GapSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=[(severity, severity) for severity in SEVERITIES])
    message = serializers.CharField()
    objects = GapObjectSerializer(many=True)


class GapViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """The plan's gaps, most severe first (partners: 403 — gaps expose the whole support model)."""

    queryset = SupportPlan.objects.all()
    serializer_class = GapSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", OpenApiTypes.STR, required=True, description="The plan's slug.")
        ],
        responses={200: GapSerializer(many=True)},
    )
    def list(self, request, *args, **kwargs):
        query = GapQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        gaps = [gap.as_dict() for gap in plan_gaps(user=request.user, plan=query.validated_data["plan"])]
        page = self.paginate_queryset(gaps)
        return self.get_paginated_response(GapSerializer(page, many=True).data)
