"""Forms of partner access, the risk log and the gaps-and-risks filters. They validate shapes; the
services decide (policy rules, who may ask or decide) and their errors land on these forms."""

from __future__ import annotations

from typing import Any

from django import forms

from models_catalog.models import Party, Person
from operations.access_services import POLICY_FIELDS
from operations.models import AccessPolicy, Environment
from operations.models.requests import SupportRequest
from operations.risks import SEVERITIES, SOURCES
from scope.models import RiskEntry


class AccessPolicyForm(forms.ModelForm):
    class Meta:
        model = AccessPolicy
        fields = list(POLICY_FIELDS)
        labels = {
            "preapproved_for_p1": "Pre-approved for P1 incidents",
            "max_duration_hours": "Maximum duration (hours)",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def limit_to_plan(self, plan) -> None:
        self.fields["party"].queryset = Party.objects.filter(plan=plan).order_by("name")
        self.fields["approver"].queryset = Person.objects.filter(plan=plan, user__isnull=False).order_by(
            "name"
        )
        self.fields[
            "approver"
        ].help_text = "Only people with a SupportPlan login can approve; leads may always approve."

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AccessRequestForm(forms.Form):
    party = forms.ModelChoiceField(queryset=Party.objects.none(), label="Organisation")
    environment = forms.ChoiceField(choices=Environment.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="What you will do and why (the approver reads this).",
    )
    duration_hours = forms.IntegerField(
        min_value=1,
        max_value=8760,
        initial=8,
        label="Duration (hours)",
        help_text="The policy sets a maximum.",
    )
    support_request = forms.ModelChoiceField(
        queryset=SupportRequest.objects.none(),
        required=False,
        label="Support request",
        help_text="Link the request it is for; an open P1 under a pre-approved policy is granted at once.",
    )

    def limit(self, *, user, plan, organisation: Party | None, is_partner: bool) -> None:
        parties = Party.objects.for_user(user).filter(plan=plan).order_by("name")
        if is_partner:
            parties = parties.filter(pk=organisation.pk) if organisation else parties.none()
            if organisation:
                self.fields["party"].initial = organisation.pk
        self.fields["party"].queryset = parties
        self.fields["support_request"].queryset = (
            SupportRequest.objects.for_user(user)
            .filter(plan=plan)
            .select_related("priority")
            .order_by("-reported_at")
        )
        self.fields["support_request"].label_from_instance = _request_label

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def _request_label(support_request: SupportRequest) -> str:
    code = f"{support_request.priority.code} " if support_request.priority_id else ""
    return f"#{support_request.pk} {code}{support_request.title} ({support_request.get_status_display()})"


class DecisionForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to deny.",
    )


class RiskForm(forms.ModelForm):
    class Meta:
        model = RiskEntry
        fields = ["title", "description", "severity", "status", "owner", "mitigation", "due_date"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "mitigation": forms.Textarea(attrs={"rows": 2}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
        }

    def limit_to_plan(self, plan) -> None:
        self.fields["owner"].queryset = Person.objects.filter(plan=plan).order_by("name")

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class GapsFilterForm(forms.Form):
    source = forms.ChoiceField(choices=[("", "All sources"), *SOURCES.items()], required=False)
    severity = forms.ChoiceField(
        choices=[("", "All severities"), *[(s, s.capitalize()) for s in SEVERITIES]], required=False
    )
