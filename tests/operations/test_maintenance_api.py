"""The maintenance API: tasks (leads write), occurrences with complete / skip / move / reopen
(owner, backup, responsible party, leads, write keys), conflicts and the catalogue; 400s with field
messages, 403 for someone else's task, 404 across plans."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine
from django.urls import reverse

from operations import calendar_services
from operations.models import CalendarEventKind, MaintenanceTask, OccurrenceStatus, TaskOccurrence
from tests.conftest import api_as
from tests.operations.maintenance_fixtures import build_person, build_task, utc


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel("2027-01-01 10:00Z", tick=False) as traveller:
        yield traveller


@pytest.fixture
def tina_person(plan, tina):
    return build_person(plan, "Tina", user=tina)


@pytest.fixture
def review(plan, tina_person):
    return build_task(plan, owner=tina_person)


@pytest.fixture
def contoso_task(other_plan, dave):
    return build_task(other_plan, title="Contoso clean-up")


def task_body(**overrides) -> dict:
    body = {
        "plan": "northwind",
        "title": "Security-role review",
        "category": "access_review",
        "pattern": {"kind": "monthly_nth_weekday", "n": 1, "weekday": "MO"},
        "starts_on": "2027-01-01",
        "local_time": "09:30",
        "timezone": "Europe/Berlin",
        "duration_minutes": 90,
        "evidence_required": True,
    }
    body.update(overrides)
    return body


def fields_of(response) -> dict:
    return response.json()["error"]["fields"]


# --- Tasks ----------------------------------------------------------------------------------
def test_a_lead_creates_a_task_from_a_pattern_and_sees_its_next_occurrences(alice, tina_person):
    response = api_as(user=alice).post(
        reverse("maintenancetask-list"), task_body(owner=tina_person.pk), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rrule"] == "FREQ=MONTHLY;BYDAY=1MO"
    assert body["rrule_text"] == "Monthly on the first Monday"
    assert body["category_label"] == "Security-role and access review"
    assert [row["due_at"] for row in body["next_occurrences"][:2]] == [
        "2027-01-04T08:30:00Z",
        "2027-02-01T08:30:00Z",
    ]
    assert TaskOccurrence.objects.filter(task_id=body["id"]).count() == 13


def test_an_expert_types_the_rrule(alice):
    body = task_body(pattern=None, rrule="freq=weekly;byday=fr")
    body.pop("pattern")
    response = api_as(user=alice).post(reverse("maintenancetask-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["rrule"], response.json()["rrule_text"]) == (
        "FREQ=WEEKLY;BYDAY=FR",
        "Every Friday",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pattern": None, "rrule": "FREQ=HOURLY"}, "rrule", "too frequent"),
        ({"pattern": None, "rrule": "FREQ=DAILY;COUNT=2;UNTIL=20270301"}, "rrule", "not both"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
        ({"duration_minutes": 0}, "duration_minutes", "1"),
        ({"pattern": {"kind": "weekly", "days": []}}, "days", "weekday"),
        ({"pattern": None}, "rrule", "pattern or an RRULE"),
    ],
)
def test_bad_task_input_is_a_400_with_field_messages_and_stores_nothing(alice, overrides, field, message):
    body = task_body(**overrides)
    if body.get("pattern") is None:
        body.pop("pattern")
    response = api_as(user=alice).post(reverse("maintenancetask-list"), body, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(fields_of(response)[field])
    assert not MaintenanceTask.objects.exists()


def test_team_members_and_api_keys_cannot_write_tasks(tina, write_key):
    for client in (api_as(user=tina), api_as(key=write_key)):
        response = client.post(reverse("maintenancetask-list"), task_body(), format="json")
        assert response.status_code == 403
    assert not MaintenanceTask.objects.exists()


def test_editing_a_task_rebuilds_its_occurrences(alice, review):
    url = reverse("maintenancetask-detail", args=[review.pk])
    response = api_as(user=alice).patch(url, {"pattern": {"kind": "weekly", "days": ["WE"]}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["rrule_text"] == "Every Wednesday"
    assert response.json()["next_occurrences"][0]["due_at"] == "2027-01-06T09:00:00Z"
    assert {row.due_at.weekday() for row in review.occurrences.all()} == {2}


def test_deleting_a_task_removes_it(alice, review):
    assert api_as(user=alice).delete(reverse("maintenancetask-detail", args=[review.pk])).status_code == 204
    assert not TaskOccurrence.objects.exists()


def test_other_plans_tasks_and_occurrences_are_404(alice, contoso_task):
    client = api_as(user=alice)
    assert client.get(reverse("maintenancetask-detail", args=[contoso_task.pk])).status_code == 404
    occurrence = contoso_task.occurrences.first()
    assert client.get(reverse("taskoccurrence-detail", args=[occurrence.pk])).status_code == 404
    response = client.post(reverse("taskoccurrence-complete", args=[occurrence.pk]), {}, format="json")
    assert response.status_code == 404
    assert client.get(reverse("taskoccurrence-list")).json()["count"] == 0


# --- Occurrence actions ---------------------------------------------------------------------
def test_the_owner_completes_with_notes_and_evidence(tina, review):
    occurrence = review.occurrences.order_by("due_at").first()
    response = api_as(user=tina).post(
        reverse("taskoccurrence-complete", args=[occurrence.pk]),
        {"notes": "Storage at 61%", "evidence_url": "https://example.com/report"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["state"], body["closed_by"], body["notes"]) == (
        "done",
        "done",
        "tina",
        "Storage at 61%",
    )
    assert body["next_remind_at"] is None


def test_completing_someone_elses_task_is_403_and_changes_nothing(plan, tina, victor, read_key):
    other = build_task(plan, title="Olga's task", owner=build_person(plan, "Olga"))
    occurrence = other.occurrences.first()
    url = reverse("taskoccurrence-complete", args=[occurrence.pk])
    for client in (api_as(user=tina), api_as(user=victor), api_as(key=read_key)):
        assert client.post(url, {"notes": "x"}, format="json").status_code == 403
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.OPEN


def test_a_write_key_completes_and_evidence_is_required_when_the_task_says_so(plan, write_key):
    task = build_task(plan, title="Anonymised copy", evidence_required=True)
    url = reverse("taskoccurrence-complete", args=[task.occurrences.first().pk])
    client = api_as(key=write_key)
    missing = client.post(url, {"notes": "done"}, format="json")
    assert missing.status_code == 400
    assert "evidence" in fields_of(missing)["evidence_url"][0]
    assert client.post(url, {"evidence_url": "https://example.com/x"}, format="json").status_code == 200


def test_skip_needs_a_reason(alice, review):
    url = reverse("taskoccurrence-skip", args=[review.occurrences.first().pk])
    client = api_as(user=alice)
    assert "reason" in fields_of(client.post(url, {}, format="json"))
    response = client.post(url, {"reason": "Office closed"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["notes"]) == (
        200,
        "skipped",
        "Office closed",
    )


def test_move_needs_a_time_with_its_offset(alice, review):
    occurrence = review.occurrences.order_by("due_at").first()
    url = reverse("taskoccurrence-move", args=[occurrence.pk])
    client = api_as(user=alice)
    naive = client.post(url, {"due_at": "2027-01-05T09:00:00"}, format="json")
    assert naive.status_code == 400 and "offset" in fields_of(naive)["due_at"][0]
    garbage = client.post(url, {"due_at": "next tuesday"}, format="json")
    assert garbage.status_code == 400 and "due_at" in fields_of(garbage)
    moved = client.post(url, {"due_at": "2027-01-05T10:00:00+01:00", "reason": "Audit"}, format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["due_at"], moved.json()["moved"]) == ("2027-01-05T09:00:00Z", True)


def test_reopen_brings_back_a_done_occurrence(alice, review):
    occurrence = review.occurrences.first()
    client = api_as(user=alice)
    client.post(reverse("taskoccurrence-complete", args=[occurrence.pk]), {}, format="json")
    response = client.post(reverse("taskoccurrence-reopen", args=[occurrence.pk]))
    assert (response.status_code, response.json()["status"]) == (200, "open")


# --- Filters --------------------------------------------------------------------------------
def test_occurrences_filter_by_task_owner_category_dates_state_and_mine(
    plan, alice, tina, review, tina_person, frozen
):
    build_task(plan, title="Clean-up", category="cleanup_jobs", pattern={"kind": "weekly", "days": ["SU"]})
    url = reverse("taskoccurrence-list")

    def count(**params) -> int:
        response = api_as(user=alice).get(url, params)  # a fresh login: the clock moves below
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count(plan="northwind", task=review.pk) == 57
    assert count(owner=tina_person.pk) == 57
    assert count(category="cleanup_jobs") == 57
    assert count(**{"from": "2027-01-01T00:00:00Z", "to": "2027-01-11T00:00:00Z"}) == 3
    frozen.move_to("2027-01-04 12:00Z")
    assert count(state="late") == 2  # Sunday 3rd's clean-up and Monday 4th's review
    assert api_as(user=tina).get(url, {"mine": "true"}).json()["count"] == 57
    assert api_as(user=alice).get(url, {"state": "sideways"}).status_code == 400


# --- Conflicts and catalogue ----------------------------------------------------------------
def test_conflicts_list_occurrences_inside_freeze_windows(plan, alice, review, other_plan):
    calendar_services.calendar_event_create(
        plan=plan,
        name="Period-end close January 2027",
        kind=CalendarEventKind.PERIOD_END,
        starts_at=utc(2027, 1, 29, 18, 0),
        ends_at=utc(2027, 2, 2, 2, 0),
    )
    client = api_as(user=alice)
    response = client.get(reverse("maintenanceconflict-list"), {"plan": "northwind"})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(row["occurrence"]["due_at"], row["window"]["name"]) for row in rows] == [
        ("2027-02-01T09:00:00Z", "Period-end close January 2027")
    ]
    moved = client.post(reverse("taskoccurrence-move-out-of-freeze", args=[rows[0]["occurrence"]["id"]]))
    assert (moved.status_code, moved.json()["due_at"]) == (200, "2027-02-02T02:00:00Z")
    assert client.get(reverse("maintenanceconflict-list"), {"plan": "northwind"}).json()["count"] == 0
    assert client.get(reverse("maintenanceconflict-list")).status_code == 400
    assert client.get(reverse("maintenanceconflict-list"), {"plan": "contoso"}).status_code == 404


def test_calendar_events_expose_the_freeze_flag_and_default_it_by_kind(alice):
    client = api_as(user=alice)
    body = {
        "plan": "northwind",
        "name": "Peak",
        "kind": "peak",
        "starts_at": "2027-11-01T00:00Z",
        "ends_at": "2027-12-01T00:00Z",
    }
    assert (
        client.post(reverse("calendarevent-list"), body, format="json").json()["blocks_maintenance"] is True
    )
    body.update(name="Wave", kind="release_wave")
    assert (
        client.post(reverse("calendarevent-list"), body, format="json").json()["blocks_maintenance"] is False
    )
    body.update(name="ISV freeze", kind="isv_release", blocks_maintenance=True)
    assert (
        client.post(reverse("calendarevent-list"), body, format="json").json()["blocks_maintenance"] is True
    )


def test_the_catalogue_lists_categories_with_suggestions_marked(victor):
    response = api_as(user=victor).get(reverse("maintenancecategory-list"))
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.json()}
    assert rows["anonymised_copy_refresh"]["evidence_required"] is True
    assert rows["storage_licence_review"]["suggested"] is True
    assert rows["storage_licence_review"]["rrule_text"] == "Every Monday"
    assert rows["service_update_cycle"]["suggested"] is False
    assert list(rows)[-1] == "other"


def test_a_partner_sees_only_its_organisations_tasks(plan, carol, review):
    from tests.operations.maintenance_fixtures import build_partner_party

    party = build_partner_party(plan, carol)
    refresh = build_task(
        plan, title="Refresh UAT", responsible_party=party, starts_on=date(2027, 1, 1), local_time=time(7)
    )
    client = api_as(user=carol)
    titles = {row["title"] for row in client.get(reverse("maintenancetask-list")).json()["results"]}
    assert titles == {"Refresh UAT"}
    occurrence = refresh.occurrences.first()
    assert (
        client.post(reverse("taskoccurrence-complete", args=[occurrence.pk]), {}, format="json").status_code
        == 200
    )
    assert (
        client.get(reverse("taskoccurrence-detail", args=[review.occurrences.first().pk])).status_code == 404
    )


def test_a_task_planned_into_a_freeze_is_warned_about(plan, alice):
    calendar_services.calendar_event_create(
        plan=plan,
        name="Year-end freeze",
        kind=CalendarEventKind.FREEZE,
        starts_at=utc(2027, 1, 4, 0, 0),
        ends_at=utc(2027, 1, 9, 0, 0),
    )
    body = task_body(pattern={"kind": "weekdays"}, timezone="Europe/London", local_time="09:00")
    response = api_as(user=alice).post(reverse("maintenancetask-list"), body, format="json")
    assert response.status_code == 201, response.content
    conflicts = response.json()["conflicts"]
    assert [row["due_at"] for row in conflicts] == [f"2027-01-0{day}T09:00:00Z" for day in range(4, 9)]
    assert {row["window_name"] for row in conflicts} == {"Year-end freeze"}


def test_the_task_and_occurrence_lists_take_a_fixed_number_of_queries(
    plan, alice, django_assert_max_num_queries
):
    client = api_as(user=alice)
    build_task(plan, title="First")
    client.get(reverse("maintenancetask-list"))  # the session and role lookups settle
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("maintenancetask-list"))
    for number in range(5):
        build_task(plan, title=f"More {number}", owner=build_person(plan, f"Owner {number}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(reverse("maintenancetask-list")).json()
    assert body["count"] == 6 and all(len(row["next_occurrences"]) == 5 for row in body["results"])
    assert all(row["conflicts"] is None for row in body["results"])
    with django_assert_max_num_queries(12):
        assert len(client.get(reverse("taskoccurrence-list")).json()["results"]) == 50
