"""The scoped bases every UI view uses (a test walks the URLconf to prove it)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.views.generic import FormView

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


class PlanObjectFormView(PlanViewMixin, FormView):
    """Creates or edits one object of the plan through its services.

    A subclass sets ``model`` and ``context_object_name`` and implements ``get_object`` (None when
    creating), ``create(fields)``, ``update(obj, fields)`` and ``saved(result)`` (the response after a
    save). The form (with ``limit_to_plan`` and ``service_fields``) edits a copy of the object, so an
    invalid form never leaves its values on the object the page shows; a service's ValidationError
    becomes form errors."""

    model = None
    context_object_name = "object"

    def get_object(self):
        return None

    def create(self, fields: dict[str, Any]):
        raise NotImplementedError

    def update(self, obj, fields: dict[str, Any]):
        raise NotImplementedError

    def saved(self, result):
        raise NotImplementedError

    def get_form_kwargs(self):
        obj = self.get_object()
        instance = copy.copy(obj) if obj is not None else self.model(plan=self.plan)
        return {**super().get_form_kwargs(), "instance": instance}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{self.context_object_name: self.get_object()}, **kwargs)

    def form_valid(self, form):
        obj = self.get_object()
        fields = form.service_fields()
        if obj is None:
            result = run_service(form, lambda: self.create(fields))
        else:
            result = run_service(form, lambda: self.update(obj, fields))
        if result is None:
            return self.form_invalid(form)
        return self.saved(result)
