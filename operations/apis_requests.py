"""The helpdesk ingestion and read API: support requests, their events, status mappings, references.

- ``POST /api/v1/requests/`` creates or updates a request by (``source_system``, ``source_id``).
- ``POST /api/v1/requests/{id}/events/`` and
  ``POST /api/v1/requests/by-reference/{system}/{reference}/events/`` record what happened in the
  helpdesk, with its ``occurred_at``; events may arrive in any order.
- Writes are idempotent with an ``Idempotency-Key`` header (or, for events, the helpdesk's own
  ``source_event_id``): a replay returns the original response with ``Idempotent-Replayed: true``;
  the same key with a different body is 422. Bodies above :data:`MAX_BODY_BYTES` are 413.
- ``GET /api/v1/requests/`` filters on stored, indexed columns and pages with a cursor ordered by
  (``-updated_at``, ``-id``): a helpdesk polls with ``updated_since`` and follows ``next``.

Who writes: read-write API keys of the plan and leads create and update requests; team members may
also record events (they work the requests). Partners read the requests their organisation holds or
held, with the anonymised description when their party may see anonymised data only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, pagination, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from models_catalog.filters import PlanSlugFilter
from models_catalog.models import Party, SupportLevel
from operations.apis_breach import AwareDateTimeField
from operations.helpdesk import idempotency, selectors, services
from operations.models import (
    ClockEffect,
    Impact,
    Priority,
    RequestEvent,
    RequestEventKind,
    RequestReference,
    RequestType,
    SlaClock,
    StatusMapping,
    SupportRequest,
    Urgency,
)
from operations.statuses import RequestStatus
from supportplan.access import is_api_key
from supportplan.api import ScopedAPIMixin, ScopedModelViewSet, ScopedReadOnlyViewSet, validated_without_plan
from supportplan.models import ApiKey, SupportPlan
from supportplan.serializer_base import FastCopySerializer
from supportplan.serializers import VisiblePlanField, VisibleRelatedField

#: Ingestion bodies are small; anything bigger is a mistake or an attack (413 before parsing).
MAX_BODY_BYTES = 256 * 1024
MAX_TEXT = 60_000
#: The largest id a bigint primary key holds (a longer one in the URL is simply not found).
MAX_ID = 2**63 - 1
#: Event kinds a helpdesk may send; "created" and "escalated" are written by us.
INCOMING_KINDS = [
    (value, label)
    for value, label in RequestEventKind.choices
    if value not in {RequestEventKind.CREATED, RequestEventKind.ESCALATED}
]
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (≤ 200 printable ASCII characters), kept 72 hours: a retry with the "
    "same key and body returns the original response; a different body is 422.",
)


# --- Errors ---------------------------------------------------------------------------------
class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request (method, request or body). "
        "Use a new key for a new write."
    )


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "Invalid fields (messages per field); nothing was stored.",
        403: "Your role or key may not write here.",
        404: "No such request in the plans you may see.",
        413: "The body is larger than 256 KiB.",
        422: "The Idempotency-Key was used before with a different body.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


# --- Fields ---------------------------------------------------------------------------------
class UtcDateTimeField(AwareDateTimeField):
    """An ISO 8601 instant with its offset (naive ones are refused), stored and returned in UTC."""

    def to_internal_value(self, data) -> datetime:
        return super().to_internal_value(data).astimezone(UTC)

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


STATUS_PATTERN = f"^({'|'.join(RequestStatus.values)})$"


@extend_schema_field({"type": "string", "pattern": STATUS_PATTERN})
class RequestStatusField(serializers.ChoiceField):
    """One of our statuses. Documented as a pattern, not an enum: the SLA policies' pause statuses
    already name this choice set in the schema, and a second name for it is a schema warning."""

    def __init__(self, **kwargs):
        super().__init__(choices=RequestStatus.choices, **kwargs)


@extend_schema_field({"type": "string", "pattern": f"^(|{'|'.join(RequestStatus.values)})$"})
class StatusOrBlankField(serializers.CharField):
    """A stored status that may be blank (events that do not change it)."""


@extend_schema_field({"type": "string", "pattern": "^(|hypercare|steady_state)$"})
class PhaseOrBlankField(serializers.CharField):
    """hypercare, steady_state, or blank when no policy applied."""


def blank_or(choices, **kwargs) -> serializers.CharField:
    """A read-only stored choice that may be blank, documented as a pattern (an enum would not
    admit the blank, and the choice sets already have their enum components)."""
    pattern = f"^(|{'|'.join(value for value in choices.values if value)})$"
    field_class = extend_schema_field({"type": "string", "pattern": pattern})(
        type(f"{choices.__name__}OrBlankField", (serializers.CharField,), {})
    )
    return field_class(read_only=True, **kwargs)


class PartySummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReferenceSerializer(serializers.ModelSerializer):
    party = serializers.IntegerField(source="party_id", allow_null=True, read_only=True)

    class Meta:
        model = RequestReference
        fields = ["system", "reference", "party"]


class ReferenceInputSerializer(serializers.Serializer):
    system = serializers.CharField(max_length=60, help_text="e.g. servicenow, partner, isv, microsoft.")
    reference = serializers.CharField(max_length=120)
    party = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of the party whose reference this is (checked against its reference pattern).",
    )


# --- Writes: the upsert and an event --------------------------------------------------------
class RequestUpsertSerializer(FastCopySerializer):
    """What a helpdesk sends to create or update a request. Omitted fields are left as they are."""

    plan = VisiblePlanField(
        required=False, help_text="The plan's slug; optional with an API key (its own plan)."
    )
    source_system = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text="Your helpdesk, e.g. servicenow."
    )
    source_id = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="The request's id in your helpdesk; with source_system, the key of the upsert.",
    )
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    description_anonymised = serializers.CharField(
        max_length=MAX_TEXT,
        required=False,
        allow_blank=True,
        help_text="Shown instead of the description to parties that may see anonymised data only.",
    )
    request_type = serializers.ChoiceField(choices=RequestType.choices, required=False)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_blank=True)
    priority = serializers.CharField(
        max_length=10, required=False, allow_blank=True, help_text="A priority code of the plan, e.g. P2."
    )
    status = serializers.CharField(
        max_length=80,
        required=False,
        help_text="Your helpdesk's status name (mapped through your key's status mappings) or ours.",
    )
    level = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, help_text="Support level number."
    )
    party = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Id of the party holding it."
    )
    location = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    scope_item = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    reported_at = UtcDateTimeField(
        required=False, help_text="When your helpdesk logged it: ISO 8601 with offset. Required to create."
    )
    occurred_at = UtcDateTimeField(
        required=False,
        help_text="For an update: when your helpdesk made the change (ISO 8601 with offset; default now).",
    )
    actor_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    needed_hypercare_resources = serializers.BooleanField(required=False)
    has_action_plan = serializers.BooleanField(required=False, help_text="For open P1s during hypercare.")
    references = ReferenceInputSerializer(many=True, required=False, max_length=20)


class EventInputSerializer(FastCopySerializer):
    """What a helpdesk sends for one event (every event write builds one)."""

    kind = serializers.ChoiceField(choices=INCOMING_KINDS)
    occurred_at = UtcDateTimeField(
        help_text="When it happened in your helpdesk: ISO 8601 with offset, at most a day ahead."
    )
    source_event_id = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="Your own event id: stored once per request (a replay returns the original response).",
    )
    status = serializers.CharField(
        max_length=80, required=False, help_text="status_changed: your status name or ours."
    )
    priority = serializers.CharField(max_length=10, required=False, help_text="priority_changed: a code.")
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    level = serializers.IntegerField(min_value=1, max_value=5, required=False, help_text="handed_off.")
    party = serializers.IntegerField(min_value=1, required=False, help_text="handed_off: the party's id.")
    reference_system = serializers.CharField(max_length=60, required=False)
    reference = serializers.CharField(
        max_length=120, required=False, help_text="handed_off: the receiving party's reference."
    )
    body = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    actor_name = serializers.CharField(max_length=120, required=False, allow_blank=True)


UPSERT_EXAMPLE = OpenApiExample(
    "A ServiceNow incident",
    request_only=True,
    value={
        "source_system": "servicenow",
        "source_id": "INC0012345",
        "title": "Warehouse cannot post picking lists",
        "description": "Since 09:10 every picking list fails to post in WH-02.",
        "request_type": "incident",
        "impact": "high",
        "urgency": "high",
        "status": "New",
        "level": 2,
        "reported_at": "2027-04-12T09:14:00+01:00",
        "references": [{"system": "servicenow", "reference": "INC0012345"}],
    },
)
EVENT_EXAMPLES = [
    OpenApiExample(
        "Handed off to the partner",
        request_only=True,
        value={
            "kind": "handed_off",
            "occurred_at": "2027-04-12T10:02:00Z",
            "source_event_id": "sys-7f3a9c",
            "level": 3,
            "party": 12,
            "reference_system": "partner",
            "reference": "PRT-4411",
            "body": "Posting engine error, needs the partner.",
        },
    ),
    OpenApiExample(
        "Waiting for the caller",
        request_only=True,
        value={"kind": "status_changed", "occurred_at": "2027-04-12T11:30:00Z", "status": "Pending Caller"},
    ),
]


# --- Reads ----------------------------------------------------------------------------------
class RequestSerializer(serializers.ModelSerializer):
    """A request as lists show it. Reads annotations the viewset adds (``plan_slug``,
    ``priority_code``, ``level_number``, ``party_name``) and the references it attaches per page,
    so a page of 50 costs no model instance per related row."""

    plan = serializers.CharField(source="plan_slug", read_only=True, help_text="The plan's slug.")
    priority = serializers.CharField(source="priority_code", allow_null=True, read_only=True)
    level = serializers.IntegerField(source="level_number", allow_null=True, read_only=True)
    party = serializers.SerializerMethodField(help_text="The party holding it: {id, name}, or null.")
    reported_at = UtcDateTimeField(read_only=True)
    first_response_at = UtcDateTimeField(allow_null=True, read_only=True)
    last_public_update_at = UtcDateTimeField(allow_null=True, read_only=True)
    resolved_at = UtcDateTimeField(allow_null=True, read_only=True)
    closed_at = UtcDateTimeField(allow_null=True, read_only=True)
    next_breach_at = UtcDateTimeField(allow_null=True, read_only=True)
    updated_at = UtcDateTimeField(read_only=True)
    status = RequestStatusField(read_only=True)
    impact = blank_or(Impact)
    urgency = blank_or(Urgency)
    phase = PhaseOrBlankField(read_only=True, help_text="The SLA phase in force at creation.")
    sla_state = serializers.CharField(read_only=True, help_text="ok, at_risk or breached (worst clock).")
    references = serializers.SerializerMethodField(help_text="External references, oldest first.")

    @extend_schema_field(PartySummarySerializer(allow_null=True))
    def get_party(self, obj: SupportRequest) -> dict | None:
        if obj.current_party_id is None:
            return None
        return {"id": obj.current_party_id, "name": obj.party_name}

    @extend_schema_field(ReferenceSerializer(many=True))
    def get_references(self, obj: SupportRequest) -> list[dict]:
        rows = getattr(obj, "reference_rows", None)
        return rows if rows is not None else selectors.reference_rows([obj.pk]).get(obj.pk, [])

    class Meta:
        model = SupportRequest
        fields = [
            "id",
            "plan",
            "title",
            "request_type",
            "impact",
            "urgency",
            "priority",
            "status",
            "level",
            "party",
            "source_system",
            "source_id",
            "reported_at",
            "first_response_at",
            "last_public_update_at",
            "resolved_at",
            "closed_at",
            "phase",
            "sla_state",
            "next_breach_at",
            "event_count",
            "references",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: SupportRequest) -> dict:
        # A list page renders 50 of these: DRF's field-by-field walk cost more than the page's
        # queries. The fields above still document it (schema); the detail keeps DRF's walk.
        return request_json(instance, self.get_references(instance))


def request_json(obj: SupportRequest, references: list[dict]) -> dict:
    """``RequestSerializer``'s representation of ``obj`` (the same keys and values, in order), from
    the annotations the viewset adds (``plan_slug``, ``priority_code``, ``level_number``,
    ``party_name``)."""
    level = obj.level_number
    return {
        "id": obj.pk,
        "plan": str(obj.plan_slug),
        "title": str(obj.title),
        "request_type": str(obj.request_type),
        "impact": str(obj.impact),
        "urgency": str(obj.urgency),
        "priority": str(obj.priority_code) if obj.priority_code is not None else None,
        "status": str(obj.status),
        "level": int(level) if level is not None else None,
        "party": None
        if obj.current_party_id is None
        else {"id": obj.current_party_id, "name": obj.party_name},
        "source_system": str(obj.source_system),
        "source_id": str(obj.source_id),
        "reported_at": _utc_iso(obj.reported_at),
        "first_response_at": _utc_iso(obj.first_response_at),
        "last_public_update_at": _utc_iso(obj.last_public_update_at),
        "resolved_at": _utc_iso(obj.resolved_at),
        "closed_at": _utc_iso(obj.closed_at),
        "phase": str(obj.phase),
        "sla_state": str(obj.sla_state),
        "next_breach_at": _utc_iso(obj.next_breach_at),
        "event_count": int(obj.event_count),
        "references": references,
        "updated_at": _utc_iso(obj.updated_at),
    }


class ClockSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.CharField(help_text="first_response, next_update or resolution.")
    level = serializers.IntegerField(allow_null=True, help_text="The level number of a per-level clock.")
    cycle = serializers.IntegerField(help_text="Next-update cycle or pass through the level (0 first).")
    state = serializers.CharField(help_text="running, paused, met, breached or cancelled (as of now).")
    calendar = serializers.CharField(help_text="The calendar it runs on.")
    timezone = serializers.CharField(help_text="The calendar's IANA time zone.")
    target_seconds = serializers.IntegerField(help_text="Business seconds allowed.")
    elapsed_seconds = serializers.IntegerField(help_text="Business seconds used, as of now.")
    remaining_seconds = serializers.IntegerField(help_text="Business seconds left (negative once breached).")
    percent = serializers.FloatField(help_text="Elapsed as a percentage of the target.")
    paused_seconds = serializers.IntegerField(help_text="Wall-clock seconds spent paused.")
    started_at = serializers.CharField(help_text="UTC, ISO 8601.")
    due_at = serializers.CharField(allow_null=True, help_text="The deadline in UTC; null unless running.")
    due_at_local = serializers.CharField(allow_null=True, help_text="The deadline in the calendar's zone.")
    warn_at = serializers.CharField(allow_null=True, help_text="UTC.")
    warn_at_local = serializers.CharField(allow_null=True)
    next_step_at = serializers.CharField(allow_null=True, help_text="The next escalation step, UTC.")
    breached_at = serializers.CharField(allow_null=True, help_text="UTC.")
    stopped_at = serializers.CharField(allow_null=True, help_text="When it was met or cancelled, UTC.")


class TraceEntrySerializer(serializers.Serializer):
    at = serializers.CharField(help_text="When this holder took the request, UTC.")
    until = serializers.CharField(allow_null=True, help_text="The next hand-off; null for the holder now.")
    kind = serializers.CharField(help_text="created, handed_off or escalated.")
    level = serializers.IntegerField(allow_null=True, help_text="Level number.")
    level_name = serializers.CharField(allow_blank=True)
    party = serializers.IntegerField(allow_null=True, help_text="Party id.")
    party_name = serializers.CharField(allow_blank=True)
    reference_system = serializers.CharField(allow_blank=True)
    reference = serializers.CharField(allow_blank=True, help_text="The holder's own reference.")
    actor = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True, help_text="Withheld from partners.")
    held_seconds = serializers.IntegerField(help_text="Business seconds it held the request.")
    wall_seconds = serializers.IntegerField(help_text="Wall-clock seconds it held the request.")
    calendar = serializers.CharField(allow_blank=True, help_text="The calendar the business time is on.")


class HolderTotalSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Party id or level number; null = none.")
    name = serializers.CharField()
    seconds = serializers.IntegerField(help_text="Business seconds held.")


class RequestDetailSerializer(RequestSerializer):
    description = serializers.SerializerMethodField(
        help_text="Anonymised for a partner whose party may see anonymised data only."
    )
    clocks = serializers.SerializerMethodField()
    trace = serializers.SerializerMethodField()
    time_per_party = serializers.SerializerMethodField()
    time_per_level = serializers.SerializerMethodField()

    def to_representation(self, instance: SupportRequest) -> dict:
        # Every upsert answers with one: DRF's field-by-field walk cost more than building it here.
        # The same keys and values in order (the fields above still document it: schema).
        data = {}
        for name, value in request_json(instance, self.get_references(instance)).items():
            data[name] = value
            if name == "title":
                data["description"] = self.get_description(instance)
        data["clocks"] = self.get_clocks(instance)
        data["trace"] = self.get_trace(instance)
        data["time_per_party"] = self.get_time_per_party(instance)
        data["time_per_level"] = self.get_time_per_level(instance)
        return data

    class Meta(RequestSerializer.Meta):
        fields = [
            *RequestSerializer.Meta.fields[:3],
            "description",
            *RequestSerializer.Meta.fields[3:],
            "clocks",
            "trace",
            "time_per_party",
            "time_per_level",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    def get_description(self, obj: SupportRequest) -> str:
        return selectors.request_visible_description(obj, self._viewer())

    def _clocks(self, obj: SupportRequest) -> list[SlaClock]:
        # The clocks and the trace's fallback calendar come from one read of the clocks.
        key = f"_clocks_{obj.pk}"
        if key not in self.context:
            self.context[key] = selectors.request_clocks(obj)
        return self.context[key]

    @extend_schema_field(ClockSerializer(many=True))
    def get_clocks(self, obj: SupportRequest) -> list[dict]:
        now = timezone.now()
        return [_clock_json(clock, selectors.clock_figures(clock, now=now)) for clock in self._clocks(obj)]

    def _trace(self, obj: SupportRequest) -> list[selectors.TraceEntry]:
        # The trace and the totals per holder come from one walk of the events.
        key = f"_trace_{obj.pk}"
        if key not in self.context:
            self.context[key] = selectors.request_trace(
                obj,
                viewer=self._viewer(),
                clocks=self._clocks(obj),
                events=getattr(obj, "written_events", None),
            )
        return self.context[key]

    @extend_schema_field(TraceEntrySerializer(many=True))
    def get_trace(self, obj: SupportRequest) -> list[dict]:
        return [_trace_json(entry) for entry in self._trace(obj)]

    def _totals(self, obj: SupportRequest) -> dict:
        key = f"_totals_{obj.pk}"
        if key not in self.context:
            self.context[key] = selectors.holder_totals(obj, trace=self._trace(obj))
        return self.context[key]

    @extend_schema_field(HolderTotalSerializer(many=True))
    def get_time_per_party(self, obj: SupportRequest) -> list[dict]:
        return [
            {"id": row["party"].pk if row["party"] else None, "name": row["name"], "seconds": row["seconds"]}
            for row in self._totals(obj)["parties"]
        ]

    @extend_schema_field(HolderTotalSerializer(many=True))
    def get_time_per_level(self, obj: SupportRequest) -> list[dict]:
        return [
            {
                "id": row["level"].number if row["level"] else None,
                "name": row["name"],
                "seconds": row["seconds"],
            }
            for row in self._totals(obj)["levels"]
        ]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _instant(figures: dict, name: str, which: str = "utc") -> str | None:
    pair = figures.get(name)
    return _iso(pair[which]) if pair else None


def _clock_json(clock: SlaClock, figures: dict) -> dict:
    return {
        "id": clock.pk,
        "metric": clock.metric,
        "level": clock.level.number if clock.level_id else None,
        "cycle": clock.cycle,
        "state": figures["state"],
        "calendar": figures["calendar"],
        "timezone": figures["timezone"],
        "target_seconds": figures["target_seconds"],
        "elapsed_seconds": figures["elapsed_seconds"],
        "remaining_seconds": figures["remaining_seconds"],
        "percent": float(figures["percent"]),
        "paused_seconds": figures["paused_seconds"],
        "started_at": _instant(figures, "started_at"),
        "due_at": _instant(figures, "breach_at"),
        "due_at_local": _instant(figures, "breach_at", "local"),
        "warn_at": _instant(figures, "warn_at"),
        "warn_at_local": _instant(figures, "warn_at", "local"),
        "next_step_at": _instant(figures, "next_step_at"),
        "breached_at": _instant(figures, "breached_at"),
        "stopped_at": _instant(figures, "stopped_at"),
    }


def _trace_json(entry: selectors.TraceEntry) -> dict:
    return {
        "at": _iso(entry.at.astimezone(UTC)),
        "until": _iso(entry.until.astimezone(UTC)) if entry.until else None,
        # A plain str: an event built in this request holds the enum member, and a body of plain JSON
        # values is stored as it is (``idempotency._json_safe``) instead of going through JSON.
        "kind": str(entry.kind),
        "level": entry.level.number if entry.level else None,
        "level_name": entry.level_label,
        "party": entry.party.pk if entry.party else None,
        "party_name": entry.party.name if entry.party else "",
        "reference_system": entry.reference_system,
        "reference": entry.reference,
        "actor": entry.actor,
        "body": entry.body,
        "held_seconds": entry.held_seconds,
        "wall_seconds": entry.wall_seconds,
        "calendar": entry.calendar_name,
    }


class EventSerializer(serializers.ModelSerializer):
    occurred_at = UtcDateTimeField(read_only=True)
    received_at = UtcDateTimeField(read_only=True)
    priority = serializers.CharField(source="priority.code", allow_null=True, read_only=True, default=None)
    level = serializers.IntegerField(source="level.number", allow_null=True, read_only=True, default=None)
    party = PartySummarySerializer(allow_null=True, read_only=True)
    status = StatusOrBlankField(read_only=True, help_text="Our status after a status change.")
    impact = blank_or(Impact)
    urgency = blank_or(Urgency)
    clock_effect = blank_or(ClockEffect, help_text="pause / resume from the status mapping; blank: policy.")

    class Meta:
        model = RequestEvent
        fields = [
            "id",
            "request",
            "sequence",
            "kind",
            "occurred_at",
            "received_at",
            "source_event_id",
            "status",
            "external_status",
            "clock_effect",
            "priority",
            "impact",
            "urgency",
            "level",
            "party",
            "reference_system",
            "reference",
            "body",
            "actor_name",
        ]
        read_only_fields = fields

    def to_representation(self, instance: RequestEvent) -> dict:
        # Every event write answers with one: building the ModelSerializer's fields per instance
        # cost more than the rest of the response. The fields above still document it (schema).
        return event_json(instance)


def event_json(event: RequestEvent) -> dict:
    """``EventSerializer``'s representation of ``event`` (the same keys and values, in order).
    Reads ``priority``, ``level`` and ``party`` when set: select them with the event."""
    priority = event.priority if event.priority_id is not None else None
    level = event.level if event.level_id is not None else None
    party = event.party if event.party_id is not None else None
    return {
        "id": event.pk,
        "request": event.request_id,
        "sequence": int(event.sequence),
        "kind": str(event.kind),
        "occurred_at": _utc_iso(event.occurred_at),
        "received_at": _utc_iso(event.received_at),
        "source_event_id": str(event.source_event_id),
        "status": str(event.status),
        "external_status": str(event.external_status),
        "clock_effect": str(event.clock_effect),
        "priority": str(priority.code) if priority is not None else None,
        "impact": str(event.impact),
        "urgency": str(event.urgency),
        "level": int(level.number) if level is not None else None,
        "party": {"id": int(party.pk), "name": str(party.name)} if party is not None else None,
        "reference_system": str(event.reference_system),
        "reference": str(event.reference),
        "body": str(event.body),
        "actor_name": str(event.actor_name),
    }


def _utc_iso(value: datetime | None) -> str | None:
    """As ``UtcDateTimeField`` writes an instant."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Filters --------------------------------------------------------------------------------
class AwareDateTimeFormField(forms.CharField):
    """A query-string instant: ISO 8601 with its offset; naive values are refused."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError("Give an ISO 8601 date and time, e.g. 2027-04-12T09:00:00Z.")
        if parsed.tzinfo is None:
            raise forms.ValidationError("Give the time with its UTC offset (…Z or +01:00).")
        return parsed.astimezone(UTC)


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeFilter(django_filters.Filter):
    field_class = AwareDateTimeFormField


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SupportRequestFilter(PlanSlugFilter):
    status = django_filters.MultipleChoiceFilter(
        choices=RequestStatus.choices, help_text="Repeat for several."
    )
    priority = django_filters.CharFilter(
        field_name="priority__code", lookup_expr="iexact", help_text="e.g. P1"
    )
    level = IntFilter(field_name="current_level__number", min_value=1, max_value=5)
    party = IntFilter(field_name="current_party_id", min_value=1, max_value=2**63 - 1)
    request_type = django_filters.ChoiceFilter(choices=RequestType.choices)
    breached = django_filters.BooleanFilter(method="filter_breached", help_text="A clock has breached.")
    at_risk_minutes = IntFilter(
        method="filter_at_risk",
        min_value=1,
        max_value=366 * 24 * 60,
        help_text="Not breached yet, but a running clock breaches within this many minutes.",
    )
    updated_since = AwareDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="ISO 8601 with offset."
    )
    reference = django_filters.CharFilter(
        method="filter_reference", max_length=120, help_text="Any external reference, exact."
    )
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Words in the title, the source id or a reference."
    )

    class Meta:
        model = SupportRequest
        fields = ["plan", "status", "priority", "level", "party", "request_type"]

    def filter_breached(self, queryset, name, value):
        breached = Q(sla_state="breached")
        return queryset.filter(breached) if value else queryset.exclude(breached)

    def filter_at_risk(self, queryset, name, value):
        now = timezone.now()
        return queryset.exclude(sla_state="breached").filter(
            next_breach_at__gt=now, next_breach_at__lte=now + timedelta(minutes=value)
        )

    def filter_reference(self, queryset, name, value):
        refs = RequestReference.objects.filter(request=OuterRef("pk"), reference=value)
        return queryset.filter(Q(source_id=value) | Exists(refs))

    def filter_q(self, queryset, name, value):
        refs = RequestReference.objects.filter(request=OuterRef("pk"), reference__icontains=value)
        return queryset.filter(Q(title__icontains=value) | Q(source_id__icontains=value) | Exists(refs))


class EventPagination(pagination.PageNumberPagination):
    """A request's events in timeline order: (occurred_at, sequence)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class RequestCursorPagination(pagination.CursorPagination):
    """Stable pages while requests keep changing: ordered by (-updated_at, -id)."""

    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


# --- The requests viewset -------------------------------------------------------------------
def _value_of(model, foreign_key: str, field: str) -> Subquery:
    """``field`` of the ``model`` row the request's ``foreign_key`` names (null when it names none)."""
    return Subquery(model.objects.filter(pk=OuterRef(foreign_key)).order_by().values(field)[:1])


def _api_key(principal) -> ApiKey | None:
    return principal.api_key if is_api_key(principal) else None


def _replay_headers(result: idempotency.IdempotentResponse) -> dict:
    return {idempotency.REPLAY_HEADER: "true"} if result.replayed else {}


#: The schema of both event writes (by id and by external reference).
_RECORD_EVENT_SCHEMA = {
    "request": EventInputSerializer,
    "parameters": [IDEMPOTENCY_PARAMETER],
    "examples": EVENT_EXAMPLES,
    "responses": {
        201: OpenApiResponse(EventSerializer, description="Recorded (or an idempotent replay)."),
        **_errors(400, 403, 404, 413, 422),
    },
    "filters": False,
}


@extend_schema_view(
    list=extend_schema(
        summary="Requests, filtered, newest change first (cursor pages).",
        parameters=[
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Rows per page (≤ 500, default 50).")
        ],
    ),
    retrieve=extend_schema(
        summary="A request with its clocks, references and trace.",
        responses={200: RequestDetailSerializer, **_errors(404)},
    ),
)
class SupportRequestViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Support requests reported by helpdesks, with their SLA clocks as of now."""

    queryset = SupportRequest.objects.all()
    serializer_class = RequestSerializer
    filterset_class = SupportRequestFilter
    pagination_class = RequestCursorPagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    parser_classes = [JSONParser]
    lookup_value_regex = r"\d+"

    @property
    def write_access(self) -> str:
        # Team members work the requests: they may record events; creating requests is the
        # integration's (or a lead's) job.
        return "assigned" if self.action in {"events", "by_reference_events"} else "integration"

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_BODY_BYTES:
                raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        requests = selectors.requests_for(user=self.request.user)
        if self.action in {"events", "by_reference_events"}:
            # The event services need the request and its plan only (they lock and re-read it).
            return requests.select_related(None).select_related("plan")
        # One value per row from four small tables, as subqueries: with joins, PostgreSQL planned the
        # page's query for longer than it ran it (0.5 of 0.7 ms); the subqueries plan in 0.1 ms.
        requests = requests.select_related(None).annotate(
            plan_slug=_value_of(SupportPlan, "plan_id", "slug"),
            priority_code=_value_of(Priority, "priority_id", "code"),
            level_number=_value_of(SupportLevel, "current_level_id", "number"),
            party_name=_value_of(Party, "current_party_id", "name"),
        )
        if self.action == "list":
            requests = requests.defer("description", "description_anonymised")
        return requests

    def filter_queryset(self, queryset):
        # Building the filter form costs more than the query on a plain page: skip it when no
        # filter is asked for.
        if self.action == "list" and not set(self.request.query_params) & set(
            SupportRequestFilter.base_filters
        ):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.reference_rows([support_request.pk for support_request in page])
        for support_request in page:
            support_request.reference_rows = rows.get(support_request.pk, [])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_class(self):
        return RequestDetailSerializer if self.action == "retrieve" else RequestSerializer

    def _event_target(self) -> tuple[SupportRequest, bool]:
        """``get_object`` for an event write: the same scope (404 unless visible) and object
        permissions, reading the id and plan only: the event service locks and re-reads the request,
        and building the full row with its plan cost more than the rest of the lookup.

        Returns the request and whether it was found. An API key sees its own plan's requests only:
        for it nothing is read here, and the write looks the request up when it locks it (in the
        idempotency claim's transaction, so a 404 there stores nothing)."""
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        principal = self.request.user
        # Its other fields load on first access (deferred), never from stale defaults.
        if is_api_key(principal):
            if int(lookup) > MAX_ID:
                raise Http404
            key = principal.api_key
            support_request = SupportRequest.from_db(
                connection.alias, ["id", "plan_id"], [int(lookup), key.plan_id]
            )
            support_request.plan = key.plan
            found = False
        else:
            row = (
                self.get_queryset()
                .select_related(None)
                .filter(pk=lookup)
                .values_list("pk", "plan_id")
                .first()
            )
            if row is None:
                raise Http404
            support_request, found = SupportRequest.from_db(connection.alias, ["id", "plan_id"], row), True
        self.check_object_permissions(self.request, support_request)
        return support_request, found

    def _writable_request(self, support_request: SupportRequest) -> SupportRequest:
        if not self.may_write(support_request.plan):
            raise exceptions.PermissionDenied("Your role in this plan does not allow this change.")
        return support_request

    def _detail(self, support_request: SupportRequest) -> dict:
        """The detail of the request just written. An API key sees every request of its plan: the
        service's instance (its columns as stored, its related rows as loaded in this transaction)
        needs no scoped re-read; anyone else's view is read again through ``get_queryset``."""
        principal = self.request.user
        if is_api_key(principal) and principal.plan_id == support_request.plan_id:
            fresh = support_request
            fresh.plan_slug = fresh.plan.slug
            fresh.priority_code = fresh.priority.code if fresh.priority_id is not None else None
            fresh.level_number = fresh.current_level.number if fresh.current_level_id is not None else None
            fresh.party_name = fresh.current_party.name if fresh.current_party_id is not None else None
            written = getattr(fresh, "written_references", None)
            if written is not None:  # a new request: the service wrote all its references
                fresh.reference_rows = [
                    {"system": made.system, "reference": made.reference, "party": made.party_id}
                    for made in written
                ]
        else:
            fresh = self.get_queryset().get(pk=support_request.pk)
        return RequestDetailSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Create or update a request by (source_system, source_id).",
        request=RequestUpsertSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[UPSERT_EXAMPLE],
        responses={
            201: OpenApiResponse(RequestDetailSerializer, description="Created."),
            200: OpenApiResponse(RequestDetailSerializer, description="Updated (or an idempotent replay)."),
            **_errors(400, 403, 413, 422),
        },
    )
    def create(self, request, *args, **kwargs):
        def write():
            serializer = RequestUpsertSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            plan = data.pop("plan", None) or self._plan_for_writes()
            self.check_plan_writable(plan)
            support_request, created = services.request_upsert(
                plan=plan, principal=request.user, data=data, api_key=_api_key(request.user)
            )
            return (status.HTTP_201_CREATED if created else status.HTTP_200_OK), self._detail(support_request)

        result = self._idempotent(target="requests", key=self._header_key(), write=write)
        return Response(result.body, status=result.status, headers=_replay_headers(result))

    def _plan_for_writes(self) -> SupportPlan:
        if is_api_key(self.request.user):
            return self.request.user.api_key.plan
        raise exceptions.ValidationError({"plan": ["Name the plan by its slug."]})

    def _header_key(self) -> str | None:
        # ``request.META`` read directly: ``request.headers`` builds a dict of every header.
        raw = self.request.META.get(idempotency.HEADER_META_KEY)
        return None if raw is None else idempotency.idempotency_key_clean(raw)

    def _idempotent(
        self, *, target: str, key: str | None, write, claim_with=None
    ) -> idempotency.IdempotentResponse:
        fingerprint = idempotency.request_fingerprint(
            method=self.request.method, target=target, body=self.request.data
        )
        try:
            return idempotency.idempotent_write(
                principal=idempotency.principal_label(self.request.user),
                key=key,
                fingerprint=fingerprint,
                write=write,
                claim_with=claim_with,
            )
        except idempotency.IdempotencyKeyReused:
            raise IdempotencyKeyReused() from None

    def _record_event(self, support_request: SupportRequest, *, found: bool = True) -> Response:
        """Records an event of ``support_request``; ``found`` False: the request is only named (id
        and plan), and is looked up (404) as it is locked, before the body is validated."""
        request = self.request
        self._writable_request(support_request)
        key = self._header_key()
        if key is None and isinstance(request.data, dict):
            source_event_id = request.data.get("source_event_id")
            if isinstance(source_event_id, str) and source_event_id.strip():
                # The helpdesk's own event id is its idempotency key, per request.
                key = f"event:{support_request.pk}:{source_event_id.strip()[:120]}"

        locked: dict[str, SupportRequest] = {}
        claim_with = None
        if not found and connection.vendor == "postgresql":
            names_status = isinstance(request.data, dict) and request.data.get("status") not in (None, "")

            def claim_with(claim_sql: str, claim_params: list) -> bool:
                # The idempotency claim and the request's lock (with the key's status mappings when the
                # event names a status): one statement.
                claimed, locked["request"] = services.request_lock_claiming(
                    request_id=support_request.pk,
                    plan=support_request.plan,
                    claim_sql=claim_sql,
                    claim_params=claim_params,
                    status_key=_api_key(request.user) if names_status else None,
                )
                return claimed

        def write():
            target = locked.get("request", support_request)
            if not found and not locked:
                target = services.request_lock(request_id=support_request.pk, plan=support_request.plan)
            serializer = EventInputSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            event = services.event_record(
                request=target,
                principal=request.user,
                data=dict(serializer.validated_data),
                api_key=_api_key(request.user),
                locked=not found,
            )
            return status.HTTP_201_CREATED, event_json(event)  # EventSerializer's representation

        try:
            result = self._idempotent(
                target=f"requests/{support_request.pk}/events", key=key, write=write, claim_with=claim_with
            )
        except SupportRequest.DoesNotExist:
            raise Http404 from None  # the named request is not the plan's: nothing was kept
        return Response(result.body, status=result.status, headers=_replay_headers(result))

    @extend_schema(
        methods=["GET"],
        summary="The request's events in timeline order (occurred_at, then arrival).",
        responses={200: EventSerializer(many=True), **_errors(404)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Record an event of the request (status, priority, hand-off, update, reopen, comment).",
        **_RECORD_EVENT_SCHEMA,
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="events",
        filter_backends=[],
        pagination_class=EventPagination,
    )
    def events(self, request, *args, **kwargs):
        if request.method == "POST":
            support_request, found = self._event_target()
            return self._record_event(support_request, found=found)
        support_request = self.get_object()
        events = (
            RequestEvent.objects.filter(request=support_request)
            .select_related("priority", "level", "party")
            .order_by("occurred_at", "sequence")
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    def _by_reference(self, system: str, reference: str) -> SupportRequest:
        queryset = self.get_queryset()
        match = queryset.filter(references__system__iexact=system, references__reference=reference).first()
        if match is None:
            match = get_object_or_404(queryset, source_system=system, source_id=reference)
        self.check_object_permissions(self.request, match)
        return match

    @extend_schema(
        summary="A request found by one of its external references (or its source id).",
        responses={200: RequestDetailSerializer, **_errors(404)},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"by-reference/(?P<system>[^/]{1,60})/(?P<reference>[^/]{1,120})",
        url_name="by-reference",
        filter_backends=[],
        pagination_class=None,
    )
    def by_reference(self, request, system: str, reference: str, *args, **kwargs):
        support_request = self._by_reference(system, reference)
        return Response(RequestDetailSerializer(support_request, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Record an event of the request named by one of its external references.",
        **_RECORD_EVENT_SCHEMA,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"by-reference/(?P<system>[^/]{1,60})/(?P<reference>[^/]{1,120})/events",
        url_name="by-reference-events",
        filter_backends=[],
        pagination_class=None,
    )
    def by_reference_events(self, request, system: str, reference: str, *args, **kwargs):
        return self._record_event(self._by_reference(system, reference))


# --- Status mappings ------------------------------------------------------------------------
class StatusMappingSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    api_key = VisibleRelatedField(model=ApiKey, help_text="The integration (API key) whose names these are.")
    status = RequestStatusField()
    clock_effect = serializers.ChoiceField(
        choices=ClockEffect.choices, required=False, allow_blank=True, help_text="Blank: the policy decides."
    )

    class Meta:
        model = StatusMapping
        fields = ["id", "plan", "api_key", "external_status", "status", "clock_effect"]
        validators = []  # uniqueness (case-insensitive) is the service's check


class StatusMappingFilter(PlanSlugFilter):
    api_key = IntFilter(field_name="api_key_id", min_value=1, max_value=2**63 - 1)
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)

    class Meta:
        model = StatusMapping
        fields = ["plan", "api_key", "status"]


class StatusMappingViewSet(ScopedModelViewSet):
    """Each integration's own status names → our statuses and their effect on the clocks. Leads
    write; an unknown status name from a helpdesk is rejected with the list of known ones."""

    queryset = StatusMapping.objects.select_related("plan", "api_key")
    serializer_class = StatusMappingSerializer
    filterset_class = StatusMappingFilter
    ordering_fields = ["external_status", "status"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        if data["api_key"].plan_id != plan.pk:
            raise exceptions.ValidationError({"api_key": ["Choose an API key of this plan."]})
        serializer.instance = services.status_mapping_create(**data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        if data.pop("api_key", serializer.instance.api_key) != serializer.instance.api_key:
            raise exceptions.ValidationError({"api_key": ["A mapping cannot move to another key."]})
        serializer.instance = services.status_mapping_update(mapping=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.status_mapping_delete(mapping=instance)


# --- References (read and search) -----------------------------------------------------------
class RequestReferenceSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.slug", read_only=True)
    party = serializers.IntegerField(source="party_id", allow_null=True, read_only=True)
    created_at = UtcDateTimeField(read_only=True)

    class Meta:
        model = RequestReference
        fields = ["id", "plan", "request", "system", "reference", "party", "created_at"]
        read_only_fields = fields


class RequestReferenceFilter(PlanSlugFilter):
    system = django_filters.CharFilter(lookup_expr="iexact", max_length=60)
    reference = django_filters.CharFilter(lookup_expr="iexact", max_length=120)
    q = django_filters.CharFilter(field_name="reference", lookup_expr="icontains", max_length=120)
    request = IntFilter(field_name="request_id", min_value=1, max_value=2**63 - 1)
    party = IntFilter(field_name="party_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = RequestReference
        fields = ["plan", "system", "reference", "request", "party"]


class RequestReferenceViewSet(ScopedReadOnlyViewSet):
    """External references of the requests you may see (helpdesk, partner, ISV, Microsoft cases)."""

    queryset = RequestReference.objects.all()
    serializer_class = RequestReferenceSerializer
    filterset_class = RequestReferenceFilter
    ordering_fields = ["created_at", "reference"]

    def get_queryset(self):
        # Partners see the references of the requests their organisation holds or held.
        visible = selectors.requests_for(user=self.request.user)
        return (
            RequestReference.objects.filter(request__in=visible.values("pk"))
            .select_related("plan")
            .order_by("-created_at", "-pk")
        )


def register(router) -> None:
    router.register("requests", SupportRequestViewSet, basename="supportrequest")
    router.register("status-mappings", StatusMappingViewSet, basename="statusmapping")
    router.register("request-references", RequestReferenceViewSet, basename="requestreference")
