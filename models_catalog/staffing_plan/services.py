"""Writes for staffing profiles, and the demo profiles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from models_catalog.models import StaffingProfile, SupportLevel
from models_catalog.staffing_plan.calculation import (
    HOURLY_SHAPES,
    MAX_PROFILE_ERLANGS,
    profile_arrivals,
    requests_per_hour_problem,
)
from supportplan.lib.services import apply_fields
from supportplan.models import Location, SupportPlan, validate_language_list, validate_timezone

# --- Writes ---------------------------------------------------------------------------------
PROFILE_FIELDS = {
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
}
_DECIMAL_FIELDS = (
    "requests_per_user_per_month",
    "service_level",
    "max_occupancy",
    "shrinkage",
    "weekly_contract_hours",
)


def _normalise(profile: StaffingProfile) -> None:
    # A float goes through its shortest repr: Django would turn 0.8 into Decimal("0.8000") and
    # then refuse it for having more than three decimal places.
    for name in _DECIMAL_FIELDS:
        value = getattr(profile, name)
        if isinstance(value, float):
            setattr(profile, name, Decimal(repr(value)))
    if isinstance(profile.language, str):
        profile.language = profile.language.strip().lower()
    if isinstance(profile.timezone, str):
        profile.timezone = profile.timezone.strip()
    if requests_per_hour_problem(profile.requests_per_hour) is None:
        profile.requests_per_hour = [float(value) for value in profile.requests_per_hour]


def staffing_profile_validate(*, profile: StaffingProfile) -> None:
    """``full_clean`` plus the staffing rules; raises one ValidationError naming every bad field.

    The create and update services call it; so may any other writer (an admin form, say).
    """
    _normalise(profile)
    errors: dict[str, list[str]] = {}
    try:
        # The (plan, name) constraint is checked below with a message on ``name``.
        profile.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}

    def refuse(name: str, message: str) -> None:
        if name not in errors:
            errors[name] = [message]

    def clean(name: str) -> bool:
        return name not in errors

    if (
        clean("name")
        and StaffingProfile.objects.filter(plan_id=profile.plan_id, name=profile.name)
        .exclude(pk=profile.pk)
        .exists()
    ):
        refuse("name", "This plan already has a staffing profile with this name.")
    if clean("level") and profile.level_id and profile.level.plan_id != profile.plan_id:
        refuse("level", "Choose a support level of this plan.")
    if clean("location") and profile.location_id and profile.location.plan_id != profile.plan_id:
        refuse("location", "Choose a location of this plan.")
    if clean("language") and profile.language:
        try:
            validate_language_list([profile.language])
        except ValidationError as error:
            refuse("language", error.messages[0])
    if clean("timezone"):
        try:
            validate_timezone(profile.timezone)
        except ValidationError as error:
            refuse("timezone", error.messages[0])
    if clean("hourly_shape") and profile.hourly_shape not in HOURLY_SHAPES:
        refuse("hourly_shape", "Choose office, extended or flat.")
    entered = profile.source == StaffingProfile.Source.ENTERED
    if clean("requests_per_hour") and (entered or profile.requests_per_hour):
        problem = requests_per_hour_problem(profile.requests_per_hour)
        if problem:
            refuse("requests_per_hour", problem)
    if clean("service_level") and not 0 < profile.service_level < 1:
        refuse("service_level", "Give the share answered in time as a fraction between 0 and 1, e.g. 0.8.")
    if clean("max_occupancy") and profile.max_occupancy is not None and not 0 < profile.max_occupancy <= 1:
        refuse("max_occupancy", "Give the occupancy cap as a fraction above 0 and at most 1, e.g. 0.85.")
    if clean("shrinkage") and not 0 <= profile.shrinkage < 1:
        refuse("shrinkage", "Give shrinkage as a fraction from 0 up to (not including) 1, e.g. 0.3.")
    demand_fields = (
        ("requests_per_hour",) if entered else ("users", "requests_per_user_per_month", "hourly_shape")
    )
    if all(clean(name) for name in (*demand_fields, "handle_time_seconds", "source")):
        busiest = max(profile_arrivals(profile), default=0.0) * profile.handle_time_seconds / 3600
        if busiest > MAX_PROFILE_ERLANGS:
            refuse(
                demand_fields[0],
                f"At the busiest hour this keeps {busiest:,.0f} agents busy at once; "
                f"the staffing plan handles at most {MAX_PROFILE_ERLANGS:,}. Check the figures.",
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def staffing_profile_create(*, plan: SupportPlan, **fields: Any) -> StaffingProfile:
    """Creates a profile of ``plan``; raises ValidationError naming the bad fields."""
    profile = StaffingProfile(plan=plan)
    apply_fields(profile, fields, PROFILE_FIELDS)
    staffing_profile_validate(profile=profile)
    profile.save()
    return profile


@transaction.atomic
def staffing_profile_update(*, profile: StaffingProfile, **fields: Any) -> StaffingProfile:
    """Changes the given fields of ``profile``; raises ValidationError naming the bad fields."""
    changed = apply_fields(profile, fields, PROFILE_FIELDS)
    staffing_profile_validate(profile=profile)
    if changed:
        profile.save(update_fields=changed)
    return profile


@transaction.atomic
def staffing_profile_delete(*, profile: StaffingProfile) -> None:
    profile.delete()


# --- Demo data ------------------------------------------------------------------------------
@transaction.atomic
def demo_staffing_profiles(*, plan: SupportPlan) -> None:
    """Adds the case study's two level-2 profiles unless present. Idempotent; never overwrites.

    Uses the plan's level 2 (nothing happens without it) and, when it exists, the Manchester
    location for the UK helpdesk; German demand comes from the locations whose first language is
    German.
    """
    level = SupportLevel.objects.filter(plan=plan, number=2).first()
    if level is None:
        return
    locations = list(Location.objects.filter(plan=plan))
    manchester = next((loc for loc in locations if "manchester" in loc.name.lower()), None)
    german_users = sum(loc.user_count for loc in locations if loc.languages[:1] == ["de"]) or 190
    shared = {
        "level": level,
        "source": StaffingProfile.Source.DERIVED,
        "service_level": Decimal("0.8"),
        "max_occupancy": Decimal("0.85"),
        "shrinkage": Decimal("0.3"),
        "weekly_contract_hours": Decimal("37.5"),
    }
    profiles = [
        {
            "name": "UK helpdesk",
            "location": manchester,
            "language": "en",
            "timezone": manchester.timezone if manchester else "Europe/London",
            "users": manchester.user_count if manchester else 560,
            "requests_per_user_per_month": Decimal("1.5"),
            "hourly_shape": "extended",
            "handle_time_seconds": 1200,
            "answer_within_seconds": 1800,
        },
        {
            "name": "German-speaking helpdesk",
            "location": None,
            "language": "de",
            "timezone": "Europe/Berlin",
            "users": german_users,
            "requests_per_user_per_month": Decimal("2"),
            "hourly_shape": "office",
            "handle_time_seconds": 1500,
            "answer_within_seconds": 3600,
        },
    ]
    existing = set(StaffingProfile.objects.filter(plan=plan).values_list("name", flat=True))
    for fields in profiles:
        if fields["name"] not in existing:
            staffing_profile_create(plan=plan, **shared, **fields)
