"""The coverage matrix in the browser: groups × aspects × the five questions, read by the team,
edited in place (htmx) by the leads; the full item form; a plan's own aspects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from models_catalog.models import Person
from scope import services
from scope.forms_matrix import (
    QUESTION_FORMS,
    QUESTION_LABELS,
    AspectForm,
    CellTargetForm,
    MatrixFilterForm,
    PlanItemForm,
    ScopeItemForm,
)
from scope.models import QUESTIONS, Aspect, ScopeItem
from scope.selectors import ANSWERED, MISSING, PARTIAL, Coverage, CoverageRow, scope_coverage
from supportplan.views_base import PlanViewMixin, run_service

STATE_LABELS = {ANSWERED: "Answered", PARTIAL: "Partial", MISSING: "Missing"}
#: A short sign next to the state's word, so the state never rests on colour alone.
STATE_SIGNS = {ANSWERED: "✓", PARTIAL: "◐", MISSING: "✗"}


@dataclass(frozen=True)
class MatrixCell:
    question: str
    label: str
    state: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def sign(self) -> str:
        return STATE_SIGNS[self.state]


@dataclass(frozen=True)
class MatrixRow:
    """One aspect's row as the template shows it (owner looked up from the plan's people)."""

    row: CoverageRow
    cells: list[MatrixCell]
    owner: Person | None

    @property
    def aspect(self) -> Aspect:
        return self.row.aspect

    @property
    def item(self) -> ScopeItem | None:
        return self.row.item


def _matrix_row(row: CoverageRow, people: dict[int, Person]) -> MatrixRow:
    owner_id = row.item.owner_id if row.item else None
    return MatrixRow(
        row=row,
        cells=[
            MatrixCell(question, QUESTION_LABELS[question], row.states[question]) for question in QUESTIONS
        ],
        owner=people.get(owner_id) if owner_id else None,
    )


def _matches(row: CoverageRow, filters: dict[str, Any]) -> bool:
    item = row.item
    if "status" in filters and (item.status if item else "not_started") != filters["status"]:
        return False
    if "owner" in filters and (item is None or item.owner_id != filters["owner"]):
        return False
    return not (filters.get("gaps") and not row.has_gap)


def _plan_people(plan) -> dict[int, Person]:
    # One query for the owner column and the owner filter, however many items there are.
    return {person.pk: person for person in Person.objects.filter(plan=plan).only("pk", "name", "plan")}


def _summary_context(coverage: Coverage) -> dict[str, Any]:
    rows = [row for group in coverage.groups for row in group.rows]
    return {
        "coverage": coverage,
        "aspect_count": len(rows),
        "gap_count": sum(row.has_gap for row in rows),
    }


class ScopeMatrixView(PlanViewMixin, TemplateView):
    """The matrix with its filters (GET params, applied here) and the completeness summary."""

    plan_access = "staff"
    template_name = "scope/matrix.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        coverage = scope_coverage(user=self.request.user, plan=self.plan)
        people = _plan_people(self.plan)
        filter_form = MatrixFilterForm(
            self.request.GET or None,
            groups=[group.group for group in coverage.groups],
            people=list(people.values()),
        )
        filters = filter_form.filters() if self.request.GET else {}
        groups = [
            {
                "group": group.group,
                "completeness": group.completeness,
                "rows": [_matrix_row(row, people) for row in group.rows if _matches(row, filters)],
            }
            for group in coverage.groups
            if filters.get("group") in (None, group.group.key)
        ]
        shown = sum(len(group["rows"]) for group in groups)
        context.update(
            _summary_context(coverage),
            groups=[group for group in groups if group["rows"]],
            shown_count=shown,
            filter_form=filter_form,
            filtered=bool(filters),
            questions=list(QUESTION_LABELS.items()),
            cell_url=reverse("scope-cell", kwargs={"plan_slug": self.plan.slug}),
        )
        return context


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class ScopeCellView(PlanViewMixin, View):
    """One question of one aspect, in place. GET (htmx) opens the row's inline form; POST saves it
    through ``scope_item_save`` and answers with the row and, out of band, the summary. Errors come
    back inside the row with status 200 (htmx swaps only 2xx); a browser without htmx is sent back
    to the matrix with a message. Another plan's aspect is a 404, bad input a 400."""

    plan_access = "configure"

    def _target(self, data) -> tuple[Aspect, str] | HttpResponse:
        target = CellTargetForm(data)
        if not target.is_valid():
            return _bad_request(
                " ".join(
                    f"{field}: {message}" for field, errors in target.errors.items() for message in errors
                )
            )
        aspect = get_object_or_404(
            Aspect.objects.for_plan(self.plan).select_related("group"), pk=target.cleaned_data["aspect"]
        )
        return aspect, target.cleaned_data["question"]

    def get(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self._target(request.GET)
        if isinstance(target, HttpResponse):
            return target
        aspect, question = target
        if not request.htmx:
            return redirect(_item_url(self.plan, aspect) + (f"#{question}" if question else ""))
        coverage = scope_coverage(user=request.user, plan=self.plan)
        row = _find_row(coverage, aspect)
        if not question:
            return HttpResponse(self._row_html(row))
        form = QUESTION_FORMS[question](initial=PlanItemForm.initial_for(row.item), plan=self.plan)
        return HttpResponse(self._row_html(row, question=question, form=form))

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self._target(request.POST)
        if isinstance(target, HttpResponse):
            return target
        aspect, question = target
        if not question:
            return _bad_request("question: name the question to answer (what, detail, who, when or how).")
        form = QUESTION_FORMS[question](request.POST, plan=self.plan)
        saved = form.is_valid() and run_service(
            form, lambda: services.scope_item_save(plan=self.plan, aspect=aspect, **form.service_fields())
        )
        label = f"{aspect.name}: {QUESTION_LABELS[question].lower()}"
        if not request.htmx:
            if saved:
                messages.success(request, f"{label} saved.")
            else:
                problems = " ".join(message for errors in form.errors.values() for message in errors)
                messages.error(request, f"{label} not saved: {problems}")
            return redirect(
                reverse("scope-matrix", kwargs={"plan_slug": self.plan.slug}) + f"#aspect-{aspect.pk}"
            )
        coverage = scope_coverage(user=request.user, plan=self.plan)
        row = _find_row(coverage, aspect)
        if not saved:
            return HttpResponse(self._row_html(row, question=question, form=form))
        summary_html = render_to_string(
            "scope/_matrix_summary.html",
            {**_summary_context(coverage), "plan": self.plan, "oob": True},
            request=self.request,
        )
        return HttpResponse(self._row_html(row, saved_message=f"{label} saved.") + summary_html)

    def _row_html(self, row: CoverageRow, **extra: Any) -> str:
        context = {
            "plan": self.plan,
            "entry": _matrix_row(row, _plan_people(self.plan)),
            "questions": list(QUESTION_LABELS.items()),
            "cell_url": reverse("scope-cell", kwargs={"plan_slug": self.plan.slug}),
            "can_configure": True,
            **extra,
        }
        if "question" in extra:
            context.update(
                question_label=QUESTION_LABELS[extra["question"]],
                prompt=getattr(row.aspect, f"prompt_{extra['question']}"),
            )
        return render_to_string("scope/_matrix_row.html", context, request=self.request)


def _find_row(coverage: Coverage, aspect: Aspect) -> CoverageRow:
    for group in coverage.groups:
        for row in group.rows:
            if row.aspect.pk == aspect.pk:
                return row
    # An aspect of the plan is always in its coverage; this guards a retired one's direct link.
    return CoverageRow(aspect=aspect, item=None, states=dict.fromkeys(QUESTIONS, MISSING))


def _item_url(plan, aspect: Aspect) -> str:
    return reverse("scope-item-edit", kwargs={"plan_slug": plan.slug, "aspect_id": aspect.pk})


class ScopeItemEditView(PlanViewMixin, FormView):
    """Everything about the plan's item for one aspect (created on first save)."""

    plan_access = "configure"
    template_name = "scope/item_form.html"
    form_class = ScopeItemForm

    def setup(self, request, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.aspect_id = kwargs["aspect_id"]

    def get_aspect_and_item(self) -> tuple[Aspect, ScopeItem | None]:
        if not hasattr(self, "aspect"):
            self.aspect = get_object_or_404(
                Aspect.objects.for_plan(self.plan).select_related("group"), pk=self.aspect_id
            )
            self.item = (
                ScopeItem.objects.for_user(self.request.user)
                .filter(plan=self.plan, aspect=self.aspect)
                .prefetch_related("roles", "people", "parties")
                .first()
            )
        return self.aspect, self.item

    def get_form_kwargs(self) -> dict[str, Any]:
        aspect, item = self.get_aspect_and_item()
        kwargs = super().get_form_kwargs()
        kwargs.update(plan=self.plan, aspect=aspect)
        if self.request.method == "GET":
            kwargs["initial"] = PlanItemForm.initial_for(item)
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        aspect, item = self.get_aspect_and_item()
        form = context["form"]
        sections = [
            {
                "key": key,
                "label": label,
                "prompt": getattr(aspect, f"prompt_{key}"),
                "fields": form.question_fields(key),
            }
            for key, label in QUESTION_LABELS.items()
        ]
        sections.append({"key": "review", "label": "Review", "prompt": "", "fields": form.review_fields()})
        if aspect.is_business_process:
            sections.append(
                {
                    "key": "profile",
                    "label": "Business process profile",
                    "prompt": "The guide's nine questions for a business process, and its criticality.",
                    "fields": form.process_fields(),
                }
            )
        context.update(
            aspect=aspect,
            item=item,
            sections=sections,
            back_url=reverse("scope-matrix", kwargs={"plan_slug": self.plan.slug}) + f"#aspect-{aspect.pk}",
        )
        return context

    def form_valid(self, form: ScopeItemForm) -> HttpResponse:
        aspect, _item = self.get_aspect_and_item()
        saved = run_service(
            form, lambda: services.scope_item_save(plan=self.plan, aspect=aspect, **form.service_fields())
        )
        if saved is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Scope of “{aspect.name}” saved.")
        return redirect(
            reverse("scope-matrix", kwargs={"plan_slug": self.plan.slug}) + f"#aspect-{aspect.pk}"
        )


class AspectCreateView(PlanViewMixin, FormView):
    """A plan's own aspect (one per integration or business process, say)."""

    plan_access = "configure"
    template_name = "scope/aspect_form.html"
    form_class = AspectForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("scope-matrix", kwargs={"plan_slug": self.plan.slug})
        return context

    def form_valid(self, form: AspectForm) -> HttpResponse:
        aspect = run_service(form, lambda: services.aspect_create(plan=self.plan, **form.cleaned_data))
        if aspect is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Aspect “{aspect.name}” added: answer its five questions next.")
        return redirect(_item_url(self.plan, aspect))
