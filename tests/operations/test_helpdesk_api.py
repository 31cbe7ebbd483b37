"""The helpdesk ingestion and read API: upserts, events in any order, idempotency, bad input, filters,
cursor pages, partners, other plans and the access matrix."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse

from operations.helpdesk import idempotency
from operations.helpdesk import services as helpdesk_services
from operations.models import (
    IdempotencyRecord,
    RequestEvent,
    RequestReference,
    SlaClock,
    StatusMapping,
    SupportRequest,
)
from supportplan import services as plan_services
from supportplan.models import ApiKeyScope
from tests.conftest import api_as
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import make_partner_member, utc

#: Monday 5 July 2027, steady state; the office-hours calendar opens at 09:00 London (08:00 UTC).
NOW = utc(2027, 7, 5, 10, 0)
REQUESTS = reverse("supportrequest-list")
SERVICENOW_STATUSES = {
    "New": ("new", ""),
    "Work in Progress": ("in_progress", ""),
    "Pending Caller": ("awaiting_customer", "pause"),
    "Resolved": ("resolved", ""),
}

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def servicenow(plan, alice, helpdesk_world):
    api_key, raw = plan_services.api_key_create(
        plan=plan, name="ServiceNow", scope=ApiKeyScope.READ_WRITE, created_by=alice
    )
    for external, (status, effect) in SERVICENOW_STATUSES.items():
        StatusMapping.objects.create(
            plan=plan, api_key=api_key, external_status=external, status=status, clock_effect=effect
        )
    return SimpleNamespace(key=api_key, raw=raw, api=api_as(key=raw))


def incident(source_id: str = "INC0012345", **fields) -> dict:
    body = {
        "source_system": "servicenow",
        "source_id": source_id,
        "title": "Warehouse cannot post picking lists",
        "description": "Picking lists for Jane Doe's orders fail in WH-02.",
        "description_anonymised": "Picking lists fail in one warehouse.",
        "request_type": "incident",
        "impact": "high",
        "urgency": "high",
        "status": "New",
        "reported_at": "2027-07-05T09:00:00+01:00",
    }
    return {**body, **fields}


def events_url(request_id: int) -> str:
    return reverse("supportrequest-events", args=[request_id])


def create(servicenow, source_id: str = "INC0012345", **fields) -> dict:
    response = servicenow.api.post(REQUESTS, incident(source_id, **fields), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post_event(servicenow, request_id: int, key: str | None = None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return servicenow.api.post(events_url(request_id), body, format="json", **headers)


def state_of(request_id: int) -> tuple:
    request = SupportRequest.objects.get(pk=request_id)
    clocks = sorted(
        (clock.metric, clock.cycle, clock.state, clock.elapsed_seconds, clock.breach_at)
        for clock in SlaClock.objects.filter(request_id=request_id)
    )
    return request.status, request.priority_id, request.current_level_id, request.first_response_at, clocks


# --- Upsert ---------------------------------------------------------------------------------
def test_a_helpdesk_creates_a_request_and_updates_it_by_the_same_source_id(servicenow, helpdesk):
    created = servicenow.api.post(REQUESTS, incident(), format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["plan"], body["priority"], body["status"]) == ("northwind", "P1", "new")
    assert body["reported_at"] == "2027-07-05T08:00:00Z"
    assert {clock["metric"] for clock in body["clocks"]} >= {"first_response", "resolution"}

    updated = servicenow.api.post(
        REQUESTS, incident(title="Picking lists fail in every warehouse", urgency="medium"), format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == body["id"]
    assert SupportRequest.objects.get().title == "Picking lists fail in every warehouse"
    assert SupportRequest.objects.count() == 1


def test_the_reporting_agent_is_kept_on_the_created_event_not_refused(servicenow, helpdesk):
    body = create(servicenow, actor_name="Sam on the service desk")
    created = RequestEvent.objects.get(request_id=body["id"], kind="created")
    assert created.actor_name == "Sam on the service desk"


def test_the_request_detail_has_clocks_with_due_instants_in_utc_and_local_time(servicenow, helpdesk):
    body = create(servicenow, impact="medium", urgency="medium")
    detail = servicenow.api.get(reverse("supportrequest-detail", args=[body["id"]])).json()
    first_response = next(clock for clock in detail["clocks"] if clock["metric"] == "first_response")
    assert first_response["state"] in {"running", "breached"}
    assert first_response["due_at"] is not None and first_response["due_at_local"] is not None
    assert first_response["timezone"] == "Europe/London"
    assert (
        first_response["remaining_seconds"] + first_response["elapsed_seconds"]
        == first_response["target_seconds"]
    )
    assert detail["description"].startswith("Picking lists for Jane Doe")
    assert isinstance(detail["trace"], list)


# --- Events: order and idempotency ------------------------------------------------------------
def test_events_sent_out_of_order_give_the_same_state_and_clocks_as_in_order(servicenow, helpdesk):
    timeline = [
        {"kind": "status_changed", "status": "Work in Progress", "occurred_at": "2027-07-05T08:10:00Z"},
        {"kind": "public_update", "body": "Looking into it.", "occurred_at": "2027-07-05T08:20:00Z"},
        {"kind": "status_changed", "status": "Pending Caller", "occurred_at": "2027-07-05T08:30:00Z"},
        {"kind": "status_changed", "status": "Work in Progress", "occurred_at": "2027-07-05T09:15:00Z"},
        {"kind": "comment", "body": "Batch job restarted.", "occurred_at": "2027-07-05T09:20:00Z"},
    ]
    in_order = create(servicenow, "INC0000001")["id"]
    shuffled = create(servicenow, "INC0000002")["id"]
    for event in timeline:
        assert post_event(servicenow, in_order, **event).status_code == 201
    for event in random.Random(4).sample(timeline, len(timeline)):
        assert post_event(servicenow, shuffled, **event).status_code == 201
    assert state_of(in_order) == state_of(shuffled)
    assert state_of(in_order)[0] == "in_progress"
    listed = servicenow.api.get(events_url(shuffled)).json()["results"]
    assert [event["occurred_at"] for event in listed] == sorted(event["occurred_at"] for event in listed)


def test_a_replay_with_the_same_key_returns_the_original_response_and_stores_one_event(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    event = {"kind": "public_update", "body": "Engineer on site.", "occurred_at": "2027-07-05T08:30:00Z"}
    first = post_event(servicenow, request_id, key="sn-evt-1", **event)
    again = post_event(servicenow, request_id, key="sn-evt-1", **event)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert RequestEvent.objects.filter(request_id=request_id, kind="public_update").count() == 1


def test_the_same_key_with_a_different_body_is_422_and_stores_nothing(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    post_event(
        servicenow, request_id, key="sn-evt-1", kind="comment", body="A", occurred_at="2027-07-05T08:30Z"
    )
    count = RequestEvent.objects.count()
    reused = post_event(
        servicenow, request_id, key="sn-evt-1", kind="comment", body="B", occurred_at="2027-07-05T08:30Z"
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert RequestEvent.objects.count() == count


def test_the_helpdesks_own_event_id_makes_a_retry_idempotent_without_a_header(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    event = {"kind": "comment", "body": "Called back.", "occurred_at": "2027-07-05T08:40:00Z"}
    first = post_event(servicenow, request_id, source_event_id="sys-7f3a9c", **event)
    retry = post_event(servicenow, request_id, source_event_id="sys-7f3a9c", **event)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert RequestEvent.objects.filter(source_event_id="sys-7f3a9c").count() == 1


def test_a_refused_write_keeps_no_claim_so_the_corrected_body_may_reuse_the_key(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    naive = post_event(
        servicenow, request_id, key="k-1", kind="comment", body="x", occurred_at="2027-07-05T08:40"
    )
    assert naive.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-1").exists()
    fixed = post_event(
        servicenow, request_id, key="k-1", kind="comment", body="x", occurred_at="2027-07-05T08:40Z"
    )
    assert fixed.status_code == 201


def test_an_upsert_replay_returns_the_stored_response_even_after_later_changes(servicenow, helpdesk):
    first = servicenow.api.post(REQUESTS, incident(), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    servicenow.api.post(REQUESTS, incident(title="Renamed"), format="json")
    replay = servicenow.api.post(REQUESTS, incident(), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert SupportRequest.objects.get().title == "Renamed"


def test_keys_are_kept_72_hours_and_purged_after(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    post_event(servicenow, request_id, key="old", kind="comment", body="x", occurred_at="2027-07-05T08:40Z")
    record = IdempotencyRecord.objects.get(key="old")
    assert record.expires_at == NOW + timedelta(hours=72)
    assert record.principal == f"key:{servicenow.key.pk}"
    assert idempotency.idempotency_purge(now=NOW + timedelta(hours=71)) == 0
    assert idempotency.idempotency_purge(now=NOW + timedelta(hours=73)) == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_on_postgresql_store_one_event(
    needs_postgres, servicenow, helpdesk
):
    request_id = create(servicenow)["id"]
    real_record = helpdesk_services.event_record
    barrier, results, errors = threading.Barrier(2), [], []

    def slow_record(**kwargs):
        time.sleep(0.3)  # hold the claim while the other request arrives
        return real_record(**kwargs)

    def send() -> None:
        try:
            barrier.wait()
            client = api_as(key=servicenow.raw)
            response = post_event(
                SimpleNamespace(api=client),
                request_id,
                key="same-key",
                kind="public_update",
                body="Engineer on site.",
                occurred_at="2027-07-05T08:30:00Z",
            )
            results.append((response.status_code, response.get("Idempotent-Replayed"), response.json()))
        except Exception as error:  # reported below; a thread's exception would be lost
            errors.append(error)
        finally:
            connection.close()

    helpdesk_services.event_record = slow_record
    try:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        helpdesk_services.event_record = real_record
    assert errors == []
    assert sorted(status for status, _replayed, _body in results) == [201, 201]
    assert sorted(str(replayed) for _status, replayed, _body in results) == ["None", "true"]
    assert results[0][2] == results[1][2]
    assert RequestEvent.objects.filter(request_id=request_id, kind="public_update").count() == 1


# --- Bad input ------------------------------------------------------------------------------
def test_an_unknown_status_is_400_listing_the_known_ones_and_stores_nothing(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    count = RequestEvent.objects.count()
    response = post_event(
        servicenow, request_id, kind="status_changed", status="On Hold", occurred_at="2027-07-05T08:30:00Z"
    )
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["status"])
    assert "On Hold" in message and "Pending Caller" in message
    assert RequestEvent.objects.count() == count


def test_an_unknown_priority_is_400_with_the_known_codes(servicenow, helpdesk):
    response = servicenow.api.post(REQUESTS, incident(priority="P9"), format="json")
    assert response.status_code == 400
    assert "P1" in " ".join(response.json()["error"]["fields"]["priority"])
    assert not SupportRequest.objects.exists()


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [("2027-07-05T08:30:00", "offset"), ("yesterday", "ISO 8601"), ("2027-07-06T10:30:00Z", "future")],
)
def test_naive_malformed_or_future_timestamps_are_400_and_store_nothing(
    servicenow, helpdesk, occurred_at, message
):
    request_id = create(servicenow)["id"]
    count = RequestEvent.objects.count()
    response = post_event(servicenow, request_id, kind="comment", body="x", occurred_at=occurred_at)
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"]["occurred_at"])
    assert RequestEvent.objects.count() == count


def test_an_event_for_an_unknown_request_is_404(servicenow, helpdesk):
    event = {"kind": "comment", "body": "x", "occurred_at": "2027-07-05T08:30:00Z"}
    assert post_event(servicenow, 999999, **event).status_code == 404
    by_reference = reverse("supportrequest-by-reference-events", args=["servicenow", "INC0099999"])
    assert servicenow.api.post(by_reference, event, format="json").status_code == 404
    assert not RequestEvent.objects.exists()


def test_an_event_can_name_its_request_by_an_external_reference(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    url = reverse("supportrequest-by-reference-events", args=["servicenow", "INC0012345"])
    response = servicenow.api.post(
        url, {"kind": "public_update", "body": "x", "occurred_at": "2027-07-05T08:30:00Z"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["request"] == request_id


def test_a_hand_off_reference_that_does_not_match_the_partys_pattern_is_400(servicenow, helpdesk):
    request_id = create(servicenow)["id"]
    response = post_event(
        servicenow,
        request_id,
        kind="handed_off",
        level=3,
        party=helpdesk.partner.pk,
        reference_system="partner",
        reference="4411",
        occurred_at="2027-07-05T08:30:00Z",
    )
    assert response.status_code == 400
    assert not RequestReference.objects.filter(reference="4411").exists()
    assert not RequestEvent.objects.filter(kind="handed_off").exists()


def test_an_oversized_body_is_413_and_stores_nothing(servicenow, helpdesk):
    response = servicenow.api.post(REQUESTS, incident(description="x" * 300_000), format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not SupportRequest.objects.exists()


# --- Lists: filters and cursor pages -----------------------------------------------------------
@pytest.fixture
def three_requests(servicenow, helpdesk):
    urgent = create(servicenow, "INC0000001", impact="high", urgency="high")["id"]
    normal = create(servicenow, "INC0000002", impact="medium", urgency="medium")["id"]
    later = create(servicenow, "INC0000003", impact="low", urgency="low", title="Printer jam")["id"]
    post_event(
        servicenow,
        normal,
        kind="handed_off",
        level=3,
        party=helpdesk.partner.pk,
        reference_system="partner",
        reference="PRT-4411",
        occurred_at="2027-07-05T08:30:00Z",
    )
    return SimpleNamespace(urgent=urgent, normal=normal, later=later)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_list_filters_by_status_priority_level_party_and_reference(servicenow, helpdesk, three_requests):
    api, r = servicenow.api, three_requests
    assert set(ids(api.get(REQUESTS, {"status": "new"}))) == {r.urgent, r.normal, r.later}
    assert ids(api.get(REQUESTS, {"priority": "p1"})) == [r.urgent]
    assert ids(api.get(REQUESTS, {"level": 3})) == [r.normal]
    assert ids(api.get(REQUESTS, {"party": helpdesk.partner.pk})) == [r.normal]
    assert ids(api.get(REQUESTS, {"reference": "PRT-4411"})) == [r.normal]
    assert ids(api.get(REQUESTS, {"reference": "INC0000003"})) == [r.later]
    assert ids(api.get(REQUESTS, {"q": "printer"})) == [r.later]


def test_the_list_filters_breached_and_at_risk_requests(servicenow, helpdesk, three_requests):
    api, r = servicenow.api, three_requests
    SupportRequest.objects.filter(pk=r.urgent).update(
        sla_state="breached", next_breach_at=NOW - timedelta(minutes=5)
    )
    SupportRequest.objects.filter(pk=r.normal).update(
        sla_state="at_risk", next_breach_at=NOW + timedelta(minutes=20)
    )
    SupportRequest.objects.filter(pk=r.later).update(sla_state="ok", next_breach_at=NOW + timedelta(hours=9))
    assert ids(api.get(REQUESTS, {"breached": "true"})) == [r.urgent]
    assert ids(api.get(REQUESTS, {"at_risk_minutes": 30})) == [r.normal]
    assert set(ids(api.get(REQUESTS, {"at_risk_minutes": 600}))) == {r.normal, r.later}
    assert api.get(REQUESTS, {"at_risk_minutes": -5}).status_code == 400


def test_updated_since_needs_an_aware_timestamp(servicenow, helpdesk, three_requests):
    SupportRequest.objects.filter(pk=three_requests.later).update(updated_at=NOW + timedelta(minutes=1))
    SupportRequest.objects.exclude(pk=three_requests.later).update(updated_at=NOW - timedelta(hours=1))
    api = servicenow.api
    assert ids(api.get(REQUESTS, {"updated_since": "2027-07-05T10:00:30Z"})) == [three_requests.later]
    naive = api.get(REQUESTS, {"updated_since": "2027-07-05T10:00:30"})
    assert naive.status_code == 400
    assert "offset" in " ".join(naive.json()["error"]["fields"]["updated_since"])


def test_cursor_pages_walk_every_request_once_newest_change_first(servicenow, helpdesk):
    for number in range(5):
        create(servicenow, f"INC000000{number}")
    seen, url, params = [], REQUESTS, {"page_size": 2}
    while url:
        body = servicenow.api.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
    expected = list(SupportRequest.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert seen == expected and len(seen) == 5


def test_the_list_costs_a_fixed_number_of_queries(servicenow, helpdesk, django_assert_max_num_queries):
    for number in range(6):
        create(servicenow, f"INC000000{number}")
    with django_assert_max_num_queries(8):
        assert len(ids(servicenow.api.get(REQUESTS))) == 6


# --- Who sees and writes what ------------------------------------------------------------------
def test_a_partner_sees_only_requests_its_organisation_holds_or_held(
    servicenow, helpdesk, carol, three_requests
):
    make_partner_member(helpdesk.plan, carol, helpdesk.partner)
    partner = api_as(user=carol)
    assert ids(partner.get(REQUESTS)) == [three_requests.normal]
    assert partner.get(reverse("supportrequest-detail", args=[three_requests.urgent])).status_code == 404
    references = partner.get(reverse("requestreference-list")).json()["results"]
    assert {ref["request"] for ref in references} == {three_requests.normal}


def test_a_partner_allowed_anonymised_data_only_reads_the_anonymised_description(servicenow, helpdesk, carol):
    make_partner_member(helpdesk.plan, carol, helpdesk.isv)
    request_id = create(servicenow)["id"]
    post_event(
        servicenow,
        request_id,
        kind="handed_off",
        level=4,
        party=helpdesk.isv.pk,
        reference_system="isv",
        reference="FWA-123",
        occurred_at="2027-07-05T08:30:00Z",
    )
    detail = api_as(user=carol).get(reverse("supportrequest-detail", args=[request_id])).json()
    assert detail["description"] == "Picking lists fail in one warehouse."
    assert "Jane Doe" not in str(detail)


def test_another_plans_requests_are_404(servicenow, helpdesk, dave):
    request_id = create(servicenow)["id"]
    other = api_as(user=dave)
    assert other.get(reverse("supportrequest-detail", args=[request_id])).status_code == 404
    event = {"kind": "comment", "body": "x", "occurred_at": "2027-07-05T08:30:00Z"}
    assert other.post(events_url(request_id), event, format="json").status_code == 404
    assert ids(other.get(REQUESTS)) == []


def test_a_read_key_cannot_write(servicenow, helpdesk, read_key):
    request_id = create(servicenow)["id"]
    reader = api_as(key=read_key)
    assert reader.post(REQUESTS, incident("INC0000009"), format="json").status_code == 403
    event = {"kind": "comment", "body": "x", "occurred_at": "2027-07-05T08:30:00Z"}
    assert reader.post(events_url(request_id), event, format="json").status_code == 403
    assert reader.get(reverse("supportrequest-detail", args=[request_id])).status_code == 200


@pytest.mark.parametrize(
    ("who", "read", "upsert", "event", "mapping"),
    [
        ("alice", 200, 201, 201, 201),
        ("bob", 200, 201, 201, 201),
        # Keys are credentials only leads see: to others a key id "does not exist" (400).
        ("tina", 200, 403, 201, 400),
        ("victor", 200, 403, 403, 400),
        ("carol", 404, 403, 404, 400),
        ("write_key", 200, 201, 201, 403),
        ("read_key", 200, 403, 403, 403),
        ("dave", 404, 400, 404, 400),
    ],
)
def test_the_access_matrix_of_the_helpdesk_endpoints(
    request,
    servicenow,
    helpdesk,
    alice,
    bob,
    tina,
    victor,
    carol,
    dave,
    write_key,
    read_key,
    who,
    read,
    upsert,
    event,
    mapping,
):
    request_id = create(servicenow)["id"]
    client = api_as(key=request.getfixturevalue(who)) if who.endswith("_key") else api_as(user=locals()[who])
    detail = client.get(reverse("supportrequest-detail", args=[request_id]))
    assert detail.status_code == read
    body = incident("INC0000077", plan="northwind", status="new")
    assert client.post(REQUESTS, body, format="json").status_code == upsert
    note = {"kind": "comment", "body": "x", "occurred_at": "2027-07-05T08:30:00Z"}
    assert client.post(events_url(request_id), note, format="json").status_code == event
    new_mapping = {
        "plan": "northwind",
        "api_key": servicenow.key.pk,
        "external_status": "On Hold",
        "status": "awaiting_customer",
        "clock_effect": "pause",
    }
    assert client.post(reverse("statusmapping-list"), new_mapping, format="json").status_code == mapping
    assert StatusMapping.objects.filter(external_status="On Hold").exists() == (mapping == 201)


def test_a_lead_maps_a_new_status_name_and_the_helpdesk_may_then_send_it(servicenow, helpdesk, bob):
    request_id = create(servicenow)["id"]
    mapping = {
        "plan": "northwind",
        "api_key": servicenow.key.pk,
        "external_status": "On Hold",
        "status": "awaiting_customer",
        "clock_effect": "pause",
    }
    assert api_as(user=bob).post(reverse("statusmapping-list"), mapping, format="json").status_code == 201
    sent = post_event(
        servicenow, request_id, kind="status_changed", status="on hold", occurred_at="2027-07-05T08:30Z"
    )
    assert sent.status_code == 201
    assert (sent.json()["status"], sent.json()["clock_effect"]) == ("awaiting_customer", "pause")
    listed = servicenow.api.get(reverse("statusmapping-list"), {"api_key": servicenow.key.pk}).json()[
        "results"
    ]
    assert "On Hold" in {row["external_status"] for row in listed}


def test_references_are_searchable(servicenow, helpdesk, three_requests):
    found = servicenow.api.get(reverse("requestreference-list"), {"q": "4411"}).json()["results"]
    assert [(ref["system"], ref["reference"], ref["request"]) for ref in found] == [
        ("partner", "PRT-4411", three_requests.normal)
    ]


def test_fingerprints_ignore_key_order_but_not_values():
    first = idempotency.request_fingerprint(method="post", target="requests", body={"a": 1, "b": [1, 2]})
    same = idempotency.request_fingerprint(method="POST", target="requests", body={"b": [1, 2], "a": 1})
    other = idempotency.request_fingerprint(method="POST", target="requests", body={"a": 2, "b": [1, 2]})
    assert first == same != other


def test_a_key_claim_rolls_back_with_a_failed_write(db):
    def failing():
        raise ValueError("boom")

    with pytest.raises(ValueError), transaction.atomic():
        idempotency.idempotent_write(principal="user:1", key="k", fingerprint="f", write=failing)
    assert not IdempotencyRecord.objects.exists()
