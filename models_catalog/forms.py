from __future__ import annotations

import json

from django import forms

from models_catalog.models import Agreement, ModelKind, Party, Person, Role, SupportLevel
from models_catalog.recommendation import QUESTIONS
from supportplan.forms import DateInput, LanguageListField
from supportplan.models import Location

PRIORITIES = ["P1", "P2", "P3", "P4"]


class QuestionnaireForm(forms.Form):
    """One radio group per selection factor (models_catalog.recommendation.QUESTIONS)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=question.text,
                choices=[(value, label) for value, (label, _points, _reason) in question.answers.items()],
                widget=forms.RadioSelect,
                required=False,
            )

    def answers(self) -> dict[str, str]:
        return {key: value for key, value in self.cleaned_data.items() if value}


class ChooseModelForm(forms.Form):
    kind = forms.ChoiceField(choices=ModelKind.choices, widget=forms.RadioSelect, label="Support model")
    centre_of_excellence = forms.BooleanField(
        required=False, label="With a Dynamics 365 centre of excellence"
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    overwrite_edited = forms.ChoiceField(
        choices=[("", "—"), ("keep", "Keep my edited levels"), ("replace", "Replace them with the template")],
        required=False,
        widget=forms.HiddenInput,
    )


class PlanChoiceMixin:
    """Limits related-row choices to the form's plan."""

    plan_querysets: dict[str, type] = {}

    def limit_to_plan(self, plan) -> None:
        for field_name, model in self.plan_querysets.items():
            if field_name in self.fields:
                self.fields[field_name].queryset = model.objects.filter(plan=plan)


class SupportLevelForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"parties": Party, "roles": Role}

    class Meta:
        model = SupportLevel
        fields = ["name", "description", "entry_criteria", "handoff_criteria", "parties", "roles"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "entry_criteria": forms.Textarea(attrs={"rows": 2}),
            "handoff_criteria": forms.Textarea(attrs={"rows": 2}),
            "parties": forms.CheckboxSelectMultiple,
            "roles": forms.CheckboxSelectMultiple,
        }


class PartyForm(forms.ModelForm):
    class Meta:
        model = Party
        fields = [
            "name",
            "kind",
            "contact_name",
            "contact_email",
            "contact_phone",
            "contact_hours",
            "helpdesk_system",
            "reference_pattern",
            "escalation_contact_name",
            "escalation_contact_email",
            "escalation_contact_phone",
            "anonymised_data_only",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class AgreementForm(PlanChoiceMixin, forms.ModelForm):
    """The agreement and its commitments for P1–P4 (minutes; blank = no commitment)."""

    plan_querysets = {"party": Party}

    class Meta:
        model = Agreement
        fields = [
            "party",
            "name",
            "kind",
            "starts_on",
            "ends_on",
            "renewal_date",
            "budget_hours",
            "hours_used",
            "follows_microsoft_release_cadence",
            "notes",
        ]
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
            "renewal_date": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "follows_microsoft_release_cadence": forms.NullBooleanSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {}
        if self.instance.pk:
            existing = {c.priority: c for c in self.instance.commitments.all()}
        for priority in PRIORITIES:
            current = existing.get(priority)
            self.fields[f"{priority}_response"] = forms.IntegerField(
                label=f"{priority} response (minutes)",
                required=False,
                min_value=1,
                max_value=525_600,
                initial=current.response_minutes if current else None,
            )
            self.fields[f"{priority}_resolution"] = forms.IntegerField(
                label=f"{priority} resolution (minutes)",
                required=False,
                min_value=1,
                max_value=525_600,
                initial=current.resolution_minutes if current else None,
            )

    def commitments(self):
        from models_catalog.services import CommitmentInput

        items = []
        for priority in PRIORITIES:
            response = self.cleaned_data.get(f"{priority}_response")
            resolution = self.cleaned_data.get(f"{priority}_resolution")
            if response or resolution:
                items.append(CommitmentInput(priority, response, resolution))
        return items

    def model_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class WorkingHoursField(forms.CharField):
    """Working hours typed as JSON: {"0": [["09:00", "17:00"]], …} (Monday = 0)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return {}
        try:
            return json.loads(value)
        except ValueError:
            raise forms.ValidationError(
                'Give working hours as JSON, e.g. {"0": [["09:00", "17:00"]]}.'
            ) from None


class SkillsField(LanguageListField):
    def to_python(self, value):
        value = forms.CharField.to_python(self, value)
        return [skill.strip() for skill in value.split(",") if skill.strip()]


class PersonForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"party": Party, "roles": Role, "levels": SupportLevel, "location": Location}
    languages = LanguageListField(required=False, help_text="ISO 639-1 codes, comma-separated: en, de.")
    skills = SkillsField(required=False, help_text="Comma-separated, e.g. finance, X++, integrations.")
    working_hours = WorkingHoursField(
        required=False, help_text='Local time per weekday (0 = Monday), e.g. {"0": [["09:00", "17:00"]]}.'
    )

    class Meta:
        model = Person
        fields = [
            "name",
            "email",
            "party",
            "roles",
            "levels",
            "location",
            "languages",
            "skills",
            "allocation_percent",
            "working_hours",
            "weekly_contract_hours",
            "super_user_formalised",
            "super_user_objectives",
        ]
        widgets = {
            "roles": forms.CheckboxSelectMultiple,
            "levels": forms.CheckboxSelectMultiple,
            "super_user_objectives": forms.Textarea(attrs={"rows": 2}),
        }
