"""The staffing page (heat map, FTE and gaps per profile) and the profile form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import FormView, TemplateView

from models_catalog import staffing_plan as plans
from models_catalog.models import StaffingProfile, SupportLevel
from supportplan.models import Location
from supportplan.views_base import PlanViewMixin, run_service


# --- Forms ----------------------------------------------------------------------------------
class WeekForm(forms.Form):
    week = forms.DateField(
        required=False,
        label="Reference week",
        help_text="Any day of the week; the plan runs Monday to Sunday. Empty: next week.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_week(self):
        week = self.cleaned_data["week"]
        if week and plans.week_start_problem(week):
            raise ValidationError(plans.week_start_problem(week))
        return week


def _plain(number: float) -> str:
    text = repr(float(number))
    return text.removesuffix(".0")


class WeekGridField(forms.CharField):
    """168 numbers in a textarea: 7 lines (Monday to Sunday) of 24 comma-separated numbers."""

    widget = forms.Textarea(attrs={"rows": 8, "cols": 100, "spellcheck": "false", "class": "week-grid"})

    def prepare_value(self, value):
        if isinstance(value, list):
            if len(value) != plans.HOURS_PER_WEEK:
                return ", ".join(map(str, value))
            return "\n".join(
                ", ".join(_plain(number) for number in value[day * 24 : day * 24 + 24]) for day in range(7)
            )
        return value

    def to_python(self, value) -> list[float]:
        text = super().to_python(value)
        if not text:
            return []
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 7:
            raise ValidationError(
                f"Give 7 lines, Monday to Sunday, of 24 numbers each; there are {len(lines)}."
            )
        numbers: list[float] = []
        for day, line in zip(plans.WEEKDAYS, lines, strict=True):
            items = [item.strip() for item in line.strip().removesuffix(",").split(",")]
            if len(items) != 24:
                raise ValidationError(f"{day} has {len(items)} numbers; give 24, one per hour from 00:00.")
            for hour, item in enumerate(items):
                try:
                    number = float(item)
                except ValueError:
                    raise ValidationError(f"{day} {hour:02d}:00: “{item}” is not a number.") from None
                if not math.isfinite(number) or number < 0:
                    raise ValidationError(f"{day} {hour:02d}:00: give a number of at least 0.")
                numbers.append(number)
        return numbers


class StaffingProfileForm(forms.ModelForm):
    requests_per_hour = WeekGridField(
        required=False,
        label="Requests per hour (entered)",
        help_text="7 lines, Monday to Sunday, of 24 comma-separated numbers (00:00 to 23:00, local to the "
        "profile's time zone). Used when the demand is entered.",
    )
    hourly_shape = forms.ChoiceField(
        choices=plans.SHAPE_CHOICES, help_text="How the month's requests spread over the week (when derived)."
    )
    language = forms.CharField(
        max_length=3, required=False, help_text="ISO 639-1 code, e.g. de; empty for any language."
    )

    class Meta:
        model = StaffingProfile
        fields = [
            "name",
            "level",
            "location",
            "language",
            "timezone",
            "source",
            "requests_per_hour",
            "users",
            "requests_per_user_per_month",
            "hourly_shape",
            "handle_time_seconds",
            "service_level",
            "answer_within_seconds",
            "max_occupancy",
            "shrinkage",
            "weekly_contract_hours",
        ]
        labels = {
            "timezone": "Time zone",
            "users": "Users served",
            "handle_time_seconds": "Handle time (seconds)",
            "answer_within_seconds": "Answer within (seconds)",
            "service_level": "Service level target",
            "max_occupancy": "Maximum occupancy",
            "weekly_contract_hours": "Weekly contract hours",
        }
        help_texts = {
            "timezone": "IANA name, e.g. Europe/Berlin: the zone of the weekly profile and the gaps.",
            "location": "Only people at this location count (optional).",
            "requests_per_user_per_month": "A month counts as 52/12 ≈ 4.33 weeks.",
            "max_occupancy": "Optional cap on the share of time agents are busy, e.g. 0.85.",
            "shrinkage": "Share of paid time not spent on requests (absence, training, breaks), e.g. 0.3.",
        }
        widgets = {"source": forms.RadioSelect}

    GROUPS = [
        ("Queue", ["name", "level", "location", "language", "timezone"]),
        ("Demand", ["source", "users", "requests_per_user_per_month", "hourly_shape", "requests_per_hour"]),
        (
            "Target",
            [
                "handle_time_seconds",
                "service_level",
                "answer_within_seconds",
                "max_occupancy",
                "shrinkage",
                "weekly_contract_hours",
            ],
        ),
    ]

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = SupportLevel.objects.filter(plan=plan)
        self.fields["location"].queryset = Location.objects.filter(plan=plan)

    def groups(self) -> list[FieldGroup]:
        return [FieldGroup(legend, [self[name] for name in names]) for legend, names in self.GROUPS]


@dataclass
class FieldGroup:
    """A fieldset rendered by ``_form_fields.html`` (which reads these three names)."""

    legend: str
    visible_fields: list
    hidden_fields: list = field(default_factory=list)
    non_field_errors: list = field(default_factory=list)


def target_summary(profile: StaffingProfile) -> str:
    """E.g. "80% answered within 30 min; handle time 20 min; occupancy at most 85%; shrinkage 30%"."""

    def duration(seconds: int) -> str:
        return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 60 else f"{seconds} s"

    parts = [
        f"{float(profile.service_level):.0%} answered within {duration(profile.answer_within_seconds)}",
        f"handle time {duration(profile.handle_time_seconds)}",
    ]
    if profile.max_occupancy is not None:
        parts.append(f"occupancy at most {float(profile.max_occupancy):.0%}")
    parts.append(f"shrinkage {float(profile.shrinkage):.0%}")
    return "; ".join(parts)


# --- Views ----------------------------------------------------------------------------------
class StaffingView(PlanViewMixin, TemplateView):
    """One section per staffing profile: heat map, FTE needed against available, gaps."""

    plan_access = "staff"
    template_name = "models_catalog/staffing.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        week_form = WeekForm(self.request.GET or None)
        week = week_form.cleaned_data["week"] if week_form.is_valid() else None
        sections = [
            {
                "plan": week_plan,
                "svg": plans.heatmap_svg(week_plan),
                "language": plans.language_name(week_plan.profile.language)
                if week_plan.profile.language
                else "",
                "target": target_summary(week_plan.profile),
            }
            for week_plan in plans.staffing_plan(user=self.request.user, plan=self.plan, week_start=week)
        ]
        context.update(week_form=week_form, sections=sections)
        return context


class StaffingProfileFormView(PlanViewMixin, FormView):
    """Creates (no ``profile_id``) or edits a profile; on edit, a second form deletes it."""

    plan_access = "configure"
    template_name = "models_catalog/staffing_profile_form.html"
    form_class = StaffingProfileForm

    def dispatch(self, request, *args, **kwargs):
        self.profile = None
        return super().dispatch(request, *args, **kwargs)

    def get_profile(self) -> StaffingProfile | None:
        if "profile_id" in self.kwargs and self.profile is None:
            self.profile = get_object_or_404(
                StaffingProfile.objects.for_user(self.request.user),
                plan=self.plan,
                pk=self.kwargs["profile_id"],
            )
            # The form writes its input onto the instance; headings show the stored name.
            self.profile_name = self.profile.name
        return self.profile

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.get_profile(), "plan": self.plan}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        profile = self.get_profile()
        return super().get_context_data(profile=profile, profile_name=profile and self.profile_name, **kwargs)

    def post(self, request, *args, **kwargs):
        profile = self.get_profile()
        if profile is not None and "delete" in request.POST:
            plans.staffing_profile_delete(profile=profile)
            messages.success(request, f"Staffing profile “{profile.name}” removed.")
            return redirect("staffing", plan_slug=self.plan.slug)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        profile = self.get_profile()
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if profile is None:
            result = run_service(form, lambda: plans.staffing_profile_create(plan=self.plan, **data))
        else:
            result = run_service(form, lambda: plans.staffing_profile_update(profile=profile, **data))
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Staffing profile “{result.name}” saved.")
        return redirect("staffing", plan_slug=self.plan.slug)
