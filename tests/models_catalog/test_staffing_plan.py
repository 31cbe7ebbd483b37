"""The staffing plan: demand per hour → agents (Erlang C) → people on duty → FTE and gaps.

Agent counts are worked out by hand in the comments: with a handle time of one hour the traffic in
Erlangs equals the requests per hour, and with an answer time of 0 s the service level is the
share of requests that never wait, 1 − C(n, A) (Erlang C).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from django.core.exceptions import ValidationError

from models_catalog.models import StaffingProfile, SupportLevel
from models_catalog.staffing_plan import (
    HOURLY_SHAPES,
    WEEKS_PER_MONTH,
    demo_staffing_profiles,
    heatmap_svg,
    profile_arrivals,
    staffing_plan,
    staffing_plan_for_profile,
    staffing_profile_delete,
    staffing_profile_update,
)
from supportplan.models import Location
from tests.factories import LocationFactory, PlanFactory
from tests.models_catalog.staffing_fixtures import (
    FALL_BACK_WEEK,
    NEW_YORK_SUMMER_WEEK,
    NEW_YORK_WINTER_WEEK,
    QUIET_WEEK,
    SPRING_FORWARD_WEEK,
    build_team,
    hour_of_week,
    person,
    profile,
    week_of,
)

MONDAY_9 = hour_of_week(0, 9)
MONDAY_10 = hour_of_week(0, 10)
SUNDAY = 6


@pytest.fixture
def team(plan):
    return build_team(plan)


def erlang_c(traffic: Fraction, agents: int) -> Fraction:
    """P(wait), the textbook formula in exact arithmetic (independent of the module under test)."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)


def fewest_agents_answering_at_once(traffic: Fraction, share: Fraction) -> int:
    agents = math.floor(traffic) + 1
    while 1 - erlang_c(traffic, agents) < share:
        agents += 1
    return agents


# --- Demand ---------------------------------------------------------------------------------
def test_every_hourly_shape_spreads_exactly_one_week_of_requests():
    for shape in HOURLY_SHAPES.values():
        assert len(shape) == 168
        assert math.fsum(shape) == pytest.approx(1.0)
        assert min(shape) >= 0


def test_a_month_is_fifty_two_twelfths_of_a_week():
    assert pytest.approx(52 / 12) == WEEKS_PER_MONTH


def test_derived_demand_is_users_times_requests_per_month_spread_over_the_week(team):
    flat = profile(
        team.plan,
        team.level2,
        source="derived",
        users=520,
        requests_per_user_per_month=1,
        hourly_shape="flat",
    )
    arrivals = profile_arrivals(flat)
    # 520 requests a month are 520 × 12 / 52 = 120 a week, 120 / 168 an hour round the clock.
    assert math.fsum(arrivals) == pytest.approx(120)
    assert arrivals == pytest.approx([120 / 168] * 168)


def test_the_office_shape_is_quiet_at_night_and_at_weekends_and_peaks_in_the_morning(team):
    office = profile(team.plan, team.level2, source="derived", users=520, requests_per_user_per_month=1)
    arrivals = profile_arrivals(office)
    assert math.fsum(arrivals) == pytest.approx(120)
    assert arrivals[hour_of_week(0, 3)] == arrivals[hour_of_week(0, 18)] == 0
    assert math.fsum(arrivals[hour_of_week(5, 0) :]) == 0
    assert max(arrivals) == arrivals[MONDAY_9] == arrivals[hour_of_week(4, 10)]


def test_the_extended_shape_opens_early_and_late_and_on_saturday_morning(team):
    extended = profile(
        team.plan,
        team.level2,
        source="derived",
        users=100,
        requests_per_user_per_month=2,
        hourly_shape="extended",
    )
    arrivals = profile_arrivals(extended)
    assert arrivals[hour_of_week(0, 7)] > 0 and arrivals[hour_of_week(0, 19)] > 0
    assert arrivals[hour_of_week(0, 6)] == arrivals[hour_of_week(0, 20)] == 0
    assert arrivals[hour_of_week(5, 10)] > 0
    assert math.fsum(arrivals[hour_of_week(6, 0) :]) == 0


def test_entered_demand_is_used_as_it_is(team):
    entered = profile(team.plan, team.level2, requests_per_hour=week_of({MONDAY_9: 4, MONDAY_10: 2.5}))
    assert profile_arrivals(entered) == week_of({MONDAY_9: 4.0, MONDAY_10: 2.5})


# --- Agents needed --------------------------------------------------------------------------
def test_agents_needed_match_erlang_c_worked_out_by_hand(team):
    queue = profile(
        team.plan,
        team.level2,
        requests_per_hour=week_of({MONDAY_9: 1.0, MONDAY_10: 0.5, hour_of_week(1, 9): 0.1}),
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    # A = 1: two agents answer at once with P = 1 − 1/3 (M/M/2: C = A²/(2 + A)); three with
    # P = 1 − (1/6 · 3/2) / (1 + 1 + 1/2 + 1/4) = 10/11 ≥ 0.8.
    assert week.needed[MONDAY_9] == 3
    # A = 1/2: one agent answers at once half the time; two with P = 1 − 0.25/2.5 = 0.9.
    assert week.needed[MONDAY_10] == 2
    # A = 0.1: one agent, P = 0.9.
    assert week.needed[hour_of_week(1, 9)] == 1
    assert week.needed[hour_of_week(0, 11)] == 0
    for hour, traffic in [
        (MONDAY_9, Fraction(1)),
        (MONDAY_10, Fraction(1, 2)),
        (hour_of_week(1, 9), Fraction(1, 10)),
    ]:
        assert week.needed[hour] == fewest_agents_answering_at_once(traffic, Fraction(4, 5))


def test_an_occupancy_cap_adds_agents_beyond_the_service_level(team):
    queue = profile(
        team.plan,
        team.level2,
        requests_per_hour=week_of({MONDAY_9: 10}),
        answer_within_seconds=3600,
        service_level=Decimal("0.5"),
        max_occupancy=Decimal("0.5"),
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    # 10 Erlangs at most 50 % busy: 20 agents, whatever the service level needs.
    assert week.needed[MONDAY_9] == 20


# --- People on duty -------------------------------------------------------------------------
def test_people_are_on_duty_in_their_working_hours_weighted_by_allocation(team):
    queue = profile(team.plan, team.level2)
    person(
        team.plan, "Amy", levels=[team.level2], location=team.manchester, hours={"0": [["09:00", "10:00"]]}
    )
    person(
        team.plan,
        "Ben",
        levels=[team.level2],
        location=team.manchester,
        hours={"0": [["09:30", "11:00"]]},
        allocation=50,
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    # Amy the whole hour; Ben half of 09:00 and all of 10:00, at 50 %.
    assert week.scheduled[MONDAY_9] == 1.25
    assert week.scheduled[MONDAY_10] == 0.5
    assert week.scheduled[hour_of_week(0, 11)] == 0
    assert [someone.name for someone in week.people] == ["Amy", "Ben"]


def test_someone_in_berlin_serves_a_london_queue_an_hour_earlier_on_the_london_clock(team):
    queue = profile(team.plan, team.level2, timezone="Europe/London")
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg)
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    monday = week.scheduled[:24]
    assert monday[7] == 0 and monday[8] == 1 and monday[15] == 1 and monday[16] == 0


def test_a_berlin_night_shift_lands_on_the_right_london_hours_in_the_week_the_clocks_go_forward(team):
    queue = profile(team.plan, team.level2, timezone="Europe/London")
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg, hours={"6": [["01:00", "05:00"]]})
    before = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    change = staffing_plan_for_profile(profile=queue, week_start=SPRING_FORWARD_WEEK)
    sunday = slice(hour_of_week(SUNDAY, 0), hour_of_week(SUNDAY, 6))
    # A quiet Sunday: Berlin 01:00–05:00 CET is London 00:00–04:00 GMT.
    assert before.scheduled[sunday] == [1, 1, 1, 1, 0, 0]
    # On 30 March Berlin jumps 02:00 → 03:00 and London 01:00 → 02:00, both at 01:00 UTC: Berlin
    # 01:00 CET – 05:00 CEST is 00:00–03:00 UTC, which is London 00:00–01:00 GMT and 02:00–04:00
    # BST. London's 01:00 does not happen that night.
    assert change.scheduled[sunday] == [1, 0, 1, 1, 0, 0]
    assert change.hour_lengths[sunday] == [1, 0, 1, 1, 1, 1]
    assert change.hour_starts[hour_of_week(SUNDAY, 2)] == datetime(2025, 3, 30, 1, tzinfo=UTC)


def test_the_hour_the_clocks_go_back_lasts_two_hours(team):
    queue = profile(team.plan, team.level2, timezone="Europe/London")
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg, hours={"6": [["02:00", "03:00"]]})
    week = staffing_plan_for_profile(profile=queue, week_start=FALL_BACK_WEEK)
    one_am = hour_of_week(SUNDAY, 1)
    assert week.hour_lengths[one_am] == 2
    # Berlin's 02:00 comes twice that night too: from the first 02:00 (CEST) to 03:00 (CET) is
    # 00:00–02:00 UTC, two hours on duty, exactly London's long 01:00 (01:00 BST – 02:00 GMT).
    assert week.scheduled[one_am] == 1
    assert week.fte_available == pytest.approx(2 / 10)


def test_new_york_hours_move_on_the_london_clock_when_only_new_york_changes_its_clocks(team):
    queue = profile(team.plan, team.level2, timezone="Europe/London")
    person(team.plan, "Nora", levels=[team.level2], location=team.new_york)
    winter = staffing_plan_for_profile(profile=queue, week_start=NEW_YORK_WINTER_WEEK)
    summer = staffing_plan_for_profile(profile=queue, week_start=NEW_YORK_SUMMER_WEEK)
    on_duty = [hour for hour in range(24) if winter.scheduled[hour]]
    assert on_duty == list(range(14, 22))  # 09:00–17:00 EST is 14:00–22:00 GMT
    on_duty = [hour for hour in range(24) if summer.scheduled[hour]]
    assert on_duty == list(range(13, 21))  # EDT: an hour earlier in London, which has not changed


def test_someone_without_a_location_works_in_the_profiles_zone(team):
    queue = profile(team.plan, team.level2, timezone="Europe/Berlin")
    person(team.plan, "Rui", levels=[team.level2])
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert [hour for hour in range(24) if week.scheduled[hour]] == list(range(9, 17))


def test_only_people_of_the_level_who_speak_the_language_count(team):
    queue = profile(team.plan, team.level2, language="de", timezone="Europe/Berlin")
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg, languages=["de", "en"])
    person(team.plan, "Amy", levels=[team.level2], location=team.manchester, languages=["en"])
    person(team.plan, "Lukas", levels=[team.level1], location=team.duisburg, languages=["de"])
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert [someone.name for someone in week.people] == ["Jana"]


def test_only_people_at_the_profiles_location_count(team):
    queue = profile(team.plan, team.level2, location=team.manchester)
    person(team.plan, "Amy", levels=[team.level2], location=team.manchester)
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg)
    person(team.plan, "Rui", levels=[team.level2])
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert [someone.name for someone in week.people] == ["Amy"]


# --- FTE and gaps ---------------------------------------------------------------------------
def test_fte_is_agent_hours_grossed_up_for_shrinkage_over_contract_hours(team):
    queue = profile(
        team.plan,
        team.level2,
        requests_per_hour=week_of({MONDAY_9: 1.0, MONDAY_10: 0.5}),
        shrinkage=Decimal("0.5"),
        weekly_contract_hours=Decimal("10"),
    )
    person(
        team.plan, "Amy", levels=[team.level2], location=team.manchester, hours={"0": [["09:00", "10:00"]]}
    )
    person(
        team.plan,
        "Ben",
        levels=[team.level2],
        location=team.manchester,
        hours={"0": [["09:00", "11:00"]]},
        allocation=50,
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    # (3 + 2) agent-hours ÷ (1 − 0.5) ÷ 10 h = 1.0 FTE needed; Amy 1 h + Ben 2 h × 50 % = 2 h = 0.2 FTE.
    assert week.fte_needed == pytest.approx(1.0)
    assert week.fte_available == pytest.approx(0.2)
    assert week.gaps == [
        "Level 2 short by 0.8 FTE (needs 1.0, has 0.2)",
        "Too few people at level 2, Monday 09:00–11:00 (Europe/London): short by up to 1.5",
    ]


def test_hours_with_nobody_on_duty_are_named_per_weekday_range(team):
    queue = profile(
        team.plan,
        team.level2,
        name="German-speaking helpdesk",
        language="de",
        timezone="Europe/Berlin",
        requests_per_hour=week_of(
            {**{hour_of_week(0, hour): 0.1 for hour in range(7, 17)}, hour_of_week(2, 20): 0.1}
        ),
        weekly_contract_hours=Decimal("1"),
    )
    person(team.plan, "Jana", levels=[team.level2], location=team.duisburg, languages=["de"], allocation=100)
    person(
        team.plan, "Amy", levels=[team.level2], location=team.manchester, hours={"0": [["06:00", "08:00"]]}
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert week.gaps == [
        "No German speaker at level 2, Monday 07:00–09:00 (Europe/Berlin)",
        "No German speaker at level 2, Wednesday 20:00–21:00 (Europe/Berlin)",
    ]


def test_an_hour_the_clocks_skip_is_not_a_gap_and_does_not_split_one(team):
    queue = profile(
        team.plan,
        team.level2,
        requests_per_hour=week_of({hour_of_week(SUNDAY, hour): 0.1 for hour in range(0, 4)}),
        weekly_contract_hours=Decimal("1"),
    )
    week = staffing_plan_for_profile(profile=queue, week_start=SPRING_FORWARD_WEEK)
    assert week.gaps[1:] == ["No one at level 2, Sunday 00:00–04:00 (Europe/London)"]
    # The hour that does not happen needs no agent-hours: 3 hours of one agent.
    assert week.fte_needed == pytest.approx(3.0)


def test_a_location_profile_names_the_location_in_its_gaps(team):
    queue = profile(
        team.plan, team.level2, location=team.manchester, requests_per_hour=week_of({MONDAY_9: 0.1})
    )
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert "No one at level 2 (Manchester), Monday 09:00–10:00 (Europe/London)" in week.gaps


def test_a_covered_week_has_no_gaps(team):
    queue = profile(
        team.plan, team.level2, requests_per_hour=week_of({MONDAY_9: 0.1}), weekly_contract_hours=Decimal("8")
    )
    person(team.plan, "Amy", levels=[team.level2], location=team.manchester)
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert week.gaps == []
    assert week.fte_available == pytest.approx(5.0)  # 40 hours on duty ÷ 8 contract hours


def test_people_without_working_hours_are_pointed_out(team):
    queue = profile(team.plan, team.level2, requests_per_hour=week_of({}))
    person(team.plan, "Sam", levels=[team.level2], hours={})
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert week.gaps == ["Sam is assigned to level 2 but has no working hours, so is never on duty"]


def test_a_profile_stored_around_the_services_shows_its_problem_instead_of_failing(team):
    queue = profile(team.plan, team.level2)
    StaffingProfile.objects.filter(pk=queue.pk).update(service_level=Decimal("1.5"), timezone="Mars/Base")
    queue.refresh_from_db()
    week = staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK)
    assert week.error and "cannot be computed" in week.error
    assert week.needed == [0] * 168
    assert "<svg" in heatmap_svg(week)


# --- The reference week ---------------------------------------------------------------------
def test_the_default_week_is_the_next_full_week_in_the_profiles_zone(team):
    london = profile(team.plan, team.level2, timezone="Europe/London")
    berlin = profile(team.plan, team.level2, name="Berlin", timezone="Europe/Berlin")
    with time_machine.travel(datetime(2025, 3, 19, 12, tzinfo=UTC), tick=False):
        assert staffing_plan_for_profile(profile=london).week_start == date(2025, 3, 24)
    # Sunday 23:30 in London is already Monday 00:30 in Berlin, whose next full week starts a week later.
    with time_machine.travel(datetime(2025, 3, 23, 23, 30, tzinfo=UTC), tick=False):
        assert staffing_plan_for_profile(profile=london).week_start == date(2025, 3, 24)
        assert staffing_plan_for_profile(profile=berlin).week_start == date(2025, 3, 31)


def test_any_day_stands_for_the_monday_of_its_week(team):
    queue = profile(team.plan, team.level2)
    assert staffing_plan_for_profile(profile=queue, week_start=date(2025, 3, 23)).week_start == QUIET_WEEK


# --- The whole plan -------------------------------------------------------------------------
def test_the_plan_costs_three_queries_however_many_profiles_and_people(
    team, alice, django_assert_num_queries
):
    profile(team.plan, team.level2)
    person(team.plan, "Amy", levels=[team.level2], location=team.manchester)
    with django_assert_num_queries(3):
        assert len(staffing_plan(user=alice, plan=team.plan, week_start=QUIET_WEEK)) == 1
    for number in range(5):
        profile(team.plan, team.level1, name=f"Queue {number}", language="de" if number % 2 else "")
    for number in range(20):
        person(
            team.plan,
            f"Person {number}",
            levels=[team.level1, team.level2],
            location=team.duisburg,
            languages=["de"],
        )
    with django_assert_num_queries(3):
        week = staffing_plan(user=alice, plan=team.plan, week_start=QUIET_WEEK)
    assert len(week) == 6
    assert {len(profile_week.people) for profile_week in week} == {21, 20}


def test_a_partner_sees_no_staffing_plan(team, carol):
    profile(team.plan, team.level2)
    assert staffing_plan(user=carol, plan=team.plan) == []


def test_the_plan_holds_only_the_plans_own_profiles(team, alice, dave, other_plan):
    profile(team.plan, team.level2)
    level = SupportLevel.objects.create(plan=other_plan, number=2, name="Contoso helpdesk")
    profile(other_plan, level, name="Contoso queue")
    assert [week.profile.name for week in staffing_plan(user=alice, plan=team.plan)] == ["Helpdesk"]
    assert staffing_plan(user=dave, plan=team.plan) == []


# --- The heat map ---------------------------------------------------------------------------
def test_the_heat_map_is_an_accessible_svg_with_a_tooltip_per_hour(team):
    queue = profile(team.plan, team.level2)
    person(
        team.plan, "Amy", levels=[team.level2], location=team.manchester, hours={"0": [["09:00", "10:00"]]}
    )
    svg = heatmap_svg(staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert svg.count("<rect") == 168 + 3  # the hours and the legend
    assert "<title>Mon 09:00: needs 3, scheduled 1</title>" in svg
    assert "<title>Tue 09:00: no demand, scheduled 0</title>" in svg
    assert "1 hour short, 0 hours covered" in svg
    assert "<script" not in svg and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_heat_map_escapes_the_profile_name(team):
    queue = profile(team.plan, team.level2, name='<script>alert("x")</script> & Co')
    svg = heatmap_svg(staffing_plan_for_profile(profile=queue, week_start=QUIET_WEEK))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in svg


def test_the_heat_map_marks_the_hour_the_clocks_skip(team):
    queue = profile(team.plan, team.level2)
    svg = heatmap_svg(staffing_plan_for_profile(profile=queue, week_start=SPRING_FORWARD_WEEK))
    assert "Sun 01:00: does not occur this week (the clocks go forward)" in svg


# --- Writes ---------------------------------------------------------------------------------
def test_a_profile_is_created_updated_and_deleted_through_the_services(team):
    queue = profile(team.plan, team.level2, language=" DE ", service_level=0.9)
    assert queue.language == "de"
    assert queue.service_level == Decimal("0.9")
    staffing_profile_update(profile=queue, users=50, source="derived")
    queue.refresh_from_db()
    assert queue.users == 50 and queue.source == "derived"
    staffing_profile_delete(profile=queue)
    assert not StaffingProfile.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"requests_per_hour": [1.0] * 167}, "requests_per_hour", "exactly 168"),
        ({"requests_per_hour": [1.0] * 167 + [-1]}, "requests_per_hour", "Sun 23:00"),
        ({"requests_per_hour": [float("nan")] * 168}, "requests_per_hour", "finite"),
        ({"requests_per_hour": ["many"] * 168}, "requests_per_hour", "not a number"),
        ({"requests_per_hour": [10**400] * 168}, "requests_per_hour", "finite"),
        ({"requests_per_hour": week_of({MONDAY_9: 1e9})}, "requests_per_hour", "at most 10,000"),
        ({"source": "derived", "users": 10_000_000, "requests_per_user_per_month": 999}, "users", "at most"),
        ({"service_level": 1}, "service_level", "between 0 and 1"),
        ({"service_level": 0}, "service_level", "between 0 and 1"),
        ({"max_occupancy": 0}, "max_occupancy", "above 0"),
        ({"max_occupancy": 1.5}, "max_occupancy", "at most 1"),
        ({"shrinkage": 0.995}, "shrinkage", ""),
        ({"shrinkage": -0.1}, "shrinkage", ""),
        ({"language": "xx"}, "language", "Unknown language"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "IANA"),
        ({"hourly_shape": "lunar"}, "hourly_shape", "office, extended or flat"),
        ({"handle_time_seconds": 0}, "handle_time_seconds", ""),
        ({"service_level": 0.12345}, "service_level", "no more than"),
        ({"colour": "red"}, "colour", "cannot be changed"),
    ],
)
def test_bad_profile_input_is_refused_naming_the_field(team, fields, field, message):
    with pytest.raises(ValidationError) as refused:
        profile(team.plan, team.level2, **fields)
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    assert not StaffingProfile.objects.exists()


def test_derived_demand_does_not_need_the_168_values(team):
    queue = profile(team.plan, team.level2, source="derived", requests_per_hour=[], users=10)
    assert queue.requests_per_hour == []


def test_a_level_or_location_of_another_plan_is_refused(team, other_plan):
    level = SupportLevel.objects.create(plan=other_plan, number=2, name="Contoso helpdesk")
    dublin = LocationFactory(plan=other_plan, name="Dublin", timezone="Europe/Dublin")
    with pytest.raises(ValidationError) as refused:
        profile(team.plan, level, location=dublin)
    assert set(refused.value.message_dict) == {"level", "location"}


def test_two_profiles_of_a_plan_cannot_share_a_name(team, other_plan):
    profile(team.plan, team.level2, name="Helpdesk")
    with pytest.raises(ValidationError) as refused:
        profile(team.plan, team.level1, name="Helpdesk")
    assert "already has a staffing profile" in refused.value.message_dict["name"][0]
    level = SupportLevel.objects.create(plan=other_plan, number=2, name="Contoso helpdesk")
    assert profile(other_plan, level, name="Helpdesk").pk


def test_an_update_with_bad_input_stores_nothing(team):
    queue = profile(team.plan, team.level2)
    with pytest.raises(ValidationError):
        staffing_profile_update(profile=queue, name="Renamed", service_level=2)
    queue.refresh_from_db()
    assert queue.name == "Helpdesk" and queue.service_level == Decimal("0.8")


# --- Demo data ------------------------------------------------------------------------------
def test_the_demo_profiles_are_added_once_and_never_overwritten(db):
    demo = PlanFactory(slug="northwind-demo")
    for number in range(1, 6):
        SupportLevel.objects.create(plan=demo, number=number, name=f"Level {number}")
    Location.objects.create(
        plan=demo, name="Head office, Manchester", country="GB", timezone="Europe/London", user_count=560
    )
    Location.objects.create(
        plan=demo,
        name="Distribution centre, Duisburg",
        country="DE",
        timezone="Europe/Berlin",
        languages=["de", "en"],
        user_count=190,
    )
    demo_staffing_profiles(plan=demo)
    uk = StaffingProfile.objects.get(plan=demo, name="UK helpdesk")
    german = StaffingProfile.objects.get(plan=demo, name="German-speaking helpdesk")
    assert (uk.level.number, uk.location.name, uk.language, uk.users) == (
        2,
        "Head office, Manchester",
        "en",
        560,
    )
    assert (german.level.number, german.language, german.timezone, german.users) == (
        2,
        "de",
        "Europe/Berlin",
        190,
    )
    staffing_profile_update(profile=uk, users=600)
    demo_staffing_profiles(plan=demo)
    assert StaffingProfile.objects.filter(plan=demo).count() == 2
    assert StaffingProfile.objects.get(plan=demo, name="UK helpdesk").users == 600


def test_the_demo_skips_a_plan_without_level_two(plan):
    demo_staffing_profiles(plan=plan)
    assert not StaffingProfile.objects.exists()
