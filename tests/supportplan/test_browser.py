"""A real headless Chromium: log in, create a plan, change a role in place (htmx)."""

import pytest

from supportplan.models import Membership, SupportPlan

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
        context = browser.new_context(base_url=live_server.url)
        yield context.new_page()
        context.close()
        browser.close()


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_lead_logs_in_creates_a_plan_and_changes_a_role_in_place(page, django_user_model):
    django_user_model.objects.create_user("alice", password="alice-long-password")
    django_user_model.objects.create_user("victor", password="victor-long-password")

    log_in(page, "alice", "wrong-password")
    assert "Please enter a correct username and password" in page.content()
    log_in(page, "alice", "alice-long-password")
    page.wait_for_url("**/plans/")
    page.get_by_role("link", name="New plan").first.click()
    page.get_by_label("Name").fill("Northwind")
    page.get_by_label("Slug").fill("northwind")
    page.get_by_label("Finance & Operations apps").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/plans/northwind/")
    assert page.get_by_role("heading", name="Northwind").is_visible()
    assert SupportPlan.objects.filter(slug="northwind").exists()

    page.get_by_role("link", name="Members").first.click()
    page.get_by_label("Username").fill("victor")
    page.locator("#id_role").select_option("viewer")
    page.get_by_role("button", name="Add").click()
    page.wait_for_selector("text=victor added as viewer")
    membership = Membership.objects.get(user__username="victor")
    with page.expect_response(lambda response: "/role/" in response.url):
        page.get_by_label("Role of victor").select_option("team_member")
    membership.refresh_from_db()
    assert membership.role == "team_member"
    assert page.url.endswith("/plans/northwind/members/")  # changed in place, no navigation
