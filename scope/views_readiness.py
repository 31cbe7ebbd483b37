"""Pages of go-live readiness (checklist, derived evidence, scores, trend, warnings, the gate), the
transition plan (timeline from Initiate to Operate, activities, targets) and hypercare (criteria
with live figures, start and end). Everyone in the plan but partners reads; leads change."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from scope import readiness_catalogue as catalogue
from scope import readiness_selectors as selectors
from scope import readiness_services as services
from scope.forms_readiness import (
    GateOverrideForm,
    HypercareEndForm,
    HypercarePlanForm,
    ReadinessItemForm,
    ReadinessTargetForm,
    TransitionActivityForm,
)
from scope.readiness_models import (
    GateAction,
    GateOverride,
    ReadinessItem,
    ReadinessTarget,
    TransitionActivity,
)
from scope.readiness_rules import readiness_warnings
from supportplan.views_base import PlanViewMixin, run_service


class _ReadinessMixin(PlanViewMixin):
    plan_access = "staff"

    def readiness_url(self) -> str:
        return reverse("readiness", args=[self.plan.slug])


def _messages_from(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


class ReadinessView(_ReadinessMixin, TemplateView):
    template_name = "scope/readiness/readiness.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        if not ReadinessItem.objects.filter(plan=self.plan).exists():
            services.readiness_seed(plan=self.plan)
        services.readiness_snapshot_ensure(plan=self.plan, today=today)
        current = selectors.readiness(plan=self.plan)
        history = selectors.snapshots(plan=self.plan)
        values = [snap.overall_percent for snap in history]
        overrides = list(GateOverride.objects.filter(plan=self.plan).select_related("created_by")[:10])
        context = super().get_context_data(
            readiness=current,
            warnings=readiness_warnings(plan=self.plan, today=today),
            history=history,
            sparkline=selectors.sparkline_points(values),
            targets=selectors.targets_vs_actual(plan=self.plan, current=current, today=today),
            open_items=current.open_must_haves,
            overrides=overrides,
            unused_overrides=[o for o in overrides if o.used_at is None],
            **kwargs,
        )
        if self.can_configure:
            context.setdefault("override_form", GateOverrideForm())
        return context


class ReadinessItemEditView(_ReadinessMixin, FormView):
    plan_access = "configure"
    template_name = "scope/readiness/item_form.html"
    form_class = ReadinessItemForm

    def get_item(self) -> ReadinessItem:
        if not hasattr(self, "_item"):
            self._item = get_object_or_404(ReadinessItem, plan=self.plan, pk=self.kwargs["item_id"])
        return self._item

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.get_item())}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_context_data(self, **kwargs):
        item = self.get_item()
        evidence = selectors.DERIVATIONS.get(item.key)
        return super().get_context_data(
            item=item, evidence=evidence(self.plan) if evidence else None, **kwargs
        )

    def form_valid(self, form):
        item = self.get_item()
        upload = form.cleaned_data.get("evidence_upload")

        @transaction.atomic  # a refused file leaves the item's other fields unchanged too
        def save():
            updated = services.readiness_item_update(item=item, **form.service_fields())
            if upload:
                services.readiness_item_attach_evidence(item=updated, upload=upload)
            return updated

        if run_service(form, save) is None:
            if "evidence_file" in form.errors:
                form.add_error("evidence_upload", form.errors.pop("evidence_file"))
            return self.form_invalid(form)
        messages.success(self.request, f"“{item.title}” saved.")
        return redirect(self.readiness_url())


class ReadinessEvidenceView(_ReadinessMixin, View):
    """Serves an item's evidence file to people who may read the plan (never a public media URL)."""

    def get(self, request, *args, **kwargs):
        item = get_object_or_404(ReadinessItem, plan=self.plan, pk=kwargs["item_id"])
        if not item.evidence_file:
            raise Http404("No evidence file.")
        try:
            handle = item.evidence_file.open("rb")
        except FileNotFoundError:
            raise Http404("The evidence file is missing.") from None
        return FileResponse(handle, as_attachment=True, filename=item.evidence_file.name.rsplit("/", 1)[-1])


class GateOverrideView(_ReadinessMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        form = GateOverrideForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose what the override is for.")
            return redirect(self.readiness_url())
        try:
            override = services.gate_override_record(
                plan=self.plan,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            _messages_from(request, error)
        else:
            messages.success(
                request, f"Override recorded: {override.get_action_display().lower()} may pass once."
            )
        return redirect(self.readiness_url())


# --- Transition plan ------------------------------------------------------------------------
def _timeline(plan, activities, targets, today: date) -> dict:
    """Rows positioned in percent of the span from Initiate's start to three months into Operate."""
    first_activity = min((a.planned_start for a in activities), default=None)
    phases = catalogue.phase_windows(plan.go_live_date, start=first_activity)
    if phases:
        start, end = phases[0][1], phases[-1][2]
    else:
        dates = [a.planned_start for a in activities] + [a.planned_end for a in activities]
        if not dates:
            return {"phases": [], "rows": [], "targets": [], "today": None}
        start, end = min(dates), max(dates) + timedelta(days=1)
    span = max((end - start).days, 1)

    def pos(day: date) -> float:
        return round(max(0.0, min(100.0, (day - start).days * 100 / span)), 2)

    def width(first: date, last: date) -> float:
        return round(max(0.6, pos(last + timedelta(days=1)) - pos(first)), 2)

    uat = catalogue.uat_window(plan.go_live_date)
    rows = []
    for activity in activities:
        row = {
            "activity": activity,
            "planned_left": pos(activity.planned_start),
            "planned_width": width(activity.planned_start, activity.planned_end),
            "actual": None,
        }
        if activity.actual_start:
            actual_end = activity.actual_end or min(today, end)
            row["actual"] = {
                "left": pos(activity.actual_start),
                "width": width(activity.actual_start, actual_end),
            }
        rows.append(row)
    return {
        "phases": [
            {"name": name, "first": first, "last": last, "left": pos(first), "width": width(first, last)}
            for name, first, last in phases
        ],
        "rows": rows,
        "targets": [
            {"target": t, "left": pos(t.target_date)} for t in targets if start <= t.target_date <= end
        ],
        "today": pos(today) if start <= today <= end else None,
        "uat": uat,
        "uat_band": {"left": pos(uat[0]), "width": width(uat[0], uat[1])} if uat else None,
        "start": start,
        "end": end,
    }


class TransitionView(_ReadinessMixin, TemplateView):
    template_name = "scope/readiness/transition.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        activities = list(
            TransitionActivity.objects.filter(plan=self.plan)
            .prefetch_related("people")
            .order_by("planned_start", "id")
        )
        targets = list(ReadinessTarget.objects.filter(plan=self.plan).order_by("target_date", "id"))
        current = selectors.readiness(plan=self.plan)
        context = super().get_context_data(
            timeline=_timeline(self.plan, activities, targets, today),
            activities=activities,
            target_states=selectors.targets_vs_actual(plan=self.plan, current=current, today=today),
            readiness=current,
            **kwargs,
        )
        if self.can_configure:
            activity_form = context.get("activity_form") or TransitionActivityForm()
            activity_form.limit_to_plan(self.plan)
            context["activity_form"] = activity_form
            context.setdefault("target_form", ReadinessTargetForm())
        return context


class TransitionActivityCreateView(TransitionView):
    plan_access = "configure"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = TransitionActivityForm(request.POST)
        form.limit_to_plan(self.plan)
        if form.is_valid():
            fields = form.service_fields()
            people = fields.pop("people")
            if run_service(
                form, lambda: services.transition_activity_create(plan=self.plan, people=people, **fields)
            ):
                messages.success(request, f"“{fields['title']}” added to the transition plan.")
                return redirect("readiness-transition", self.plan.slug)
        return self.render_to_response(self.get_context_data(activity_form=form))


class TransitionActivityEditView(_ReadinessMixin, FormView):
    plan_access = "configure"
    template_name = "scope/readiness/activity_form.html"
    form_class = TransitionActivityForm

    def get_activity(self) -> TransitionActivity:
        if not hasattr(self, "_activity"):
            self._activity = get_object_or_404(
                TransitionActivity, plan=self.plan, pk=self.kwargs["activity_id"]
            )
        return self._activity

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.get_activity())}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(activity=self.get_activity(), **kwargs)

    def form_valid(self, form):
        activity = self.get_activity()
        fields = form.service_fields()
        people = fields.pop("people")
        if (
            run_service(
                form, lambda: services.transition_activity_update(activity=activity, people=people, **fields)
            )
            is None
        ):
            return self.form_invalid(form)
        messages.success(self.request, f"“{activity.title}” saved.")
        return redirect("readiness-transition", self.plan.slug)


class TransitionActivityDeleteView(_ReadinessMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        activity = get_object_or_404(TransitionActivity, plan=self.plan, pk=kwargs["activity_id"])
        services.transition_activity_delete(activity=activity)
        messages.success(request, f"“{activity.title}” removed.")
        return redirect("readiness-transition", self.plan.slug)


class ReadinessTargetCreateView(TransitionView):
    plan_access = "configure"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ReadinessTargetForm(request.POST)
        if form.is_valid() and run_service(
            form, lambda: services.readiness_target_create(plan=self.plan, **form.service_fields())
        ):
            messages.success(request, "Readiness target added.")
            return redirect("readiness-transition", self.plan.slug)
        return self.render_to_response(self.get_context_data(target_form=form))


class ReadinessTargetDeleteView(_ReadinessMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        target = get_object_or_404(ReadinessTarget, plan=self.plan, pk=kwargs["target_id"])
        services.readiness_target_delete(target=target)
        messages.success(request, f"Target “{target.name}” removed.")
        return redirect("readiness-transition", self.plan.slug)


# --- Hypercare ------------------------------------------------------------------------------
class HypercareView(_ReadinessMixin, TemplateView):
    template_name = "scope/readiness/hypercare.html"

    def get_context_data(self, **kwargs):
        hypercare = services.hypercare_plan_get(plan=self.plan)
        context = super().get_context_data(
            hypercare=hypercare,
            metrics=selectors.hypercare_metrics(plan=self.plan, hypercare=hypercare),
            hours=selectors.hours_figures(hypercare),
            missing=selectors.hypercare_plan_missing(hypercare),
            start_blockers=services.gate_check(plan=self.plan, action=GateAction.START_HYPERCARE)
            if not hypercare.started_at
            else [],
            **kwargs,
        )
        if self.can_configure:
            if "form" not in context:
                context["form"] = HypercarePlanForm(instance=copy.copy(hypercare))
            context["form"].limit_to_plan(self.plan)
            context.setdefault("end_form", HypercareEndForm())
        return context

    def post(self, request, *args, **kwargs):
        if not self.can_configure:
            raise PermissionDenied("Only the plan's project and support leads can change this.")
        hypercare = services.hypercare_plan_get(plan=self.plan)
        form = HypercarePlanForm(request.POST, instance=copy.copy(hypercare))
        form.limit_to_plan(self.plan)
        if form.is_valid() and run_service(
            form, lambda: services.hypercare_plan_update(hypercare=hypercare, **form.service_fields())
        ):
            messages.success(request, "Hypercare plan saved.")
            return redirect("readiness-hypercare", self.plan.slug)
        return self.render_to_response(self.get_context_data(form=form))


class HypercareStartView(_ReadinessMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        try:
            services.hypercare_start(plan=self.plan, actor=request.user)
        except ValidationError as error:
            _messages_from(request, error)
        else:
            messages.success(request, "Hypercare started: the hypercare SLA policy applies from today.")
        return redirect("readiness-hypercare", self.plan.slug)


class HypercareEndView(_ReadinessMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        form = HypercareEndForm(request.POST)
        form.is_valid()
        try:
            services.hypercare_end(plan=self.plan, actor=request.user, note=form.cleaned_data.get("note", ""))
        except ValidationError as error:
            _messages_from(request, error)
        else:
            messages.success(request, "Hypercare ended: the steady-state SLA policy is in force from today.")
        return redirect("readiness-hypercare", self.plan.slug)
