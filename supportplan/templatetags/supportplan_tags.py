from django import template

from supportplan.models import PlanRole

register = template.Library()


@register.filter
def role_label(role: str | None) -> str:
    """“Support lead” for "support_lead"; superusers who are not members see “Administrator”."""
    if not role:
        return "Administrator"
    return PlanRole(role).label if role in PlanRole.values else role
