"""The priority and SLA pages: the matrix edited in place, policy and target forms, ladders in
words, what partners and other plans see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from operations import sla_services as services
from operations.models import EscalationStep, Priority, PriorityMatrixCell, SlaPolicy, SlaTarget
from tests.operations.sla_fixtures import (
    build_elsewhere,
    build_sla_world,
    example_ladder,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def world(plan):
    world = build_sla_world(plan)
    world.target = services.sla_target_create(
        policy=world.hypercare,
        priority=world.p1,
        metric="first_response",
        minutes=30,
        calendar=world.round_the_clock,
        escalation_steps=example_ladder(world),
    )
    return world


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name: str, *args) -> str:
    return reverse(name, args=["northwind", *args])


# --- The matrix -----------------------------------------------------------------------------
def test_a_lead_sees_a_select_per_cell_and_the_example_labels(client, world, alice):
    body = login(client, alice).get(url("priority-matrix")).content.decode()
    assert body.count('<select name="priority"') == 9
    definitions = body.split("<h2>Definitions</h2>")[1].split("</table>")[0]
    assert definitions.count('<span class="badge warn">example</span>') == 4
    assert services.EXAMPLE_LABEL not in definitions


def test_a_lead_changes_a_cell_in_place_with_htmx(client, world, bob):
    body = {"impact": "low", "urgency": "low", "priority": world.p3.pk}
    response = login(client, bob).post(url("priority-matrix-cell"), body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<td class="matrix-cell priority-rank-3" id="matrix-low-low">')
    assert f'<option value="{world.p3.pk}" selected>' in html
    assert "Saved" in html
    assert PriorityMatrixCell.objects.get(plan=world.plan, impact="low", urgency="low").priority == world.p3


def test_without_javascript_a_cell_change_returns_to_the_matrix(client, world, bob):
    body = {"impact": "high", "urgency": "low", "priority": world.p2.pk}
    response = login(client, bob).post(url("priority-matrix-cell"), body, follow=True)
    assert response.redirect_chain == [(url("priority-matrix"), 302)]
    assert "High impact × low urgency is now P2 High." in response.content.decode()


def test_a_cell_with_a_bad_impact_is_a_400_and_another_plans_priority_a_404(client, world, alice, other_plan):
    elsewhere = build_elsewhere(other_plan)
    client = login(client, alice)
    bad = client.post(
        url("priority-matrix-cell"), {"impact": "huge", "urgency": "low", "priority": world.p1.pk}
    )
    assert bad.status_code == 400
    foreign = {"impact": "high", "urgency": "high", "priority": elsewhere.priority.pk}
    assert client.post(url("priority-matrix-cell"), foreign).status_code == 404
    assert PriorityMatrixCell.objects.get(plan=world.plan, impact="high", urgency="high").priority == world.p1


def test_a_lead_adds_a_priority_and_a_duplicate_code_shows_a_form_error(client, world, alice):
    client = login(client, alice)
    added = client.post(url("priority-create"), {"code": "P5", "name": "Planning", "rank": 5})
    assert added.status_code == 302
    again = client.post(url("priority-create"), {"code": "p5", "name": "Again", "rank": 6})
    assert again.status_code == 200
    assert "already has a priority p5" in again.context["priority_form"].errors["code"][0]
    assert Priority.objects.filter(plan=world.plan).count() == 5


def test_removing_a_priority_in_use_is_refused_with_a_message(client, world, alice):
    response = login(client, alice).post(url("priority-delete", world.p1.pk), follow=True)
    assert "P1 is used by 1 SLA target(s) in Hypercare" in response.content.decode()
    assert Priority.objects.filter(pk=world.p1.pk).exists()


def test_a_plan_without_priorities_offers_the_examples(client, plan, alice):
    client = login(client, alice)
    assert "Load the example priorities" in client.get(url("priority-matrix")).content.decode()
    client.post(url("priority-load-examples"))
    assert PriorityMatrixCell.objects.filter(plan=plan).count() == 9


def test_a_lead_edits_a_priority(client, world, alice):
    response = login(client, alice).post(
        url("priority-edit", world.p2.pk), {"code": "P2", "name": "Major", "definition": "Ours.", "rank": 2}
    )
    assert response.status_code == 302
    world.p2.refresh_from_db()
    assert (world.p2.name, world.p2.definition) == ("Major", "Ours.")


# --- Policies -------------------------------------------------------------------------------
def test_the_overview_shows_every_policy_with_its_ladders_in_words(client, world, victor):
    body = login(client, victor).get(url("sla-overview")).content.decode()
    assert "Steady state" in body and "Hypercare" in body
    assert "<li>At 75 % of the target: notify the Support manager</li>" in body
    assert "<li>30 min after breach, then every 60 min up to 3 times: notify Contoso Consulting</li>" in body
    assert "New policy" not in body


def test_the_overview_costs_the_same_for_few_or_many_targets(
    client, world, alice, django_assert_max_num_queries
):
    client = login(client, alice)
    with django_assert_max_num_queries(30) as few:
        client.get(url("sla-overview"))
    for priority in (world.p2, world.p3, world.p4):
        for metric in ("first_response", "resolution"):
            services.sla_target_create(
                policy=world.steady_state,
                priority=priority,
                metric=metric,
                minutes=240,
                calendar=world.office_hours,
                escalation_steps=example_ladder(world),
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url("sla-overview")).status_code == 200


def test_a_lead_creates_a_policy(client, world, alice):
    body = {
        "name": "Steady state 2030",
        "phase": "hypercare",
        "valid_from": "2030-01-01",
        "pause_statuses": [],
    }
    response = login(client, alice).post(url("sla-policy-create"), body)
    policy = SlaPolicy.objects.get(name="Steady state 2030")
    assert response["Location"] == url("sla-policy-edit", policy.pk)


def test_an_overlapping_policy_shows_the_error_on_its_start_date(client, world, alice):
    body = {"name": "Hypercare II", "phase": "hypercare", "valid_from": "2027-06-01", "pause_statuses": []}
    response = login(client, alice).post(url("sla-policy-create"), body)
    assert response.status_code == 200
    assert (
        "overlap “Hypercare” (1 Apr 2027 – 30 Jun 2027)" in response.context["form"].errors["valid_from"][0]
    )
    assert not SlaPolicy.objects.filter(name="Hypercare II").exists()


def test_editing_a_policy_with_bad_dates_shows_the_form_open_with_errors(client, world, bob):
    body = {
        "name": "Hypercare",
        "phase": "hypercare",
        "valid_from": "2027-04-01",
        "valid_to": "2027-03-01",
        "pause_statuses": ["awaiting_customer"],
    }
    response = login(client, bob).post(url("sla-policy-edit", world.hypercare.pk), body)
    assert response.status_code == 200
    assert response.context["policy_form"].errors
    assert '<details class="edit-panel" open>' in response.content.decode()
    world.hypercare.refresh_from_db()
    assert world.hypercare.valid_to.isoformat() == "2027-06-30"


def test_a_lead_saves_a_policys_pausing_statuses(client, world, bob):
    body = {
        "name": "Hypercare",
        "phase": "hypercare",
        "valid_from": "2027-04-01",
        "valid_to": "2027-06-30",
        "pause_statuses": ["awaiting_customer", "awaiting_vendor"],
        "vendor_wait_keeps_vendor_clock": "on",
    }
    response = login(client, bob).post(url("sla-policy-edit", world.hypercare.pk), body, follow=True)
    assert "awaiting customer, awaiting vendor" in response.content.decode()


# --- Targets and ladders --------------------------------------------------------------------
def test_a_lead_adds_a_target_on_the_policy_page(client, world, alice):
    body = {
        "priority": world.p2.pk,
        "metric": "resolution",
        "minutes": 480,
        "calendar": world.office_hours.pk,
    }
    response = login(client, alice).post(url("sla-target-create", world.hypercare.pk), body, follow=True)
    assert "Target “P2 Resolution: 480 min on UK office hours” added." in response.content.decode()
    assert "8 h" in response.content.decode()


def test_a_target_with_another_plans_calendar_is_refused_by_the_form(client, world, alice, other_plan):
    elsewhere = build_elsewhere(other_plan)
    body = {
        "priority": world.p2.pk,
        "metric": "resolution",
        "minutes": 480,
        "calendar": elsewhere.calendar.pk,
    }
    response = login(client, alice).post(url("sla-target-create", world.hypercare.pk), body)
    assert "calendar" in response.context["target_form"].errors
    assert not SlaTarget.objects.filter(priority=world.p2).exists()


def test_a_bad_step_on_the_policy_page_shows_its_error_and_stores_nothing(client, world, alice):
    body = {
        "page": "policy",
        "target": world.target.pk,
        "trigger": "percent",
        "percent": 150,
        "action": "raise_level",
    }
    response = login(client, alice).post(url("escalation-step-create", world.hypercare.pk), body)
    assert response.status_code == 200
    assert response.context["policy"] == world.hypercare
    assert "percent" in response.context["step_form"].errors
    assert EscalationStep.objects.count() == 3


def test_a_step_needing_a_role_says_so_on_the_target_page(client, world, alice):
    body = {"page": "target", "target": world.target.pk, "trigger": "breach", "action": "notify_role"}
    response = login(client, alice).post(url("escalation-step-create", world.hypercare.pk), body)
    assert response.context["target"] == world.target
    assert response.context["step_form"].errors["role"] == ["Name the role to notify."]


def test_a_step_added_on_the_target_page_takes_its_place_in_the_ladder(client, world, alice):
    body = {"page": "target", "target": world.target.pk, "trigger": "percent", "percent": 50}
    body |= {"action": "notify_person", "person": world.service_desk_lead.pk, "max_repeats": 0}
    response = login(client, alice).post(url("escalation-step-create", world.hypercare.pk), body, follow=True)
    assert response.redirect_chain == [(url("sla-target-edit", world.target.pk), 302)]
    steps = [step.sentence for step in response.context["steps"]]
    assert steps[:2] == [
        "At 50 % of the target: notify Priya Shah",
        "At 75 % of the target: notify the Support manager",
    ]


def test_a_lead_removes_a_step(client, world, alice):
    step = world.target.escalation_steps.get(position=1)
    login(client, alice).post(url("escalation-step-delete", step.pk))
    assert services.escalation_ladder_sentence(world.target.escalation_steps.order_by("position")) == (
        "At 75 % of the target: notify the Support manager; "
        "30 min after breach, then every 60 min up to 3 times: notify Contoso Consulting"
    )


def test_the_target_page_reads_the_ladder_in_order(client, world, tina):
    response = login(client, tina).get(url("sla-target-edit", world.target.pk))
    body = response.content.decode()
    assert "P1 first response: 30 min on P1 24×7 cover" in body
    sentences = [
        "At 75 % of the target: notify the Support manager",
        "At breach: raise to the next support level",
        "30 min after breach, then every 60 min up to 3 times: notify Contoso Consulting",
    ]
    positions = [body.index(f"<li>{sentence}") for sentence in sentences]
    assert positions == sorted(positions)
    assert "Add an escalation step" not in body


def test_a_lead_changes_a_target(client, world, bob):
    body = {
        "priority": world.p1.pk,
        "metric": "first_response",
        "minutes": 15,
        "calendar": world.round_the_clock.pk,
    }
    response = login(client, bob).post(url("sla-target-edit", world.target.pk), body)
    assert response.status_code == 302
    world.target.refresh_from_db()
    assert world.target.minutes == 15


def test_removing_a_policy_removes_its_targets_and_ladders(client, world, alice):
    login(client, alice).post(url("sla-policy-delete", world.hypercare.pk))
    assert not SlaTarget.objects.exists() and not EscalationStep.objects.exists()


# --- Who sees what --------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["priority-matrix", "sla-overview", "sla-policy-edit", "sla-target-edit"])
def test_a_partner_reads_every_sla_page_without_controls(client, world, carol, page):
    args = {"sla-policy-edit": [world.hypercare.pk], "sla-target-edit": [world.target.pk]}.get(page, [])
    response = login(client, carol).get(url(page, *args))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<select" not in body and 'method="post" action="/plans/northwind/' not in body


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("priority-matrix-cell", {"impact": "low", "urgency": "low"}),
        ("priority-create", {"code": "P9", "name": "No"}),
        ("sla-policy-create", {}),
        ("sla-policy-edit", {}),
        ("sla-target-edit", {}),
        ("sla-policy-delete", {}),
        ("escalation-step-create", {}),
    ],
)
def test_a_partner_cannot_change_anything(client, world, carol, name, data):
    args = []
    if name in {"sla-policy-edit", "sla-policy-delete", "escalation-step-create"}:
        args = [world.hypercare.pk]
    elif name == "sla-target-edit":
        args = [world.target.pk]
    if name == "priority-matrix-cell":
        data = {**data, "priority": world.p4.pk}
    response = login(client, carol).post(url(name, *args), data)
    assert response.status_code == 403
    assert SlaPolicy.objects.count() == 2 and SlaTarget.objects.count() == 1


def test_a_viewer_cannot_edit_a_policy(client, world, victor):
    response = login(client, victor).post(url("sla-policy-edit", world.hypercare.pk), {"name": "Mine"})
    assert response.status_code == 403


@pytest.mark.parametrize("page", ["priority-matrix", "sla-overview", "sla-policy-edit", "sla-target-edit"])
def test_another_plans_lead_gets_a_404(client, world, dave, page):
    args = {"sla-policy-edit": [world.hypercare.pk], "sla-target-edit": [world.target.pk]}.get(page, [])
    assert login(client, dave).get(url(page, *args)).status_code == 404


def test_another_plans_policy_is_not_found_under_this_plan(client, world, alice, other_plan, dave):
    theirs = services.sla_policy_create(
        plan=other_plan, name="Contoso SLA", phase="steady_state", valid_from="2027-01-01"
    )
    client = login(client, alice)
    assert client.get(url("sla-policy-edit", theirs.pk)).status_code == 404
    assert client.post(url("sla-policy-delete", theirs.pk)).status_code == 404
    assert SlaPolicy.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("page", ["sla-policy-edit", "sla-target-edit", "priority-matrix"])
def test_a_page_costs_the_same_however_much_the_plan_holds(
    client, world, alice, page, django_assert_max_num_queries
):
    from datetime import date

    from models_catalog.models import Agreement, Party

    args = {"sla-policy-edit": [world.hypercare.pk], "sla-target-edit": [world.target.pk]}.get(page, [])
    client = login(client, alice)
    with django_assert_max_num_queries(40) as few:
        client.get(url(page, *args))
    for number in range(3):
        party = Party.objects.create(plan=world.plan, name=f"Vendor {number}", kind="isv")
        Agreement.objects.create(
            plan=world.plan,
            party=party,
            name=f"Contract {number}",
            kind="underpinning",
            starts_on=date(2027, 1, 1),
        )
        services.priority_create(plan=world.plan, code=f"X{number}", name="Extra", rank=5 + number)
    for priority in (world.p2, world.p3):
        services.sla_target_create(
            policy=world.hypercare,
            priority=priority,
            metric="resolution",
            minutes=240,
            calendar=world.office_hours,
            underpinning_agreement=world.partner_contract,
            escalation_steps=example_ladder(world),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(page, *args)).status_code == 200
