"""The scoped bases every UI view uses (a test walks the URLconf to prove it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404

from supportplan import access
from supportplan.models import SupportPlan


class ScopedViewMixin(LoginRequiredMixin):
    """A signed-in user's view. Anything it lists must come from ``.for_user(request.user)``."""


class PlanViewMixin(ScopedViewMixin):
    """A view inside one plan (``<plan_slug>`` in the URL): 404 unless visible, 403 unless allowed.

    ``plan_access`` is "view" (any member), "configure" (leads) or "staff" (everyone but partners).
    """

    plan_access = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.plan = get_object_or_404(SupportPlan.objects.for_user(request.user), slug=kwargs["plan_slug"])
        self.role = access.role_in(request.user, self.plan)
        self.can_configure = access.can_configure(request.user, self.plan)
        if self.plan_access == "configure" and not self.can_configure:
            raise PermissionDenied("Only the plan's project and support leads can change this.")
        if self.plan_access == "staff" and access.is_partner(request.user, self.plan):
            raise PermissionDenied("Partners see only what is assigned to their organisation.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(plan=self.plan, role=self.role, can_configure=self.can_configure)
        return context


def run_service(form, service: Callable[[], Any]) -> Any | None:
    """Calls a service; its ValidationError becomes form errors (None returned) instead of a 500."""
    try:
        return service()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            form.add_error(None, error.messages)
        return None
