"""The iCalendar feeds: secret-token URLs (rotate, revoke → 404), RFC 5545 content parsed back with
``icalendar`` and ``recurring-ical-events`` and compared with our occurrences, DST, ETag and
Last-Modified with 304, the person feed, and the feed-token API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import recurring_ical_events
import time_machine
from django.urls import reverse
from icalendar import Calendar

from operations import feed_services
from operations import maintenance_services as services
from operations.feeds import AHEAD, PAST
from operations.models import FeedToken, TaskOccurrence
from tests.conftest import api_as
from tests.operations.maintenance_ui_fixtures import (
    NOW,
    build_calendar,
    build_monthly_task,
    build_person,
    utc,
)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(plan, alice, tina):
    return build_calendar(plan, tina_user=tina, alice_user=alice)


@pytest.fixture
def plan_feed(plan, alice, world):
    _token, raw = feed_services.feed_token_create(plan=plan, scope="plan", actor=alice)
    return reverse("maintenance-feed", args=[raw])


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


# --- Content --------------------------------------------------------------------------------
def test_the_plan_feed_round_trips_through_icalendar_with_stable_uids_and_utc_times(
    client, plan, plan_feed, world
):
    calendar = parse(client.get(plan_feed))
    assert str(calendar["VERSION"]) == "2.0" and "SupportPlan" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "Northwind Distribution – maintenance"
    parsed = events(calendar)
    ours = TaskOccurrence.objects.filter(plan=plan, due_at__gte=NOW - PAST, due_at__lt=NOW + AHEAD)
    expected = {f"occurrence-{o.pk}@supportplan": o for o in ours}
    occurrence_uids = {uid for uid in parsed if uid.startswith("occurrence-")}
    assert occurrence_uids == set(expected) and len(expected) > 50
    for uid, occurrence in expected.items():
        event = parsed[uid]
        start = event.decoded("DTSTART")
        assert start == occurrence.due_at and start.tzinfo is not None and start.utcoffset() == timedelta(0)
        assert event.decoded("DTEND") - start == timedelta(minutes=occurrence.task.duration_minutes)
        assert event.decoded("DTSTAMP") == occurrence.updated_at.replace(microsecond=0)
        assert occurrence.task.title in str(event["SUMMARY"])
        assert f"/maintenance/tasks/{occurrence.task_id}/" in str(event["DESCRIPTION"])
    done = parsed[f"occurrence-{world['done'].pk}@supportplan"]
    assert str(done["SUMMARY"]).startswith("Done: ") and "All batches green." in str(done["DESCRIPTION"])
    assert str(done["STATUS"]) == "CONFIRMED"
    late = parsed[f"occurrence-{world['late'].pk}@supportplan"]
    assert "CATEGORIES:Batch calendar review" in late.to_ical().decode()


def test_freeze_and_update_windows_are_transparent_events(client, plan_feed, world):
    parsed = events(parse(client.get(plan_feed)))
    freeze = parsed[f"window-{world['freeze'].pk}@supportplan"]
    assert str(freeze["TRANSP"]) == "TRANSPARENT" and str(freeze["SUMMARY"]) == "Freeze: March period-end"
    assert freeze.decoded("DTSTART") == utc(2027, 3, 14) and freeze.decoded("DTEND") == utc(2027, 3, 17)
    update = parsed[f"window-{world['update'].pk}@supportplan"]
    assert str(update["TRANSP"]) == "TRANSPARENT" and "Service update 10.0.50" in str(update["SUMMARY"])


def test_recurring_ical_events_sees_exactly_our_occurrences_between_two_instants(
    client, plan, plan_feed, world
):
    calendar = parse(client.get(plan_feed))
    start, end = utc(2027, 3, 1), utc(2027, 6, 1)
    found = recurring_ical_events.of(calendar).between(start, end)
    seen = {
        (str(event["UID"]), event.decoded("DTSTART"))
        for event in found
        if str(event["UID"]).startswith("occurrence-")
    }
    ours = {
        (f"occurrence-{o.pk}@supportplan", o.due_at)
        for o in TaskOccurrence.objects.filter(plan=plan, due_at__gte=start, due_at__lt=end)
    }
    assert seen == ours and len(ours) >= 15


def test_a_berlin_monday_0900_task_is_0700z_in_july_and_0800z_in_january(client, plan, world):
    # Built on 1 March: January lies before the horizon start, so look at next January.
    _token, raw = feed_services.feed_token_create(
        plan=plan, scope="person", person=world["tina"], actor=world["tina"].user
    )
    calendar = parse(client.get(reverse("maintenance-feed", args=[raw])))
    july = recurring_ical_events.of(calendar).between(utc(2027, 7, 5), utc(2027, 7, 6))
    january = recurring_ical_events.of(calendar).between(utc(2028, 1, 3), utc(2028, 1, 4))
    assert [event.decoded("DTSTART") for event in july] == [utc(2027, 7, 5, 7, 0)]
    assert [event.decoded("DTSTART") for event in january] == [utc(2028, 1, 3, 8, 0)]


def test_the_person_feed_shows_only_that_persons_tasks(client, plan, alice, tina, world):
    build_monthly_task(plan, owner=build_person(plan, "Oscar"), title="Oscar's licence review")
    _token, raw = feed_services.feed_token_create(plan=plan, scope="person", person=world["tina"], actor=tina)
    calendar = parse(client.get(reverse("maintenance-feed", args=[raw])))
    titles = {str(event["SUMMARY"]).removeprefix("Done: ") for event in calendar.walk("VEVENT")}
    assert "Weekly batch check" in titles
    assert "Oscar's licence review" not in titles and "Month-end certificate check" not in titles
    assert "Tina" in str(calendar["X-WR-CALNAME"])
    # Alice backs up the weekly task, so her feed has it as well as her own monthly task.
    _token, raw = feed_services.feed_token_create(
        plan=plan, scope="person", person=world["alice"], actor=alice
    )
    alice_titles = {
        str(e["SUMMARY"]) for e in parse(client.get(reverse("maintenance-feed", args=[raw]))).walk("VEVENT")
    }
    assert "Month-end certificate check" in alice_titles and "Weekly batch check" in alice_titles
    assert "Oscar's licence review" not in alice_titles


def test_a_skipped_occurrence_is_cancelled_in_the_feed(client, plan_feed, tina, world):
    services.occurrence_skip(occurrence=world["late"], actor=tina, reason="Server migration")
    event = events(parse(client.get(plan_feed)))[f"occurrence-{world['late'].pk}@supportplan"]
    assert str(event["STATUS"]) == "CANCELLED" and str(event["SUMMARY"]).startswith("Skipped: ")


def test_the_feed_is_built_in_a_constant_number_of_queries(
    client, plan, plan_feed, world, django_assert_max_num_queries
):
    for index in range(5):
        build_monthly_task(plan, owner=world["alice"], title=f"Extra {index}")
    with django_assert_max_num_queries(6):
        assert client.get(plan_feed).status_code == 200


# --- Tokens ---------------------------------------------------------------------------------
def test_a_wrong_token_is_a_404(client, plan_feed):
    assert client.get(reverse("maintenance-feed", args=["not-a-token"])).status_code == 404
    assert client.get(plan_feed.replace(".ics", "x.ics")).status_code == 404


def test_rotating_makes_the_old_url_a_404_and_revoking_the_new_one(client, plan, alice, plan_feed):
    token, raw = feed_services.feed_token_create(plan=plan, scope="plan", actor=alice)
    assert client.get(plan_feed).status_code == 404
    fresh = reverse("maintenance-feed", args=[raw])
    assert client.get(fresh).status_code == 200
    feed_services.feed_token_revoke(token=token, actor=alice)
    assert client.get(fresh).status_code == 404


def test_only_a_hash_of_the_token_is_stored(plan, alice, world):
    token, raw = feed_services.feed_token_create(plan=plan, scope="plan", actor=alice)
    assert raw not in {token.token_hash, token.prefix} and raw.startswith(token.prefix)
    assert FeedToken.objects.filter(token_hash__contains=raw).count() == 0


def test_a_fetch_is_recorded(client, plan, plan_feed):
    client.get(plan_feed)
    assert FeedToken.objects.get(revoked_at__isnull=True).last_fetched_at == NOW


# --- Caching --------------------------------------------------------------------------------
def test_an_unchanged_feed_answers_304_to_if_none_match_and_if_modified_since(client, plan_feed):
    first = client.get(plan_feed)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")
    again = client.get(plan_feed, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    since = client.get(plan_feed, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert since.status_code == 304


def test_a_change_gives_a_new_etag_and_a_full_answer(client, plan_feed, tina, world, frozen):
    first = client.get(plan_feed)
    frozen.shift(timedelta(minutes=5))
    services.occurrence_complete(occurrence=world["late"], actor=tina, notes="done late")
    changed = client.get(
        plan_feed, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    event = events(parse(changed))[f"occurrence-{world['late'].pk}@supportplan"]
    assert str(event["SUMMARY"]).startswith("Done: ")
    assert int(event["SEQUENCE"]) > 0


def test_deleting_a_task_is_not_hidden_behind_if_modified_since(client, plan_feed, alice, world, frozen):
    first = client.get(plan_feed)
    frozen.shift(timedelta(hours=1))
    services.task_delete(task=world["monthly"], actor=alice)
    # The rows left are no newer than before: only the content says the feed changed.
    changed = client.get(plan_feed, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert changed.status_code == 200
    assert "Month-end certificate check" not in changed.content.decode()
    assert client.get(plan_feed, HTTP_IF_MODIFIED_SINCE=changed["Last-Modified"]).status_code == 304


def test_the_same_data_gives_the_same_bytes(client, plan_feed, frozen):
    first = client.get(plan_feed).content
    frozen.shift(timedelta(minutes=1))
    assert client.get(plan_feed).content == first


# --- API ------------------------------------------------------------------------------------
def test_the_api_creates_a_feed_url_once_and_lists_only_the_prefix(plan, alice, world):
    api = api_as(alice)
    created = api.post("/api/v1/feed-tokens/", {"plan": "northwind", "scope": "plan"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["url"].endswith(".ics")
    listed = api.get("/api/v1/feed-tokens/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert len(rows) == 1 and "url" not in rows[0] and rows[0]["prefix"] in created.json()["url"]
    assert "token_hash" not in rows[0]


def test_the_api_revokes_a_feed_and_the_url_dies(client, plan, alice, world):
    api = api_as(alice)
    created = api.post("/api/v1/feed-tokens/", {"plan": "northwind", "scope": "plan"}, format="json").json()
    path = created["url"].split("testserver", 1)[-1]
    assert client.get(path).status_code == 200
    assert api.post(f"/api/v1/feed-tokens/{created['id']}/revoke/").status_code == 200
    assert client.get(path).status_code == 404


def test_the_api_refuses_bad_input_and_foreign_plans(plan, other_plan, alice, tina, dave, world):
    assert (
        api_as(alice)
        .post("/api/v1/feed-tokens/", {"plan": "northwind", "scope": "person"}, format="json")
        .status_code
        == 400
    )
    assert (
        api_as(tina)
        .post("/api/v1/feed-tokens/", {"plan": "northwind", "scope": "plan"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_as(dave)
        .post("/api/v1/feed-tokens/", {"plan": "northwind", "scope": "plan"}, format="json")
        .status_code
        == 400
    )
    token, _raw = feed_services.feed_token_create(plan=plan, scope="plan", actor=alice)
    assert api_as(dave).post(f"/api/v1/feed-tokens/{token.pk}/revoke/").status_code == 404
    assert FeedToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_read_key_cannot_create_feed_tokens(plan, read_key, world):
    response = api_as(key=read_key).post(
        "/api/v1/feed-tokens/", {"plan": "northwind", "scope": "plan"}, format="json"
    )
    assert response.status_code == 403


def test_a_partner_lists_only_the_feeds_of_their_own_tasks(plan, alice, carol, world):
    from operations.feed_services import feed_token_create
    from operations.models import FeedScope, FeedToken

    carols_self = build_person(plan, "Carol", user=carol)
    own, _raw = feed_token_create(plan=plan, scope=FeedScope.PERSON, person=carols_self, actor=carol)
    plan_feed, _raw = feed_token_create(plan=plan, scope=FeedScope.PLAN, actor=alice)
    assert list(FeedToken.objects.for_user(carol)) == [own]
    assert set(FeedToken.objects.for_user(alice)) == {own, plan_feed}
