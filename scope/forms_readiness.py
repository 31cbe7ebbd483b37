"""Forms of the readiness, transition and hypercare pages. Services validate; forms shape input."""

from __future__ import annotations

from django import forms

from models_catalog.forms import PlanChoiceMixin
from models_catalog.models import Party, Person
from scope.readiness_models import (
    GateAction,
    HypercarePlan,
    ReadinessItem,
    ReadinessTarget,
    TransitionActivity,
)
from scope.readiness_services import HYPERCARE_FIELDS
from supportplan.forms import DateInput as _DateInput


def iso_date_input() -> _DateInput:
    """An HTML date input with the ISO value it needs (a localised date would show as empty)."""
    return _DateInput(format="%Y-%m-%d")


class ReadinessItemForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"owner": Person}
    evidence_url = forms.URLField(
        max_length=500, assume_scheme="https", required=False, label="Evidence link"
    )
    evidence_upload = forms.FileField(
        required=False,
        label="Evidence file",
        help_text="PDF, image, Office document, text, CSV or ZIP; at most 10 MB. Replaces the current file.",
    )

    class Meta:
        model = ReadinessItem
        fields = ["owner", "due_date", "status", "evidence_url", "notes"]
        widgets = {"due_date": iso_date_input(), "notes": forms.Textarea(attrs={"rows": 3})}

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class GateOverrideForm(forms.Form):
    action = forms.ChoiceField(choices=GateAction.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,  # the service explains a missing reason
        help_text="Why the gate may be passed with must-have items open (kept in the audit trail).",
    )


class TransitionActivityForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"people": Person}

    class Meta:
        model = TransitionActivity
        fields = [
            "kind",
            "title",
            "phase",
            "people",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "notes",
        ]
        widgets = {
            "planned_start": iso_date_input(),
            "planned_end": iso_date_input(),
            "actual_start": iso_date_input(),
            "actual_end": iso_date_input(),
            "people": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self) -> None:
        # The service validates (and explains) the dates; the model's constraints are not run twice.
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ReadinessTargetForm(forms.ModelForm):
    class Meta:
        model = ReadinessTarget
        fields = ["name", "target_date", "target_percent", "group"]
        widgets = {"target_date": iso_date_input()}

    def _post_clean(self) -> None:
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class HypercarePlanForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {"partner": Party}

    class Meta:
        model = HypercarePlan
        fields = list(HYPERCARE_FIELDS)
        widgets = {
            "starts_on": iso_date_input(),
            "planned_end": iso_date_input(),
            "entry_criteria": forms.Textarea(attrs={"rows": 3}),
            "exit_criteria_notes": forms.Textarea(attrs={"rows": 3}),
            "key_processes_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "starts_on": "Planned start",
            "exit_criteria_notes": "Exit criteria and action plan",
            "p1_p2_met_threshold": "P1/P2 SLA targets met, at least (%)",
            "resolved_without_hypercare_threshold": "Resolved without hypercare-only resources, at least (%)",
        }

    def _post_clean(self) -> None:
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class HypercareEndForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Note")
