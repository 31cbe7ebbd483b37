"""The readiness, transition and hypercare pages: who sees and changes what, forms that explain bad
input, the gate override, the timeline, and query counts."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scope.readiness_models import GateOverride, ReadinessItem, ReadinessSnapshot, TransitionActivity
from scope.readiness_models import TransitionActivityKind as Kind
from tests.scope.readiness_fixtures import UAT_START, activity, complete_hypercare, person, seeded

PAGES = ["readiness", "readiness/transition", "readiness/hypercare"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def northwind(plan, alice, bob, tina, carol, victor):
    return seeded(plan)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("tina", 200), ("victor", 200), ("carol", 403), ("dave", 404)]
)
def test_who_sees_the_readiness_pages(northwind, request, page, who, status):
    response = client_for(request.getfixturevalue(who)).get(f"/plans/northwind/{page}/")
    assert response.status_code == status


def test_a_viewer_reads_without_edit_controls_and_cannot_post(northwind, victor):
    client = client_for(victor)
    page = client.get("/plans/northwind/readiness/").content.decode()
    assert "Go-live gate" in page and "Support organisation charter signed off" in page
    assert "Record override" not in page and "/readiness/items/" not in page
    charter = ReadinessItem.objects.get(plan=northwind, key="charter")
    assert (
        client.post(f"/plans/northwind/readiness/items/{charter.pk}/", {"status": "done"}).status_code == 403
    )
    assert client.post("/plans/northwind/readiness/hypercare/", {}).status_code == 403
    assert (
        client.post(
            "/plans/northwind/readiness/gate-override/", {"action": "operate", "reason": "x"}
        ).status_code
        == 403
    )


def test_the_nav_links_readiness_for_the_team_but_not_partners(northwind, alice, carol):
    assert 'href="/plans/northwind/readiness/"' in client_for(alice).get("/plans/northwind/").content.decode()
    assert (
        'href="/plans/northwind/readiness/"'
        not in client_for(carol).get("/plans/northwind/").content.decode()
    )


def test_the_page_shows_derived_evidence_why_warnings_and_takes_todays_snapshot(northwind, alice):
    complete_hypercare(northwind)
    with time_machine.travel("2026-11-25 09:00Z", tick=False):
        page = client_for(alice).get("/plans/northwind/readiness/").content.decode()
    assert "✔ Met" in page and "committed partner hours" in page
    assert "No UAT support drill is recorded" in page
    assert 'data-rule="no_uat_drill"' in page
    assert "<polyline" in page
    assert ReadinessSnapshot.objects.filter(plan=northwind, taken_on=date(2026, 11, 25)).count() == 1


def test_a_lead_edits_an_item_and_uploads_evidence(northwind, alice):
    owner = person(northwind, "Priya Shah")
    charter = ReadinessItem.objects.get(plan=northwind, key="charter")
    response = client_for(alice).post(
        f"/plans/northwind/readiness/items/{charter.pk}/",
        {
            "owner": owner.pk,
            "due_date": "2027-01-15",
            "status": "done",
            "evidence_url": "https://sharepoint.example.com/charter",
            "notes": "Signed by the CIO",
            "evidence_upload": SimpleUploadedFile("charter.pdf", b"%PDF-1.7", content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    charter.refresh_from_db()
    assert (charter.owner, charter.status, charter.due_date) == (owner, "done", date(2027, 1, 15))
    assert charter.evidence_file.name.endswith(".pdf")


def test_a_bad_evidence_file_is_a_form_error_and_nothing_changes(northwind, alice):
    charter = ReadinessItem.objects.get(plan=northwind, key="charter")
    response = client_for(alice).post(
        f"/plans/northwind/readiness/items/{charter.pk}/",
        {"status": "done", "evidence_upload": SimpleUploadedFile("run.exe", b"MZ")},
    )
    assert response.status_code == 200
    assert "files are not accepted" in response.content.decode()
    charter.refresh_from_db()
    assert charter.status == "open" and not charter.evidence_file


def test_another_plans_item_is_404(northwind, other_plan, dave, alice):
    theirs = seeded(other_plan).readiness_items.get(key="charter")
    client = client_for(alice)
    assert client.get(f"/plans/northwind/readiness/items/{theirs.pk}/").status_code == 404
    assert client.get(f"/plans/northwind/readiness/items/{theirs.pk}/evidence/").status_code == 404


def test_an_override_without_a_reason_is_refused_with_a_message(northwind, bob):
    response = client_for(bob).post(
        "/plans/northwind/readiness/gate-override/", {"action": "operate", "reason": ""}, follow=True
    )
    assert "Say why the gate may be passed" in response.content.decode()
    assert not GateOverride.objects.exists()
    client_for(bob).post(
        "/plans/northwind/readiness/gate-override/", {"action": "operate", "reason": "Accepted risk"}
    )
    assert GateOverride.objects.get().created_by == bob


def test_the_transition_timeline_shows_phases_activities_and_targets(northwind, alice):
    activity(northwind, Kind.UAT_DRILL, UAT_START, 3, title="UAT support drill", held=True)
    page = client_for(alice).get("/plans/northwind/readiness/transition/").content.decode()
    for phase in ("Initiate", "Implement", "Prepare", "Operate"):
        assert f">{phase}</div>" in page
    assert "UAT support drill" in page and 'class="tl-actual"' in page


def test_an_activity_with_bad_dates_is_a_form_error_and_a_good_one_is_added(northwind, alice):
    client = client_for(alice)
    data = {
        "kind": "handover",
        "title": "Handover week",
        "planned_start": "2027-03-01",
        "planned_end": "2027-02-01",
    }
    response = client.post("/plans/northwind/readiness/transition/activities/new/", data)
    assert response.status_code == 200 and "cannot end before it starts" in response.content.decode()
    assert not TransitionActivity.objects.exists()
    response = client.post(
        "/plans/northwind/readiness/transition/activities/new/", data | {"planned_end": "2027-03-05"}
    )
    assert response.status_code == 302
    assert TransitionActivity.objects.get().title == "Handover week"


def test_the_hypercare_page_shows_criteria_and_a_blocked_start(northwind, alice):
    client = client_for(alice)
    page = client.get("/plans/northwind/readiness/hypercare/").content.decode()
    assert "no decided P1/P2 clock yet" in page and "The go-live gate blocks the start" in page
    response = client.post("/plans/northwind/readiness/hypercare/start/", follow=True)
    assert "The go-live gate is closed" in response.content.decode()
    saved = client.post(
        "/plans/northwind/readiness/hypercare/",
        {"planned_end": "2027-05-15", "starts_on": "2027-06-01", "p1_p2_met_threshold": 90,
         "resolved_without_hypercare_threshold": 95, "committed_project_hours": 0,
         "committed_partner_hours": 0, "used_project_hours": 0, "used_partner_hours": 0},
    )  # fmt: skip
    assert saved.status_code == 200 and "Hypercare cannot end before it starts" in saved.content.decode()


def test_the_readiness_page_costs_a_fixed_number_of_queries(northwind, alice):
    client = client_for(alice)

    def grow(start: int) -> None:
        for day in range(start, start + 5):
            activity(northwind, Kind.HANDOVER, date(2026, 9, 1 + day), title=f"Handover {day}")
            person(northwind, f"Person {day}")

    grow(0)
    client.get("/plans/northwind/readiness/")
    with CaptureQueriesContext(connection) as few:
        client.get("/plans/northwind/readiness/")
    grow(5)
    with CaptureQueriesContext(connection) as more:
        client.get("/plans/northwind/readiness/")
    assert len(more) == len(few)


def test_the_plan_form_refuses_operate_while_the_gate_is_closed(northwind, alice):
    data = {
        "name": northwind.name,
        "slug": "northwind",
        "products": ["finance_operations"],
        "phase": "operate",
        "go_live_date": "2027-04-01",
    }
    response = client_for(alice).post("/plans/northwind/edit/", data)
    assert response.status_code == 200
    assert "The go-live gate is closed" in response.content.decode()
    northwind.refresh_from_db()
    assert northwind.phase == "initiate"


def test_the_hypercare_form_shows_its_dates_in_the_date_inputs(northwind, alice):
    complete_hypercare(northwind)
    page = client_for(alice).get("/plans/northwind/readiness/hypercare/").content.decode()
    assert 'name="starts_on" value="2027-04-01"' in page
    assert 'name="planned_end" value="2027-05-13"' in page
