"""Forms of the priority and SLA pages. They check types and shapes; the services check the rules
(plan membership, overlaps, ladder order) and their errors come back onto these forms."""

from __future__ import annotations

from django import forms

from models_catalog.forms import PlanChoiceMixin
from models_catalog.models import Agreement, Party, Person, Role, SupportLevel
from operations.models import (
    EscalationAction,
    EscalationTrigger,
    Impact,
    Priority,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from operations.sla_services import MAX_REPEAT_MINUTES, MAX_REPEATS, MAX_TARGET_MINUTES
from operations.statuses import RequestStatus
from supportplan.forms import DateInput

#: Larger ids cannot exist in any database we run on (and SQLite would overflow looking them up).
MAX_ID = 2**63 - 1


class PriorityForm(forms.ModelForm):
    rank = forms.IntegerField(min_value=1, max_value=99, initial=1, help_text="1 is the most urgent.")

    class Meta:
        model = Priority
        fields = ["code", "name", "definition", "rank"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 3})}


class MatrixCellForm(forms.Form):
    """One cell edit; the priority id is checked against the plan by the view."""

    impact = forms.ChoiceField(choices=Impact.choices)
    urgency = forms.ChoiceField(choices=Urgency.choices)
    priority = forms.IntegerField(min_value=1, max_value=MAX_ID)


class SlaPolicyForm(forms.ModelForm):
    pause_statuses = forms.MultipleChoiceField(
        choices=RequestStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Statuses that pause the clock",
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "phase",
            "valid_from",
            "valid_to",
            "pause_statuses",
            "vendor_wait_keeps_vendor_clock",
            "description",
        ]
        widgets = {
            "valid_from": DateInput,
            "valid_to": DateInput,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"valid_to": "Valid to (last day)"}


class SlaTargetForm(PlanChoiceMixin, forms.ModelForm):
    plan_querysets = {
        "priority": Priority,
        "calendar": ServiceCalendar,
        "support_level": SupportLevel,
        "underpinning_agreement": Agreement,
    }
    minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_TARGET_MINUTES,
        help_text="Open minutes on the calendar: 240 is four business hours on a 09:00–17:00 calendar.",
    )

    class Meta:
        model = SlaTarget
        fields = [
            "priority",
            "metric",
            "minutes",
            "calendar",
            "request_type",
            "support_level",
            "underpinning_agreement",
        ]
        labels = {
            "request_type": "Request type (blank = any)",
            "support_level": "Support level (blank = any)",
        }
        help_texts = {"request_type": ""}

    def limit_to_plan(self, plan) -> None:
        super().limit_to_plan(plan)
        # An agreement's label names its party.
        agreements = self.fields["underpinning_agreement"]
        agreements.queryset = agreements.queryset.select_related("party")


class EscalationStepForm(PlanChoiceMixin, forms.Form):
    """A ladder step. On the policy page the target is chosen; on a target's page it is fixed."""

    plan_querysets = {"role": Role, "person": Person, "party": Party}

    target = forms.ModelChoiceField(queryset=SlaTarget.objects.none(), label="For the target")
    trigger = forms.ChoiceField(choices=EscalationTrigger.choices, label="When")
    percent = forms.IntegerField(
        min_value=1, max_value=100, required=False, label="Percent of the target elapsed"
    )
    minutes_after_breach = forms.IntegerField(min_value=1, max_value=MAX_TARGET_MINUTES, required=False)
    action = forms.ChoiceField(choices=EscalationAction.choices, label="Then")
    role = forms.ModelChoiceField(queryset=Role.objects.none(), required=False)
    person = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    party = forms.ModelChoiceField(queryset=Party.objects.none(), required=False)
    repeat_every_minutes = forms.IntegerField(
        min_value=1, max_value=MAX_REPEAT_MINUTES, required=False, label="Repeat every (minutes)"
    )
    max_repeats = forms.IntegerField(
        min_value=0, max_value=MAX_REPEATS, initial=0, required=False, label="Repeat at most (times)"
    )

    def __init__(self, *args, targets=None, fixed_target=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_target is not None:
            self.fields["target"].queryset = SlaTarget.objects.filter(pk=fixed_target.pk)
            self.fields["target"].initial = fixed_target.pk
            self.fields["target"].widget = forms.HiddenInput()
        elif targets is not None:
            self.fields["target"].queryset = targets

    def step_fields(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "target"}
        data["max_repeats"] = data.get("max_repeats") or 0
        return data
