"""A real headless Chromium: a lead logs in, builds a weekly task with the pattern builder, finds it
on the month calendar and completes an occurrence through the htmx form."""

from __future__ import annotations

import pytest

from operations.models import MaintenanceTask, OccurrenceStatus
from supportplan.models import PlanRole
from tests.factories import MembershipFactory, PlanFactory
from tests.operations.maintenance_ui_fixtures import build_person

# serialized_rollback: the flush after a transactional test would wipe data migrations
# (the aspect catalogue) for the tests that run after it on the same worker.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(needs_chromium, live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM guard would refuse
    # the test's own queries around it. Only for this test: a leaked variable fails check --deploy.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=needs_chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
        yield context.new_page()
        context.close()
        browser.close()


def test_a_lead_builds_a_weekly_task_sees_it_on_the_calendar_and_completes_it(page, django_user_model):
    alice = django_user_model.objects.create_user("alice", password="alice-long-password")
    plan = PlanFactory(name="Northwind", slug="northwind")
    MembershipFactory(plan=plan, user=alice, role=PlanRole.PROJECT_LEAD)
    build_person(plan, "Alice", alice)

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-long-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/plans/")

    page.goto("/plans/northwind/")
    page.get_by_role("link", name="Maintenance", exact=True).click()
    page.wait_for_url("**/maintenance/")
    page.get_by_role("link", name="New task").click()

    page.get_by_label("Title").fill("Weekly batch check")
    page.get_by_label("Owner").select_option(label="Alice")
    # The pattern builder shows the fields of the chosen kind only.
    page.get_by_label("Repeats").select_option("monthly_day")
    assert page.get_by_label("Day of the month").is_visible()
    assert not page.locator("[data-pattern-field=days]").is_visible()
    page.get_by_label("Repeats").select_option("weekly")
    assert not page.get_by_label("Day of the month").is_visible()
    for day in page.locator("[data-pattern-field=days] input[type=checkbox]").all():
        day.uncheck()
    page.locator("[data-pattern-field=days] input[value=MO]").check()
    page.locator("[data-pattern-field=days] input[value=TH]").check()
    page.get_by_label("Local time").fill("09:00")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Save task").click()
    page.wait_for_selector("text=Every Monday and Thursday")

    task = MaintenanceTask.objects.get(title="Weekly batch check")
    assert task.rrule == "FREQ=WEEKLY;BYDAY=MO,TH" and task.timezone == "Europe/Berlin"

    page.get_by_role("link", name="Month").click()
    page.wait_for_url("**/maintenance/")
    # Next month lies wholly inside the horizon: every month has at least eight Mondays and Thursdays.
    page.get_by_role("link", name="Next month").click()
    page.wait_for_url("**/maintenance/?month=*")
    assert page.locator("ul.occs li.occ", has_text="Weekly batch check").count() >= 8

    page.get_by_role("link", name="My tasks").click()
    first = task.occurrences.order_by("due_at").first()
    page.locator(f"a[href^='/plans/northwind/maintenance/occurrences/{first.pk}/complete/']").click()
    page.get_by_label("Notes").fill("Checked in the browser.")
    with page.expect_response(
        lambda response: "/complete/" in response.url and response.request.method == "POST"
    ):
        page.get_by_role("button", name="Mark done").click()
    page.wait_for_selector("text=marked done")
    first.refresh_from_db()
    assert first.status == OccurrenceStatus.DONE and first.closed_by == alice
    assert first.notes == "Checked in the browser."
