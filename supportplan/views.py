"""Browser UI for plans: list and switch, create, overview, locations, members, API keys, history."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from supportplan import services
from supportplan.forms import ApiKeyForm, LocationForm, MemberAddForm, MemberRoleForm, PlanForm
from supportplan.models import ApiKey, Location, Membership, PlanRole, ServiceHeartbeat
from supportplan.selectors import (
    plan_api_keys,
    plan_history,
    plan_locations,
    plan_members,
    plan_user_total,
    plans_for,
)
from supportplan.views_base import PlanViewMixin, ScopedViewMixin, run_service


class PlanListView(ScopedViewMixin, TemplateView):
    template_name = "plans/list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(plans=plans_for(user=self.request.user), **kwargs)


class PlanCreateView(ScopedViewMixin, FormView):
    template_name = "plans/form.html"
    form_class = PlanForm

    def form_valid(self, form):
        plan = run_service(
            form, lambda: services.plan_create(created_by=self.request.user, **form.cleaned_data)
        )
        if plan is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Plan “{plan.name}” created. You are its project lead.")
        return redirect(plan)


class PlanDetailView(PlanViewMixin, TemplateView):
    template_name = "plans/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            locations=plan_locations(user=user, plan=self.plan),
            members=plan_members(user=user, plan=self.plan),
            user_total=plan_user_total(plan=self.plan),
            phase_steps=_phase_steps(self.plan),
        )
        return context


def _phase_steps(plan) -> list[dict]:
    from supportplan.models import Phase

    values = list(Phase.values)
    current = values.index(plan.phase)
    return [
        {"label": label, "state": "done" if index < current else "current" if index == current else "next"}
        for index, (_value, label) in enumerate(Phase.choices)
    ]


class PlanUpdateView(PlanViewMixin, FormView):
    plan_access = "configure"
    template_name = "plans/form.html"
    form_class = PlanForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.plan}

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        plan = run_service(form, lambda: services.plan_update(plan=self.plan, **fields))
        if plan is None:
            return self.form_invalid(form)
        messages.success(self.request, "Plan saved.")
        return redirect(plan)


class LocationFormView(PlanViewMixin, FormView):
    plan_access = "configure"
    template_name = "plans/location_form.html"
    form_class = LocationForm

    def dispatch(self, request, *args, **kwargs):
        self.location = None
        return super().dispatch(request, *args, **kwargs)

    def get_location(self) -> Location | None:
        if "location_id" in self.kwargs and self.location is None:
            self.location = get_object_or_404(
                Location.objects.for_user(self.request.user), plan=self.plan, pk=self.kwargs["location_id"]
            )
        return self.location

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_location()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(location=self.get_location(), **kwargs)

    def form_valid(self, form):
        location = self.get_location()
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if location is None:
            result = run_service(form, lambda: services.location_create(plan=self.plan, **data))
        else:
            result = run_service(form, lambda: services.location_update(location=location, **data))
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Location “{result.name}” saved.")
        return redirect(self.plan)


class LocationDeleteView(PlanViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        location = get_object_or_404(
            Location.objects.for_user(request.user), plan=self.plan, pk=kwargs["location_id"]
        )
        services.location_delete(location=location)
        messages.success(request, f"Location “{location.name}” removed.")
        return redirect(self.plan)


class MemberListView(PlanViewMixin, FormView):
    plan_access = "staff"
    template_name = "plans/members.html"
    form_class = MemberAddForm

    def get_context_data(self, **kwargs):
        members = plan_members(user=self.request.user, plan=self.plan)
        return super().get_context_data(members=members, roles=PlanRole.choices, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.can_configure:
            return render(request, "403.html", status=403)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user, role = form.cleaned_data["username"], form.cleaned_data["role"]
        result = run_service(form, lambda: services.membership_add(plan=self.plan, user=user, role=role))
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"{user.get_username()} added as {result.get_role_display().lower()}.")
        return redirect("plan-members", plan_slug=self.plan.slug)


class MemberRoleView(PlanViewMixin, View):
    """Changes a member's role; answers htmx with the updated row, a browser with a redirect."""

    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        membership = get_object_or_404(
            Membership.objects.for_user(request.user).select_related("user"),
            plan=self.plan,
            pk=kwargs["member_id"],
        )
        form = MemberRoleForm(request.POST)
        if form.is_valid():
            result = run_service(
                form,
                lambda: services.membership_change_role(
                    membership=membership, role=form.cleaned_data["role"]
                ),
            )
            membership = result or membership
        if form.errors:
            membership.refresh_from_db()
        if request.htmx:
            context = {
                "member": membership,
                "roles": PlanRole.choices,
                "plan": self.plan,
                "can_configure": True,
            }
            context["row_errors"] = [error for errors in form.errors.values() for error in errors]
            return render(request, "plans/_member_row.html", context, status=200 if not form.errors else 422)
        if form.errors:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}."
            )
        return redirect("plan-members", plan_slug=self.plan.slug)


class MemberRemoveView(PlanViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        membership = get_object_or_404(
            Membership.objects.for_user(request.user).select_related("user"),
            plan=self.plan,
            pk=kwargs["member_id"],
        )
        form = MemberRoleForm()
        if (
            run_service(form, lambda: services.membership_remove(membership=membership)) is None
            and form.errors
        ):
            for error in form.non_field_errors() or [e for errs in form.errors.values() for e in errs]:
                messages.error(request, error)
        else:
            messages.success(request, f"{membership.user.get_username()} removed from the plan.")
        return redirect("plan-members", plan_slug=self.plan.slug)


class ApiKeyListView(PlanViewMixin, FormView):
    plan_access = "configure"
    template_name = "plans/api_keys.html"
    form_class = ApiKeyForm

    def get_context_data(self, **kwargs):
        keys = plan_api_keys(user=self.request.user, plan=self.plan)
        return super().get_context_data(api_keys=keys, **kwargs)

    def form_valid(self, form):
        created = run_service(
            form,
            lambda: services.api_key_create(
                plan=self.plan, created_by=self.request.user, **form.cleaned_data
            ),
        )
        if created is None:
            return self.form_invalid(form)
        api_key, raw_key = created
        # Rendered once, never stored in the session or a message.
        context = self.get_context_data(form=ApiKeyForm(), new_key=raw_key, new_api_key=api_key)
        return self.render_to_response(context)


class ApiKeyRevokeView(PlanViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        api_key = get_object_or_404(
            ApiKey.objects.for_user(request.user), plan=self.plan, pk=kwargs["key_id"]
        )
        services.api_key_revoke(api_key=api_key)
        messages.success(request, f"API key “{api_key.name}” revoked.")
        return redirect("plan-api-keys", plan_slug=self.plan.slug)


class PlanHistoryView(PlanViewMixin, TemplateView):
    plan_access = "configure"
    template_name = "plans/history.html"

    def get_context_data(self, **kwargs):
        page = Paginator(plan_history(user=self.request.user, plan=self.plan), 50).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(page=page, **kwargs)


class HealthView(View):
    """Liveness for load balancers and compose: the database answers; when the worker last ran."""

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means unhealthy
            return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
        heartbeat = ServiceHeartbeat.objects.filter(name="worker").first()
        age = (timezone.now() - heartbeat.seen_at).total_seconds() if heartbeat else None
        return JsonResponse({"status": "ok", "database": "ok", "worker_seen_seconds_ago": age})


def home(request) -> HttpResponse:
    return redirect(reverse("plan-list") if request.user.is_authenticated else reverse("login"))


def error_403(request, exception=None):
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
