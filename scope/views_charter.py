"""The support charter in the browser: the current draft (HTML, print-ready), its downloads, the
issued versions with their sign-off, and a comparison of two versions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.generic import TemplateView

from scope import charter
from scope.models import CharterVersion
from supportplan.views_base import PlanViewMixin

DOWNLOAD_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
LEADS_ONLY = "Only the plan's project and support leads can issue or sign off the charter."


def charter_download_response(*, markdown: str, fmt: str, title: str, filename: str) -> HttpResponse:
    """The Markdown or DOCX of a charter as an attachment; other formats are the caller's 404/400."""
    body = markdown.encode() if fmt == "md" else charter.charter_docx(markdown=markdown, title=title)
    response = HttpResponse(body, content_type=DOWNLOAD_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}")
    return response


class _CharterMixin(PlanViewMixin):
    plan_access = "staff"

    def versions(self):
        return (
            CharterVersion.objects.for_user(self.request.user)
            .filter(plan=self.plan)
            .select_related("issued_by", "signed_off_by")
            .order_by("-number")
        )

    def get_version(self, number: int) -> CharterVersion:
        return get_object_or_404(self.versions(), number=number)

    def require_lead(self) -> None:
        if not self.can_configure:
            raise PermissionDenied(LEADS_ONLY)

    def filename(self, suffix: str) -> str:
        return f"charter-{slugify(self.plan.slug)}-{suffix}"


class CharterView(_CharterMixin, TemplateView):
    """The current draft with the issued versions; leads issue the draft as the next version."""

    template_name = "scope/charter/draft.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        markdown = charter.charter_markdown(plan=self.plan)
        versions = list(self.versions())
        context.update(
            charter_html=charter.charter_html(markdown),
            versions=versions,
            next_number=(versions[0].number + 1) if versions else 1,
        )
        return context

    def post(self, request, *args, **kwargs):
        self.require_lead()
        version = charter.charter_issue(plan=self.plan, issued_by=request.user)
        messages.success(request, f"Charter issued as version {version.number}.")
        return redirect("charter-version", plan_slug=self.plan.slug, number=version.number)


class CharterDownloadView(_CharterMixin, TemplateView):
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        fmt = kwargs["fmt"]
        if fmt not in DOWNLOAD_TYPES:
            raise Http404("Download the charter as md or docx.")
        return charter_download_response(
            markdown=charter.charter_markdown(plan=self.plan),
            fmt=fmt,
            title=f"Support charter: {self.plan.name}",
            filename=self.filename("draft"),
        )


class CharterVersionView(_CharterMixin, TemplateView):
    """A frozen version; leads sign it off once."""

    template_name = "scope/charter/version.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version = self.get_version(self.kwargs["number"])
        context.update(
            version=version,
            charter_html=charter.charter_html(version.content_markdown),
            versions=list(self.versions()),
        )
        return context

    def post(self, request, *args, **kwargs):
        self.require_lead()
        version = self.get_version(kwargs["number"])
        try:
            charter.charter_sign_off(version=version, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Version {version.number} signed off.")
        return redirect("charter-version", plan_slug=self.plan.slug, number=version.number)


class CharterVersionDownloadView(_CharterMixin, TemplateView):
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        fmt = kwargs["fmt"]
        if fmt not in DOWNLOAD_TYPES:
            raise Http404("Download the charter as md or docx.")
        version = self.get_version(kwargs["number"])
        return charter_download_response(
            markdown=version.content_markdown,
            fmt=fmt,
            title=f"Support charter: {self.plan.name}, version {version.number}",
            filename=self.filename(f"v{version.number}"),
        )


class CharterCompareView(_CharterMixin, TemplateView):
    """?from=N&to=M: the text diff of two versions, additions and deletions marked."""

    template_name = "scope/charter/compare.html"
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        versions = list(self.versions())
        chosen = {}
        for key in ("from", "to"):
            value = request.GET.get(key, "")
            if value:
                if not value.isdigit() or len(value) > 9:
                    return HttpResponseBadRequest(f"“{key}” is a version number.")
                chosen[key] = next((version for version in versions if version.number == int(value)), None)
                if chosen[key] is None:
                    raise Http404(f"This plan has no charter version {int(value)}.")
        lines = []
        if "from" in chosen and "to" in chosen:
            diff = charter.charter_diff(older=chosen["from"], newer=chosen["to"])
            lines = [(_line_kind(line), line.rstrip("\n")) for line in diff.splitlines(keepends=True)]
        context = self.get_context_data(
            versions=versions,
            older=chosen.get("from"),
            newer=chosen.get("to"),
            diff_lines=lines,
            **kwargs,
        )
        return self.render_to_response(context)


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "added", "-": "removed"}.get(line[:1], "same")
