"""The scoped base every API view uses: visibility, write permissions by role and key scope."""

from __future__ import annotations

from rest_framework import exceptions, permissions, viewsets

from supportplan import access
from supportplan.models import SupportPlan


class PlanAccessPermission(permissions.BasePermission):
    """Reads need visibility (the queryset's job); writes need what the view's ``write_access`` says.

    ``write_access`` is "configure" (leads only; API keys never), "assigned" (team members and
    leads; read-write API keys) or "integration" (read-write API keys and leads).
    """

    message = "Your role in this plan does not allow this change."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if access.is_api_key(request.user):
            if view.write_access == "configure":
                self.message = "API keys cannot change configuration."
                return False
            if not request.user.api_key.can_write:
                self.message = "This API key is read-only."
                return False
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.may_write(view.plan_of(obj))


class ScopedAPIMixin:
    """Every API view starts here: scoped queryset, permissions, filters, pagination, throttles.

    Subclasses set ``queryset`` (a model whose manager has ``for_user``) and ``write_access``.
    """

    permission_classes = [permissions.IsAuthenticated, PlanAccessPermission]
    write_access = "configure"

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    def plan_of(self, obj) -> SupportPlan:
        return obj if isinstance(obj, SupportPlan) else obj.plan

    def may_write(self, plan: SupportPlan) -> bool:
        user = self.request.user
        if self.write_access == "configure":
            return access.can_configure(user, plan)
        if access.is_api_key(user):
            return user.api_key.can_write and user.plan_id == plan.pk
        if self.write_access == "assigned":
            return access.can_update_assigned(user, plan)
        return access.can_configure(user, plan)

    def check_plan_writable(self, plan: SupportPlan) -> None:
        """For creates: the target plan was chosen from the visible ones; may we write there?"""
        if not self.may_write(plan):
            raise exceptions.PermissionDenied(PlanAccessPermission.message)


class ScopedModelViewSet(ScopedAPIMixin, viewsets.ModelViewSet):
    """CRUD over one plan-owned model. Writes go through services: set ``create_service``
    (called with ``plan=`` and the fields), ``update_service`` and ``delete_service`` (called with
    ``<service_instance_name>=`` the record, plus the fields for updates), or override the
    ``perform_*`` methods where a view needs more."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    create_service = None
    update_service = None
    delete_service = None
    service_instance_name = ""

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        self.check_plan_writable(plan)
        serializer.instance = self.create_service(plan=plan, **data)

    def perform_update(self, serializer):
        data = validated_without_plan(serializer, serializer.instance)
        updated = self.update_service(**{self.service_instance_name: serializer.instance}, **data)
        if updated is not None:
            serializer.instance = updated

    def perform_destroy(self, instance):
        self.delete_service(**{self.service_instance_name: instance})


class ScopedReadOnlyViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    pass


def validated_without_plan(serializer, instance) -> dict:
    """The update's validated data minus ``plan``; a different plan is a field error (no moves)."""
    data = dict(serializer.validated_data)
    plan = data.pop("plan", instance.plan)
    if plan != instance.plan:
        raise exceptions.ValidationError({"plan": ["A record cannot move to another plan."]})
    return data
