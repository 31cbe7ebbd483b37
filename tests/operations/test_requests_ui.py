"""Support-request pages: the list (filters; breached and at-risk first; bounded queries), a request's
page (trace, clock bars, "when does it breach"), the compliance report with its chart and CSV, and the
status mappings leads keep per integration. Partners see only what their organisation holds or held;
other plans are 404.

Northwind, Monday 8 March 2027 (London on UTC), seen at 12:30: four requests reported at 09:00."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from models_catalog.models import Party, PartyKind
from operations.helpdesk import services
from operations.models import StatusMapping, SupportRequest
from tests.conftest import api_as
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import HelpdeskWorld, build_integration, make_partner_member, utc

SEEN_AT = utc(2027, 3, 8, 12, 30)


def _report(world, user, title, *, at="2027-03-08T09:00:00Z", **data) -> SupportRequest:
    request, _ = services.request_upsert(
        plan=world.plan, principal=user, data={"title": title, "reported_at": at, **data}
    )
    return request


def _event(request, user, **data) -> None:
    services.event_record(request=request, principal=user, data=data)


@pytest.fixture
def cases(helpdesk_world: HelpdeskWorld, alice) -> dict[str, SupportRequest]:
    world = helpdesk_world
    with time_machine.travel(SEEN_AT, tick=False):
        handed = _report(
            world,
            alice,
            "Invoices stuck in approval workflow",
            priority="P2",
            level=2,
            references=[{"system": "servicenow", "reference": "INC0012345", "party": world.helpdesk.pk}],
        )
        _event(
            handed, alice, kind="public_update", occurred_at="2027-03-08T09:20:00Z", body="Looking into it."
        )
        _event(
            handed,
            alice,
            kind="handed_off",
            occurred_at="2027-03-08T10:00:00Z",
            level=3,
            reference_system="partner",
            reference="PRT-4411",
        )
        _event(
            handed, alice, kind="public_update", occurred_at="2027-03-08T11:00:00Z", body="With the partner."
        )
        resolved = _report(world, alice, "Report layout question", priority="P3", level=1)
        _event(resolved, alice, kind="status_changed", status="resolved", occurred_at="2027-03-08T09:50:00Z")
        breached = _report(world, alice, "Warehouse label printer offline", priority="P2", level=2)
        at_risk = _report(world, alice, "Credit limit check fails", priority="P2", level=2)
        _event(at_risk, alice, kind="public_update", occurred_at="2027-03-08T09:20:00Z", body="On it.")
    for request in (handed, resolved, breached, at_risk):
        request.refresh_from_db()
    return {"handed": handed, "resolved": resolved, "breached": breached, "at_risk": at_risk}


def signed_in(user):
    """A client whose session starts at ``SEEN_AT`` (a session from today would have expired)."""
    with time_machine.travel(SEEN_AT, tick=False):
        return api_as(user)


def browser(user) -> Client:
    """A plain browser session (form posts, not the API client's JSON)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def get(client, name: str, *args, **params):
    with time_machine.travel(SEEN_AT, tick=False):
        return client.get(reverse(name, args=args), params)


def titles(response) -> list[str]:
    return [request.title for request in response.context["requests"]]


def test_the_list_puts_open_breached_then_at_risk_requests_first_and_closed_ones_last(plan, alice, cases):
    assert cases["breached"].sla_state == "breached"
    assert cases["at_risk"].sla_state == "at_risk"

    response = get(signed_in(alice), "requests-page", plan.slug)

    assert response.status_code == 200
    assert titles(response)[:2] == ["Warehouse label printer offline", "Credit limit check fails"]
    assert titles(response)[-1] == "Report layout question"  # resolved: after every open request
    assert set(titles(response)) == {case.title for case in cases.values()}
    assert response.context["counts"] == {"open": 3, "breached": 1, "at_risk": 1}
    assert b"INC0012345" in response.content
    assert b'href="/plans/northwind/requests/"' in response.content  # the nav link


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "resolved"}, ["Report layout question"]),
        ({"status": "open", "sla": "breached"}, ["Warehouse label printer offline"]),
        ({"sla": "at_risk"}, ["Credit limit check fails"]),
        ({"sla": "attention"}, ["Warehouse label printer offline", "Credit limit check fails"]),
        ({"q": "PRT-4411"}, ["Invoices stuck in approval workflow"]),
        ({"q": "label printer"}, ["Warehouse label printer offline"]),
    ],
)
def test_the_list_filters(plan, alice, cases, params, expected):
    assert titles(get(signed_in(alice), "requests-page", plan.slug, **params)) == expected


def test_the_list_filters_by_priority_level_and_holder(plan, alice, cases, helpdesk_world):
    client = signed_in(alice)
    assert titles(get(client, "requests-page", plan.slug, priority=helpdesk_world.priority("P3").pk)) == [
        "Report layout question"
    ]
    assert titles(get(client, "requests-page", plan.slug, level=helpdesk_world.levels[3].pk)) == [
        "Invoices stuck in approval workflow"
    ]
    assert titles(get(client, "requests-page", plan.slug, party=helpdesk_world.partner.pk)) == [
        "Invoices stuck in approval workflow"
    ]


def test_a_filter_naming_another_plans_party_is_refused_not_a_500(plan, alice, cases, other_plan):
    stranger = Party.objects.create(plan=other_plan, name="Fabrikam", kind=PartyKind.PARTNER)
    response = get(signed_in(alice), "requests-page", plan.slug, party=stranger.pk)
    assert response.status_code == 200
    assert "party" in response.context["form"].errors


def test_the_list_costs_the_same_queries_for_four_requests_or_fourteen(
    plan, alice, cases, helpdesk_world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(alice)
    get(client, "requests-page", plan.slug)  # warm the session and the engine cache
    with CaptureQueriesContext(connection) as few:
        get(client, "requests-page", plan.slug)
    with time_machine.travel(SEEN_AT, tick=False):
        for n in range(10):
            _report(
                helpdesk_world,
                alice,
                f"More {n}",
                priority="P3",
                level=2,
                references=[{"system": "servicenow", "reference": f"INC00200{n:02d}"}],
            )
    with CaptureQueriesContext(connection) as many:
        response = get(client, "requests-page", plan.slug)
    assert len(response.context["requests"]) == 14
    assert len(many) == len(few)
    assert len(many) <= 15


def test_the_request_page_shows_the_trace_the_clocks_and_when_it_breaches(plan, alice, cases):
    response = get(signed_in(alice), "request-page", plan.slug, cases["handed"].pk)

    assert response.status_code == 200
    trace = [entry for entry, _held, _wall in response.context["trace"]]
    assert [(entry.kind, entry.level.number) for entry in trace] == [("created", 2), ("handed_off", 3)]
    assert trace[1].reference == "PRT-4411"
    held, _wall = response.context["trace"][0][1:]
    assert held == "1:00"  # L2 held it 09:00–10:00 in office hours
    metrics = {
        (bar["clock"].metric, bar["clock"].level.number if bar["clock"].level else None)
        for bar in response.context["clocks"]
    }
    assert ("first_response", None) in metrics and ("resolution", 3) in metrics
    resolution = next(
        bar
        for bar in response.context["due"]
        if bar["clock"].metric == "resolution" and not bar["clock"].level
    )
    # 960 business minutes from Monday 09:00 on 09:00–17:00: Tuesday 17:00; 3.5 h used by 12:30.
    assert resolution["figures"]["breach_at"]["utc"] == utc(2027, 3, 9, 17, 0)
    assert resolution["remaining_label"] == "12:30"
    content = response.content.decode()
    assert "When does it breach?" in content
    assert "Tue 9 Mar 2027, 17:00 UTC" in content
    assert "Tue 9 Mar 2027, 17:00 GMT" in content  # local (Europe/London)
    assert "PRT-4411" in content and "INC0012345" in content


def test_a_breached_clock_shows_how_long_ago_it_breached(plan, alice, cases):
    response = get(signed_in(alice), "request-page", plan.slug, cases["breached"].pk)
    first_response = next(bar for bar in response.context["due"] if bar["clock"].metric == "first_response")
    assert first_response["overdue"] is True
    assert first_response["remaining_label"] == "2:30"  # due 10:00, seen 12:30
    assert first_response["breached_left"] is not None
    assert "breached 2:30 ago" in response.content.decode()


def test_a_partner_sees_only_the_requests_their_organisation_holds_or_held(
    plan, carol, cases, helpdesk_world
):
    make_partner_member(plan, carol, helpdesk_world.partner)
    client = signed_in(carol)

    assert titles(get(client, "requests-page", plan.slug)) == ["Invoices stuck in approval workflow"]
    assert get(client, "request-page", plan.slug, cases["handed"].pk).status_code == 200
    assert get(client, "request-page", plan.slug, cases["breached"].pk).status_code == 404
    report = get(client, "requests-compliance", plan.slug, start="2027-03-01", end="2027-03-31").context[
        "report"
    ]
    assert report.total.requests == 1


def test_another_plans_requests_are_not_found(plan, alice, dave, cases, other_plan):
    assert get(signed_in(dave), "requests-page", plan.slug).status_code == 404
    assert get(signed_in(dave), "request-page", plan.slug, cases["handed"].pk).status_code == 404
    assert get(signed_in(dave), "request-page", other_plan.slug, cases["handed"].pk).status_code == 404
    assert get(signed_in(alice), "request-page", plan.slug, 999_999).status_code == 404


def test_the_compliance_report_groups_by_priority_with_a_chart(plan, alice, cases):
    response = get(signed_in(alice), "requests-compliance", plan.slug, start="2027-03-01", end="2027-03-31")

    assert response.status_code == 200
    report = response.context["report"]
    rows = {row.label: row for row in report.rows}
    assert list(rows) == ["P2 High", "P3 Medium"]
    assert rows["P2 High"].requests == 3
    assert rows["P2 High"].breached >= 1
    assert rows["P3 Medium"].met >= 1 and rows["P3 Medium"].breached == 0
    assert rows["P3 Medium"].met_percent == 100.0
    assert rows["P2 High"].median_first_response == 20 * 60  # two answered after 20 minutes
    content = response.content.decode()
    assert "<svg" in content and "% met" in content


@pytest.mark.parametrize("group_by", ["priority", "party", "level", "month"])
def test_every_grouping_renders(plan, alice, cases, group_by):
    response = get(
        signed_in(alice),
        "requests-compliance",
        plan.slug,
        start="2027-03-01",
        end="2027-03-31",
        group_by=group_by,
    )
    assert response.status_code == 200
    assert response.context["report"].rows


def test_the_compliance_csv_neutralises_formulas(plan, alice, cases, helpdesk_world):
    evil = Party.objects.create(plan=plan, name='=HYPERLINK("http://x")', kind=PartyKind.PARTNER)
    with time_machine.travel(SEEN_AT, tick=False):
        _report(helpdesk_world, alice, "Held by a formula", priority="P3", party=evil.pk)

    response = get(
        signed_in(alice),
        "requests-compliance",
        plan.slug,
        start="2027-03-01",
        end="2027-03-31",
        group_by="party",
        format="csv",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Party"
    assert [row[0] for row in rows if "HYPERLINK" in row[0]] == ['\'=HYPERLINK("http://x")']
    assert rows[-1][0] == "All"


def test_a_bad_report_period_is_a_form_error_not_a_500(plan, alice, cases):
    response = get(signed_in(alice), "requests-compliance", plan.slug, start="2027-03-31", end="2027-03-01")
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "end" in response.context["form"].errors
    csv_response = get(signed_in(alice), "requests-compliance", plan.slug, start="nonsense", format="csv")
    assert csv_response.status_code == 400


def test_leads_map_an_integrations_status_names(plan, alice, helpdesk_world):
    key = build_integration(plan, created_by=alice, mappings={"New": ("new", "")})
    client = browser(alice)
    url = reverse("status-mappings", args=[plan.slug])

    response = client.post(
        url,
        {
            "api_key": key.pk,
            "external_status": "Pending Caller",
            "status": "awaiting_customer",
            "clock_effect": "pause",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    mapping = StatusMapping.objects.get(api_key=key, external_status="Pending Caller")
    assert mapping.clock_effect == "pause"
    assert b"Pending Caller" in client.get(url).content

    duplicate = client.post(url, {"api_key": key.pk, "external_status": "pending caller", "status": "new"})
    assert duplicate.status_code == 400
    assert StatusMapping.objects.filter(api_key=key).count() == 2

    edit = reverse("status-mapping-edit", args=[plan.slug, mapping.pk])
    assert (
        client.post(
            edit, {"external_status": "Pending Caller", "status": "awaiting_customer", "clock_effect": ""}
        ).status_code
        == 302
    )
    mapping.refresh_from_db()
    assert mapping.clock_effect == ""
    assert client.post(reverse("status-mapping-delete", args=[plan.slug, mapping.pk])).status_code == 302
    assert not StatusMapping.objects.filter(pk=mapping.pk).exists()


def test_only_leads_see_the_status_mappings_and_never_another_plans(
    plan, alice, tina, dave, other_plan, helpdesk_world
):
    key = build_integration(plan, created_by=alice, mappings={"New": ("new", "")})
    mapping = StatusMapping.objects.get(api_key=key)
    assert browser(tina).get(reverse("status-mappings", args=[plan.slug])).status_code == 403
    assert (
        browser(dave).get(reverse("status-mapping-edit", args=[other_plan.slug, mapping.pk])).status_code
        == 404
    )
    assert (
        browser(dave).post(reverse("status-mapping-delete", args=[other_plan.slug, mapping.pk])).status_code
        == 404
    )
    assert StatusMapping.objects.filter(pk=mapping.pk).exists()


def test_the_clock_bar_shows_when_the_clock_was_paused(plan, alice, helpdesk_world):
    with time_machine.travel(SEEN_AT, tick=False):
        waiting = _report(helpdesk_world, alice, "Which cost centre?", priority="P3")
        _event(
            waiting,
            alice,
            kind="status_changed",
            status="awaiting_customer",
            occurred_at="2027-03-08T09:30:00Z",
        )
        _event(
            waiting, alice, kind="status_changed", status="in_progress", occurred_at="2027-03-08T10:30:00Z"
        )

    response = get(signed_in(alice), "request-page", plan.slug, waiting.pk)

    resolution = next(bar for bar in response.context["clocks"] if bar["clock"].metric == "resolution")
    assert [(pause["start"], pause["end"]) for pause in resolution["pauses"]] == [
        (utc(2027, 3, 8, 9, 30), utc(2027, 3, 8, 10, 30))
    ]
    assert resolution["pauses"][0]["left"] == pytest.approx(14.29, abs=0.01)  # 30 min of 3 h 30 min
    assert resolution["clock"].paused_seconds == 3600
    assert 'title="Paused 8 Mar 09:30 – 8 Mar 10:30 UTC"' in response.content.decode()


def test_a_partner_allowed_anonymised_data_only_reads_the_anonymised_description(
    plan, carol, alice, helpdesk_world
):
    partner = helpdesk_world.partner
    partner.anonymised_data_only = True
    partner.save(update_fields=["anonymised_data_only"])
    make_partner_member(plan, carol, partner)
    with time_machine.travel(SEEN_AT, tick=False):
        request = _report(
            helpdesk_world,
            alice,
            "Payroll export fails",
            priority="P3",
            level=3,
            description="Jane Doe (employee 4711) cannot export her payslip.",
            description_anonymised="An employee cannot export a payslip.",
        )

    as_partner = get(signed_in(carol), "request-page", plan.slug, request.pk).content.decode()
    as_lead = get(signed_in(alice), "request-page", plan.slug, request.pk).content.decode()

    assert "An employee cannot export a payslip." in as_partner and "Jane Doe" not in as_partner
    assert "Jane Doe (employee 4711)" in as_lead


def test_a_deadline_that_passed_since_the_last_recompute_shows_as_breached(plan, alice, helpdesk_world):
    with time_machine.travel(utc(2027, 3, 8, 9, 5), tick=False):
        quiet = _report(helpdesk_world, alice, "Nobody answered", priority="P2", at="2027-03-08T09:05:00Z")
    quiet.refresh_from_db()
    assert quiet.sla_state == "ok"  # as computed at 09:05; the first response was due at 10:05

    client = signed_in(alice)
    listed = get(client, "requests-page", plan.slug, sla="breached")
    page = get(client, "request-page", plan.slug, quiet.pk)
    report = get(client, "requests-compliance", plan.slug, start="2027-03-01", end="2027-03-31")

    assert titles(listed) == ["Nobody answered"]
    assert listed.context["counts"]["breached"] == 1
    assert page.context["live_state"] == "breached"
    assert report.context["report"].total.breached == 1


def test_the_admin_shows_a_request_with_its_events_and_references_read_only(admin_client, cases):
    handed = cases["handed"]
    page = admin_client.get(reverse("admin:operations_supportrequest_change", args=[handed.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "PRT-4411" in content and "Handed off" in content
    assert admin_client.get(reverse("admin:operations_supportrequest_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:operations_slaclock_changelist"), {"state": "breached"}).status_code
        == 200
    )
    clock = handed.clocks.first()
    assert (
        admin_client.post(reverse("admin:operations_slaclock_change", args=[clock.pk]), {}).status_code == 403
    )
