"""REST endpoints for service calendars (``/api/v1/``): calendars (with the holiday import preview
and apply actions), their holidays and extra open periods, and calendar events.

Calendars are configuration: leads write, everyone in the plan reads (partners too), API keys read.
Holidays and extra periods have no plan of their own: they are scoped through their calendar.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.models import Party
from operations import calendar_services as services
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    CalendarHoliday,
    ExtraOpenPeriod,
    HolidaySource,
    ServiceCalendar,
)
from operations.models.calendars import validate_weekly_windows
from supportplan.api import ScopedModelViewSet
from supportplan.models import Location
from supportplan.serializers import VisiblePlanField, VisibleRelatedField


# --- Serializers ----------------------------------------------------------------------------
class ServiceCalendarSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    weekly_windows = serializers.JSONField(
        required=False,
        validators=[validate_weekly_windows],
        help_text='Weekday ("0" = Monday … "6") → list of ["HH:MM", "HH:MM"] local windows; an end not '
        'after the start runs past midnight, ["00:00", "00:00"] is the whole day.',
    )
    locations = VisibleRelatedField(model=Location, many=True, required=False)
    parties = VisibleRelatedField(model=Party, many=True, required=False)
    is_24x7 = serializers.BooleanField(read_only=True)

    class Meta:
        model = ServiceCalendar
        fields = [
            "id",
            "plan",
            "name",
            "timezone",
            "weekly_windows",
            "holiday_country",
            "holiday_subdivision",
            "locations",
            "parties",
            "description",
            "is_24x7",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        validators = []  # the name's uniqueness in the plan is the service's check


class CalendarHolidaySerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(source="calendar.plan", slug_field="slug", read_only=True)
    calendar = VisibleRelatedField(model=ServiceCalendar)

    class Meta:
        model = CalendarHoliday
        fields = ["id", "plan", "calendar", "date", "name", "source", "source_detail"]
        read_only_fields = ["source", "source_detail"]
        validators = []  # one holiday per date is the service's check, with the existing holiday named


class ExtraOpenPeriodSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(source="calendar.plan", slug_field="slug", read_only=True)
    calendar = VisibleRelatedField(model=ServiceCalendar)

    class Meta:
        model = ExtraOpenPeriod
        fields = ["id", "plan", "calendar", "starts_at", "ends_at", "reason"]
        extra_kwargs = {
            "starts_at": {"help_text": "ISO 8601 with an offset, e.g. 2027-03-31T18:00:00+01:00."},
            "ends_at": {"help_text": "After starts_at."},
        }


class CalendarEventSerializer(serializers.ModelSerializer):
    plan = VisiblePlanField()
    calendar = VisibleRelatedField(
        model=ServiceCalendar,
        required=False,
        allow_null=True,
        help_text="The calendar whose extended hours cover the event (same plan).",
    )
    party = VisibleRelatedField(
        model=Party,
        required=False,
        allow_null=True,
        help_text="For an ISV or partner release: whose release it is (same plan).",
    )
    blocks_maintenance = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="A freeze: maintenance occurrences inside are conflicts. Default: true for period-end, "
        "peak and freeze kinds.",
    )

    class Meta:
        model = CalendarEvent
        fields = [
            "id",
            "plan",
            "name",
            "kind",
            "starts_at",
            "ends_at",
            "required_service_level",
            "calendar",
            "party",
            "blocks_maintenance",
            "notes",
        ]


class HolidayImportRequestSerializer(serializers.Serializer):
    years = serializers.ListField(
        child=serializers.IntegerField(
            min_value=services.IMPORT_YEARS[0], max_value=services.IMPORT_YEARS[-1]
        ),
        min_length=1,
        max_length=services.MAX_IMPORT_YEARS,
    )
    country = serializers.CharField(
        required=False, max_length=2, help_text="ISO 3166 code; default: the calendar's holiday country."
    )
    subdivision = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=6,
        help_text="e.g. ENG or BY; default: the calendar's (when the country is the calendar's).",
    )
    fingerprint = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The preview's fingerprint: refused (400) if the import would now differ from it.",
    )


class HolidayEntrySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()


class HolidayRenameSerializer(serializers.Serializer):
    date = serializers.DateField()
    old_name = serializers.CharField()
    new_name = serializers.CharField()


class HolidayKeptSerializer(serializers.Serializer):
    date = serializers.DateField()
    package_name = serializers.CharField()
    custom_name = serializers.CharField()


class HolidayImportPreviewSerializer(serializers.Serializer):
    calendar = serializers.IntegerField(source="calendar_id")
    country = serializers.CharField()
    subdivision = serializers.CharField()
    years = serializers.ListField(child=serializers.IntegerField())
    source_detail = serializers.CharField(help_text="e.g. holidays 0.109 GB-ENG.")
    fingerprint = serializers.CharField()
    added = serializers.SerializerMethodField()
    removed = serializers.SerializerMethodField()
    renamed = serializers.SerializerMethodField()
    unchanged = serializers.IntegerField()
    kept_custom = serializers.SerializerMethodField(
        help_text="Package holidays on dates of custom holidays, which are kept."
    )

    @extend_schema(responses=HolidayEntrySerializer(many=True))
    def get_added(self, preview) -> list[dict]:
        return [{"date": day, "name": name} for day, name in preview.added]

    @extend_schema(responses=HolidayEntrySerializer(many=True))
    def get_removed(self, preview) -> list[dict]:
        return [{"date": day, "name": name} for day, name in preview.removed]

    @extend_schema(responses=HolidayRenameSerializer(many=True))
    def get_renamed(self, preview) -> list[dict]:
        return [{"date": day, "old_name": old, "new_name": new} for day, old, new in preview.renamed]

    @extend_schema(responses=HolidayKeptSerializer(many=True))
    def get_kept_custom(self, preview) -> list[dict]:
        return [
            {"date": day, "package_name": theirs, "custom_name": ours}
            for day, theirs, ours in preview.kept_custom
        ]


# --- Filters --------------------------------------------------------------------------------
class ServiceCalendarFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    name = django_filters.CharFilter(lookup_expr="icontains")
    location = django_filters.NumberFilter(field_name="locations", distinct=True)
    party = django_filters.NumberFilter(field_name="parties", distinct=True)

    class Meta:
        model = ServiceCalendar
        fields = ["plan", "name", "location", "party"]


class CalendarHolidayFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="calendar__plan__slug")
    calendar = django_filters.NumberFilter(field_name="calendar_id")
    source = django_filters.ChoiceFilter(choices=HolidaySource.choices)
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = CalendarHoliday
        fields = ["plan", "calendar", "source"]


class ExtraOpenPeriodFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="calendar__plan__slug")
    calendar = django_filters.NumberFilter(field_name="calendar_id")
    ends_after = django_filters.IsoDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = ExtraOpenPeriod
        fields = ["plan", "calendar"]


class CalendarEventFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    kind = django_filters.ChoiceFilter(choices=CalendarEventKind.choices)
    calendar = django_filters.NumberFilter(field_name="calendar_id")
    blocks_maintenance = django_filters.BooleanFilter()
    ends_after = django_filters.IsoDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = CalendarEvent
        fields = ["plan", "kind", "calendar", "blocks_maintenance"]


# --- Views ----------------------------------------------------------------------------------
class ServiceCalendarViewSet(ScopedModelViewSet):
    queryset = ServiceCalendar.objects.select_related("plan").prefetch_related("locations", "parties")
    serializer_class = ServiceCalendarSerializer
    filterset_class = ServiceCalendarFilter
    ordering_fields = ["name", "timezone", "updated_at"]

    create_service = staticmethod(services.calendar_create)
    update_service = staticmethod(services.calendar_update)
    delete_service = staticmethod(services.calendar_delete)
    service_instance_name = "calendar"

    def _import_arguments(self, request) -> dict:
        body = HolidayImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return {
            "years": data["years"],
            "country": data.get("country"),
            "subdivision": data.get("subdivision"),
            "fingerprint": data.get("fingerprint"),
        }

    @extend_schema(
        request=HolidayImportRequestSerializer,
        responses={200: HolidayImportPreviewSerializer},
        summary="What importing public holidays would add, remove and rename (nothing is stored)",
    )
    @action(detail=True, methods=["post"], url_path="holiday-import-preview")
    def holiday_import_preview(self, request, *args, **kwargs):
        calendar = self.get_object()
        arguments = self._import_arguments(request)
        arguments.pop("fingerprint")
        preview = services.holiday_import_preview(calendar=calendar, **arguments)
        return Response(HolidayImportPreviewSerializer(preview).data)

    @extend_schema(
        request=HolidayImportRequestSerializer,
        responses={200: HolidayImportPreviewSerializer},
        summary="Import public holidays: applies the preview (refused if it differs from the fingerprint)",
    )
    @action(detail=True, methods=["post"], url_path="holiday-import")
    def holiday_import(self, request, *args, **kwargs):
        calendar = self.get_object()
        arguments = self._import_arguments(request)
        fingerprint = arguments.pop("fingerprint")
        preview = services.holiday_import_apply(calendar=calendar, expected=fingerprint, **arguments)
        return Response(HolidayImportPreviewSerializer(preview).data)


class _CalendarRowViewSet(ScopedModelViewSet):
    """Rows of a calendar (no plan of their own): visible through the calendar, written by its leads."""

    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        calendars = ServiceCalendar.objects.for_user(self.request.user)
        return self.queryset.model.objects.filter(calendar__in=calendars).select_related("calendar__plan")

    def plan_of(self, obj):
        return obj.calendar.plan

    def writable_calendar(self, serializer) -> ServiceCalendar:
        calendar = serializer.validated_data["calendar"]
        self.check_plan_writable(calendar.plan)
        return calendar


class CalendarHolidayViewSet(_CalendarRowViewSet):
    """Holidays of calendars; creating one adds a custom holiday (imports use the calendar's actions)."""

    queryset = CalendarHoliday.objects.all()
    serializer_class = CalendarHolidaySerializer
    filterset_class = CalendarHolidayFilter
    ordering_fields = ["date", "name"]

    def perform_create(self, serializer):
        calendar = self.writable_calendar(serializer)
        data = serializer.validated_data
        serializer.instance = services.holiday_add(calendar=calendar, date=data["date"], name=data["name"])

    def perform_destroy(self, instance):
        services.holiday_remove(holiday=instance)


class ExtraOpenPeriodViewSet(_CalendarRowViewSet):
    queryset = ExtraOpenPeriod.objects.all()
    serializer_class = ExtraOpenPeriodSerializer
    filterset_class = ExtraOpenPeriodFilter
    ordering_fields = ["starts_at", "ends_at"]

    def perform_create(self, serializer):
        calendar = self.writable_calendar(serializer)
        data = serializer.validated_data
        serializer.instance = services.extra_period_add(
            calendar=calendar,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data.get("reason", ""),
        )

    def perform_destroy(self, instance):
        services.extra_period_remove(period=instance)


class CalendarEventViewSet(ScopedModelViewSet):
    queryset = CalendarEvent.objects.select_related("plan", "calendar", "party")
    serializer_class = CalendarEventSerializer
    filterset_class = CalendarEventFilter
    ordering_fields = ["starts_at", "ends_at", "name", "kind"]

    create_service = staticmethod(services.calendar_event_create)
    update_service = staticmethod(services.calendar_event_update)
    delete_service = staticmethod(services.calendar_event_delete)
    service_instance_name = "event"


def register(router) -> None:
    router.register("calendars", ServiceCalendarViewSet, basename="servicecalendar")
    router.register("calendar-holidays", CalendarHolidayViewSet, basename="calendarholiday")
    router.register("extra-periods", ExtraOpenPeriodViewSet, basename="extraopenperiod")
    router.register("calendar-events", CalendarEventViewSet, basename="calendarevent")
