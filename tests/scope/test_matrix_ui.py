"""The coverage matrix in the browser: who sees it, filters, editing a cell in place with htmx, the
full item form, and a plan's own aspects."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scope.forms_matrix import QUESTION_FORMS
from scope.models import QUESTIONS, Aspect, ScopeItem, ScopeStatus
from scope.selectors import scope_coverage
from tests.scope.matrix_fixtures import build_scope, grow_scope
from tests.supportplan.test_browser import log_in, page  # noqa: F401 (the browser fixture)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
#: session, user, plan, role; coverage (items + their roles, people, parties; groups + aspects);
#: the plan's people (owner column and filter); the plan switcher. None per item.
MATRIX_QUERIES = 13  # incl. the header's unread-notification count


@pytest.fixture
def scope(plan):
    return build_scope(plan)


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name: str, slug: str = "northwind", **kwargs) -> str:
    return reverse(name, kwargs={"plan_slug": slug, **kwargs})


def item_url(aspect, slug: str = "northwind") -> str:
    return url("scope-item-edit", slug, aspect_id=aspect.pk)


def set_cell(client, aspect, question: str, *, htmx: bool = True, **fields):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url("scope-cell"), {"aspect": aspect.pk, "question": question, **fields}, **headers)


def item_of(scope, aspect) -> ScopeItem | None:
    return ScopeItem.objects.filter(plan=scope.plan, aspect=aspect).first()


# --- Who sees the matrix --------------------------------------------------------------------
def test_a_lead_sees_every_aspect_with_five_editable_cells_status_and_owner(client, alice, scope):
    response = login(client, alice).get(url("scope-matrix"))
    body = response.content.decode()
    aspects = Aspect.objects.for_plan(scope.plan).count()
    assert response.status_code == 200
    assert f"Scope of Northwind Distribution: {aspects} aspects" in body
    assert body.count('class="scope-cell ') == 5 * aspects
    assert body.count(f'hx-get="{url("scope-cell")}?aspect=') == 5 * aspects
    assert (
        'aria-label="How of Integrations: answered. Edit"' in body
        and 'aria-label="Who of Reporting and analytics: missing. Edit"' in body
    )
    row = body[body.index(f'id="aspect-{scope.integrations.pk}"') :]
    row = row[: row.index("</tbody>")]
    assert "Agreed" in row and "Priya Shah" in row
    assert f'href="{url("scope-aspect-create")}"' in body


@pytest.mark.parametrize("member", ["tina", "victor"])
def test_team_members_and_viewers_read_the_states_in_words_without_editing(client, scope, member, request):
    response = login(client, request.getfixturevalue(member)).get(url("scope-matrix"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "hx-get" not in body and "Add an aspect" not in body
    assert '<span class="scope-state">Answered</span>' in body
    assert '<span class="scope-state">Missing</span>' in body
    assert "(What in detail of Integrations)" in body


def test_a_partner_may_not_open_the_matrix(client, carol, scope):
    assert login(client, carol).get(url("scope-matrix")).status_code == 403


def test_another_plans_matrix_is_not_found(client, dave, scope):
    assert login(client, dave).get(url("scope-matrix")).status_code == 404


def test_a_visitor_is_sent_to_log_in(client, scope):
    response = client.get(url("scope-matrix"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_summary_shows_the_completeness_of_the_plan_and_of_each_group(client, bob, scope):
    coverage = scope_coverage(user=bob, plan=scope.plan)
    body = login(client, bob).get(url("scope-matrix")).content.decode()
    summary = body[
        body.index('id="scope-summary"') : body.index("</section>", body.index('id="scope-summary"'))
    ]
    assert f"<strong>{coverage.completeness}%</strong>" in summary
    for group in coverage.groups:
        assert f'<th scope="row">{group.group.name}</th>' in summary
        assert f'<span class="scope-percent">{group.completeness}%</span>' in summary


def test_the_matrix_costs_the_same_queries_with_3_or_25_items(client, alice, scope):
    login(client, alice)
    grow_scope(scope.plan, scope, items=1)
    with CaptureQueriesContext(connection) as with_3_items:
        assert client.get(url("scope-matrix")).status_code == 200
    grow_scope(scope.plan, scope, items=22)
    with CaptureQueriesContext(connection) as with_25_items:
        body = client.get(url("scope-matrix")).content.decode()
    assert ScopeItem.objects.filter(plan=scope.plan).count() == 25
    assert body.count('<td class="scope-owner">Priya Shah</td>') == 24  # 23 grown items + integrations
    assert len(with_25_items.captured_queries) == len(with_3_items.captured_queries) == MATRIX_QUERIES


# --- Filters --------------------------------------------------------------------------------
def test_gaps_only_hides_the_fully_answered_aspects(client, alice, scope):
    body = login(client, alice).get(url("scope-matrix"), {"gaps": "on"}).content.decode()
    assert f'id="aspect-{scope.integrations.pk}"' not in body
    assert f'id="aspect-{scope.reporting.pk}"' in body


def test_filtering_by_status_and_owner_shows_only_the_matching_items(client, alice, scope):
    login(client, alice)
    body = client.get(url("scope-matrix"), {"status": "draft"}).content.decode()
    assert body.count('class="scope-aspect') == 1 and f'id="aspect-{scope.reporting.pk}"' in body
    body = client.get(url("scope-matrix"), {"owner": scope.priya.pk}).content.decode()
    assert body.count('class="scope-aspect') == 1 and f'id="aspect-{scope.integrations.pk}"' in body
    assert "1 of" in body and "aspects match the filters" in body


def test_not_started_includes_the_aspects_without_an_item(client, alice, scope):
    body = login(client, alice).get(url("scope-matrix"), {"status": "not_started"}).content.decode()
    aspects = Aspect.objects.for_plan(scope.plan).count()
    assert body.count('class="scope-aspect') == aspects - 2


def test_filtering_by_group_shows_that_group_only(client, alice, scope):
    body = login(client, alice).get(url("scope-matrix"), {"group": "business_processes"}).content.decode()
    assert f'id="aspect-{scope.order_to_cash.pk}"' in body
    assert f'id="aspect-{scope.integrations.pk}"' not in body


def test_a_junk_filter_is_ignored_and_said_so_while_the_others_apply(client, alice, scope):
    response = login(client, alice).get(url("scope-matrix"), {"owner": "9" * 30, "status": "draft"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "(filter ignored)" in body
    assert body.count('class="scope-aspect') == 1


def test_no_match_says_so(client, alice, scope):
    body = login(client, alice).get(url("scope-matrix"), {"status": "in_review"}).content.decode()
    assert "No aspect matches these filters." in body


# --- Editing a cell in place ----------------------------------------------------------------
def test_clicking_a_cell_opens_its_inline_form_with_the_stored_answers(client, alice, scope):
    response = login(client, alice).get(
        url("scope-cell"), {"aspect": scope.integrations.pk, "question": "detail"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith(f'<tbody id="aspect-{scope.integrations.pk}"')
    assert '<tr class="scope-editor">' in body and f'hx-post="{url("scope-cell")}"' in body
    assert 'name="details"' in body and "Monitor the message queue | | daily</textarea>" in body


def test_the_who_form_offers_only_this_plans_roles_people_parties_and_levels(
    client, alice, scope, other_plan
):
    build_scope(other_plan)
    body = (
        login(client, alice)
        .get(url("scope-cell"), {"aspect": scope.reporting.pk, "question": "who"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert body.count('name="roles"') == 1 and body.count('name="people"') == 2
    assert body.count('name="parties"') == 1
    assert body.count('<option value="') == 3  # none, and levels 1 and 2 of Northwind


def test_an_htmx_edit_saves_the_answer_and_returns_the_row_and_the_summary_out_of_band(client, alice, scope):
    response = set_cell(
        login(client, alice),
        scope.reporting,
        "who",
        roles=[scope.technical_expert.pk],
        parties=[scope.partner.pk],
        support_level=scope.level_2.pk,
    )
    body = response.content.decode()
    item = item_of(scope, scope.reporting)
    assert response.status_code == 200
    assert list(item.parties.all()) == [scope.partner] and item.support_level == scope.level_2
    assert item.what == "Financial reports"  # the other answers are kept
    assert body.startswith(f'<tbody id="aspect-{scope.reporting.pk}"')
    assert 'aria-label="Who of Reporting and analytics: answered. Edit"' in body
    assert "Reporting and analytics: who saved." in body and '<tr class="scope-editor">' not in body
    coverage = scope_coverage(user=alice, plan=scope.plan)
    assert 'id="scope-summary"' in body and 'hx-swap-oob="true"' in body
    assert f"<strong>{coverage.completeness}%</strong>" in body


def test_task_lines_become_tasks_with_standards_and_frequencies(client, bob, scope):
    set_cell(
        login(client, bob),
        scope.order_to_cash,
        "detail",
        details="Check failed invoices | within 4 business hours | daily\n\nClose the period || monthly\n",
    )
    assert item_of(scope, scope.order_to_cash).details == [
        {"task": "Check failed invoices", "standard": "within 4 business hours", "frequency": "daily"},
        {"task": "Close the period", "frequency": "monthly"},
    ]


def test_the_what_form_decides_scope_and_an_out_of_scope_item_needs_its_reason(client, alice, scope):
    login(client, alice)
    response = set_cell(client, scope.reporting, "what", in_scope="no", what="Financial reports")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<tr class="scope-editor">' in body and "Say why it is out of scope." in body
    assert item_of(scope, scope.reporting).in_scope is None
    set_cell(
        client, scope.reporting, "what", in_scope="no", out_of_scope_reason="BI team", redirect_to="bi@x"
    )
    item = item_of(scope, scope.reporting)
    assert (item.in_scope, item.out_of_scope_reason, item.redirect_to) == (False, "BI team", "bi@x")


def test_the_when_and_how_forms_save_their_answers(client, alice, scope):
    login(client, alice)
    set_cell(
        client,
        scope.order_to_cash,
        "when",
        service_calendar=scope.office_hours.pk,
        when_text="Office hours",
        peak_relevance="Month-end",
    )
    set_cell(client, scope.order_to_cash, "how", procedure_url="https://wiki.example/o2c", tool="Teams")
    item = item_of(scope, scope.order_to_cash)
    assert (item.service_calendar, item.peak_relevance, item.tool) == (
        scope.office_hours,
        "Month-end",
        "Teams",
    )


@pytest.mark.parametrize(
    ("question", "fields", "message"),
    [
        ("detail", {"details": "| a standard without a task"}, "Line 1: name the task"),
        ("how", {"procedure_url": "not a link"}, "Enter a valid URL."),
        ("who", {"support_level": "999999"}, "Select a valid choice."),
    ],
)
def test_bad_answers_come_back_inside_the_row_and_store_nothing(
    client, alice, scope, question, fields, message
):
    response = set_cell(login(client, alice), scope.order_to_cash, question, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert item_of(scope, scope.order_to_cash) is None


def test_another_plans_people_cannot_be_named(client, alice, scope, other_plan):
    contoso = build_scope(other_plan)
    response = set_cell(login(client, alice), scope.reporting, "who", people=[contoso.priya.pk])
    assert "Select a valid choice." in response.content.decode()
    assert not item_of(scope, scope.reporting).people.exists()


def test_without_htmx_an_edit_returns_to_the_matrix_with_a_message(client, alice, scope):
    response = set_cell(login(client, alice), scope.reporting, "how", htmx=False, tool="Teams")
    assert response.status_code == 302
    assert response["Location"] == url("scope-matrix") + f"#aspect-{scope.reporting.pk}"
    matrix = client.get(response["Location"]).content.decode()
    assert "Reporting and analytics: how saved." in matrix
    response = set_cell(client, scope.reporting, "how", htmx=False, procedure_url="nope")
    assert response.status_code == 302
    assert (
        "Reporting and analytics: how not saved: Enter a valid URL."
        in client.get(url("scope-matrix")).content.decode()
    )


def test_without_htmx_clicking_a_cell_opens_the_full_form_at_its_question(client, alice, scope):
    response = login(client, alice).get(url("scope-cell"), {"aspect": scope.reporting.pk, "question": "when"})
    assert response.status_code == 302 and response["Location"] == item_url(scope.reporting) + "#when"


def test_cancelling_returns_the_row_without_its_form(client, alice, scope):
    response = login(client, alice).get(
        url("scope-cell"), {"aspect": scope.reporting.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "scope-editor" not in body


@pytest.mark.parametrize(
    "bad",
    [{}, {"aspect": "x", "question": "what"}, {"aspect": "1", "question": "why"}, {"aspect": str(2**70)}],
)
def test_bad_cell_input_is_a_400(client, alice, scope, bad):
    response = login(client, alice).post(url("scope-cell"), bad, HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_another_plans_aspect_is_not_found(client, alice, scope, other_plan):
    from scope import services

    theirs = services.aspect_create(plan=other_plan, group=scope.integrations.group, name="Their feed")
    assert set_cell(login(client, alice), theirs, "what", what="x").status_code == 404
    assert client.get(item_url(theirs)).status_code == 404
    assert not ScopeItem.objects.filter(aspect=theirs).exists()


@pytest.mark.parametrize("member", ["tina", "victor", "carol"])
def test_only_leads_edit_cells(client, scope, member, request):
    login(client, request.getfixturevalue(member))
    assert set_cell(client, scope.reporting, "what", what="Changed").status_code == 403
    assert (
        client.get(url("scope-cell"), {"aspect": scope.reporting.pk, "question": "what"}).status_code == 403
    )
    assert item_of(scope, scope.reporting).what == "Financial reports"


def test_dave_cannot_edit_northwinds_cells(client, dave, scope):
    assert set_cell(login(client, dave), scope.reporting, "what", what="x").status_code == 404


# --- The full item form ---------------------------------------------------------------------
def test_the_item_form_shows_the_stored_answers_under_the_five_questions(client, alice, scope):
    body = login(client, alice).get(item_url(scope.integrations)).content.decode()
    for anchor in ("what", "detail", "who", "when", "how", "review"):
        assert f'<fieldset id="{anchor}"' in body
    assert "The bank and EDI integrations" in body and 'value="https://wiki.example/integrations"' in body
    assert 'id="profile"' not in body


def test_a_lead_creates_an_item_with_everything_from_the_full_form(client, bob, scope):
    response = login(client, bob).post(
        item_url(scope.order_to_cash),
        {
            "in_scope": "yes",
            "what": "Order to cash",
            "details": "Release blocked orders | same day",
            "people": [scope.marc.pk],
            "support_level": scope.level_2.pk,
            "when_text": "Office hours",
            "peak_relevance": "Quarter-end",
            "tool": "Teams",
            "status": ScopeStatus.IN_REVIEW,
            "owner": scope.marc.pk,
            "last_reviewed": "2026-11-02",
            "criticality": "critical",
            "profile_out_of_hours": "Warehouse runs Saturdays",
            "profile_expertise": "Order desk super users",
        },
    )
    assert response.status_code == 302
    item = item_of(scope, scope.order_to_cash)
    assert (item.in_scope, item.status, item.owner, item.criticality) == (
        True,
        "in_review",
        scope.marc,
        "critical",
    )
    assert item.last_reviewed == datetime.date(2026, 11, 2)
    assert item.details == [{"task": "Release blocked orders", "standard": "same day"}]
    assert item.process_profile == {
        "out_of_hours": "Warehouse runs Saturdays",
        "expertise": "Order desk super users",
    }
    assert list(item.people.all()) == [scope.marc]


def test_a_business_process_asks_the_nine_profile_questions(client, alice, scope):
    body = login(client, alice).get(item_url(scope.order_to_cash)).content.decode()
    assert '<fieldset id="profile"' in body
    assert body.count('name="profile_') == 9 and 'name="criticality"' in body


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "finished"}, "Select a valid choice."),
        ({"status": "draft", "last_reviewed": "yesterday"}, "Enter a valid date."),
        ({"status": "draft", "in_scope": "no"}, "Say why it is out of scope."),
    ],
)
def test_a_bad_item_form_shows_its_errors_and_stores_nothing(client, alice, scope, fields, message):
    response = login(client, alice).post(item_url(scope.order_to_cash), fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert item_of(scope, scope.order_to_cash) is None


@pytest.mark.parametrize("member", ["tina", "victor", "carol"])
def test_only_leads_open_the_item_form(client, scope, member, request):
    assert login(client, request.getfixturevalue(member)).get(item_url(scope.reporting)).status_code == 403


# --- A plan's own aspects -------------------------------------------------------------------
def test_a_lead_adds_an_own_aspect_and_answers_it_next(client, alice, scope):
    response = login(client, alice).post(
        url("scope-aspect-create"),
        {"group": scope.order_to_cash.group.pk, "name": "Consignment stock", "is_business_process": "on"},
    )
    aspect = Aspect.objects.get(plan=scope.plan, name="Consignment stock")
    assert response.status_code == 302 and response["Location"] == item_url(aspect)
    assert aspect.is_business_process
    assert "Consignment stock" in client.get(url("scope-matrix")).content.decode()


def test_an_own_aspect_needs_a_new_name(client, alice, scope):
    login(client, alice)
    fields = {"group": scope.integrations.group.pk, "name": "Bank feed"}
    client.post(url("scope-aspect-create"), fields)
    response = client.post(url("scope-aspect-create"), fields)
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Aspect.objects.filter(plan=scope.plan, name="Bank feed").count() == 1


def test_only_leads_add_aspects(client, tina, scope):
    response = login(client, tina).post(
        url("scope-aspect-create"), {"group": scope.integrations.group.pk, "name": "Mine"}
    )
    assert response.status_code == 403
    assert not Aspect.objects.filter(plan=scope.plan).exists()


def test_every_question_of_the_model_has_its_inline_form():
    assert set(QUESTION_FORMS) == set(QUESTIONS)


# --- In a real browser ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lead_answers_a_cell_in_place_and_the_completeness_updates(page, django_user_model, plan):  # noqa: F811
    from supportplan.models import Membership, PlanRole

    alice = django_user_model.objects.create_user("alice", password="alice-long-password")
    Membership.objects.create(plan=plan, user=alice, role=PlanRole.PROJECT_LEAD)
    scope = build_scope(plan)
    before = scope_coverage(user=alice, plan=plan).completeness
    log_in(page, "alice", "alice-long-password")
    page.wait_for_url("**/plans/")
    page.goto(url("scope-matrix"))
    assert page.locator("#scope-summary strong").inner_text() == f"{before}%"

    page.get_by_label(f"How of {scope.reporting.name}: missing. Edit").click()
    page.get_by_label("Tool").wait_for()
    page.get_by_label("Tool").fill("ServiceNow")
    page.get_by_label("Procedure or runbook (link)").fill("https://wiki.example/reports")
    with page.expect_response(lambda response: response.url.endswith("/scope/cell/")):
        page.get_by_role("button", name="Save").click()
    page.get_by_label(f"How of {scope.reporting.name}: answered. Edit").wait_for()
    after = scope_coverage(user=alice, plan=plan).completeness
    assert after > before
    page.wait_for_function(
        "expected => document.querySelector('#scope-summary strong').innerText === expected", arg=f"{after}%"
    )
    assert page.url.endswith("/scope/")  # changed in place, no navigation
    assert item_of(scope, scope.reporting).tool == "ServiceNow"
