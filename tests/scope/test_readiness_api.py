"""The readiness API: the access matrix (leads write, viewers and keys read, partners see nothing,
other plans are 404), evidence uploads, transition activities, targets, hypercare, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scope.readiness_models import ReadinessItem, ReadinessTarget, TransitionActivity
from scope.readiness_models import TransitionActivityKind as Kind
from tests.conftest import api_as
from tests.scope.readiness_fixtures import UAT_START, activity, complete_hypercare, person, seeded


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def northwind(plan, alice, bob, tina, carol, victor):
    return seeded(plan)


@pytest.fixture
def contoso(other_plan, dave):
    return seeded(other_plan)


def item(plan, key: str = "charter") -> ReadinessItem:
    return ReadinessItem.objects.get(plan=plan, key=key)


# --- Access matrix --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "listed", "summary", "hypercare"),
    [("alice", 20, 200, 200), ("tina", 20, 200, 200), ("victor", 20, 200, 200), ("carol", 0, 403, 404)],
)
def test_who_reads_the_checklist_summary_and_hypercare(northwind, request, who, listed, summary, hypercare):
    client = api_as(request.getfixturevalue(who))
    assert client.get("/api/v1/readiness-items/?page_size=100").json()["count"] == listed
    assert client.get("/api/v1/readiness/northwind/").status_code == summary
    assert client.get("/api/v1/hypercare/northwind/").status_code == hypercare


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("tina", 403), ("victor", 403), ("carol", 404)]
)
def test_only_leads_update_an_item(northwind, request, who, status):
    response = api_as(request.getfixturevalue(who)).patch(
        f"/api/v1/readiness-items/{item(northwind).pk}/", {"status": "in_progress"}, format="json"
    )
    assert response.status_code == status
    assert item(northwind).status == ("in_progress" if status == 200 else "open")


def test_api_keys_read_but_never_write_readiness(northwind, read_key, write_key):
    assert api_as(key=read_key).get("/api/v1/readiness/northwind/").status_code == 200
    response = api_as(key=write_key).patch(
        f"/api/v1/readiness-items/{item(northwind).pk}/", {"status": "done"}, format="json"
    )
    assert response.status_code == 403


def test_another_plans_records_are_404(northwind, contoso, alice):
    client = api_as(alice)
    theirs = item(contoso)
    assert client.get(f"/api/v1/readiness-items/{theirs.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/readiness-items/{theirs.pk}/", {"status": "done"}, format="json").status_code
        == 404
    )
    assert client.get("/api/v1/readiness/contoso/").status_code == 404
    assert client.get("/api/v1/hypercare/contoso/").status_code == 404
    assert client.post("/api/v1/hypercare/contoso/start/").status_code == 404
    response = client.post(
        "/api/v1/gate-overrides/", {"plan": "contoso", "action": "operate", "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and "plan" in response.json()["error"]["fields"]


def test_an_owner_from_another_plan_is_a_field_error(northwind, contoso, alice):
    stranger = person(contoso, "Stranger")
    response = api_as(alice).patch(
        f"/api/v1/readiness-items/{item(northwind).pk}/", {"owner": stranger.pk}, format="json"
    )
    assert response.status_code == 400 and "owner" in response.json()["error"]["fields"]


# --- Evidence -------------------------------------------------------------------------------
def upload(name: str, content: bytes = b"%PDF-1.7 signed charter", content_type: str = "application/pdf"):
    return {"file": SimpleUploadedFile(name, content, content_type=content_type)}


def test_a_lead_uploads_evidence_and_the_team_downloads_it(northwind, alice, victor, carol):
    target = item(northwind)
    response = api_as(alice).post(
        f"/api/v1/readiness-items/{target.pk}/evidence/", upload("charter.pdf"), format="multipart"
    )
    assert response.status_code == 200, response.content
    download = response.json()["evidence_file"]
    assert download == f"http://testserver/plans/northwind/readiness/items/{target.pk}/evidence/"
    viewer = api_as(victor).get(download)
    assert viewer.status_code == 200 and b"".join(viewer.streaming_content) == b"%PDF-1.7 signed charter"
    assert api_as(carol).get(download).status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("run.exe", b"MZ", "not accepted"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"x" * (10 * 1024 * 1024 + 1), "limit"),
    ],
)
def test_evidence_of_the_wrong_type_or_size_is_refused_and_nothing_is_stored(
    northwind, alice, name, content, message
):
    target = item(northwind)
    response = api_as(alice).post(
        f"/api/v1/readiness-items/{target.pk}/evidence/", upload(name, content), format="multipart"
    )
    assert response.status_code == 400
    assert message in str(response.json()["error"]["fields"])
    target.refresh_from_db()
    assert not target.evidence_file


def test_evidence_on_another_plans_item_is_404_and_nothing_is_stored(northwind, contoso, alice):
    theirs = item(contoso)
    response = api_as(alice).post(
        f"/api/v1/readiness-items/{theirs.pk}/evidence/", upload("x.pdf"), format="multipart"
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.evidence_file


# --- Summary --------------------------------------------------------------------------------
def test_the_summary_has_scores_derived_evidence_warnings_and_the_gate(northwind, alice):
    complete_hypercare(northwind)
    body = api_as(alice).get("/api/v1/readiness/northwind/").json()
    assert body["plan"] == "northwind" and body["applicable"] == 20
    assert [group["key"] for group in body["groups"]] == ["scope", "model", "operations", "go_live"]
    hypercare = next(entry for entry in body["items"] if entry["key"] == "hypercare_strategy")
    assert hypercare["met"] is True and hypercare["derived"]["met"] is True
    assert body["gate"]["open"] is False and len(body["gate"]["open_items"]) == 17
    assert {warning["rule"] for warning in body["warnings"]} >= {
        "no_uat_drill",
        "no_support_activity_before_uat",
    }


def test_the_summary_costs_a_fixed_number_of_queries(northwind, alice):
    client = api_as(alice)

    def grow(start: int) -> None:
        for day in range(start, start + 5):
            activity(northwind, Kind.HANDOVER, date(2026, 9, 1 + day), title=f"Handover {day}")
            activity(northwind, Kind.SHADOWING, date(2026, 9, 1 + day), title=f"Shadow {day}")
            person(northwind, f"Person {day}")

    grow(0)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/readiness/northwind/")
    grow(5)
    with CaptureQueriesContext(connection) as more:
        client.get("/api/v1/readiness/northwind/")
    assert len(more) == len(few) < 70


def test_the_item_list_costs_a_fixed_number_of_queries(northwind, contoso, alice):
    client = api_as(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/readiness-items/?page_size=100")
    assert response.json()["count"] == 20
    assert len(queries) < 45  # derived evidence once per plan, not per item


# --- Transition activities and targets ------------------------------------------------------
def test_a_lead_plans_an_activity_with_people_of_the_plan(northwind, contoso, alice):
    priya = person(northwind, "Priya")
    payload = {
        "plan": "northwind",
        "kind": "shadowing",
        "title": "Shadow the finance lead",
        "phase": "implement",
        "people": [priya.pk],
        "planned_start": "2026-09-01",
        "planned_end": "2026-09-30",
    }
    response = api_as(alice).post("/api/v1/transition-activities/", payload, format="json")
    assert response.status_code == 201, response.content
    assert TransitionActivity.objects.get().people.get() == priya

    bad = api_as(alice).post(
        "/api/v1/transition-activities/",
        payload | {"planned_end": "2026-08-01", "people": [person(contoso, "Stranger").pk]},
        format="json",
    )
    assert bad.status_code == 400
    assert TransitionActivity.objects.count() == 1


def test_an_activity_ending_before_it_starts_is_a_field_error(northwind, alice):
    response = api_as(alice).post(
        "/api/v1/transition-activities/",
        {
            "plan": "northwind",
            "kind": "training",
            "title": "Training",
            "planned_start": "2027-02-10",
            "planned_end": "2027-02-01",
        },
        format="json",
    )
    assert response.status_code == 400 and "planned_end" in response.json()["error"]["fields"]


def test_viewers_cannot_plan_activities_and_partners_see_none(northwind, victor, carol):
    activity(northwind, Kind.UAT_DRILL, UAT_START)
    payload = {
        "plan": "northwind",
        "kind": "training",
        "title": "T",
        "planned_start": "2027-01-01",
        "planned_end": "2027-01-02",
    }
    assert api_as(victor).post("/api/v1/transition-activities/", payload, format="json").status_code == 403
    assert api_as(victor).get("/api/v1/transition-activities/").json()["count"] == 1
    assert api_as(carol).get("/api/v1/transition-activities/").json()["count"] == 0


def test_readiness_targets_are_crud_for_leads(northwind, bob):
    client = api_as(bob)
    created = client.post(
        "/api/v1/readiness-targets/",
        {"plan": "northwind", "name": "End of build", "target_date": "2027-01-01", "target_percent": 60},
        format="json",
    )
    assert created.status_code == 201
    target_id = created.json()["id"]
    assert (
        client.patch(
            f"/api/v1/readiness-targets/{target_id}/", {"target_percent": 101}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.patch(
            f"/api/v1/readiness-targets/{target_id}/", {"target_percent": 70}, format="json"
        ).status_code
        == 200
    )
    assert client.delete(f"/api/v1/readiness-targets/{target_id}/").status_code == 204
    assert not ReadinessTarget.objects.exists()


# --- Hypercare ------------------------------------------------------------------------------
def test_a_lead_drafts_the_hypercare_plan_and_starting_it_is_gated(northwind, alice):
    client = api_as(alice)
    response = client.patch(
        "/api/v1/hypercare/northwind/",
        {
            "planned_end": "2027-05-15",
            "starts_on": "2027-04-01",
            "committed_partner_hours": "240.0",
            "exit_criteria_notes": "Daily triage",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["metrics"]["criteria"][0]["key"] == "open_p1_without_action_plan"
    bad = client.patch("/api/v1/hypercare/northwind/", {"planned_end": "2027-03-01"}, format="json")
    assert bad.status_code == 400 and "planned_end" in bad.json()["error"]["fields"]
    start = client.post("/api/v1/hypercare/northwind/start/")
    assert start.status_code == 400 and "go-live gate is closed" in str(start.json())
