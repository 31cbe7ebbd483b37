"""Priority and SLA pages: everyone in the plan reads them (partners too: SLAs are what they are
measured against); the leads change them. Ladders are shown as sentences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from operations import selectors
from operations import sla_services as services
from operations.forms_sla import (
    EscalationStepForm,
    MatrixCellForm,
    PriorityForm,
    SlaPolicyForm,
    SlaTargetForm,
)
from operations.models import EscalationStep, Impact, Priority, SlaPolicy, SlaTarget, Urgency
from operations.statuses import RequestStatus
from supportplan.views_base import PlanViewMixin, run_service

LEADS_ONLY = "Only the plan's project and support leads can change this."


def _describe(targets) -> list[SlaTarget]:
    """Adds the words the pages show: the time allowed and the ladder's sentences."""
    for target in targets:
        target.duration = services.minutes_in_words(target.minutes)
        target.ladder_sentences = [
            services.escalation_step_sentence(s) for s in target.escalation_steps.all()
        ]
    return targets


class _SlaViewMixin(PlanViewMixin):
    def require_configure(self) -> None:
        if not self.can_configure:
            raise PermissionDenied(LEADS_ONLY)

    def policy_or_404(self, policy_id: int) -> SlaPolicy:
        return get_object_or_404(SlaPolicy.objects.for_user(self.request.user), plan=self.plan, pk=policy_id)

    def target_or_404(self, target_id: int) -> SlaTarget:
        policies = SlaPolicy.objects.for_user(self.request.user).filter(plan=self.plan)
        return get_object_or_404(
            SlaTarget.objects.select_related("policy", "priority", "calendar", "support_level"),
            policy__in=policies,
            pk=target_id,
        )


# --- Priorities and the matrix --------------------------------------------------------------
class PriorityMatrixView(_SlaViewMixin, TemplateView):
    """The priorities with their definitions and the 3×3 matrix (a <select> per cell for leads)."""

    template_name = "operations/sla/priorities.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        priorities, rows = services.priority_matrix(user=self.request.user, plan=self.plan)
        kwargs.setdefault("priority_form", PriorityForm())
        return super().get_context_data(
            priorities=priorities,
            rows=rows,
            urgencies=Urgency.choices,
            example_label=services.EXAMPLE_LABEL,
            cell_url=reverse("priority-matrix-cell", kwargs={"plan_slug": self.plan.slug}),
            **kwargs,
        )


class PriorityCreateView(PriorityMatrixView):
    plan_access = "configure"
    http_method_names = ["post", "options"]

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PriorityForm(request.POST)
        priority = form.is_valid() and run_service(
            form, lambda: services.priority_create(plan=self.plan, **form.cleaned_data)
        )
        if not priority:
            return self.render_to_response(self.get_context_data(priority_form=form))
        messages.success(request, f"Priority {priority} added: use it in the matrix below.")
        return redirect("priority-matrix", plan_slug=self.plan.slug)


class PrioritySeedView(_SlaViewMixin, View):
    """Loads the example priorities and matrix into a plan that lacks them (nothing is overwritten)."""

    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        services.priorities_seed_defaults(plan=self.plan)
        messages.success(request, "Example priorities P1–P4 and matrix loaded: adapt them to your business.")
        return redirect("priority-matrix", plan_slug=self.plan.slug)


class MatrixCellView(_SlaViewMixin, View):
    """Sets one cell: htmx gets the cell back, a browser without JavaScript the page. Bad input is a
    400, another plan's priority a 404."""

    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MatrixCellForm(request.POST)
        if not form.is_valid():
            problems = " ".join(
                f"{field}: {message}" for field, errors in form.errors.items() for message in errors
            )
            return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
        data = form.cleaned_data
        priority = get_object_or_404(
            Priority.objects.for_user(request.user), plan=self.plan, pk=data["priority"]
        )
        cell = services.matrix_set_cell(
            plan=self.plan, impact=data["impact"], urgency=data["urgency"], priority=priority
        )
        if not request.htmx:
            impact = Impact(cell.impact).label.split(":")[0]
            messages.success(request, f"{impact} impact × {cell.urgency} urgency is now {priority}.")
            return redirect("priority-matrix", plan_slug=self.plan.slug)
        context = {
            "plan": self.plan,
            "can_configure": True,
            "cell": services.MatrixCell(cell.impact, cell.urgency, priority),
            "priorities": list(Priority.objects.filter(plan=self.plan).order_by("rank", "code")),
            "cell_url": reverse("priority-matrix-cell", kwargs={"plan_slug": self.plan.slug}),
            "saved": True,
        }
        return HttpResponse(render_to_string("operations/sla/_matrix_cell.html", context, request=request))


class PriorityEditView(_SlaViewMixin, FormView):
    plan_access = "configure"
    template_name = "operations/sla/form.html"
    form_class = PriorityForm

    def get_priority(self) -> Priority:
        if not hasattr(self, "_priority"):
            self._priority = get_object_or_404(
                Priority.objects.for_user(self.request.user), plan=self.plan, pk=self.kwargs["priority_id"]
            )
        return self._priority

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.get_priority()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        priority = self.get_priority()
        return super().get_context_data(
            title=f"Edit priority {Priority.objects.get(pk=priority.pk)}",
            back_url=reverse("priority-matrix", kwargs={"plan_slug": self.plan.slug}),
            delete_url=reverse(
                "priority-delete", kwargs={"plan_slug": self.plan.slug, "priority_id": priority.pk}
            ),
            delete_label="Remove this priority",
            **kwargs,
        )

    def form_valid(self, form: PriorityForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        priority = run_service(form, lambda: services.priority_update(priority=self.get_priority(), **data))
        if priority is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Priority {priority} saved.")
        return redirect("priority-matrix", plan_slug=self.plan.slug)


class PriorityDeleteView(_SlaViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        priority = get_object_or_404(
            Priority.objects.for_user(request.user), plan=self.plan, pk=kwargs["priority_id"]
        )
        try:
            services.priority_delete(priority=priority)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Priority {priority} removed.")
        return redirect("priority-matrix", plan_slug=self.plan.slug)


# --- Policies -------------------------------------------------------------------------------
class SlaOverviewView(_SlaViewMixin, TemplateView):
    """Every policy with its targets and ladders, and which one is in force today."""

    template_name = "operations/sla/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        policies = list(services.sla_overview(user=self.request.user, plan=self.plan))
        for policy in policies:
            _describe(policy.targets.all())
        in_force = selectors.policy_in_force(plan=self.plan, day=today)
        return super().get_context_data(
            policies=policies,
            today=today,
            phase_today=selectors.phase_on(plan=self.plan, day=today),
            in_force_id=in_force.pk if in_force else None,
            **kwargs,
        )


class SlaPolicyCreateView(_SlaViewMixin, FormView):
    plan_access = "configure"
    template_name = "operations/sla/form.html"
    form_class = SlaPolicyForm

    def get_initial(self) -> dict[str, Any]:
        phase = self.request.GET.get("phase")
        if phase == "hypercare" and self.plan.hypercare_start:
            return {
                "phase": phase,
                "valid_from": self.plan.hypercare_start,
                "valid_to": self.plan.hypercare_end,
            }
        return {"phase": "steady_state", "valid_from": self.plan.hypercare_end or self.plan.go_live_date}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            title="New SLA policy",
            back_url=reverse("sla-overview", kwargs={"plan_slug": self.plan.slug}),
            **kwargs,
        )

    def form_valid(self, form: SlaPolicyForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        policy = run_service(form, lambda: services.sla_policy_create(plan=self.plan, **data))
        if policy is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Policy “{policy.name}” created: add its targets below.")
        return redirect("sla-policy-edit", plan_slug=self.plan.slug, policy_id=policy.pk)


class SlaPolicyView(_SlaViewMixin, TemplateView):
    """A policy: its facts, targets and ladders; for leads, forms to edit it, add targets and steps.

    POST saves the policy's own fields (leads only).
    """

    template_name = "operations/sla/policy.html"

    def get_policy(self) -> SlaPolicy:
        if not hasattr(self, "_policy"):
            policies = services.sla_overview(user=self.request.user, plan=self.plan)
            self._policy = get_object_or_404(policies, pk=self.kwargs["policy_id"])
        return self._policy

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        policy = self.get_policy()
        targets = _describe(list(policy.targets.all()))
        if self.can_configure:
            kwargs.setdefault("policy_form", SlaPolicyForm(instance=policy))
            target_form = kwargs.setdefault("target_form", SlaTargetForm())
            target_form.limit_to_plan(self.plan)
            step_form = kwargs.setdefault("step_form", EscalationStepForm(targets=self._target_choices()))
            step_form.limit_to_plan(self.plan)
        today = timezone.localdate()
        in_force = selectors.policy_in_force(plan=self.plan, day=today)
        return super().get_context_data(
            policy=policy,
            targets=targets,
            in_force=in_force is not None and in_force.pk == policy.pk,
            pause_labels=_status_labels(policy.pause_statuses),
            **kwargs,
        )

    def _target_choices(self):
        return SlaTarget.objects.filter(policy=self.get_policy()).select_related("priority", "calendar")

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_configure()
        policy = SlaPolicy.objects.get(pk=self.get_policy().pk)
        form = SlaPolicyForm(request.POST, instance=policy)
        saved = form.is_valid() and run_service(
            form, lambda: services.sla_policy_update(policy=policy, **form.cleaned_data)
        )
        if not saved:
            return self.render_to_response(self.get_context_data(policy_form=form, policy_form_open=True))
        messages.success(request, f"Policy “{saved.name}” saved.")
        return redirect("sla-policy-edit", plan_slug=self.plan.slug, policy_id=saved.pk)


def _status_labels(values: list[str]) -> list[str]:
    return [RequestStatus(value).label for value in values if value in RequestStatus.values]


class SlaPolicyDeleteView(_SlaViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        policy = self.policy_or_404(kwargs["policy_id"])
        services.sla_policy_delete(policy=policy)
        messages.success(request, f"Policy “{policy.name}” removed with its targets.")
        return redirect("sla-overview", plan_slug=self.plan.slug)


# --- Targets and their ladders --------------------------------------------------------------
class SlaTargetCreateView(SlaPolicyView):
    """Adds a target to the policy; with errors, the policy page comes back with them."""

    plan_access = "configure"
    http_method_names = ["post", "options"]

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        policy = self.policy_or_404(kwargs["policy_id"])
        form = SlaTargetForm(request.POST)
        form.limit_to_plan(self.plan)
        target = form.is_valid() and run_service(
            form, lambda: services.sla_target_create(policy=policy, **form.cleaned_data)
        )
        if not target:
            return self.render_to_response(self.get_context_data(target_form=form, target_form_open=True))
        messages.success(request, f"Target “{target}” added.")
        return redirect("sla-policy-edit", plan_slug=self.plan.slug, policy_id=policy.pk)


class SlaTargetView(_SlaViewMixin, TemplateView):
    """A target and its ladder; for leads, forms to change the target and add steps."""

    template_name = "operations/sla/target.html"

    def get_target(self) -> SlaTarget:
        if not hasattr(self, "_target"):
            self._target = self.target_or_404(self.kwargs["target_id"])
        return self._target

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        target = self.get_target()
        steps = list(
            EscalationStep.objects.filter(target=target)
            .select_related("role", "person", "party")
            .order_by("position", "pk")
        )
        for step in steps:
            step.sentence = services.escalation_step_sentence(step)
        if self.can_configure:
            target_form = kwargs.setdefault("target_form", SlaTargetForm(instance=target))
            target_form.limit_to_plan(self.plan)
            step_form = kwargs.setdefault("step_form", EscalationStepForm(fixed_target=target))
            step_form.limit_to_plan(self.plan)
        return super().get_context_data(
            target=target,
            policy=target.policy,
            duration=services.minutes_in_words(target.minutes),
            steps=steps,
            **kwargs,
        )

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_configure()
        target = SlaTarget.objects.get(pk=self.get_target().pk)
        form = SlaTargetForm(request.POST, instance=target)
        form.limit_to_plan(self.plan)
        saved = form.is_valid() and run_service(
            form, lambda: services.sla_target_update(target=target, **form.cleaned_data)
        )
        if not saved:
            return self.render_to_response(self.get_context_data(target_form=form))
        messages.success(request, f"Target “{saved}” saved.")
        return redirect("sla-target-edit", plan_slug=self.plan.slug, target_id=saved.pk)


class SlaTargetDeleteView(_SlaViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self.target_or_404(kwargs["target_id"])
        services.sla_target_delete(target=target)
        messages.success(request, f"Target “{target}” removed with its ladder.")
        return redirect("sla-policy-edit", plan_slug=self.plan.slug, policy_id=target.policy_id)


class EscalationStepCreateView(_SlaViewMixin, View):
    """Adds a step to one of the policy's targets. With errors, the page the form was on (the
    policy's or the target's, ``page`` in the form) comes back with them."""

    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        policy = self.policy_or_404(kwargs["policy_id"])
        on_target_page = request.POST.get("page") == "target"
        targets = SlaTarget.objects.filter(policy=policy).select_related("priority", "calendar")
        form = EscalationStepForm(request.POST, targets=targets)
        form.limit_to_plan(self.plan)
        step = form.is_valid() and run_service(
            form,
            lambda: services.escalation_step_create(target=form.cleaned_data["target"], **form.step_fields()),
        )
        if step:
            messages.success(request, f"Step added: {services.escalation_step_sentence(step)}.")
            if on_target_page:
                return redirect("sla-target-edit", plan_slug=self.plan.slug, target_id=step.target_id)
            return redirect("sla-policy-edit", plan_slug=self.plan.slug, policy_id=policy.pk)
        target = form.cleaned_data.get("target")
        if on_target_page and target is not None:
            page = SlaTargetView()
            page.setup(request, plan_slug=self.plan.slug, target_id=target.pk)
            form.fields["target"].widget = forms.HiddenInput()
        else:
            page = SlaPolicyView()
            page.setup(request, plan_slug=self.plan.slug, policy_id=policy.pk)
        page.plan, page.role, page.can_configure = self.plan, self.role, self.can_configure
        return page.render_to_response(page.get_context_data(step_form=form, step_form_open=True))


class EscalationStepDeleteView(_SlaViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        policies = SlaPolicy.objects.for_user(request.user).filter(plan=self.plan)
        step = get_object_or_404(
            EscalationStep.objects.select_related("target", "role", "person", "party"),
            target__policy__in=policies,
            pk=kwargs["step_id"],
        )
        sentence = services.escalation_step_sentence(step)
        services.escalation_step_delete(step=step)
        messages.success(request, f"Step removed: {sentence}.")
        return redirect("sla-target-edit", plan_slug=self.plan.slug, target_id=step.target_id)
