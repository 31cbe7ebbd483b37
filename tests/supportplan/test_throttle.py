"""The API throttle: a sliding budget per principal from two small counters, refusals not counted."""

import math
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse

from supportplan.api_defaults import PrincipalRateThrottle
from tests.conftest import api_as

MINUTE_START = 1_800_000_000 // 60 * 60  # a clock time on a period boundary


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_throttle(monkeypatch):
    cache = LocMemCache(f"throttle-tests-{uuid.uuid4()}", {})  # LocMem caches of one name share data
    clock = Clock(MINUTE_START + 10)

    def make(rate: str = "3/minute"):
        monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": rate})
        throttle = PrincipalRateThrottle()
        throttle.cache = cache
        throttle.timer = clock
        return throttle

    make.clock = clock
    make.cache = cache
    return make


def user(pk: int = 1):
    return SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=pk), META={})


def allowed(make_throttle, count: int, request=None) -> list[bool]:
    return [make_throttle().allow_request(request or user(), None) for _ in range(count)]


def test_the_rate_is_a_budget_per_period_and_refusals_say_when_to_come_back(make_throttle):
    assert allowed(make_throttle, 4) == [True, True, True, False]
    refused = make_throttle()
    assert refused.allow_request(user(), None) is False
    # Three requests at :10 of this period: the estimate lets one through once the next period
    # covers at most 2 of them, a third of the way into it (:80 from this period's start).
    assert refused.wait() == pytest.approx(70)
    make_throttle.clock.now += 69
    assert allowed(make_throttle, 1) == [False]
    make_throttle.clock.now += 1.01
    assert allowed(make_throttle, 2) == [True, False]


def test_each_principal_has_its_own_budget(make_throttle):
    assert allowed(make_throttle, 4, user(1)) == [True, True, True, False]
    assert allowed(make_throttle, 1, user(2)) == [True]
    anonymous = SimpleNamespace(user=None, headers={}, META={"REMOTE_ADDR": "10.0.0.9"})
    assert allowed(make_throttle, 4, anonymous) == [True, True, True, False]


def test_no_double_budget_across_a_period_boundary(make_throttle):
    make_throttle.clock.now = MINUTE_START + 59
    assert allowed(make_throttle, 3) == [True, True, True]
    make_throttle.clock.now = MINUTE_START + 61
    assert allowed(make_throttle, 1) == [False]
    # Half way through the next period only half of the previous one counts.
    make_throttle.clock.now = MINUTE_START + 60 + 30.5
    assert allowed(make_throttle, 2) == [True, False]


def test_refused_requests_do_not_count(make_throttle):
    assert allowed(make_throttle, 3) == [True, True, True]
    assert not any(allowed(make_throttle, 50))
    make_throttle.clock.now = MINUTE_START + 60 + 21
    assert allowed(make_throttle, 1) == [True]


def test_the_cache_holds_two_small_counters_per_principal(make_throttle):
    allowed(make_throttle, 200)
    make_throttle.clock.now += 60
    allowed(make_throttle, 5)
    stored = [
        make_throttle.cache.get(f"throttle-count_principal_user:1:{MINUTE_START // 60 + n}") for n in (0, 1)
    ]
    assert stored == [3, 0]


def test_a_wait_is_never_zero(make_throttle):
    throttle = make_throttle("1/minute")
    assert throttle.allow_request(user(), None) is True
    make_throttle.clock.now = MINUTE_START + 119.9999
    throttle = make_throttle("1/minute")
    assert throttle.allow_request(user(), None) is False
    assert throttle.wait() > 0 and math.ceil(throttle.wait()) >= 1


def test_a_throttled_api_response_keeps_its_body_and_retry_after(monkeypatch, read_key):
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "2/minute"})
    client = api_as(key=read_key)
    url = reverse("location-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    response = client.get(url)
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("throttled", {})
    assert "throttled" in error["message"].lower()
    assert int(response["Retry-After"]) == error["retry_after_seconds"] > 0
