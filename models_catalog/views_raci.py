"""The RACI grid in the browser: read by the team, edited in place (htmx) by the leads, exported."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import FormView

from models_catalog import raci
from models_catalog.models import Party, RaciLetter, Responsibility, Role
from supportplan.views_base import PlanViewMixin, run_service

#: The choices of a cell's <select>: blank first (no letter).
CELL_CHOICES = [("", "–"), *RaciLetter.choices]
#: Larger ids cannot exist in any database we run on (and SQLite would overflow looking them up).
MAX_ID = 2**63 - 1


class ResponsibilityForm(forms.Form):
    name = forms.CharField(max_length=160, label="Responsibility")
    description = forms.CharField(max_length=2000, required=False, label="Description (optional)")


class RaciCellForm(forms.Form):
    """One cell edit. Ids are checked against the plan by the view; the letter by the service."""

    responsibility = forms.IntegerField(min_value=1, max_value=MAX_ID)
    role = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    party = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    letter = forms.CharField(max_length=1, required=False, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and (data.get("role") is None) == (data.get("party") is None):
            raise ValidationError("Name either a role or a party for a RACI cell.")
        return data


class RaciPageMixin(PlanViewMixin):
    template_name = "models_catalog/raci.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            grid=raci.raci_grid(user=self.request.user, plan=self.plan),
            letters=CELL_CHOICES,
            cell_url=reverse("raci-cell", kwargs={"plan_slug": self.plan.slug}),
        )
        return context


class RaciGridView(RaciPageMixin, FormView):
    """The grid: letters for everyone but partners, a <select> per cell for the leads."""

    plan_access = "staff"
    form_class = ResponsibilityForm
    http_method_names = ["get", "head", "options"]


class ResponsibilityCreateView(RaciPageMixin, FormView):
    """Adds a custom responsibility; with form errors, the grid is shown again with them."""

    plan_access = "configure"
    form_class = ResponsibilityForm
    http_method_names = ["post", "options"]

    def form_valid(self, form: ResponsibilityForm) -> HttpResponse:
        responsibility = run_service(
            form, lambda: raci.responsibility_create(plan=self.plan, **form.cleaned_data)
        )
        if responsibility is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Responsibility “{responsibility.name}” added to the RACI.")
        return redirect("raci", plan_slug=self.plan.slug)


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RaciCellView(PlanViewMixin, View):
    """Sets one cell. htmx gets the updated row and, out of band, the violations list; a browser
    without JavaScript is sent back to the grid. Bad input is a 400, another plan's ids a 404."""

    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RaciCellForm(request.POST)
        if not form.is_valid():
            return _bad_request(
                " ".join(
                    message if field == "__all__" else f"{field}: {message}"
                    for field, errors in form.errors.items()
                    for message in errors
                )
            )
        data = form.cleaned_data
        user = request.user
        responsibility = get_object_or_404(
            Responsibility.objects.for_user(user), plan=self.plan, pk=data["responsibility"]
        )
        role = party = None
        if data["role"] is not None:
            role = get_object_or_404(Role.objects.for_user(user), plan=self.plan, pk=data["role"])
        else:
            party = get_object_or_404(Party.objects.for_user(user), plan=self.plan, pk=data["party"])
        row_error = ""
        try:
            raci.raci_set_cell(responsibility=responsibility, role=role, party=party, letter=data["letter"])
        except raci.SecondAccountableError as error:
            if not request.htmx:
                return _bad_request(" ".join(error.messages))
            # htmx swaps only 2xx answers: send the row back as stored, with the reason inside it.
            row_error = " ".join(error.messages)
        except ValidationError as error:
            return _bad_request(" ".join(error.messages))

        column = role or party
        if not request.htmx:
            change = f"is now {data['letter']}" if data["letter"] else "has no letter now"
            messages.success(request, f"{responsibility.name}: {column.name} {change}.")
            return redirect("raci", plan_slug=self.plan.slug)
        grid = raci.raci_grid(user=user, plan=self.plan)
        context = {
            "plan": self.plan,
            "grid": grid,
            "row": grid.row(responsibility),
            "letters": CELL_CHOICES,
            "cell_url": reverse("raci-cell", kwargs={"plan_slug": self.plan.slug}),
            "can_configure": True,
            "row_error": row_error,
        }
        row_html = render_to_string("models_catalog/_raci_row.html", context, request=request)
        violations_html = render_to_string(
            "models_catalog/_raci_violations.html", {**context, "oob": True}, request=request
        )
        return HttpResponse(row_html + violations_html)


class RaciExportView(PlanViewMixin, View):
    """``?format=csv`` (the default) or ``?format=xlsx``: the grid with a Problems column."""

    plan_access = "staff"
    FORMATS = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    def get(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        export_format = request.GET.get("format", "csv")
        if export_format not in self.FORMATS:
            return _bad_request(f"Unknown export format “{export_format[:20]}”: choose csv or xlsx.")
        if export_format == "csv":
            # The byte-order mark makes Excel read the file as UTF-8 (names with accents, dashes).
            content: bytes = ("\ufeff" + raci.raci_export_csv(plan=self.plan)).encode()
        else:
            content = raci.raci_export_xlsx(plan=self.plan)
        response = HttpResponse(content, content_type=self.FORMATS[export_format])
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"raci-{self.plan.slug}.{export_format}"
        )
        return response
