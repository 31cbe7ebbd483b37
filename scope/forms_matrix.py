"""Forms of the coverage matrix: its filters, one form per question (the in-place cell edit), the full
item form (all five questions, review, and a business process's profile) and a plan's own aspect.

Field names follow ``ScopeItem`` so that a service's ValidationError lands on the right field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from models_catalog.models import Party, Person, Role, SupportLevel
from operations.models import ServiceCalendar
from scope.models import (
    PROCESS_PROFILE_QUESTIONS,
    AspectGroup,
    Criticality,
    ScopeItem,
    ScopeStatus,
)
from supportplan.forms import DateInput

#: Larger ids cannot exist in any database we run on (and SQLite would overflow looking them up).
MAX_ID = 2**63 - 1
QUESTION_LABELS = {
    "what": "What",
    "detail": "What in detail",
    "who": "Who",
    "when": "When",
    "how": "How",
}
IN_SCOPE_CHOICES = [("", "Undecided"), ("yes", "Yes, in scope"), ("no", "No, out of scope")]
MAX_TASK_LINES = 200


class TaskLinesField(forms.CharField):
    """“task | standard | frequency”, one per line, in the form; a list of dicts in the model."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            lines = []
            for row in value:
                parts = [row.get("task", ""), row.get("standard", ""), row.get("frequency", "")]
                while len(parts) > 1 and not parts[-1]:
                    parts.pop()
                lines.append(" | ".join(parts).replace("|  |", "| |"))
            return "\n".join(lines)
        return value

    def to_python(self, value: Any) -> list[dict[str, str]]:
        text = super().to_python(value) or ""
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) > 3:
                raise ValidationError(f"Line {number}: use at most two “|” (task | standard | frequency).")
            task, standard, frequency = [*parts, "", ""][:3]
            if not task:
                raise ValidationError(f"Line {number}: name the task before the first “|”.")
            row = {"task": task}
            if standard:
                row["standard"] = standard
            if frequency:
                row["frequency"] = frequency
            rows.append(row)
        if len(rows) > MAX_TASK_LINES:
            raise ValidationError(f"Give at most {MAX_TASK_LINES} task lines.")
        return rows


def _in_scope(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class PlanItemForm(forms.Form):
    """Base of the item forms: related choices limited to the plan, answers to service arguments."""

    #: field name → model whose rows of this plan are the choices.
    PLAN_CHOICES = {
        "roles": Role,
        "people": Person,
        "parties": Party,
        "support_level": SupportLevel,
        "service_calendar": ServiceCalendar,
        "owner": Person,
    }

    def __init__(self, *args: Any, plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        for name, model in self.PLAN_CHOICES.items():
            if name in self.fields:
                self.fields[name].queryset = model.objects.filter(plan=plan)

    @staticmethod
    def initial_for(item: ScopeItem | None) -> dict[str, Any]:
        """The stored answers as initial data (expects roles, people and parties prefetched)."""
        if item is None:
            return {}
        initial = {
            field: getattr(item, field)
            for field in (
                "out_of_scope_reason",
                "redirect_to",
                "what",
                "details",
                "when_text",
                "peak_relevance",
                "procedure_url",
                "tool",
                "access_needs",
                "criticality",
                "status",
                "last_reviewed",
            )
        }
        initial.update(
            in_scope={True: "yes", False: "no"}.get(item.in_scope, ""),
            roles=[role.pk for role in item.roles.all()],
            people=[person.pk for person in item.people.all()],
            parties=[party.pk for party in item.parties.all()],
            support_level=item.support_level_id,
            service_calendar=item.service_calendar_id,
            owner=item.owner_id,
        )
        for key, _label in PROCESS_PROFILE_QUESTIONS:
            initial[f"profile_{key}"] = (item.process_profile or {}).get(key, "")
        return initial

    def service_fields(self) -> dict[str, Any]:
        """The cleaned answers as keyword arguments of ``scope.services.scope_item_save``."""
        fields: dict[str, Any] = {}
        profile: dict[str, str] = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("profile_"):
                if value:
                    profile[name.removeprefix("profile_")] = value
            elif name == "in_scope":
                fields[name] = _in_scope(value)
            else:
                fields[name] = value
        if any(name.startswith("profile_") for name in self.fields):
            fields["process_profile"] = profile
        return fields


class WhatForm(PlanItemForm):
    in_scope = forms.ChoiceField(choices=IN_SCOPE_CHOICES, required=False, label="In scope?")
    what = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=10_000,
        label="What is supported",
    )
    out_of_scope_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=10_000,
        label="Out of scope because",
    )
    redirect_to = forms.CharField(
        max_length=200, required=False, label="Such questions go instead to", help_text="Out of scope only."
    )


class DetailForm(PlanItemForm):
    details = TaskLinesField(
        required=False,
        max_length=50_000,
        label="Tasks and standards",
        help_text="One per line: task | standard | frequency (standard and frequency optional).",
    )


class WhoForm(PlanItemForm):
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    people = forms.ModelMultipleChoiceField(
        queryset=Person.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    parties = forms.ModelMultipleChoiceField(
        queryset=Party.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    support_level = forms.ModelChoiceField(queryset=SupportLevel.objects.none(), required=False)


class WhenForm(PlanItemForm):
    service_calendar = forms.ModelChoiceField(
        queryset=ServiceCalendar.objects.none(), required=False, label="Service hours"
    )
    when_text = forms.CharField(max_length=300, required=False, label="Hours, frequency or trigger")
    peak_relevance = forms.CharField(
        max_length=300, required=False, label="Relevance to peaks and period-end"
    )


class HowForm(PlanItemForm):
    procedure_url = forms.URLField(
        max_length=200, assume_scheme="https", required=False, label="Procedure or runbook (link)"
    )
    tool = forms.CharField(max_length=160, required=False)
    access_needs = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10_000
    )


#: The form for one question of the matrix, by question key.
QUESTION_FORMS: dict[str, type[PlanItemForm]] = {
    "what": WhatForm,
    "detail": DetailForm,
    "who": WhoForm,
    "when": WhenForm,
    "how": HowForm,
}


class CellTargetForm(forms.Form):
    """Which cell an in-place edit is about; the aspect is checked against the plan by the view."""

    aspect = forms.IntegerField(min_value=1, max_value=MAX_ID)
    #: Blank only when asking for the row without its inline form (closing the editor).
    question = forms.ChoiceField(choices=[("", "—"), *QUESTION_LABELS.items()], required=False)


class ScopeItemForm(HowForm, WhenForm, WhoForm, DetailForm, WhatForm):
    """Everything about one item; a business process adds its criticality and nine profile answers."""

    status = forms.ChoiceField(choices=ScopeStatus.choices, initial=ScopeStatus.NOT_STARTED)
    owner = forms.ModelChoiceField(queryset=Person.objects.none(), required=False)
    last_reviewed = forms.DateField(required=False, widget=DateInput)

    def __init__(self, *args: Any, aspect, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if aspect.is_business_process:
            self.fields["criticality"] = forms.ChoiceField(
                choices=[("", "—"), *Criticality.choices], required=False
            )
            for key, label in PROCESS_PROFILE_QUESTIONS:
                self.fields[f"profile_{key}"] = forms.CharField(
                    label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
                )

    def question_fields(self, question: str) -> list[forms.BoundField]:
        return [self[name] for name in QUESTION_FORMS[question].base_fields]

    def review_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("status", "owner", "last_reviewed")]

    def process_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name == "criticality" or name.startswith("profile_")]


class MatrixFilterForm(forms.Form):
    """The matrix's GET filters; an invalid value is ignored (and said so) rather than refused."""

    group = forms.ChoiceField(required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *ScopeStatus.choices], required=False)
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    gaps = forms.BooleanField(required=False, label="Gaps only")

    def __init__(self, *args: Any, groups: list[AspectGroup], people: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "All groups"), *((group.key, group.name) for group in groups)]
        self.fields["owner"].choices = [("", "Anyone"), *((str(person.pk), person.name) for person in people)]

    def filters(self) -> dict[str, Any]:
        """The valid filters only: a junk value in one does not drop the others."""
        self.is_valid()
        return {
            name: self.cleaned_data.get(name)
            for name in self.fields
            if name not in self.errors and self.cleaned_data.get(name) not in (None, "", False)
        }


class AspectForm(forms.Form):
    group = forms.ModelChoiceField(queryset=AspectGroup.objects.all())
    name = forms.CharField(max_length=160)
    guidance = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    is_business_process = forms.BooleanField(
        required=False,
        label="It is a business process",
        help_text="Business processes also answer the guide's nine profile questions.",
    )
