"""Gaps and risks in one place: the access gaps (stale anonymised copy, a party with logins but no
production policy, requests waiting over a day), the merged list with every source, most severe
first, links that open, the page's filters, and the risk log's pages."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from models_catalog.models import Party, Person, StaffingProfile, SupportLevel
from operations import access_services
from operations.access_selectors import access_gaps
from operations.models import AccessRequest, MaintenanceTask, Priority, TaskOccurrence
from operations.risks import SEVERITIES, SOURCES, gaps_and_risks
from scope.models import Aspect, RiskEntry
from scope.services import scope_item_save
from tests.operations.access_fixtures import *  # noqa: F403
from tests.operations.access_fixtures import NOW, make_policy

TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def refresh_task(plan, environment="support_copy", owner=None) -> MaintenanceTask:
    return MaintenanceTask.objects.create(
        plan=plan,
        title="Refresh the anonymised copy",
        category="anonymised_copy_refresh",
        environment=environment,
        owner=owner,
        rrule="FREQ=MONTHLY;BYMONTHDAY=1",
        starts_on=date(2026, 1, 1),
        local_time=time(6, 0),
        timezone="Europe/London",
        evidence_required=True,
    )


def done(task, *, days_ago: int, evidence: str = "https://wiki.example/refresh-log") -> TaskOccurrence:
    at = NOW - timedelta(days=days_ago)
    return TaskOccurrence.objects.create(
        plan=task.plan,
        task=task,
        original_due_at=at,
        due_at=at,
        status="done",
        closed_at=at,
        evidence_url=evidence,
    )


def codes(rows) -> list[str]:
    return [row.code for row in rows]


# --- Access gaps ----------------------------------------------------------------------------
def test_an_anonymised_only_policy_without_any_refresh_task_is_a_gap_pointing_to_a_new_task(
    plan, partner, policy
):
    rows = access_gaps(plan=plan, today=TODAY)
    assert codes(rows) == ["anonymised_copy_stale"]
    assert rows[0].severity == "high"
    assert rows[0].link == reverse("maintenance-task-create", args=[plan.slug])


@pytest.mark.parametrize(
    ("days_ago", "evidence", "gap"),
    [
        (10, "https://wiki.example/log", False),
        (35, "https://wiki.example/log", False),
        (36, "https://x.example", True),
        (3, "", True),
    ],
)
def test_the_refresh_must_be_done_with_evidence_in_the_last_35_days(
    plan, policy, approver, days_ago, evidence, gap
):
    task = refresh_task(plan, owner=approver)
    done(task, days_ago=days_ago, evidence=evidence)
    rows = access_gaps(plan=plan, today=TODAY)
    assert ("anonymised_copy_stale" in codes(rows)) is gap
    if gap:
        assert rows[0].owner == approver
        assert rows[0].link == reverse("maintenance-task", args=[plan.slug, task.pk])


def test_a_support_copy_refresh_proves_an_anonymised_policy_for_another_environment(plan, partner):
    make_policy(plan, partner, "test", data_class="anonymised")
    done(refresh_task(plan, "support_copy"), days_ago=5)
    assert codes(access_gaps(plan=plan, today=TODAY)) == []


def test_a_refresh_of_another_environment_does_not(plan, partner):
    make_policy(plan, partner, "test", data_class="anonymised")
    done(refresh_task(plan, "development"), days_ago=5)
    assert codes(access_gaps(plan=plan, today=TODAY)) == ["anonymised_copy_stale"]


def test_one_overdue_refresh_is_one_row_naming_every_policy_it_leaves_uncovered(plan, partner, isv, policy):
    make_policy(plan, isv, "support_copy", data_class="anonymised")
    make_policy(plan, partner, "production", data_class="anonymised")
    task = refresh_task(plan)
    done(task, days_ago=60)
    rows = access_gaps(plan=plan, today=TODAY)
    assert codes(rows) == ["anonymised_copy_stale"]
    assert rows[0].title == "No recent anonymised copy: “Refresh the anonymised copy” is overdue"
    for named in ("Contoso Consulting in support copy", "Contoso Consulting in production", "Wide World WMS"):
        assert named in rows[0].detail


def test_a_party_whose_people_sign_in_needs_a_production_policy(plan, partner, carol_of_partner):
    rows = access_gaps(plan=plan, today=TODAY)
    assert codes(rows) == ["party_without_production_policy"]
    assert rows[0].severity == "high"
    make_policy(plan, partner, "production", data_class="full")
    assert codes(access_gaps(plan=plan, today=TODAY)) == []


def test_an_internal_team_with_logins_is_a_medium_gap_and_a_party_without_logins_none(plan, tina):
    desk = Party.objects.create(plan=plan, name="Service desk", kind="helpdesk")
    Party.objects.create(plan=plan, name="Nobody signs in", kind="partner")
    Person.objects.create(plan=plan, name="Tina", user=tina, party=desk)
    rows = access_gaps(plan=plan, today=TODAY)
    assert [(row.code, row.severity, row.title) for row in rows] == [
        ("party_without_production_policy", "medium", "No production access policy for Service desk")
    ]


def test_a_request_pending_for_more_than_a_day_is_a_gap(plan, alice, partner, approver):
    make_policy(plan, partner, "test", data_class="full", approver=approver)
    with time_machine.travel(NOW - timedelta(hours=25), tick=False):
        old = access_services.access_request_create(
            plan=plan, actor=alice, party=partner, environment="test", reason="r", duration_hours=1
        )
    with time_machine.travel(NOW - timedelta(hours=23), tick=False):
        AccessRequest.objects.create(
            plan=plan,
            policy=old.policy,
            party=partner,
            environment="test",
            requested_by=alice,
            reason="fresh",
            duration_hours=1,
        )
    rows = [row for row in access_gaps(plan=plan, today=TODAY) if row.code == "access_request_waiting"]
    assert [row.title for row in rows] == [f"Access request #{old.pk} waiting for 25 h"]
    assert rows[0].owner == approver


# --- The merged list ------------------------------------------------------------------------
@pytest.fixture
def every_source(plan, alice, bob, partner, policy, approver):
    scope_item_save(
        plan=plan, aspect=Aspect.objects.get(plan__isnull=True, key="middleware"), in_scope=True, what="Bus"
    )
    Priority.objects.create(plan=plan, code="P1", name="Critical", rank=1)
    level = SupportLevel.objects.create(plan=plan, number=1, name="Service desk")
    StaffingProfile.objects.create(
        plan=plan, name="Service desk demand", level=level, users=800, requests_per_user_per_month=2
    )
    RiskEntry.objects.create(plan=plan, title="Key user leaves in May", severity="low", owner=approver)
    RiskEntry.objects.create(plan=plan, title="Closed one", severity="high", status="closed")
    return plan


def test_the_merged_list_holds_every_source_most_severe_first(every_source, alice):
    rows = gaps_and_risks(plan=every_source, user=alice, today=TODAY)
    assert {row.source for row in rows} == set(SOURCES)
    ranks = [SEVERITIES.index(row.severity) for row in rows]
    assert ranks == sorted(ranks)
    risk = next(row for row in rows if row.source == "risk-log")
    assert (risk.title, risk.severity, risk.owner_name) == ("Key user leaves in May", "low", "Tina Schneider")
    assert "Closed one" not in {row.title for row in rows}


def test_every_link_opens(every_source, alice, client):
    client.force_login(alice)
    links = {row.link for row in gaps_and_risks(plan=every_source, user=alice, today=TODAY)}
    assert "" not in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_a_viewer_is_sent_to_the_risk_log_entry_and_it_opens(every_source, victor, client):
    risk = next(row for row in gaps_and_risks(plan=every_source, user=victor) if row.source == "risk-log")
    assert risk.link.startswith(reverse("risk-log", args=["northwind"]) + "#risk-")
    client.force_login(victor)
    assert client.get(risk.link).status_code == 200


def test_source_and_severity_filter_the_list(every_source, alice):
    only_access = gaps_and_risks(plan=every_source, user=alice, source="access")
    assert only_access and {row.source for row in only_access} == {"access"}
    only_low = gaps_and_risks(plan=every_source, user=alice, severity="low")
    assert only_low and {row.severity for row in only_low} == {"low"}


def test_partners_are_refused_and_other_plans_not_found(every_source, carol, dave):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        gaps_and_risks(plan=every_source, user=carol)
    with pytest.raises(Http404):
        gaps_and_risks(plan=every_source, user=dave)


# --- The pages ------------------------------------------------------------------------------
def test_the_page_lists_rows_and_filters_them(every_source, victor, client):
    client.force_login(victor)
    url = reverse("gaps-and-risks", args=["northwind"])
    html = client.get(url).content.decode()
    assert "Key user leaves in May" in html and "No anonymised copy of production is refreshed" in html
    filtered = client.get(url, {"source": "risk-log"}).content.decode()
    assert (
        "Key user leaves in May" in filtered
        and "No anonymised copy of production is refreshed" not in filtered
    )
    assert client.get(url, {"severity": "nonsense"}).status_code == 200


@pytest.mark.parametrize(("user", "status"), [("carol", 403), ("dave", 404), ("tina", 200)])
def test_the_page_is_for_staff(every_source, client, request, user, status):
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("gaps-and-risks", args=["northwind"])).status_code == status


def test_a_lead_adds_edits_and_removes_a_risk_through_the_pages(plan, alice, approver, client):
    client.force_login(alice)
    create = reverse("risk-create", args=["northwind"])
    response = client.post(
        create, {"title": "Peak in week one", "severity": "high", "status": "open", "owner": approver.pk}
    )
    assert response.status_code == 302
    risk = RiskEntry.objects.get(title="Peak in week one")
    assert "Peak in week one" in client.get(reverse("risk-log", args=["northwind"])).content.decode()
    edit = reverse("risk-edit", args=["northwind", risk.pk])
    client.post(edit, {"title": "Peak in week one", "severity": "medium", "status": "mitigated"})
    risk.refresh_from_db()
    assert (risk.severity, risk.status) == ("medium", "mitigated")
    client.post(reverse("risk-delete", args=["northwind", risk.pk]))
    assert not RiskEntry.objects.filter(pk=risk.pk).exists()


def test_a_risk_without_a_title_shows_the_error_and_stores_nothing(plan, alice, client):
    client.force_login(alice)
    response = client.post(
        reverse("risk-create", args=["northwind"]), {"title": " ", "severity": "high", "status": "open"}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode() or "title" in response.content.decode()
    assert not RiskEntry.objects.exists()


def test_team_members_read_the_risk_log_but_do_not_write_it(plan, tina, client):
    client.force_login(tina)
    assert client.get(reverse("risk-log", args=["northwind"])).status_code == 200
    assert client.get(reverse("risk-create", args=["northwind"])).status_code == 403
