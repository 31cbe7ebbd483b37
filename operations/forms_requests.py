"""Forms of the support-request pages: list filters, the compliance report's period and grouping, and
a status mapping of an integration (API key)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from models_catalog.models import Party, SupportLevel
from operations.helpdesk.report import GROUPINGS, MAX_DAYS
from operations.models import ClockEffect, Priority, StatusMapping
from operations.statuses import RequestStatus
from supportplan.models import ApiKey, SupportPlan

OPEN = "open"
CLOSED_STATUSES = (RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.CANCELLED)
SLA_CHOICES = [
    ("", "Any"),
    ("breached", "Breached"),
    ("at_risk", "At risk"),
    ("attention", "Breached or at risk"),
    ("ok", "On track"),
]


class RequestFilterForm(forms.Form):
    """GET filters of the request list; every choice comes from the plan (other plans' ids are
    invalid choices, so they filter nothing)."""

    q = forms.CharField(
        label="Search", required=False, max_length=120, help_text="Title or a reference, e.g. INC0012345."
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), (OPEN, "Open (not resolved, closed or cancelled)"), *RequestStatus.choices],
    )
    priority = forms.ModelChoiceField(queryset=Priority.objects.none(), required=False, empty_label="Any")
    level = forms.ModelChoiceField(queryset=SupportLevel.objects.none(), required=False, empty_label="Any")
    party = forms.ModelChoiceField(queryset=Party.objects.none(), required=False, empty_label="Any")
    sla = forms.ChoiceField(label="SLA", required=False, choices=SLA_CHOICES)

    def __init__(self, *args, plan: SupportPlan, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].queryset = Priority.objects.for_user(user).filter(plan=plan)
        self.fields["level"].queryset = (
            SupportLevel.objects.for_user(user).filter(plan=plan).order_by("number")
        )
        self.fields["level"].label_from_instance = lambda level: f"Level {level.number}: {level.name}"
        self.fields["party"].queryset = Party.objects.for_user(user).filter(plan=plan).order_by("name")
        self.fields["party"].label = "Held by"


def default_report_period(today: date | None = None) -> tuple[date, date]:
    """The last six calendar months up to today (UTC)."""
    today = today or timezone.now().date()
    first = today.replace(day=1)
    for _ in range(5):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


class ComplianceReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(label="Group by", choices=list(GROUPINGS.items()), initial="priority")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day cannot be before the first.")
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", f"One report covers at most {MAX_DAYS} days.")
        return data


class StatusMappingForm(forms.ModelForm):
    """One of an integration's own status names → ours, and what it does to the clocks."""

    class Meta:
        model = StatusMapping
        fields = ["api_key", "external_status", "status", "clock_effect"]
        labels = {
            "api_key": "Integration (API key)",
            "external_status": "Their status name",
            "status": "Our status",
            "clock_effect": "Clock",
        }
        help_texts = {
            "external_status": "As the helpdesk sends it, e.g. “Pending Caller” (any letter case).",
            "clock_effect": "Blank: the SLA policy's pause statuses decide.",
        }

    def __init__(self, *args, plan: SupportPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_key"].queryset = ApiKey.objects.filter(plan=plan, revoked_at__isnull=True).order_by(
            "name"
        )
        self.fields["clock_effect"].choices = ClockEffect.choices
        self.fields["clock_effect"].required = False
        if self.instance.pk:
            # A mapping stays with its integration; delete it and add another to move it.
            self.fields["api_key"].disabled = True
