"""The “When does it breach?” calculator and the plan's gap list."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.views.generic import TemplateView

from operations.breach import breach_calculate
from operations.forms_breach import BreachForm
from operations.gaps import SEVERITIES, plan_gaps
from supportplan.models import Location
from supportplan.views_base import PlanViewMixin, run_service

SEVERITY_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}


class BreachCalculatorView(PlanViewMixin, TemplateView):
    """A GET form (results can be bookmarked and shared); every member may calculate, partners too:
    the priorities, calendars and SLA terms it reads are theirs to see."""

    plan_access = "view"
    template_name = "operations/breach.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bound = bool(self.request.GET)
        form = BreachForm(
            self.request.GET if bound else None,
            plan=self.plan,
            user=self.request.user,
            initial=None if bound else self._initial(),
        )
        result = None
        if bound and form.is_valid():
            result = run_service(form, lambda: breach_calculate(plan=self.plan, **form.service_arguments()))
        context.update(form=form, result=result)
        return context

    def _initial(self) -> dict[str, Any]:
        # The location with most users (the head office, usually) is the likeliest caller.
        locations = Location.objects.for_user(self.request.user).filter(plan=self.plan)
        location = locations.order_by("-user_count", "name").first()
        zone = ZoneInfo(location.timezone) if location else timezone.get_current_timezone()
        now = timezone.now().astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        return {"location": location, "start": now}


class PlanGapsView(PlanViewMixin, TemplateView):
    """Every gap check's findings, grouped by severity. Staff only: gaps expose the whole model."""

    plan_access = "staff"
    template_name = "operations/gaps.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        gaps = plan_gaps(user=self.request.user, plan=self.plan)
        groups = [
            (severity, SEVERITY_LABELS[severity], [gap for gap in gaps if gap.severity == severity])
            for severity in SEVERITIES
        ]
        context.update(gaps=gaps, groups=[group for group in groups if group[2]])
        return context
