"""REST endpoints of the support charter: ``/api/v1/charter-versions/`` (issued versions: list,
issue, sign off, download) and ``draft/`` (the current draft in Markdown, Word or HTML).

Everyone who sees the plan but partners reads; leads issue and sign off; API keys read only (the
charter is configuration). Versions are immutable: PUT, PATCH and DELETE answer 405.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from models_catalog.filters import PlanSlugFilter
from scope import charter
from scope.models import CharterVersion
from scope.views_charter import DOWNLOAD_TYPES, charter_download_response
from supportplan import access
from supportplan.api import ScopedModelViewSet
from supportplan.models import SupportPlan
from supportplan.serializers import VisiblePlanField, username_field

DOCX_TYPE = DOWNLOAD_TYPES["docx"]


class CharterVersionSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    issued_by = username_field("Username of who issued this version.", nullable=False)
    signed_off_by = username_field("Username of who signed it off; null until signed off.")

    class Meta:
        model = CharterVersion
        fields = [
            "id",
            "plan",
            "number",
            "content_markdown",
            "issued_by",
            "issued_at",
            "signed_off_by",
            "signed_off_at",
        ]
        read_only_fields = fields


class CharterIssueSerializer(serializers.Serializer):
    plan = VisiblePlanField(help_text="The slug of the plan whose current charter is issued.")


CharterVersionFilter = PlanSlugFilter.for_model(CharterVersion)

_FORMAT = OpenApiParameter("format", str, enum=["md", "docx"], description="md (default) or docx.")
_FILE_RESPONSES = {
    (200, "text/markdown"): OpenApiTypes.STR,
    (200, DOCX_TYPE): OpenApiTypes.BINARY,
    400: OpenApiResponse(description="Unknown format."),
}


@extend_schema_view(
    list=extend_schema(summary="Issued charter versions (filter by plan slug)"),
    retrieve=extend_schema(summary="One issued charter version with its frozen Markdown"),
)
class CharterVersionViewSet(ScopedModelViewSet):
    """Issued versions of the support charter: frozen content, who issued and signed it off."""

    queryset = CharterVersion.objects.select_related("plan", "issued_by", "signed_off_by")
    serializer_class = CharterVersionSerializer
    filterset_class = CharterVersionFilter
    ordering_fields = ["number", "issued_at"]
    http_method_names = ["get", "post", "head", "options"]
    write_access = "configure"

    def get_queryset(self):
        return super().get_queryset().order_by("plan__name", "-number")

    def perform_content_negotiation(self, request, force=False):
        # ``?format=md|docx|html`` names the file these actions answer with, not a DRF renderer:
        # negotiation must not turn it into a 404 (the action checks the value itself).
        if getattr(self, "action", None) in {"download", "draft"}:
            force = True
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        summary="Issue the plan's current charter as its next version (leads only)",
        request=CharterIssueSerializer,
        responses={201: CharterVersionSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = CharterIssueSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        plan = serializer.validated_data["plan"]
        self.check_plan_writable(plan)
        version = charter.charter_issue(plan=plan, issued_by=request.user)
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Sign the version off (once; leads only)",
        request=None,
        responses={200: CharterVersionSerializer, 400: OpenApiResponse(description="Already signed off.")},
    )
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        version = self.get_object()
        charter.charter_sign_off(version=version, by=request.user)
        return Response(self.get_serializer(version).data)

    @extend_schema(
        summary="The version as a Markdown or Word file", parameters=[_FORMAT], responses=_FILE_RESPONSES
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        version = self.get_object()  # another plan's version is a 404 whatever the format
        fmt = _requested_format(request, allowed=DOWNLOAD_TYPES)
        return charter_download_response(
            markdown=version.content_markdown,
            fmt=fmt,
            title=f"Support charter: {version.plan.name}, version {version.number}",
            filename=f"charter-{version.plan.slug}-v{version.number}",
        )

    @extend_schema(
        summary="The plan's current charter draft as Markdown, Word or HTML",
        parameters=[
            OpenApiParameter("plan", str, required=True, description="The plan's slug."),
            OpenApiParameter(
                "format", str, enum=["md", "docx", "html"], description="md (default), docx or html."
            ),
        ],
        responses={
            **_FILE_RESPONSES,
            (200, "text/html"): OpenApiTypes.STR,
            404: OpenApiResponse(description="No such plan."),
        },
        filters=False,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def draft(self, request):
        fmt = _requested_format(request, allowed={**DOWNLOAD_TYPES, "html": "text/html"})
        slug = request.query_params.get("plan", "")
        if not slug:
            raise exceptions.ValidationError({"plan": ["Name the plan by its slug: ?plan=<slug>."]})
        plan = get_object_or_404(SupportPlan.objects.for_user(request.user), slug=slug[:60])
        if access.is_partner(request.user, plan):
            raise exceptions.PermissionDenied("Partners see only what is assigned to their organisation.")
        markdown = charter.charter_markdown(plan=plan)
        if fmt == "html":
            return HttpResponse(charter.charter_html(markdown), content_type="text/html; charset=utf-8")
        return charter_download_response(
            markdown=markdown,
            fmt=fmt,
            title=f"Support charter: {plan.name}",
            filename=f"charter-{plan.slug}-draft",
        )


def _requested_format(request, *, allowed) -> str:
    fmt = request.query_params.get("format", "md")
    if fmt not in allowed:
        raise exceptions.ValidationError({"format": [f"Choose one of: {', '.join(allowed)}."]})
    return fmt


def register(router) -> None:
    router.register("charter-versions", CharterVersionViewSet, basename="charterversion")
