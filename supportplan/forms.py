from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from supportplan.models import ApiKeyScope, Location, PlanRole, Product, SupportPlan


class DateInput(forms.DateInput):
    input_type = "date"


class PlanForm(forms.ModelForm):
    products = forms.MultipleChoiceField(choices=Product.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = SupportPlan
        fields = [
            "name",
            "slug",
            "products",
            "phase",
            "go_live_date",
            "hypercare_start",
            "hypercare_end",
            "description",
        ]
        widgets = {
            "go_live_date": DateInput,
            "hypercare_start": DateInput,
            "hypercare_end": DateInput,
            "description": forms.Textarea(attrs={"rows": 4}),
        }


class LanguageListField(forms.CharField):
    """Comma-separated ISO 639-1 codes in the form, a list in the model."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        return [code.strip().lower() for code in value.split(",") if code.strip()]


class LocationForm(forms.ModelForm):
    languages = LanguageListField(required=False, help_text="ISO 639-1 codes, comma-separated: en, de.")

    class Meta:
        model = Location
        fields = ["name", "country", "subdivision", "timezone", "languages", "user_count"]

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def clean_subdivision(self) -> str:
        return self.cleaned_data["subdivision"].upper()


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=PlanRole.choices)

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError("No active user has this username.")
        return user


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=PlanRole.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="Which integration uses it, e.g. ServiceNow.")
    scope = forms.ChoiceField(choices=ApiKeyScope.choices, initial=ApiKeyScope.READ)
