import django_filters

from supportplan.models import ApiKey, ApiKeyScope, Location, Membership, Phase, PlanRole, SupportPlan


class PlanFilter(django_filters.FilterSet):
    phase = django_filters.ChoiceFilter(choices=Phase.choices)
    go_live_after = django_filters.DateFilter(field_name="go_live_date", lookup_expr="gte")
    go_live_before = django_filters.DateFilter(field_name="go_live_date", lookup_expr="lte")

    class Meta:
        model = SupportPlan
        fields = ["phase"]


class LocationFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    country = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Location
        fields = ["plan", "country"]


class MembershipFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    role = django_filters.ChoiceFilter(choices=PlanRole.choices)
    user = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ["plan", "role", "user"]


class ApiKeyFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")
    scope = django_filters.ChoiceFilter(choices=ApiKeyScope.choices)
    active = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull")

    class Meta:
        model = ApiKey
        fields = ["plan", "scope", "active"]
