"""Pages of partner access (policies matrix, requests with decide buttons, grants with the time left),
the partner's own view, and the merged "Gaps and risks" page with the risk log.

Who sees what: every member reads the access pages, partners only their organisation's rows (the
querysets' ``partner_visible``); leads change policies; the services decide who may ask, decide,
revoke or cancel. Gaps and risks are for staff (not partners): they expose the whole model."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from operations import access_selectors as selectors
from operations import access_services as services
from operations import risk_services
from operations.forms_access import (
    AccessPolicyForm,
    AccessRequestForm,
    DecisionForm,
    GapsFilterForm,
    RiskForm,
)
from operations.models import AccessPolicy, AccessRequestStatus, Environment
from operations.risks import SEVERITIES, SOURCES, counts, gaps_and_risks
from scope.models import RiskEntry
from supportplan import access
from supportplan.models import PlanRole
from supportplan.views_base import PlanObjectFormView, PlanViewMixin, run_service


def _service_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- Policies -------------------------------------------------------------------------------
class AccessOverviewView(PlanViewMixin, TemplateView):
    """The policies matrix (party × environment) and the grants active now."""

    template_name = "operations/access/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        now = timezone.now()
        grants = list(selectors.active_grants(user=user, plan=self.plan, now=now))
        for grant in grants:
            grant.time_left_display = selectors.format_time_left(selectors.time_left(grant, now))
        pending = selectors.access_requests(user=user, plan=self.plan, status=AccessRequestStatus.PENDING)
        return super().get_context_data(
            environments=Environment.choices,
            matrix=selectors.access_policy_matrix(user=user, plan=self.plan),
            grants=grants,
            pending_count=pending.count(),
            may_request=self.role != PlanRole.VIEWER,
            highlight_party=self.request.GET.get("party", ""),
            **kwargs,
        )


class _PolicyMixin(PlanViewMixin):
    plan_access = "configure"

    def get_policy(self) -> AccessPolicy | None:
        if "policy_id" not in self.kwargs:
            return None
        if not hasattr(self, "_policy"):
            self._policy = get_object_or_404(
                AccessPolicy.objects.for_user(self.request.user).filter(plan=self.plan),
                pk=self.kwargs["policy_id"],
            )
        return self._policy


class AccessPolicyFormView(_PolicyMixin, PlanObjectFormView):
    """Creates (no ``policy_id``; ``?party=&environment=`` preselect a matrix cell) or edits a policy."""

    template_name = "operations/access/policy_form.html"
    form_class = AccessPolicyForm
    model = AccessPolicy
    context_object_name = "policy"

    def get_initial(self):
        initial = super().get_initial()
        if self.get_policy() is None:
            for name in ("party", "environment"):
                if self.request.GET.get(name):
                    initial[name] = self.request.GET[name]
            initial.setdefault("max_duration_hours", 8)
        return initial

    def get_object(self) -> AccessPolicy | None:
        return self.get_policy()

    def create(self, fields):
        return services.access_policy_create(plan=self.plan, **fields)

    def update(self, obj, fields):
        return services.access_policy_update(policy=obj, **fields)

    def saved(self, result):
        messages.success(self.request, f"Policy saved: {result}.")
        return redirect("access-policies", self.plan.slug)


class AccessPolicyDeleteView(_PolicyMixin, View):
    def post(self, request, *args, **kwargs):
        policy = self.get_policy()
        try:
            services.access_policy_delete(policy=policy)
        except ValidationError as error:
            _service_errors(request, error)
            return redirect("access-policy-edit", self.plan.slug, policy.pk)
        messages.success(request, f"Policy removed: {policy}.")
        return redirect("access-policies", self.plan.slug)


# --- Requests -------------------------------------------------------------------------------
class AccessRequestListView(PlanViewMixin, TemplateView):
    """Requests, pending first, then active grants, then the rest; ``?status=`` filters."""

    template_name = "operations/access/requests.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        status = self.request.GET.get("status", "")
        if status not in AccessRequestStatus.values:
            status = ""
        now = timezone.now()
        rows = list(selectors.access_requests(user=self.request.user, plan=self.plan, status=status)[:300])
        for row in rows:
            row.time_left_display = selectors.format_time_left(selectors.time_left(row, now))
            row.may_decide = row.status == AccessRequestStatus.PENDING and services.may_decide(
                self.request.user, row
            )
        return super().get_context_data(
            rows=rows,
            status=status,
            statuses=AccessRequestStatus.choices,
            may_request=self.role != PlanRole.VIEWER,
            **kwargs,
        )


class AccessRequestCreateView(PlanViewMixin, FormView):
    template_name = "operations/access/request_form.html"
    form_class = AccessRequestForm

    def _check_role(self) -> None:
        if self.role == PlanRole.VIEWER:
            raise PermissionDenied("Viewers cannot ask for access.")

    def get(self, request, *args, **kwargs):
        self._check_role()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self._check_role()
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        initial = super().get_initial()
        for name in ("environment", "support_request"):
            if self.request.GET.get(name):
                initial[name] = self.request.GET[name]
        return initial

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        is_partner = access.is_partner(self.request.user, self.plan)
        self.organisation = selectors.partner_organisation(user=self.request.user, plan=self.plan)
        form.limit(
            user=self.request.user, plan=self.plan, organisation=self.organisation, is_partner=is_partner
        )
        return form

    def get_context_data(self, **kwargs):
        policies = selectors.access_policies(user=self.request.user, plan=self.plan)
        return super().get_context_data(policies=policies, **kwargs)

    def form_valid(self, form):
        fields = form.service_fields()
        try:
            result = run_service(
                form,
                lambda: services.access_request_create(plan=self.plan, actor=self.request.user, **fields),
            )
        except PermissionDenied as error:
            form.add_error("party", str(error))
            result = None
        if result is None:
            return self.form_invalid(form)
        if result.auto_approved:
            messages.success(
                self.request,
                f"Granted at once under the P1 pre-approval, until {result.expires_at:%d %b %Y %H:%M} UTC. "
                "The leads and the approver have been told.",
            )
        else:
            messages.success(self.request, "Request sent; the approver and the leads have been notified.")
        return redirect("access-request-page", self.plan.slug, result.pk)


class AccessRequestDetailView(PlanViewMixin, TemplateView):
    template_name = "operations/access/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        row = selectors.access_request_for(user=user, plan=self.plan, pk=self.kwargs["request_id"])
        row.time_left_display = selectors.format_time_left(selectors.time_left(row))
        approver = row.policy.approver
        is_approver = approver is not None and approver.user_id == user.pk
        is_requester = row.requested_by_id == user.pk
        context = super().get_context_data(
            row=row,
            may_decide=row.status == AccessRequestStatus.PENDING and services.may_decide(user, row),
            may_revoke=row.status == AccessRequestStatus.APPROVED and (is_approver or self.can_configure),
            may_cancel=is_requester
            and row.status in {AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED},
            is_requester=is_requester,
            **kwargs,
        )
        context.setdefault("decision_form", DecisionForm())
        return context


class AccessRequestActionView(AccessRequestDetailView):
    """POST approve / deny / revoke / cancel; a refusal re-renders the request with the reason."""

    http_method_names = ["post"]
    VERBS = ("approve", "deny", "revoke", "cancel")

    def post(self, request, *args, **kwargs):
        verb = kwargs["verb"]
        if verb not in self.VERBS:
            raise Http404("No such action.")
        row = selectors.access_request_for(user=request.user, plan=self.plan, pk=kwargs["request_id"])
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(decision_form=form))
        note = form.cleaned_data["note"]
        calls = {
            "approve": lambda: services.access_request_decide(
                access_request=row, actor=request.user, approve=True, note=note
            ),
            "deny": lambda: services.access_request_decide(
                access_request=row, actor=request.user, approve=False, note=note
            ),
            "revoke": lambda: services.access_request_revoke(
                access_request=row, actor=request.user, note=note
            ),
            "cancel": lambda: services.access_request_cancel(access_request=row, actor=request.user),
        }
        result = run_service(form, calls[verb])
        if result is None:
            return self.render_to_response(self.get_context_data(decision_form=form), status=400)
        done = {
            "approve": "Access granted",
            "deny": "Request denied",
            "revoke": "Access revoked",
            "cancel": "Cancelled",
        }
        messages.success(request, f"{done[verb]}.")
        return redirect("access-request-page", self.plan.slug, result.pk)


# --- The partner view -----------------------------------------------------------------------
class PartnerView(PlanViewMixin, TemplateView):
    """A partner's page: their organisation's support requests, maintenance tasks, access requests and
    grants. Staff preview any party with ``?party=<id>``."""

    template_name = "operations/access/partner.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        try:
            party_id = int(self.request.GET.get("party", ""))
        except ValueError:
            party_id = None
        view = selectors.partner_view(user=self.request.user, plan=self.plan, party_id=party_id)
        return super().get_context_data(
            view=view, is_partner=access.is_partner(self.request.user, self.plan), **kwargs
        )


# --- Gaps and risks -------------------------------------------------------------------------
class GapsAndRisksView(PlanViewMixin, TemplateView):
    """Every gap source and the open risks, most severe first; ``?source=&severity=`` filter."""

    plan_access = "staff"
    template_name = "operations/risks/gaps_and_risks.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = GapsFilterForm(self.request.GET or None)
        source = severity = ""
        if form.is_bound and form.is_valid():
            source, severity = form.cleaned_data["source"], form.cleaned_data["severity"]
        all_rows = gaps_and_risks(plan=self.plan, user=self.request.user)
        rows = [
            row
            for row in all_rows
            if (not source or row.source == source) and (not severity or row.severity == severity)
        ]
        return super().get_context_data(
            form=form,
            rows=rows,
            total=len(all_rows),
            counts=counts(all_rows),
            sources=SOURCES,
            severities=SEVERITIES,
            **kwargs,
        )


class RiskLogView(PlanViewMixin, TemplateView):
    plan_access = "staff"
    template_name = "operations/risks/risk_log.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        risks = (
            RiskEntry.objects.for_user(self.request.user)
            .filter(plan=self.plan)
            .select_related("owner")
            .order_by("status", "severity", "-created_at")
        )
        order = {key: index for index, key in enumerate(SEVERITIES)}
        rows = sorted(risks, key=lambda r: (r.status != "open", order.get(r.severity, 9), -r.pk))
        return super().get_context_data(risks=rows, **kwargs)


class RiskFormView(PlanObjectFormView):
    plan_access = "configure"
    template_name = "operations/risks/risk_form.html"
    form_class = RiskForm
    model = RiskEntry
    context_object_name = "risk"

    def get_risk(self) -> RiskEntry | None:
        if "risk_id" not in self.kwargs:
            return None
        if not hasattr(self, "_risk"):
            self._risk = get_object_or_404(
                RiskEntry.objects.for_user(self.request.user).filter(plan=self.plan),
                pk=self.kwargs["risk_id"],
            )
        return self._risk

    def get_object(self) -> RiskEntry | None:
        return self.get_risk()

    def create(self, fields):
        return risk_services.risk_create(plan=self.plan, **fields)

    def update(self, obj, fields):
        return risk_services.risk_update(risk=obj, **fields)

    def saved(self, result):
        messages.success(self.request, f"Risk “{result.title}” saved.")
        return redirect(reverse("risk-log", args=[self.plan.slug]))


class RiskDeleteView(RiskFormView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        risk = self.get_risk()
        if risk is None:
            raise Http404("No such risk.")
        risk_services.risk_delete(risk=risk)
        messages.success(request, f"Risk “{risk.title}” removed.")
        return redirect("risk-log", self.plan.slug)
