import django_filters

from models_catalog.models import Agreement, AgreementKind, Party, PartyKind, Person


class PlanSlugFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__slug")

    @classmethod
    def for_model(cls, model):
        meta = type("Meta", (), {"model": model, "fields": ["plan"]})
        return type(f"{model.__name__}Filter", (cls,), {"Meta": meta})


class PartyFilter(PlanSlugFilter):
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Party
        fields = ["plan", "kind"]


class AgreementFilter(PlanSlugFilter):
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices)
    party = django_filters.NumberFilter(field_name="party_id")
    active_on = django_filters.DateFilter(method="filter_active_on")

    class Meta:
        model = Agreement
        fields = ["plan", "kind", "party"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value).exclude(ends_on__lt=value)


class PersonFilter(PlanSlugFilter):
    party = django_filters.NumberFilter(field_name="party_id")
    role = django_filters.NumberFilter(field_name="roles", distinct=True)
    level = django_filters.NumberFilter(field_name="levels__number", distinct=True)
    language = django_filters.CharFilter(method="filter_language")

    class Meta:
        model = Person
        fields = ["plan", "party"]

    def filter_language(self, queryset, name, value):
        # JSON containment is not portable to SQLite; people per plan are few, so filter ids in Python.
        ids = [pk for pk, languages in queryset.values_list("pk", "languages") if value in (languages or [])]
        return queryset.filter(pk__in=ids)
