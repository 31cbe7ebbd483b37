"""“When does it breach?”: deadlines checked by hand on UK office hours (Mon–Fri 09:00–17:30
Europe/London) and a 24×7 Berlin calendar, with the segments, holidays and clock changes listed.

Hand-checked: 8 business hours from Friday 15:00 are 2 h 30 on Friday (to 17:30) and 5 h 30 on
the next working day from 09:00, so the deadline is 14:30 that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from operations.breach import breach_calculate, dst_changes, wall_clock_to_aware
from operations.models import SlaMetric, SlaPhase, SlaPolicy
from tests.factories import LocationFactory
from tests.operations.breach_fixtures import *  # noqa: F403
from tests.operations.breach_fixtures import make_calendar, make_target

LONDON = ZoneInfo("Europe/London")


def at(*args) -> datetime:
    """A London wall-clock time as an aware datetime."""
    return datetime(*args, tzinfo=LONDON)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_metric(result):
    return {item.metric: item for item in result.targets}


def segments_utc(item):
    return [(segment.start, segment.end) for segment in item.segments]


@pytest.fixture
def calculate(plan, steady_state, london):
    def run(start, **kwargs):
        kwargs.setdefault("location", london)
        return breach_calculate(plan=plan, start=start, **kwargs)

    return run


# --- Hand-checked deadlines -----------------------------------------------------------------
def test_a_p2_eight_hour_resolution_from_friday_afternoon_lands_on_monday(calculate):
    result = calculate(at(2027, 6, 11, 15, 0), priority="P2")
    resolution = by_metric(result)[SlaMetric.RESOLUTION]
    assert resolution.deadline_local == at(2027, 6, 14, 14, 30)
    assert resolution.deadline == utc(2027, 6, 14, 13, 30)
    assert segments_utc(resolution) == [
        (utc(2027, 6, 11, 14, 0), utc(2027, 6, 11, 16, 30)),
        (utc(2027, 6, 14, 8, 0), utc(2027, 6, 14, 13, 30)),
    ]
    assert resolution.holidays == [] and resolution.dst_changes == []
    first_response = by_metric(result)[SlaMetric.FIRST_RESPONSE]
    assert first_response.deadline_local == at(2027, 6, 11, 16, 0)
    assert [item.metric for item in result.targets] == [SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION]


def test_it_counts_real_business_hours_across_the_uk_spring_forward_weekend(calculate):
    # Friday 27 March 2026 15:00 GMT; the clocks go forward on Sunday 29 March at 01:00 UTC.
    resolution = by_metric(calculate(at(2026, 3, 27, 15, 0), priority="P2"))[SlaMetric.RESOLUTION]
    assert resolution.deadline_local == at(2026, 3, 30, 14, 30)
    assert resolution.deadline == utc(2026, 3, 30, 13, 30)  # 14:30 BST
    assert resolution.deadline_local.utcoffset() == timedelta(hours=1)
    assert [change.description for change in resolution.dst_changes] == [
        "2026-03-29 01:00 UTC: clocks go forward 01:00 → 02:00 Europe/London"
    ]


def test_it_counts_real_business_hours_across_the_uk_fall_back_weekend(calculate):
    # Friday 29 October 2027 15:00 BST; the clocks go back on Sunday 31 October at 01:00 UTC.
    resolution = by_metric(calculate(at(2027, 10, 29, 15, 0), priority="P2"))[SlaMetric.RESOLUTION]
    assert resolution.deadline == utc(2027, 11, 1, 14, 30)  # 14:30 GMT
    assert [change.description for change in resolution.dst_changes] == [
        "2027-10-31 01:00 UTC: clocks go back 02:00 → 01:00 Europe/London"
    ]


def test_it_skips_the_christmas_and_boxing_day_substitute_holidays(calculate):
    # Christmas 2027 falls on a Saturday: Monday 27 and Tuesday 28 December are the bank holidays.
    resolution = by_metric(calculate(at(2027, 12, 24, 15, 0), priority="P2"))[SlaMetric.RESOLUTION]
    assert resolution.deadline_local == at(2027, 12, 29, 14, 30)
    assert [(holiday.date, holiday.name) for holiday in resolution.holidays] == [
        (date(2027, 12, 27), "Christmas Day (observed)"),
        (date(2027, 12, 28), "Boxing Day (observed)"),
    ]
    assert segments_utc(resolution) == [
        (utc(2027, 12, 24, 15, 0), utc(2027, 12, 24, 17, 30)),
        (utc(2027, 12, 29, 9, 0), utc(2027, 12, 29, 14, 30)),
    ]


def test_a_deadline_that_runs_out_at_closing_time_is_that_closing_time(calculate):
    # P3 resolution is 8 h 30: exactly one working day from Monday 09:00.
    resolution = by_metric(calculate(at(2027, 6, 14, 9, 0), priority="P3"))[SlaMetric.RESOLUTION]
    assert resolution.deadline_local == at(2027, 6, 14, 17, 30)


def test_it_lists_segments_holidays_and_the_clock_change_over_easter_2027(calculate):
    # Thursday 25 March 2027 15:00 GMT; Good Friday, the spring-forward Sunday and Easter Monday follow.
    resolution = by_metric(calculate(at(2027, 3, 25, 15, 0), priority="P2"))[SlaMetric.RESOLUTION]
    assert resolution.deadline_local == at(2027, 3, 30, 14, 30)
    assert resolution.deadline == utc(2027, 3, 30, 13, 30)
    assert [(segment.start_local, segment.end_local) for segment in resolution.segments] == [
        (at(2027, 3, 25, 15, 0), at(2027, 3, 25, 17, 30)),
        (at(2027, 3, 30, 9, 0), at(2027, 3, 30, 14, 30)),
    ]
    assert [holiday.name for holiday in resolution.holidays] == ["Good Friday", "Easter Monday"]
    assert [change.description for change in resolution.dst_changes] == [
        "2027-03-28 01:00 UTC: clocks go forward 01:00 → 02:00 Europe/London"
    ]
    kinds = [kind for kind, _item in resolution.timeline]
    assert kinds == ["segment", "holiday", "dst", "holiday", "segment"]


def test_a_round_the_clock_clock_lists_the_changes_of_both_its_zone_and_the_locations(calculate):
    # P1 resolution: 4 real hours on a 24×7 calendar in Berlin, shown in London, over the spring change.
    resolution = by_metric(calculate(utc(2027, 3, 27, 23, 0), priority="P1"))[SlaMetric.RESOLUTION]
    assert resolution.deadline == utc(2027, 3, 28, 3, 0)
    assert resolution.deadline_local.isoformat() == "2027-03-28T04:00:00+01:00"
    assert segments_utc(resolution) == [(utc(2027, 3, 27, 23, 0), utc(2027, 3, 28, 3, 0))]
    assert [change.description for change in resolution.dst_changes] == [
        "2027-03-28 01:00 UTC: clocks go forward 02:00 → 03:00 Europe/Berlin",
        "2027-03-28 01:00 UTC: clocks go forward 01:00 → 02:00 Europe/London",
    ]


def test_impact_and_urgency_find_the_priority_in_the_matrix(calculate):
    result = calculate(at(2027, 6, 11, 15, 0), impact="high", urgency="medium")
    assert result.priority.code == "P2"
    assert by_metric(result)[SlaMetric.RESOLUTION].deadline_local == at(2027, 6, 14, 14, 30)


def test_a_forced_calendar_runs_every_clock(calculate, berlin_round_the_clock):
    result = calculate(at(2027, 6, 11, 15, 0), priority="P2", calendar=berlin_round_the_clock)
    resolution = by_metric(result)[SlaMetric.RESOLUTION]
    assert resolution.calendar == berlin_round_the_clock
    assert resolution.deadline_local == at(2027, 6, 11, 23, 0)  # 8 real hours


def test_without_a_location_the_calendars_zone_shows_the_deadlines(
    plan, steady_state, berlin_round_the_clock
):
    result = breach_calculate(
        plan=plan, start=at(2027, 6, 11, 15, 0), priority="P1", calendar=berlin_round_the_clock
    )
    assert result.display_zone == "Europe/Berlin"
    assert result.targets[0].deadline_local.isoformat() == "2027-06-11T16:30:00+02:00"


def test_a_target_for_the_support_level_beats_the_generic_one(
    plan, calculate, steady_state, priorities, uk_hours
):
    from models_catalog.models import SupportLevel

    level = SupportLevel.objects.create(plan=plan, number=2, name="Helpdesk")
    make_target(steady_state, priorities["P2"], SlaMetric.RESOLUTION, 120, uk_hours, support_level=level)
    for_level = by_metric(calculate(at(2027, 6, 14, 9, 0), priority="P2", support_level=2))
    generic = by_metric(calculate(at(2027, 6, 14, 9, 0), priority="P2"))
    assert for_level[SlaMetric.RESOLUTION].deadline_local == at(2027, 6, 14, 11, 0)
    assert generic[SlaMetric.RESOLUTION].deadline_local == at(2027, 6, 14, 17, 0)


def test_the_policy_is_the_one_in_force_on_the_start_date_at_the_location(
    plan, calculate, steady_state, priorities
):
    steady_state.valid_to = date(2027, 6, 30)
    steady_state.save()
    july = SlaPolicy.objects.create(
        plan=plan, name="From July", phase=SlaPhase.STEADY_STATE, valid_from=date(2027, 7, 1)
    )
    make_target(july, priorities["P2"], SlaMetric.RESOLUTION, 60, steady_state.targets.first().calendar)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London.
    assert calculate(utc(2027, 6, 30, 23, 30), priority="P2").policy == july
    assert calculate(utc(2027, 6, 30, 22, 30), priority="P2").policy == steady_state


def test_the_result_serialises_instants_with_their_offsets(calculate):
    body = calculate(at(2027, 3, 25, 15, 0), priority="P2").as_dict()
    resolution = body["targets"][1]
    assert resolution["deadline_utc"] == "2027-03-30T13:30:00+00:00"
    assert resolution["deadline_local"] == "2027-03-30T14:30:00+01:00"
    assert resolution["segments"][0] == {
        "start_utc": "2027-03-25T15:00:00+00:00",
        "end_utc": "2027-03-25T17:30:00+00:00",
        "start_local": "2027-03-25T15:00:00+00:00",
        "end_local": "2027-03-25T17:30:00+00:00",
        "minutes": 150.0,
    }
    assert resolution["holidays"][0] == {
        "date": "2027-03-26",
        "name": "Good Friday",
        "calendar": "UK office hours",
    }
    assert resolution["dst_changes"][0]["wall_clock_before"] == "2027-03-28T01:00"


# --- Errors ---------------------------------------------------------------------------------
def error_fields(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_a_naive_start_is_refused(calculate):
    fields = error_fields(lambda: calculate(datetime(2027, 6, 11, 15, 0), priority="P2"))
    assert "UTC offset" in fields["start"][0]


def test_an_impact_and_urgency_without_a_matrix_cell_are_refused(calculate):
    fields = error_fields(lambda: calculate(at(2027, 6, 11, 15, 0), impact="low", urgency="low"))
    assert "no cell for impact low × urgency low" in fields["impact"][0]


def test_a_start_with_no_policy_in_force_is_refused_naming_the_next_one(calculate):
    fields = error_fields(lambda: calculate(at(2025, 6, 2, 9, 0), priority="P2"))
    assert fields["start"] == [
        "No SLA policy is in force on 2 June 2025 (Europe/London). The next, “Steady state”, starts on "
        "1 January 2026."
    ]


def test_a_priority_without_targets_is_refused(calculate):
    fields = error_fields(lambda: calculate(at(2027, 6, 11, 15, 0), priority="P4"))
    assert fields["priority"] == ["“Steady state” has no targets for P4."]


def test_a_priority_code_the_plan_lacks_is_refused(calculate):
    assert (
        "no priority “P9”"
        in error_fields(lambda: calculate(at(2027, 6, 11, 15), priority="P9"))["priority"][0]
    )


def test_a_priority_and_impact_together_are_refused(calculate):
    fields = error_fields(
        lambda: calculate(at(2027, 6, 11, 15), priority="P2", impact="high", urgency="high")
    )
    assert "not both" in fields["priority"][0]


def test_neither_location_nor_calendar_is_refused(plan, steady_state):
    fields = error_fields(lambda: breach_calculate(plan=plan, start=at(2027, 6, 11, 15), priority="P2"))
    assert "location" in fields


def test_objects_of_another_plan_are_refused(plan, calculate, other_plan):
    other_location = LocationFactory(plan=other_plan, name="Dublin", country="IE", timezone="Europe/Dublin")
    other_calendar = make_calendar(other_plan, "Dublin hours")
    from operations.models import Priority

    other_priority = Priority.objects.create(plan=other_plan, code="P2", name="High")
    start = at(2027, 6, 11, 15)
    assert (
        "another plan"
        in error_fields(lambda: calculate(start, priority="P2", location=other_location))["location"][0]
    )
    assert (
        "another plan"
        in error_fields(lambda: calculate(start, priority="P2", calendar=other_calendar))["calendar"][0]
    )
    assert "another plan" in error_fields(lambda: calculate(start, priority=other_priority))["priority"][0]


def test_a_start_in_year_one_is_refused(calculate):
    fields = error_fields(lambda: calculate(datetime(1, 1, 1, tzinfo=UTC), priority="P2"))
    assert fields["start"] == ["Give a start between the years 1900 and 2999."]


def test_a_calendar_that_never_opens_is_refused(plan, calculate):
    closed = make_calendar(plan, "Never open", windows={})
    fields = error_fields(lambda: calculate(at(2027, 6, 11, 15), priority="P2", calendar=closed))
    assert "“Never open”: the calendar has no open time in the ten years after" in fields["calendar"][0]


def test_a_support_level_the_plan_lacks_is_refused(calculate):
    fields = error_fields(lambda: calculate(at(2027, 6, 11, 15), priority="P2", support_level=4))
    assert fields["support_level"] == ["This plan has no support level 4."]


def test_it_reads_a_fixed_number_of_queries(calculate, django_assert_max_num_queries):
    calculate(at(2027, 6, 11, 15, 0), priority="P2")  # builds the engine once
    with django_assert_max_num_queries(6):
        calculate(at(2027, 3, 25, 15, 0), priority="P2")


# --- Wall-clock times and clock changes -----------------------------------------------------
def test_a_local_time_in_the_spring_gap_does_not_exist():
    with pytest.raises(ValidationError) as caught:
        wall_clock_to_aware(datetime(2027, 3, 28, 1, 30), "Europe/London")
    assert caught.value.messages == [
        "01:30 on 28 March 2027 does not exist in Europe/London: the clocks go forward from 01:00 to 02:00. "
        "Choose a time before 01:00 or from 02:00."
    ]


def test_a_local_time_in_the_repeated_autumn_hour_needs_a_choice():
    wall = datetime(2027, 10, 31, 1, 30)
    with pytest.raises(ValidationError) as caught:
        wall_clock_to_aware(wall, "Europe/London")
    assert caught.value.code == "ambiguous"
    assert "happens twice" in caught.value.messages[0]
    assert wall_clock_to_aware(wall, "Europe/London", "first") == utc(2027, 10, 31, 0, 30)
    assert wall_clock_to_aware(wall, "Europe/London", "second") == utc(2027, 10, 31, 1, 30)


def test_an_ordinary_local_time_needs_no_choice():
    assert wall_clock_to_aware(datetime(2027, 6, 11, 15, 0), "Europe/Berlin") == utc(2027, 6, 11, 13, 0)


def test_dst_changes_finds_both_changes_of_a_year_to_the_second():
    changes = dst_changes("America/New_York", utc(2027, 1, 1), utc(2028, 1, 1))
    assert [(change.at, change.direction) for change in changes] == [
        (utc(2027, 3, 14, 7, 0), "forward"),
        (utc(2027, 11, 7, 6, 0), "back"),
    ]
    assert dst_changes("Asia/Kolkata", utc(2027, 1, 1), utc(2028, 1, 1)) == []


def test_another_plans_calculation_never_sees_this_plans_policies(other_plan, steady_state):
    dublin = LocationFactory(plan=other_plan, name="Dublin", country="IE", timezone="Europe/Dublin")
    fields = error_fields(
        lambda: breach_calculate(plan=other_plan, start=at(2027, 6, 11), priority="P2", location=dublin)
    )
    assert fields["priority"] == ["This plan has no priority “P2”."]
