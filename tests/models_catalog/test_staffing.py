"""Erlang C staffing, checked against figures computed independently in this file.

The references here never call the module under test: small queues use the textbook
closed form with exact ``Fraction`` arithmetic (A**k / k! summed exactly), large queues
use the same closed form in log space with ``math.lgamma`` and ``math.fsum``.
No database, no Django: run with ``-p no:django``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models_catalog.staffing import StaffingResult, required_agents, required_agents_for_week

# ---------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------


def exact_erlang_c(traffic: Fraction, agents: int) -> Fraction:
    """P(wait) from the textbook formula, in exact rational arithmetic."""
    waiting = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    not_waiting = sum(traffic**k / math.factorial(k) for k in range(agents))
    return waiting / (not_waiting + waiting)


def log_space_erlang_c(traffic: float, agents: int) -> float:
    """P(wait) from the same formula, in log space (A**k / k! overflows floats)."""
    log_a = math.log(traffic)
    log_terms = [k * log_a - math.lgamma(k + 1) for k in range(agents)]
    log_waiting = agents * log_a - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    top = max([*log_terms, log_waiting])
    waiting = math.exp(log_waiting - top)
    return waiting / (math.fsum(math.exp(t - top) for t in log_terms) + waiting)


def service_level_from(p_wait: float, traffic: float, agents: int, within: float, aht: float) -> float:
    return 1.0 - p_wait * math.exp(-(agents - traffic) * within / aht)


def exact_service_level(traffic: Fraction, agents: int, within: float, aht: float) -> float:
    return service_level_from(float(exact_erlang_c(traffic, agents)), float(traffic), agents, within, aht)


def traffic_of(arrivals_per_hour: float, aht: float) -> Fraction:
    return Fraction(arrivals_per_hour) * Fraction(aht) / 3600


def staff(arrivals: float, aht: float, sl: float, within: float, **options: float) -> StaffingResult:
    return required_agents(
        arrivals_per_hour=arrivals,
        handle_time_seconds=aht,
        service_level=sl,
        answer_within_seconds=within,
        **options,
    )


# ---------------------------------------------------------------------------
# Textbook and published figures
# ---------------------------------------------------------------------------


def test_100_calls_per_half_hour_of_3_minutes_need_14_agents_and_20_staff_after_30_percent_shrinkage():
    # pyworkforce's own example: 100 contacts / 30 min, AHT 3 min, 80 % in 20 s.
    result = staff(200, 180, 0.8, 20, shrinkage=0.3)
    traffic = traffic_of(200, 180)  # 10 Erlangs
    p_wait = float(exact_erlang_c(traffic, 14))

    assert result.agents == 14
    assert result.scheduled_staff == 20
    assert result.service_level == pytest.approx(service_level_from(p_wait, 10, 14, 20, 180), rel=1e-12)
    assert result.service_level == pytest.approx(0.888, abs=5e-4)
    assert result.occupancy == pytest.approx(10 / 14, rel=1e-12)
    assert p_wait == pytest.approx(0.174, abs=5e-4)
    assert result.average_speed_of_answer == pytest.approx(p_wait * 180 / (14 - 10), rel=1e-12)


def test_13_agents_would_miss_that_80_percent_target():
    assert exact_service_level(traffic_of(200, 180), 13, 20, 180) < 0.8


def test_250_calls_an_hour_of_330_seconds_need_28_advisors_for_80_percent_in_30_seconds():
    # Published by jonesthenet ("Erlang uplift").
    assert staff(250, 330, 0.8, 30).agents == 28
    assert (
        exact_service_level(traffic_of(250, 330), 27, 30, 330)
        < 0.8
        <= exact_service_level(traffic_of(250, 330), 28, 30, 330)
    )


def test_50_erlangs_need_57_agents_for_80_percent_in_20_seconds():
    result = staff(500, 360, 0.8, 20)
    p_wait = float(exact_erlang_c(Fraction(50), 57))

    assert result.agents == 57
    assert result.service_level == pytest.approx(service_level_from(p_wait, 50, 57, 20, 360), rel=1e-12)
    assert round(result.service_level, 3) == 0.833
    assert round(result.occupancy, 3) == 0.877
    assert round(result.average_speed_of_answer, 1) == 12.7


def test_48_erlangs_with_55_agents_wait_with_probability_0_2387_and_answer_in_8_2_seconds():
    # 360 calls per 30 min, AHT 4 min, 15 s target: 54 agents reach only 79.3 %.
    result = staff(720, 240, 0.8, 15)

    assert result.agents == 55
    assert result.average_speed_of_answer * (55 - 48) / 240 == pytest.approx(0.2387, abs=5e-5)
    assert round(result.service_level, 3) == 0.846
    assert round(result.average_speed_of_answer, 1) == 8.2


def test_an_erlang_b_table_value_carries_through_to_erlang_c():
    # Erlang B tables give B(N=10, A=5) = 0.018385; C = N*B / (N - A*(1 - B)).
    b = 0.018385
    table_c = 10 * b / (10 - 5 * (1 - b))
    result = staff(100, 180, 0.96, 0)  # A = 5 Erlangs; with no answer time SL = 1 - C

    assert result.agents == 10
    assert result.average_speed_of_answer * (10 - 5) / 180 == pytest.approx(table_c, abs=1e-6)
    assert result.service_level == pytest.approx(1 - table_c, abs=1e-6)


def test_a_single_agent_queue_waits_with_probability_equal_to_its_utilisation():
    # M/M/1: C = rho. A = 0.5 Erlang, so ASA = rho * AHT / (1 - rho) = AHT.
    result = staff(10, 180, 0.5, 0)

    assert result.agents == 1
    assert result.service_level == pytest.approx(0.5, rel=1e-12)
    assert result.average_speed_of_answer == pytest.approx(180, rel=1e-12)


def test_two_agents_at_one_erlang_wait_with_probability_one_third():
    # M/M/2: C = A**2 / (2 + A) = 1/3 for A = 1; one agent would be unstable.
    result = staff(20, 180, 0.6, 0)

    assert result.agents == 2
    assert result.service_level == pytest.approx(2 / 3, rel=1e-12)
    assert result.average_speed_of_answer == pytest.approx(180 / 3, rel=1e-12)


def test_a_lenient_target_can_be_met_by_the_first_stable_agent_count_even_above_half_an_erlang():
    # A = 0.8 Erlang: one agent answers 25.2 % within 60 s (a search starting at round(A + 1) = 2 misses it).
    assert exact_service_level(traffic_of(16, 180), 1, 60, 180) == pytest.approx(0.2516, abs=1e-4)

    assert staff(16, 180, 0.25, 60).agents == 1


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.floats(min_value=0.01, max_value=600, allow_nan=False),
    aht=st.floats(min_value=10, max_value=900),
    target=st.floats(min_value=0.05, max_value=0.99),
    within=st.floats(min_value=0, max_value=120),
)
def test_the_answer_is_the_fewest_agents_meeting_the_target_by_the_exact_formula(
    arrivals, aht, target, within
):
    traffic = traffic_of(arrivals, aht)
    assume(traffic <= 40)
    result = staff(arrivals, aht, target, within)
    n = result.agents

    assert n > traffic
    # Minimal up to rounding: n meets the target, n - 1 is unstable or misses it.
    assert exact_service_level(traffic, n, within, aht) >= target - 1e-9
    assert n - 1 <= traffic or exact_service_level(traffic, n - 1, within, aht) < target + 1e-9
    assert result.service_level == pytest.approx(exact_service_level(traffic, n, within, aht), rel=1e-9)
    assert result.occupancy == pytest.approx(float(traffic / n), rel=1e-12)
    p_wait = float(exact_erlang_c(traffic, n))
    assert result.average_speed_of_answer == pytest.approx(p_wait * aht / float(n - traffic), rel=1e-9)


# ---------------------------------------------------------------------------
# Occupancy cap and shrinkage
# ---------------------------------------------------------------------------


def test_a_binding_occupancy_cap_adds_agents_beyond_what_the_service_level_needs():
    result = staff(500, 360, 0.8, 20, max_occupancy=0.85)  # SL alone: 57 agents at 87.7 %

    assert result.agents == math.ceil(50 / 0.85) == 59
    assert result.occupancy == pytest.approx(50 / 59, rel=1e-12)
    assert result.occupancy <= 0.85
    assert result.service_level == pytest.approx(exact_service_level(Fraction(50), 59, 20, 360), rel=1e-12)
    assert result.service_level > staff(500, 360, 0.8, 20).service_level


def test_a_loose_occupancy_cap_changes_nothing():
    assert staff(500, 360, 0.8, 20, max_occupancy=0.9) == staff(500, 360, 0.8, 20)
    assert staff(500, 360, 0.8, 20, max_occupancy=1.0) == staff(500, 360, 0.8, 20)


def test_an_occupancy_cap_met_exactly_is_met_with_no_spare_agent():
    # A = 42.5 Erlangs at an 85 % cap: 42.5 / 50 is exactly 0.85, so 50 agents.
    assert staff(510, 300, 0.5, 0, max_occupancy=0.85).agents == 50


@pytest.mark.parametrize(
    ("arrivals", "aht", "agents"),
    [
        (105, 360, 15),  # A = 10.5; 10.5 / 0.7 is 15.000000000000002 in floats
        (119, 360, 17),  # A = 11.9; 11.9 / 17 is 0.7000000000000001 in floats
        (153, 360, 22),  # A = 15.3; 15.3 / 22 is 0.6954..., no tie: plain ceil
    ],
)
def test_float_noise_at_an_exact_occupancy_cap_does_not_add_an_agent(arrivals, aht, agents):
    exact_traffic = Fraction(arrivals * aht, 3600)
    assert math.ceil(exact_traffic / Fraction(7, 10)) == agents  # the exact-arithmetic answer

    result = staff(arrivals, aht, 0.5, 0, max_occupancy=0.7)

    assert result.agents == agents
    assert result.occupancy == pytest.approx(float(exact_traffic / agents), rel=1e-12)


def test_shrinkage_rounds_scheduled_staff_up():
    result = staff(500, 360, 0.8, 20, shrinkage=0.35)  # 57 / 0.65 = 87.7

    assert result.agents == 57
    assert result.scheduled_staff == 88


def test_shrinkage_that_divides_exactly_is_not_rounded_up_by_float_noise():
    # 21 / (1 - 0.3) is 30.000000000000004 in floating point; 30 people are enough.
    assert 21 / (1 - 0.3) > 30
    result = staff(245, 240, 0.8, 20, shrinkage=0.3)

    assert result.agents == 21
    assert result.scheduled_staff == 30


def test_no_shrinkage_schedules_exactly_the_agents():
    result = staff(5000, 360, 0.8, 20)

    assert result.scheduled_staff == result.agents == 514


# ---------------------------------------------------------------------------
# Zero and very large traffic
# ---------------------------------------------------------------------------


def test_zero_arrivals_need_zero_agents_and_meet_any_target():
    result = staff(0, 300, 0.95, 10, max_occupancy=0.8, shrinkage=0.4)

    assert result == StaffingResult(
        agents=0, service_level=1.0, occupancy=0.0, average_speed_of_answer=0.0, scheduled_staff=0
    )


@pytest.mark.parametrize("aht", [300, 3600])
def test_50000_arrivals_an_hour_are_staffed_without_overflow_and_quickly(aht):
    started = time.perf_counter()
    result = staff(50_000, aht, 0.8, 20)
    elapsed = time.perf_counter() - started
    traffic = 50_000 * aht / 3600
    n = result.agents

    assert elapsed < 0.5
    assert traffic < n < traffic * 1.05
    assert all(math.isfinite(x) for x in dataclasses.astuple(result))
    p_wait = log_space_erlang_c(traffic, n)
    assert result.service_level == pytest.approx(service_level_from(p_wait, traffic, n, 20, aht), rel=1e-6)
    assert result.service_level >= 0.8
    assert service_level_from(log_space_erlang_c(traffic, n - 1), traffic, n - 1, 20, aht) < 0.8
    assert result.average_speed_of_answer == pytest.approx(p_wait * aht / (n - traffic), rel=1e-6)


def test_500_erlangs_need_514_agents_by_the_log_space_formula_too():
    assert staff(5000, 360, 0.8, 20).agents == 514
    assert service_level_from(log_space_erlang_c(500, 513), 500, 513, 20, 360) < 0.8
    assert service_level_from(log_space_erlang_c(500, 514), 500, 514, 20, 360) >= 0.8


# ---------------------------------------------------------------------------
# Monotonicity
# ---------------------------------------------------------------------------

common = {
    "aht": st.floats(min_value=30, max_value=1200),
    "target": st.floats(min_value=0.5, max_value=0.99),
    "within": st.floats(min_value=0, max_value=120),
}


@settings(max_examples=200, deadline=None)
@given(
    low=st.floats(min_value=0, max_value=20_000),
    extra=st.floats(min_value=0, max_value=5_000),
    cap=st.none() | st.floats(min_value=0.5, max_value=1.0),
    **common,
)
def test_more_arrivals_never_need_fewer_agents(low, extra, cap, aht, target, within):
    options = {} if cap is None else {"max_occupancy": cap}
    fewer = staff(low, aht, target, within, **options)
    more = staff(low + extra, aht, target, within, **options)

    assert more.agents >= fewer.agents
    assert more.scheduled_staff >= fewer.scheduled_staff


@settings(max_examples=100, deadline=None)
@given(arrivals=st.floats(min_value=0.1, max_value=5_000), low=st.floats(0.05, 0.9), **common)
def test_a_stricter_target_never_needs_fewer_agents(arrivals, low, aht, target, within):
    assume(low < target)
    assert staff(arrivals, aht, target, within).agents >= staff(arrivals, aht, low, within).agents


# ---------------------------------------------------------------------------
# Week plans
# ---------------------------------------------------------------------------


def test_a_week_plan_gives_the_same_answers_as_one_call_per_interval_in_order():
    arrivals = [0, 12.5, 200, 12.5, 3000, 0, 200, 47.3]
    options = {"handle_time_seconds": 240, "service_level": 0.8, "answer_within_seconds": 20}

    plan = required_agents_for_week(arrivals, max_occupancy=0.85, shrinkage=0.3, **options)

    assert plan == [
        required_agents(arrivals_per_hour=a, max_occupancy=0.85, shrinkage=0.3, **options) for a in arrivals
    ]


def test_a_week_plan_accepts_any_iterable_and_an_empty_one():
    assert required_agents_for_week(
        iter([100.0]), handle_time_seconds=180, service_level=0.8, answer_within_seconds=20
    ) == [staff(100, 180, 0.8, 20)]
    assert (
        required_agents_for_week([], handle_time_seconds=180, service_level=0.8, answer_within_seconds=20)
        == []
    )


def test_a_week_plan_rejects_a_bad_interval_by_name():
    with pytest.raises(ValueError, match="arrivals_per_hour"):
        required_agents_for_week(
            [10, -1], handle_time_seconds=180, service_level=0.8, answer_within_seconds=20
        )


def test_a_week_plan_rejects_bad_shared_parameters_even_with_no_intervals():
    with pytest.raises(ValueError, match="service_level"):
        required_agents_for_week([], handle_time_seconds=180, service_level=1.0, answer_within_seconds=20)


def test_results_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        staff(100, 180, 0.8, 20).agents = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Invalid input
# ---------------------------------------------------------------------------

VALID = {
    "arrivals_per_hour": 100.0,
    "handle_time_seconds": 180.0,
    "service_level": 0.8,
    "answer_within_seconds": 20.0,
    "max_occupancy": 0.85,
    "shrinkage": 0.3,
}

OUT_OF_RANGE = [
    ("arrivals_per_hour", -0.5),
    ("handle_time_seconds", 0),
    ("handle_time_seconds", -60),
    ("service_level", 0),
    ("service_level", 1),
    ("service_level", -0.2),
    ("service_level", 80),
    ("answer_within_seconds", -1),
    ("max_occupancy", 0),
    ("max_occupancy", -0.5),
    ("max_occupancy", 1.01),
    ("shrinkage", -0.1),
    ("shrinkage", 1),
    ("shrinkage", 1.5),
]
NOT_FINITE = [(name, value) for name in VALID for value in (math.nan, math.inf, -math.inf)]


@pytest.mark.parametrize(("argument", "value"), OUT_OF_RANGE + NOT_FINITE)
def test_an_invalid_argument_is_rejected_with_its_name(argument, value):
    with pytest.raises(ValueError, match=argument):
        required_agents(**{**VALID, argument: value})


def test_traffic_above_a_million_erlangs_is_rejected_as_a_mistake():
    with pytest.raises(ValueError, match="arrivals_per_hour"):
        staff(1e9, 3600, 0.8, 20)


def test_the_boundaries_that_are_allowed_are_accepted():
    result = required_agents(**{**VALID, "answer_within_seconds": 0, "max_occupancy": 1.0, "shrinkage": 0.0})

    assert result.agents > 5
    assert result.scheduled_staff == result.agents
