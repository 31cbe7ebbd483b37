"""The upsert's and the hand-off's lookups as plain prepared statements (issue 7) find what the ORM
finds: the same rows, within the plan, and the same field errors; a reference is stored, returned or
refused as before; and both writes cost fewer statements."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_catalog.models import Party, PartyKind
from models_catalog.services import support_model_choose
from operations.helpdesk.services._common import _level, _party, _status
from operations.helpdesk.services.clocks import _target_rows
from operations.helpdesk.services.references import _reference_store, reference_add
from operations.helpdesk.services.requests import _policy_and_targets
from operations.models import RequestReference, SlaClock, SlaPolicy, SupportRequest
from operations.selectors import policy_in_force
from tests.conftest import api_as
from tests.operations.helpdesk_fixtures import *  # noqa: F403
from tests.operations.helpdesk_fixtures import utc
from tests.operations.test_upsert_fast_path import frozen, upsert  # noqa: F401

pytestmark = [pytest.mark.usefixtures("frozen", "needs_postgres")]


@pytest.fixture
def api(integration):
    return api_as(key=integration.raw)


def _answer(call):
    """What a lookup answers: the instance found (model and id), None, or its field errors."""
    try:
        found = call()
    except ValidationError as error:
        return "error", error.message_dict
    return None if found is None else (type(found).__name__, found.pk)


def plain_and_orm(monkeypatch, call) -> tuple:
    """``call``'s answer with the plain statements, and with the ORM's reads (another vendor name)."""
    plain = _answer(call)
    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "reference")
        orm = _answer(call)
    return plain, orm


def test_a_level_is_found_as_the_orm_finds_it_within_the_plan(helpdesk, other_plan, monkeypatch):
    support_model_choose(plan=other_plan, kind="mixed")  # the other plan has levels of the same numbers
    plan = helpdesk.plan
    values = [1, 3, 5, "2", "L3", "l4", " L2 ", 9, "0", "99999", "123456789", "12345678901", "L", "x", 2.0]
    for value in values:
        plain, orm = plain_and_orm(monkeypatch, lambda value=value: _level(plan, value))
        assert plain == orm, value
    assert _level(plan, "L3").pk == helpdesk.levels[3].pk


def test_a_party_is_found_as_the_orm_finds_it_within_the_plan(helpdesk, other_plan, monkeypatch):
    plan = helpdesk.plan
    stranger = Party.objects.create(plan=other_plan, name="Contoso desk", kind=PartyKind.HELPDESK)
    # A name that is another party's id (the id wins), and names equal but for case (the ORM's order).
    Party.objects.create(plan=plan, name=str(helpdesk.partner.pk), kind=PartyKind.PARTNER)
    Party.objects.create(plan=plan, name="Acme", kind=PartyKind.PARTNER)
    Party.objects.create(plan=plan, name="ACME", kind=PartyKind.HELPDESK)
    Party.objects.create(plan=plan, name="4711", kind=PartyKind.ISV)
    values = [stranger.pk, str(stranger.pk), stranger.name, "acme", "Acme", "4711", " 4711", "nobody", ""]
    values += ["99999999", "99999999999999999999999", True]
    for party in Party.objects.filter(plan=plan):
        values += [party.pk, str(party.pk), party.name, party.name.upper(), f" {party.name.lower()} "]
    for value in values:
        plain, orm = plain_and_orm(monkeypatch, lambda value=value: _party(plan, value))
        assert plain == orm, value
    assert _party(plan, helpdesk.partner.pk).pk == helpdesk.partner.pk
    with pytest.raises(ValidationError):
        _party(plan, stranger.pk)


def test_a_hand_offs_level_and_party_are_found_as_the_orm_finds_them(helpdesk, other_plan, monkeypatch):
    from operations.helpdesk.services.requests import _level_and_party

    support_model_choose(plan=other_plan, kind="mixed")
    stranger = Party.objects.create(plan=other_plan, name="Contoso desk", kind=PartyKind.HELPDESK)
    plan = helpdesk.plan
    parties = [helpdesk.partner.pk, str(helpdesk.isv.pk), "microsoft", stranger.pk, "nobody", "9" * 30]
    for level in [3, "L2", "9", "x", "12345678901", helpdesk.levels[4]]:
        for party in [*parties, helpdesk.helpdesk]:

            def together(level=level, party=party):
                try:
                    found = _level_and_party(plan, level, party)
                except ValidationError as error:
                    return "error", error.message_dict
                return tuple((type(each).__name__, each.pk) for each in found)

            plain = together()
            with monkeypatch.context() as patch:
                patch.setattr(connection, "vendor", "reference")
                apart = (
                    _answer(lambda level=level: _level(plan, level)),
                    _answer(lambda party=party: _party(plan, party)),
                )
            # The level's error first, then the party's, as the separate lookups raise them.
            errors = [answer for answer in apart if answer[0] == "error"]
            assert plain == (errors[0] if errors else apart), (level, party)


def test_a_status_is_mapped_as_the_orm_maps_it(helpdesk, integration, monkeypatch):
    plan = helpdesk.plan
    for api_key in (integration, None):
        for value in ["New", "pending caller", " Pending Vendor ", "resolved", "in_progress", "Nope", ""]:

            def call(value=value, api_key=api_key):
                try:
                    return _status(plan, api_key, value)
                except ValidationError as error:
                    return error.message_dict

            plain = call()
            with monkeypatch.context() as patch:
                patch.setattr(connection, "vendor", "reference")
                assert call() == plain, value


def _days():
    day = date(2026, 12, 1)
    while day < date(2028, 2, 1):
        yield day
        day += timedelta(days=9)
    yield from (date(2027, 3, 31), date(2027, 4, 1), date(2027, 6, 30), date(2027, 7, 1))


def test_the_policy_in_force_is_the_orms_and_its_targets_are_read_with_it(
    helpdesk, other_plan, location, monkeypatch
):
    plan = helpdesk.plan
    # An open-ended policy of the hypercare phase overlapping the steady state's days: the phase wins.
    SlaPolicy.objects.create(plan=plan, name="Late", phase="hypercare", valid_from=date(2027, 12, 1))
    for day in _days():
        for owner in (plan, other_plan):
            plain, orm = plain_and_orm(
                monkeypatch, lambda day=day, owner=owner: policy_in_force(plan=owner, day=day)
            )
            assert plain == orm, (owner, day)
        reported = utc(day.year, day.month, day.day, 23, 30)  # the next day in a zone east of UTC
        for where in (None, location):
            request = SupportRequest(plan=plan, reported_at=reported, location=where)
            policy, target_rows = _policy_and_targets(request)
            from operations.helpdesk.services.clocks import _policy_day

            expected = policy_in_force(plan=plan, day=_policy_day(request))
            assert (policy and policy.pk) == (expected and expected.pk), day
            assert target_rows == (_target_rows(expected) if expected else [])
            if policy is not None:
                assert {f.attname: getattr(policy, f.attname) for f in SlaPolicy._meta.concrete_fields} == {
                    f.attname: getattr(expected, f.attname) for f in SlaPolicy._meta.concrete_fields
                }
    assert any(_target_rows(policy) for policy in SlaPolicy.objects.filter(plan=plan))


def _row(reference: RequestReference) -> dict:
    return {
        field.attname: getattr(reference, field.attname) for field in RequestReference._meta.concrete_fields
    }


def test_a_reference_is_stored_returned_or_refused_as_before(api, helpdesk, monkeypatch):
    first = SupportRequest.objects.get(pk=upsert(api)["id"])
    second = SupportRequest.objects.get(pk=upsert(api, source_id="INC0012346", references=[])["id"])

    def sequence(reference: str) -> list:
        answers = []
        for request in (first, first, second):
            try:
                added = reference_add(request=request, system="partner", reference=reference)
                stored = RequestReference.objects.get(pk=added.pk)
                answers.append(("stored", _row(added) == _row(stored), added.request_id == first.pk))
            except ValidationError as error:
                answers.append(error.message_dict["reference"][0].replace(reference, "…"))
        answers.append(RequestReference.objects.filter(reference=reference).count())
        return answers

    plain = sequence("PRT-5001")
    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "reference")
        orm = sequence("PRT-5002")
    assert (
        plain
        == orm
        == [
            ("stored", True, True),
            ("stored", True, True),
            f"partner reference … already belongs to request #{first.pk}.",
            1,
        ]
    )


def test_a_reference_taken_by_an_unseen_row_is_refused(api, helpdesk, monkeypatch):
    """The statement's lookup sees its snapshot: a key taken by a row it does not see stores
    nothing and finds nothing (a concurrent transaction's); ``reference_add`` refuses it."""
    request = SupportRequest.objects.get(pk=upsert(api)["id"])
    from operations.helpdesk.services import references

    monkeypatch.setattr(references, "_reference_store", lambda made: None)
    with pytest.raises(ValidationError) as refused:
        reference_add(request=request, system="partner", reference="PRT-5003")
    assert refused.value.message_dict == {"reference": ["partner reference PRT-5003 is already taken."]}
    monkeypatch.undo()
    made = RequestReference(plan_id=request.plan_id, request=request, system="partner", reference="PRT-5004")
    assert _reference_store(made) is made and made.pk
    again = RequestReference(plan_id=request.plan_id, request=request, system="partner", reference="PRT-5004")
    assert _row(_reference_store(again)) == _row(made)


def test_a_created_request_and_a_hand_off_cost_fewer_statements(api, helpdesk):
    upsert(api, source_id="INC0000009", references=[{"system": "servicenow", "reference": "INC0000009"}])
    with CaptureQueriesContext(connection) as created:
        request_id = upsert(api)["id"]
    # The key; status mappings, level with its party, matrix cell, source key; the request (with an
    # id for its "created" event); the reference (the event's insert goes with it); the policy with
    # its targets; the response's clocks (the clocks' inserts and the request's columns go with
    # that read); the response's calendars. (Before: 17, the policy, its targets and the clocks
    # read apart, the reference looked up before it was stored; then 14, each write on its own.)
    statements = [query["sql"] for query in created.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 11, "\n".join(statement[:80] for statement in statements)
    clocks_read = statements[-2].split(";\n")
    assert clocks_read[-1].startswith("EXECUTE sp_request_clocks(")
    assert {part.split("(")[0] for part in clocks_read[:-1]} == {
        "EXECUTE sp_clocks_insert_3",
        "EXECUTE sp_request_update",
    }
    hand_off = {
        "kind": "handed_off",
        "level": 3,
        "party": helpdesk.partner.pk,
        "reference_system": "partner",
        "reference": "PRT-4411",
        "occurred_at": "2027-07-05T08:30:00Z",
    }
    url = reverse("supportrequest-events", args=[request_id])
    assert api.post(url, {**hand_off, "reference": "PRT-4410"}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as handed_off:
        assert api.post(url, hand_off, format="json", HTTP_IDEMPOTENCY_KEY="h-2").status_code == 201
    # The key; the claim with the lock and the facts; the level with the party; the reference; the
    # writes (before: 8, the level, the party and the reference's lookup through the ORM apart; then
    # 6, the facts read after the lock).
    # Statements prepared on first use on the connection are not counted.
    statements = [
        query["sql"]
        for query in handed_off.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PREPARE "))
    ]
    assert all(statement.startswith("EXECUTE ") for statement in statements), statements
    assert len(statements) == 5, "\n".join(statement[:80] for statement in statements)


def _stored(request_id: int) -> tuple[dict, list[dict]]:
    request = SupportRequest.objects.get(pk=request_id)
    clocks = SlaClock.objects.filter(request_id=request_id).order_by("pk")
    return _values(request), [_values(clock) for clock in clocks]


def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize(
    "fields",
    [
        {},  # steady state
        {"reported_at": "2027-06-20T09:00:00+01:00", "impact": "high", "urgency": "high"},  # hypercare
        {"reported_at": "2027-06-30T23:30:00Z", "located": True},  # the next day, hypercare's end, in Sydney
    ],
)
def test_a_create_and_an_update_store_what_a_full_recompute_stores(api, helpdesk, plan, fields):
    """The create reads its policy and targets ahead and no clocks, the update its events, clocks and
    targets in one statement: a recompute from scratch (``request_recompute``) changes nothing."""
    from operations.helpdesk.services.clocks import request_recompute
    from tests.factories import LocationFactory

    fields = dict(fields)
    if fields.pop("located", False):
        fields["location"] = LocationFactory(plan=plan, timezone="Australia/Sydney").pk
    request_id = upsert(api, **fields)["id"]
    for update in (
        None,
        {
            "status": "Pending Caller",
            "impact": "low",
            "urgency": "low",
            "occurred_at": "2027-07-05T09:50:00Z",
        },
        {"status": "Work in Progress", "level": 3, "occurred_at": "2027-07-05T09:55:00Z"},
    ):
        if update is not None:
            upsert(api, 200, **update)
        written = _stored(request_id)
        assert written[1], "the request has clocks"
        request_recompute(request=SupportRequest.objects.get(pk=request_id))
        assert _stored(request_id) == written, update
