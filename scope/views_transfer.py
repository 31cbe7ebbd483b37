"""The scope matrix as a spreadsheet: download it, and upload it back (leads only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.generic import FormView, View

from scope.transfer import COLUMNS, scope_export_xlsx, scope_import_xlsx
from supportplan.views_base import PlanViewMixin

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class ScopeExportView(PlanViewMixin, View):
    plan_access = "staff"

    def get(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(scope_export_xlsx(plan=self.plan), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{self.plan.slug}-scope.xlsx"'
        return response


class ScopeImportForm(forms.Form):
    file = forms.FileField(label="Workbook (.xlsx)", help_text="Laid out as the export writes it.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("Keep the workbook under 5 MB.")
        return upload


class ScopeImportView(PlanViewMixin, FormView):
    plan_access = "configure"
    form_class = ScopeImportForm
    template_name = "scope/import.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("row_errors", [])
        context["columns"] = COLUMNS
        return context

    def form_valid(self, form: ScopeImportForm) -> HttpResponse:
        try:
            result = scope_import_xlsx(plan=self.plan, data=form.cleaned_data["file"].read())
        except ValidationError as error:
            return self.render_to_response(
                self.get_context_data(form=form, row_errors=error.messages), status=400
            )
        messages.success(
            self.request,
            f"Imported: {result.created} created, {result.updated} updated, "
            f"{result.skipped} rows without answers left alone.",
        )
        return redirect("scope-import", self.plan.slug)
