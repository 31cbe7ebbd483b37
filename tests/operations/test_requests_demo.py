"""The demo's support requests: a few hundred over the last four months, computed by the helpdesk
services (real clocks), with breaches, requests at risk, hand-offs to the partner and one Microsoft
case; a second run adds nothing."""

from __future__ import annotations

import re

import pytest
import time_machine

from operations.models import RequestEvent, RequestReference, SlaClock, SlaPolicy, SupportRequest
from operations.requests_demo import PILOT_POLICY, seed_requests_demo
from tests.operations.test_operations_demo import demo_plan  # noqa: F401 (the fixture)

SEEDED_AT = "2027-01-15 10:00Z"


def counts(plan) -> dict[str, int]:
    return {
        "requests": SupportRequest.objects.filter(plan=plan).count(),
        "events": RequestEvent.objects.filter(plan=plan).count(),
        "clocks": SlaClock.objects.filter(plan=plan).count(),
        "references": RequestReference.objects.filter(plan=plan).count(),
    }


@pytest.fixture
def seeded(demo_plan):  # noqa: F811
    with time_machine.travel(SEEDED_AT, tick=False):
        seed_requests_demo(plan=demo_plan)
    return demo_plan


def test_the_demo_seeds_a_few_hundred_requests_with_real_clocks_once(seeded):
    requests = SupportRequest.objects.filter(plan=seeded)
    assert 200 <= requests.count() <= 300
    assert not requests.filter(clocks__isnull=True).exists(), "every request runs under the pilot policy"
    assert set(requests.values_list("policy__name", flat=True)) == {PILOT_POLICY}
    pilot = SlaPolicy.objects.get(plan=seeded, name=PILOT_POLICY)
    assert pilot.valid_to < seeded.hypercare_start
    breached = requests.filter(sla_state="breached").count()
    assert 0.05 * requests.count() <= breached <= 0.35 * requests.count()
    assert requests.filter(sla_state="at_risk").exists()
    assert requests.exclude(status__in=["resolved", "closed", "cancelled"]).count() >= 3

    before = counts(seeded)
    with time_machine.travel(SEEDED_AT, tick=False):
        seed_requests_demo(plan=seeded)
    assert counts(seeded) == before, "a second run adds nothing"


def test_the_demo_hands_requests_to_the_partner_and_one_to_microsoft(seeded):
    partner_refs = RequestReference.objects.filter(plan=seeded, party__name="Contoso Consulting")
    assert partner_refs.count() >= 20
    assert all(re.fullmatch(r"PRT-\d{4,}", ref) for ref in partner_refs.values_list("reference", flat=True))
    microsoft = RequestReference.objects.get(plan=seeded, party__name="Microsoft")
    assert re.fullmatch(r"\d{16}", microsoft.reference)
    assert microsoft.request.events.filter(kind="handed_off", party__name="Microsoft").count() == 1
    assert (
        RequestEvent.objects.filter(plan=seeded, kind="handed_off", party__name="Contoso Consulting").count()
        >= 20
    )
