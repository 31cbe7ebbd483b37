"""Erlang C staffing maths: how many agents a queue needs to meet a service level.

Pure Python (standard library ``math`` only, no Django) so that it can be used from
models, views, Celery tasks and benchmarks alike.

Units: arrivals are contacts **per hour**; handle time, answer time and average speed
of answer are **seconds**; service level, occupancy and shrinkage are fractions in
``[0, 1]``. Traffic intensity ``A = arrivals_per_hour * handle_time_seconds / 3600``
is in Erlangs.

Erlang B is computed with the overflow-free recursion
``B(n) = A*B(n-1) / (n + A*B(n-1))`` and turned into Erlang C with
``C(n) = n*B(n) / (n - A*(1 - B(n)))`` (evaluated on ``1/B``, see :func:`_solve`). The
recursion is carried forward from one candidate agent count to the next, so one search
costs O(agents), not O(agents**2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["StaffingResult", "required_agents", "required_agents_for_week"]

_SECONDS_PER_HOUR = 3600.0
_MAX_ERLANGS = 1e6  # one search is O(A) steps; beyond this the input is surely a mistake
_TIE = 1.0 + 1e-9  # relative tolerance for "exactly at the occupancy cap"
_FLOAT_TABLE_SIZE = 4097  # k = 0..4096 as floats for the recursion
_FLOATS: tuple[float, ...] = tuple(float(k) for k in range(_FLOAT_TABLE_SIZE))


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """Staffing for one interval.

    ``agents``: agents who must be taking contacts (raw, before shrinkage).
    ``service_level``: achieved fraction of contacts answered within the target time.
    ``occupancy``: fraction of the agents' time spent handling contacts (A / agents).
    ``average_speed_of_answer``: mean wait before answer, in seconds.
    ``scheduled_staff``: people to schedule, ``ceil(agents / (1 - shrinkage))``.

    Occupancy cap and shrinkage rounding ignore binary float noise (see :func:`_ceil`):
    11.9 Erlangs under a 0.7 cap need 17 agents, although ``11.9 / 17 > 0.7`` in floats.
    """

    agents: int
    service_level: float
    occupancy: float
    average_speed_of_answer: float
    scheduled_staff: int


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _check_arrivals(arrivals_per_hour: float) -> float:
    arrivals = _finite("arrivals_per_hour", arrivals_per_hour)
    if arrivals < 0:
        raise ValueError(f"arrivals_per_hour must be >= 0, got {arrivals!r}")
    return arrivals


def _check_parameters(
    handle_time_seconds: float,
    service_level: float,
    answer_within_seconds: float,
    max_occupancy: float | None,
    shrinkage: float,
) -> tuple[float, float, float, float | None, float]:
    aht = _finite("handle_time_seconds", handle_time_seconds)
    if aht <= 0:
        raise ValueError(f"handle_time_seconds must be > 0, got {aht!r}")
    target = _finite("service_level", service_level)
    if not 0 < target < 1:
        raise ValueError(f"service_level must be strictly between 0 and 1, got {target!r}")
    within = _finite("answer_within_seconds", answer_within_seconds)
    if within < 0:
        raise ValueError(f"answer_within_seconds must be >= 0, got {within!r}")
    if max_occupancy is not None:
        max_occupancy = _finite("max_occupancy", max_occupancy)
        if not 0 < max_occupancy <= 1:
            raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    shrink = _finite("shrinkage", shrinkage)
    if not 0 <= shrink < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrink!r}")
    return aht, target, within, max_occupancy, shrink


def _ceil(value: float) -> int:
    """``ceil(value)``, except that a value within 1e-9 (relative) of an integer is that integer.

    Float noise must not add a person: ``21 / (1 - 0.3)`` is ``30.000000000000004`` and
    ``10.5 / 0.7`` is ``15.000000000000002``, yet 30 staff and 15 agents are meant.
    """
    nearest = round(value)
    if abs(value - nearest) <= 1e-9 * max(1.0, value):
        return nearest
    return math.ceil(value)


def _solve(
    arrivals: float, aht: float, target: float, within: float, max_occupancy: float | None, shrinkage: float
) -> StaffingResult:
    """Core search on already validated inputs (see :func:`required_agents`).

    Works on ``r = 1/B(k)``: the recursion ``B(k) = A*B(k-1) / (k + A*B(k-1))`` in
    reciprocal form is ``r(k) = r(k-1)*k/A + 1``: one multiply, divide and add per step.
    ``r`` stays small up to ``k = A`` (about ``sqrt(pi*A/2)`` there); if it overflows far
    above ``A``, ``B = C = 0`` to double precision, which is the right limit.
    """
    if arrivals == 0.0:
        return StaffingResult(0, 1.0, 0.0, 0.0, 0)
    a = arrivals * aht / _SECONDS_PER_HOUR
    if not a <= _MAX_ERLANGS:
        raise ValueError(f"arrivals_per_hour * handle_time_seconds gives {a!r} Erlangs, above {_MAX_ERLANGS}")
    a = a or math.ulp(0.0)  # traffic so small it underflowed: keep the division defined
    n = math.floor(a) + 1  # smallest stable agent count (n > A)
    r = 1.0  # 1/B(0)
    if n <= _FLOAT_TABLE_SIZE:
        for k in _FLOATS[1:n]:  # float table: no int-to-float conversion in the hot loop
            r = r * k / a + 1.0
    else:
        for k in _FLOATS[1:]:
            r = r * k / a + 1.0
        k = _FLOATS[-1]
        for _ in range(n - _FLOAT_TABLE_SIZE):
            k += 1.0
            r = r * k / a + 1.0
    ratio = within / aht
    exp = math.exp
    # Service level rises with n: carry 1/B forward until the target is met.
    # C = n*B / (n - A*(1 - B)) = n / (r*(n - A) + A) with r = 1/B.
    while True:
        r = r * n / a + 1.0
        c = n / (r * (n - a) + a)
        achieved = 1.0 - c * exp((a - n) * ratio)
        if achieved >= target:
            break
        n += 1
    if max_occupancy is not None and a / n > max_occupancy * _TIE:
        # Fewest agents with A / agents <= max_occupancy (a tie within rounding counts as met).
        m = max(n + 1, _ceil(a / max_occupancy))
        for k in range(n + 1, m + 1):
            r = r * k / a + 1.0
            if r == math.inf:  # B(k) underflowed to 0 and stays there
                break
        n = m
        c = n / (r * (n - a) + a)
        achieved = 1.0 - c * exp((a - n) * ratio)
    return StaffingResult(
        agents=n,
        service_level=achieved,
        occupancy=a / n,
        average_speed_of_answer=c * aht / (n - a),
        scheduled_staff=_ceil(n / (1.0 - shrinkage)) if shrinkage else n,
    )


def required_agents(
    *,
    arrivals_per_hour: float,
    handle_time_seconds: float,
    service_level: float,
    answer_within_seconds: float,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingResult:
    """Fewest agents meeting ``service_level`` within ``answer_within_seconds`` (Erlang C).

    :param arrivals_per_hour: contacts offered per hour (>= 0; 0 gives 0 agents).
    :param handle_time_seconds: average handle time per contact, seconds (> 0).
    :param service_level: target fraction answered in time, strictly in (0, 1).
    :param answer_within_seconds: the service-level answer time, seconds (>= 0).
    :param max_occupancy: optional cap on occupancy, in (0, 1]; may add agents beyond what
        the service level needs (then ``agents = ceil(A / max_occupancy)``).
    :param shrinkage: fraction of paid time unavailable (breaks, training), in [0, 1).
    :raises ValueError: naming the offending argument, for out-of-range, NaN or inf input.
    """
    arrivals = _check_arrivals(arrivals_per_hour)
    params = _check_parameters(
        handle_time_seconds, service_level, answer_within_seconds, max_occupancy, shrinkage
    )
    return _solve(arrivals, *params)


def required_agents_for_week(
    intervals: Iterable[float],
    *,
    handle_time_seconds: float,
    service_level: float,
    answer_within_seconds: float,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> list[StaffingResult]:
    """:func:`required_agents` for each arrivals-per-hour value in ``intervals``, in order.

    Shared parameters are validated once and results are cached by arrivals value, so
    repeated forecasts (quiet nights, identical weekdays) are solved only once.
    """
    params = _check_parameters(
        handle_time_seconds, service_level, answer_within_seconds, max_occupancy, shrinkage
    )
    cache: dict[float, StaffingResult] = {}
    results: list[StaffingResult] = []
    for value in intervals:
        result = cache.get(value)
        if result is None:
            result = cache[value] = _solve(_check_arrivals(value), *params)
        results.append(result)
    return results
