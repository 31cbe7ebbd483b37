"""Bench-only URLconf: the whole project plus ``/bench/bare-requests/``, a bare DRF ``ListAPIView`` of
the support request table, the baseline the list endpoint is measured against in the same run.

Bare means: the project's DRF defaults (API key authentication, IsAuthenticated, throttle), a flat
``ModelSerializer`` over the same field names, no scoping, no filters, no joins, and a cursor page of
the same size and order."""

from django.urls import include, path
from rest_framework import generics, pagination, serializers

from operations.apis_requests import RequestSerializer
from operations.models import SupportRequest


class BareRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportRequest
        fields = [
            name if name not in {"level", "party"} else f"current_{name}"
            for name in RequestSerializer.Meta.fields
            if name != "references"
        ]


class BarePagination(pagination.CursorPagination):
    ordering = ("-updated_at", "-id")
    page_size = 50


class BareRequestList(generics.ListAPIView):
    queryset = SupportRequest.objects.all()
    serializer_class = BareRequestSerializer
    pagination_class = BarePagination
    filter_backends = []


# After the project's patterns, as a real endpoint would be resolved (slightly slower to resolve than
# /api/v1/requests/, which comes before the UI patterns' catch-alls).
urlpatterns = [
    path("", include("supportplan.urls")),
    path("bench/bare-requests/", BareRequestList.as_view(), name="bench-bare-requests"),
]
