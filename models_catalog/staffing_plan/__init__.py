"""The staffing plan: demand per hour of the week → agents (Erlang C) → FTE → people on duty → gaps.

``calculation`` computes a profile's plan, ``heatmap`` draws it, ``services`` writes profiles.
"""

from models_catalog.staffing_plan.calculation import (
    HOURLY_SHAPES,
    HOURS_PER_WEEK,
    SHAPE_CHOICES,
    WEEKDAYS,
    WEEKS_PER_MONTH,
    ProfilePlan,
    default_week_start,
    language_name,
    profile_arrivals,
    requests_per_hour_problem,
    staffing_plan,
    staffing_plan_for_profile,
    week_start_problem,
)
from models_catalog.staffing_plan.heatmap import heatmap_svg
from models_catalog.staffing_plan.services import (
    demo_staffing_profiles,
    staffing_profile_create,
    staffing_profile_delete,
    staffing_profile_update,
    staffing_profile_validate,
)

__all__ = [
    "HOURLY_SHAPES",
    "HOURS_PER_WEEK",
    "SHAPE_CHOICES",
    "WEEKDAYS",
    "WEEKS_PER_MONTH",
    "ProfilePlan",
    "default_week_start",
    "demo_staffing_profiles",
    "heatmap_svg",
    "language_name",
    "profile_arrivals",
    "requests_per_hour_problem",
    "staffing_plan",
    "staffing_plan_for_profile",
    "staffing_profile_create",
    "staffing_profile_delete",
    "staffing_profile_update",
    "staffing_profile_validate",
    "week_start_problem",
]
