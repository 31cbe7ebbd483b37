"""The maintenance calendar in the browser (Django test client): grids, list and filters, task pages,
the task form's pattern builder, complete / skip / move, windows, conflicts, feeds page, access."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
import time_machine
from django.urls import reverse

from operations.models import CalendarEvent, FeedToken, MaintenanceTask, OccurrenceStatus, TaskOccurrence
from tests.operations.maintenance_ui_fixtures import NOW, build_calendar, build_person, build_weekly_task, utc

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(plan, alice, tina, victor):
    return build_calendar(plan, tina_user=tina, alice_user=alice)


def as_user(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name, *args, plan_slug="northwind"):
    return reverse(name, args=[plan_slug, *args])


def task_form_data(**overrides):
    data = {
        "title": "Weekly integration log review",
        "category": "cleanup_jobs",
        "description": "",
        "environment": "production",
        "starts_on": "2027-03-11",
        "local_time": "09:00",
        "timezone": "Europe/Berlin",
        "non_working_day_shift": "none",
        "duration_minutes": "45",
        "reminder_lead_minutes": "60",
        "grace_minutes": "30",
        "active": "on",
        "pattern_kind": "weekly",
        "days": ["MO", "TH"],
        "interval": "1",
        "month_day": "1",
        "nth": "1",
        "weekday": "MO",
        "month": "1",
        "rrule": "",
    }
    data.update(overrides)
    return data


# --- Grids ----------------------------------------------------------------------------------
def test_the_month_grid_shows_occurrences_with_late_work_in_red_and_the_freeze_shaded(client, alice, world):
    response = as_user(client, alice).get(url("maintenance-calendar"), {"month": "2027-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "March 2027" in html
    late_item = re.search(r'<li class="occ state-late[^"]*">.*?</li>', html, re.S)
    assert late_item and "Weekly batch check" in late_item.group(0)
    assert "1 late occurrence this month" in html
    frozen_cells = re.findall(r'<td class="day[^"]*frozen[^"]*" data-date="([\d-]+)"', html)
    assert frozen_cells == ["2027-03-14", "2027-03-15", "2027-03-16"]
    conflicts = re.findall(r'<li class="occ state-upcoming conflict">.*?</li>', html, re.S)
    # Both Monday 15 March and the 15th-of-the-month task fall inside the freeze.
    assert len(conflicts) == 2
    assert any("Month-end certificate check" in item for item in conflicts)
    assert "state-done" in html


def test_the_month_grid_shows_times_in_the_chosen_zone(client, alice, world):
    html = as_user(client, alice).get(
        url("maintenance-calendar"), {"month": "2027-03", "tz": "Europe/Berlin"}
    )
    html = html.content.decode()
    # Monday 15 March 09:00 Berlin is 08:00 UTC; shown as 09:00 in Berlin.
    assert re.search(
        r'data-date="2027-03-15".*?<time datetime="2027-03-15T09:00:00\+01:00">09:00</time>', html, re.S
    )


def test_the_month_grid_answers_in_a_bounded_number_of_queries(
    client, plan, alice, world, django_assert_max_num_queries
):
    for index in range(15):
        build_weekly_task(
            plan, owner=world["tina"], title=f"Extra weekly task {index}", starts_on=date(2027, 3, 1)
        )
    as_user(client, alice)
    # 12 with 2 tasks or 17: session, user, plan, role, zone, occurrences, conflicts, windows, …
    with django_assert_max_num_queries(12):
        response = client.get(url("maintenance-calendar"), {"month": "2027-03"})
    assert response.status_code == 200
    assert response.content.decode().count("Extra weekly task 0") >= 3
    with django_assert_max_num_queries(12):
        assert client.get(url("maintenance-occurrences")).status_code == 200


def test_the_month_grid_pages_forward_and_back(client, alice, world):
    html = as_user(client, alice).get(url("maintenance-calendar"), {"month": "2027-03"}).content.decode()
    assert "?month=2027-02" in html and "?month=2027-04" in html
    april = client.get(url("maintenance-calendar"), {"month": "2027-04"}).content.decode()
    assert "Service update 10.0.50" in april
    assert "update-window" in april


def test_a_nonsense_month_shows_the_current_month(client, alice, world):
    response = as_user(client, alice).get(url("maintenance-calendar"), {"month": "99999-77"})
    assert response.status_code == 200
    assert "March 2027" in response.content.decode()


def test_the_week_grid_lists_the_week_with_the_late_occurrence(client, alice, world):
    response = as_user(client, alice).get(url("maintenance-week"), {"week": "2027-03-10"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Week of Mon 8 Mar" in html
    assert re.search(r'<li class="occ state-late[^"]*">.*?Weekly batch check', html, re.S)
    assert "?week=2027-03-01" in html and "?week=2027-03-15" in html


# --- List and filters -----------------------------------------------------------------------
def test_the_list_filters_by_owner_category_and_state(client, alice, world):
    as_user(client, alice)
    everything = client.get(url("maintenance-occurrences"), {"start": "2027-03-01", "end": "2027-03-31"})
    html = everything.content.decode()
    assert "Weekly batch check" in html and "Month-end certificate check" in html

    by_owner = client.get(
        url("maintenance-occurrences"),
        {"owner": world["alice"].pk, "start": "2027-03-01", "end": "2027-03-31"},
    ).content.decode()
    # Alice owns the monthly task and backs up the weekly one.
    assert "Month-end certificate check" in by_owner

    by_category = client.get(
        url("maintenance-occurrences"),
        {"category": "certificate_rotation", "start": "2027-03-01", "end": "2027-03-31"},
    ).content.decode()
    assert "Month-end certificate check" in by_category and "Weekly batch check" not in by_category

    late = client.get(
        url("maintenance-occurrences"), {"state": "late", "start": "2027-03-01", "end": "2027-03-31"}
    ).content.decode()
    assert "1 occurrence." in late and "Mon 8 Mar 2027" in late

    done = client.get(
        url("maintenance-occurrences"), {"state": "done", "start": "2027-03-01", "end": "2027-03-31"}
    ).content.decode()
    assert "1 occurrence." in done and "Mon 1 Mar 2027" in done


def test_an_invalid_filter_is_shown_as_an_error_not_a_500(client, alice, world):
    response = as_user(client, alice).get(
        url("maintenance-occurrences"), {"start": "2027-03-31", "end": "2027-03-01", "state": "bogus"}
    )
    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()


def test_my_tasks_shows_only_the_tasks_i_own_or_back_up(client, plan, tina, world):
    as_user(client, tina)
    html = client.get(url("maintenance-mine"), {"start": "2027-03-01", "end": "2027-03-31"}).content.decode()
    assert "Weekly batch check" in html
    assert "Month-end certificate check" not in html
    assert "Complete" in html  # the owner may act on her open occurrences


def test_my_tasks_explains_when_my_account_has_no_person(client, bob, world):
    html = as_user(client, bob).get(url("maintenance-mine")).content.decode()
    assert "not linked to a person" in html


# --- Task page ------------------------------------------------------------------------------
def test_the_task_page_shows_the_rule_in_words_next_occurrences_and_history(client, alice, world):
    response = as_user(client, alice).get(url("maintenance-task", world["weekly"].pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Every Monday" in html and "09:00 Europe/Berlin" in html
    assert (
        "Mon 15 Mar 2027 09:00" in html
    )  # next occurrences in the display zone (UTC here: 08:00)? see below
    assert "All batches green." in html and "https://tickets.example.com/1" in html and "tina" in html
    assert "Due now or late" in html


def test_the_task_page_lists_its_conflicts(client, alice, world):
    html = as_user(client, alice).get(url("maintenance-task", world["monthly"].pk)).content.decode()
    assert "Conflicts with freeze windows" in html and "March period-end" in html


def test_a_task_of_another_plan_is_a_404(client, plan, other_plan, alice, dave, world):
    as_user(client, dave)
    assert client.get(url("maintenance-task", world["weekly"].pk, plan_slug="contoso")).status_code == 404
    assert client.get(url("maintenance-task", world["weekly"].pk)).status_code == 404
    assert client.get(url("maintenance-calendar")).status_code == 404


# --- Task form and pattern builder ----------------------------------------------------------
@pytest.mark.parametrize(
    ("builder", "rrule"),
    [
        ({"pattern_kind": "weekly", "days": ["MO", "TH"]}, "FREQ=WEEKLY;BYDAY=MO,TH"),
        ({"pattern_kind": "daily", "interval": "2"}, "FREQ=DAILY;INTERVAL=2"),
        ({"pattern_kind": "weekdays"}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ({"pattern_kind": "monthly_day", "month_day": "last"}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ({"pattern_kind": "monthly_nth_weekday", "nth": "-1", "weekday": "FR"}, "FREQ=MONTHLY;BYDAY=-1FR"),
        ({"pattern_kind": "last_working_day"}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
        (
            {"pattern_kind": "every_n_months", "interval": "2", "month_day": "5"},
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=5",
        ),
        ({"pattern_kind": "quarterly", "month_day": "1"}, "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1"),
        ({"pattern_kind": "yearly", "month": "2", "month_day": "29"}, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        ({"pattern_kind": "expert", "rrule": "freq=monthly;byday=2tu"}, "FREQ=MONTHLY;BYDAY=2TU"),
    ],
)
def test_the_pattern_builder_creates_the_right_rrule(client, alice, world, builder, rrule):
    response = as_user(client, alice).post(url("maintenance-task-create"), task_form_data(**builder))
    assert response.status_code == 302, response.content.decode()[:3000]
    task = MaintenanceTask.objects.get(title="Weekly integration log review")
    assert task.rrule == rrule
    assert response["Location"] == url("maintenance-task", task.pk)
    assert task.occurrences.exists()
    if builder["pattern_kind"] == "last_working_day":
        assert task.non_working_day_shift == "previous"


def test_a_weekly_task_from_the_form_keeps_berlin_wall_clock_time(client, alice, world):
    as_user(client, alice).post(url("maintenance-task-create"), task_form_data(days=["MO"]))
    task = MaintenanceTask.objects.get(title="Weekly integration log review")
    dues = list(task.occurrences.order_by("due_at").values_list("due_at", flat=True))
    assert dues[0] == utc(2027, 3, 15, 8, 0)  # CET
    assert utc(2027, 4, 5, 7, 0) in dues  # CEST: still 09:00 in Berlin


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pattern_kind": "expert", "rrule": "FREQ=FORTNIGHTLY"}, "rrule", "is not a frequency"),
        ({"pattern_kind": "expert", "rrule": "FREQ=HOURLY"}, "rrule", "too frequent"),
        ({"pattern_kind": "expert", "rrule": ""}, "rrule", "Type an RRULE"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "is not an IANA time zone"),
        ({"duration_minutes": "0"}, "duration_minutes", "greater than or equal to 1"),
        ({"pattern_kind": "weekly", "days": []}, "days", "at least one day"),
        ({"pattern_kind": "yearly", "month": "2", "month_day": "30"}, "month_day", "February has no day 30"),
    ],
)
def test_bad_task_input_shows_form_errors_and_stores_nothing(client, alice, world, overrides, field, message):
    before = (MaintenanceTask.objects.count(), TaskOccurrence.objects.count())
    response = as_user(client, alice).post(url("maintenance-task-create"), task_form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert (MaintenanceTask.objects.count(), TaskOccurrence.objects.count()) == before


def test_a_catalogue_category_prefills_the_form_with_a_suggested_pattern(client, alice, world):
    response = as_user(client, alice).get(
        url("maintenance-task-create"), {"category": "certificate_rotation"}
    )
    html = response.content.decode()
    form = response.context["form"]
    assert form.initial["category"] == "certificate_rotation"
    assert form.initial["title"] == "Certificate rotation" or form.initial["title"]
    assert form.initial["pattern_kind"] != "weekly" or form.initial.get("days")
    assert "Pre-filled from the catalogue" in html and "suggested" in html


def test_editing_a_task_shows_its_pattern_and_rebuilds_open_occurrences(client, alice, world):
    task = world["weekly"]
    as_user(client, alice)
    page = client.get(url("maintenance-task-edit", task.pk))
    assert page.context["form"].initial["pattern_kind"] == "weekly"
    assert page.context["form"].initial["days"] == ["MO"]
    data = task_form_data(
        title=task.title,
        category=task.category,
        days=["TU"],
        starts_on="2027-01-04",
        timezone="Europe/Berlin",
    )
    response = client.post(url("maintenance-task-edit", task.pk), data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.rrule == "FREQ=WEEKLY;BYDAY=TU"
    open_future = task.occurrences.filter(status=OccurrenceStatus.OPEN, due_at__gte=NOW)
    assert all(occurrence.due_at.weekday() == 1 for occurrence in open_future)
    assert task.occurrences.filter(pk=world["done"].pk, status=OccurrenceStatus.DONE).exists()


def test_a_viewer_cannot_open_the_task_form(client, victor, tina, world):
    assert as_user(client, victor).get(url("maintenance-task-create")).status_code == 403
    assert client.post(url("maintenance-task-create"), task_form_data()).status_code == 403
    assert as_user(client, tina).get(url("maintenance-task-edit", world["weekly"].pk)).status_code == 403
    assert not MaintenanceTask.objects.filter(title="Weekly integration log review").exists()


def test_a_lead_deletes_a_task(client, alice, world):
    response = as_user(client, alice).post(url("maintenance-task-delete", world["monthly"].pk))
    assert response.status_code == 302
    assert not MaintenanceTask.objects.filter(pk=world["monthly"].pk).exists()


# --- Complete / skip / move -----------------------------------------------------------------
def test_the_owner_completes_an_occurrence_with_notes_and_evidence(client, tina, world):
    late = world["late"]
    as_user(client, tina)
    form = client.get(url("maintenance-occurrence-complete", late.pk))
    assert form.status_code == 200 and "Mark done" in form.content.decode()
    response = client.post(
        url("maintenance-occurrence-complete", late.pk),
        {"notes": "Ran late, all fine.", "evidence_url": "https://tickets.example.com/2"},
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.status == OccurrenceStatus.DONE
    assert late.closed_by == tina and late.closed_at == NOW
    assert late.evidence_url == "https://tickets.example.com/2"


def test_completing_through_htmx_returns_the_fragment_and_refreshes_on_success(client, tina, world):
    late = world["late"]
    as_user(client, tina)
    fragment = client.get(url("maintenance-occurrence-complete", late.pk), HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"action-card" in fragment.content
    done = client.post(url("maintenance-occurrence-complete", late.pk), {"notes": ""}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and done["HX-Refresh"] == "true"


def test_completion_without_required_evidence_is_a_form_error(client, plan, alice, world):
    task = world["monthly"]
    task.evidence_required = True
    task.save(update_fields=["evidence_required"])
    occurrence = world["conflicting"]
    response = as_user(client, alice).post(
        url("maintenance-occurrence-complete", occurrence.pk), {"notes": "x"}
    )
    assert response.status_code == 400
    assert "evidence_url" in response.context["form"].errors
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.OPEN


def test_skipping_needs_a_reason(client, tina, world):
    late = world["late"]
    as_user(client, tina)
    response = client.post(url("maintenance-occurrence-skip", late.pk), {"reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    late.refresh_from_db()
    assert late.status == OccurrenceStatus.OPEN
    client.post(url("maintenance-occurrence-skip", late.pk), {"reason": "Batch server migrated that week."})
    late.refresh_from_db()
    assert late.status == OccurrenceStatus.SKIPPED and late.notes == "Batch server migrated that week."


def test_moving_takes_the_time_in_the_tasks_zone(client, alice, world):
    occurrence = world["conflicting"]
    as_user(client, alice)
    response = client.post(
        url("maintenance-occurrence-move", occurrence.pk),
        {"due_at": "2027-03-18T10:00", "reason": "After the freeze"},
    )
    assert response.status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.due_at == utc(2027, 3, 18, 10, 0)  # London in March = UTC
    assert occurrence.moved and occurrence.move_reason == "After the freeze"


def test_a_viewer_and_a_team_member_who_is_not_the_owner_get_403(client, plan, victor, tina, world):
    occurrence = world["conflicting"]  # Alice's task
    for user in (victor, tina):
        as_user(client, user)
        assert client.get(url("maintenance-occurrence-complete", occurrence.pk)).status_code == 403
        assert client.post(url("maintenance-occurrence-complete", occurrence.pk), {}).status_code == 403
        assert (
            client.post(url("maintenance-occurrence-skip", occurrence.pk), {"reason": "x"}).status_code == 403
        )
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.OPEN


def test_an_occurrence_of_another_plan_is_a_404(client, dave, world):
    as_user(client, dave)
    assert (
        client.get(url("maintenance-occurrence-complete", world["late"].pk, plan_slug="contoso")).status_code
        == 404
    )


# --- Windows and conflicts ------------------------------------------------------------------
def test_the_windows_page_lists_freezes_and_update_windows(client, victor, world):
    html = as_user(client, victor).get(url("maintenance-windows")).content.decode()
    assert "March period-end" in html and "Service update 10.0.50" in html
    assert "Add a window" not in html  # viewers read only


def test_a_lead_adds_a_freeze_window_in_a_zone(client, alice, world):
    response = as_user(client, alice).post(
        url("maintenance-windows"),
        {
            "name": "Easter peak",
            "kind": "peak",
            "starts_at": "2027-03-26T00:00",
            "ends_at": "2027-03-29T00:00",
            "time_zone": "Europe/Berlin",
            "blocks_maintenance": "on",
            "notes": "",
        },
    )
    assert response.status_code == 302
    window = CalendarEvent.objects.get(name="Easter peak")
    assert window.blocks_maintenance and window.starts_at == utc(2027, 3, 25, 23, 0)


def test_a_window_that_ends_before_it_starts_is_a_form_error(client, alice, world):
    response = as_user(client, alice).post(
        url("maintenance-windows"),
        {
            "name": "Oops",
            "kind": "freeze",
            "starts_at": "2027-03-26T00:00",
            "ends_at": "2027-03-25T00:00",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 400
    assert not CalendarEvent.objects.filter(name="Oops").exists()


def test_applying_the_microsoft_presets_adds_update_windows_once(client, alice, world):
    as_user(client, alice)
    client.post(url("maintenance-window-presets"), {"year": "2028"})
    count = CalendarEvent.objects.filter(starts_at__year=2028).count()
    assert count >= 4
    client.post(url("maintenance-window-presets"), {"year": "2028"})
    assert CalendarEvent.objects.filter(starts_at__year=2028).count() == count


def test_a_viewer_cannot_apply_presets_or_edit_windows(client, victor, world):
    as_user(client, victor)
    assert client.post(url("maintenance-window-presets"), {"year": "2028"}).status_code == 403
    assert client.get(url("maintenance-window-edit", world["freeze"].pk)).status_code == 403


def test_the_conflicts_page_moves_an_occurrence_to_the_day_after_the_freeze(client, alice, world):
    as_user(client, alice)
    html = client.get(url("maintenance-conflicts")).content.decode()
    assert "Month-end certificate check" in html and "March period-end" in html
    response = client.post(
        url("maintenance-conflict-move", world["conflicting"].pk), {"event_id": world["freeze"].pk}
    )
    assert response.status_code == 302
    occurrence = world["conflicting"]
    occurrence.refresh_from_db()
    # The freeze ends 17 March 00:00 UTC (= London): the task's 10:00 on 17 March.
    assert occurrence.due_at == utc(2027, 3, 17, 10, 0) and occurrence.moved
    page = client.get(url("maintenance-conflicts"))
    assert "moved to Wed 17 Mar 2027 10:00" in page.content.decode()
    # Only the weekly Monday 15 March occurrence is left inside the freeze.
    assert [row["occurrence"].task.title for row in page.context["rows"]] == ["Weekly batch check"]


# --- Feeds page -----------------------------------------------------------------------------
def test_the_feeds_page_shows_a_new_url_once_and_rotating_revokes_the_old_one(client, alice, world):
    as_user(client, alice)
    first = client.post(url("maintenance-feeds"), {"scope": "plan"})
    url_one = first.context["new_url"]
    assert url_one.endswith(".ics") and url_one in first.content.decode()
    assert client.get(url_one).status_code == 200
    second = client.post(url("maintenance-feeds"), {"scope": "plan"})
    url_two = second.context["new_url"]
    assert client.get(url_one).status_code == 404
    assert client.get(url_two).status_code == 200
    listing = client.get(url("maintenance-feeds")).content.decode()
    assert url_two not in listing  # shown once only
    token = FeedToken.objects.get(revoked_at__isnull=True)
    client.post(url("maintenance-feed-revoke", token.pk))
    assert client.get(url_two).status_code == 404


def test_a_team_member_gets_a_personal_feed_but_not_the_plan_feed(client, tina, world):
    as_user(client, tina)
    mine = client.post(url("maintenance-feeds"), {"scope": "person", "person": world["tina"].pk})
    assert mine.status_code == 200 and mine.context["new_url"]
    assert client.post(url("maintenance-feeds"), {"scope": "plan"}).status_code == 403
    assert (
        client.post(url("maintenance-feeds"), {"scope": "person", "person": world["alice"].pk}).status_code
        == 403
    )
    assert FeedToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_plan_nav_links_to_the_maintenance_calendar(client, alice, world):
    html = as_user(client, alice).get(reverse("plan-detail", args=["northwind"])).content.decode()
    assert url("maintenance-calendar") in html


def test_a_new_task_form_starts_in_the_viewers_zone_with_a_sensible_default(client, alice, world):
    form = as_user(client, alice).get(url("maintenance-task-create")).context["form"]
    assert form.initial["local_time"] == time(9, 0)
    assert form.initial["starts_on"] == date(2027, 3, 10)
    assert form.initial["pattern_kind"] == "weekly" and form.initial["days"] == ["WE"]
    _ = build_person  # the builders module is shared with the feed tests


def test_the_builder_preview_shows_the_rule_and_the_next_dates_flagging_freezes(client, alice, world):
    data = task_form_data(
        pattern_kind="monthly_day", month_day="15", timezone="Europe/London", local_time="10:00"
    )
    response = as_user(client, alice).get(url("maintenance-pattern-preview"), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Monthly on day 15" in html and "FREQ=MONTHLY;BYMONTHDAY=15" in html
    assert "Mon 15 Mar 2027 10:00" in html and "inside freeze “March period-end”" in html
    assert html.count("<li>") == 6


def test_the_builder_preview_explains_a_bad_rule(client, alice, world):
    data = task_form_data(pattern_kind="expert", rrule="FREQ=SOMETIMES")
    html = as_user(client, alice).get(url("maintenance-pattern-preview"), data).content.decode()
    assert "is not a frequency" in html


def test_a_task_planned_into_a_freeze_is_warned_about(client, alice, world):
    data = task_form_data(
        pattern_kind="monthly_day", month_day="15", timezone="Europe/London", local_time="10:00"
    )
    response = as_user(client, alice).post(url("maintenance-task-create"), data, follow=True)
    assert "falls inside freeze windows (March period-end)" in response.content.decode()


def test_a_partner_sees_only_the_tasks_its_organisation_is_responsible_for(client, plan, carol, world):
    from models_catalog.models import Party
    from operations import maintenance_services as services
    from supportplan.models import Membership

    partner = Party.objects.create(plan=plan, name="Fabrikam Consulting", kind="partner")
    Membership.objects.filter(user=carol, plan=plan).update(organisation=partner)
    services.task_update(task=world["monthly"], actor=None, responsible_party=partner)
    as_user(client, carol)
    html = client.get(url("maintenance-calendar"), {"month": "2027-03"}).content.decode()
    assert "Month-end certificate check" in html and "Weekly batch check" not in html
    assert client.get(url("maintenance-task", world["weekly"].pk)).status_code == 404
    assert client.get(url("maintenance-task", world["monthly"].pk)).status_code == 200
    conflicts = client.get(url("maintenance-conflicts")).context["rows"]
    assert [row["occurrence"].task.title for row in conflicts] == ["Month-end certificate check"]


def test_a_lead_edits_and_removes_a_freeze_window(client, alice, world):
    freeze = world["freeze"]
    as_user(client, alice)
    page = client.get(url("maintenance-window-edit", freeze.pk))
    assert page.context["form"].initial["starts_at"] == "2027-03-14T00:00"
    response = client.post(
        url("maintenance-window-edit", freeze.pk),
        {
            "name": "March period-end (extended)",
            "kind": "period_end",
            "starts_at": "2027-03-13T00:00",
            "ends_at": "2027-03-17T00:00",
            "time_zone": "UTC",
            "blocks_maintenance": "on",
        },
    )
    assert response.status_code == 302
    freeze.refresh_from_db()
    assert freeze.name == "March period-end (extended)" and freeze.starts_at == utc(2027, 3, 13)
    client.post(url("maintenance-window-delete", freeze.pk))
    assert not CalendarEvent.objects.filter(pk=freeze.pk).exists()
    assert client.get(url("maintenance-conflicts")).context["rows"] == []
