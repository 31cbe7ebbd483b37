"""Builders for the partner-access tests (test_access_*.py, test_partner_view.py,
test_gaps_and_risks.py): the partner organisation carol belongs to, an ISV, an approver with a login
(tina's person), policies, P1/P2 support requests and a frozen instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models_catalog.models import Party, Person
from operations.models import AccessPolicy, Priority, SupportRequest
from supportplan.models import Membership

NOW = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)


def make_policy(plan, party, environment="support_copy", **fields) -> AccessPolicy:
    defaults = {"data_class": "anonymised", "max_duration_hours": 24, "preapproved_for_p1": False}
    return AccessPolicy.objects.create(
        plan=plan, party=party, environment=environment, **{**defaults, **fields}
    )


def make_request(plan, *, title="Invoices do not post", priority=None, status="in_progress", party=None):
    return SupportRequest.objects.create(
        plan=plan, title=title, priority=priority, status=status, reported_at=NOW, current_party=party
    )


@pytest.fixture
def partner(plan):
    return Party.objects.create(plan=plan, name="Contoso Consulting", kind="partner")


@pytest.fixture
def isv(plan):
    return Party.objects.create(plan=plan, name="Wide World WMS", kind="isv")


@pytest.fixture
def carol_of_partner(carol, partner, plan):
    Membership.objects.filter(plan=plan, user=carol).update(organisation=partner)
    return carol


@pytest.fixture
def approver(plan, tina):
    return Person.objects.create(plan=plan, name="Tina Schneider", user=tina, email="tina@example.com")


@pytest.fixture
def policy(plan, partner, approver):
    return make_policy(plan, partner, "support_copy", approver=approver, max_duration_hours=24)


@pytest.fixture
def production_policy(plan, partner, approver):
    return make_policy(
        plan, partner, "production", approver=approver, max_duration_hours=8, preapproved_for_p1=True
    )


@pytest.fixture
def p1(plan):
    return Priority.objects.create(plan=plan, code="P1", name="Critical", rank=1)


@pytest.fixture
def p2(plan):
    return Priority.objects.create(plan=plan, code="P2", name="High", rank=2)


@pytest.fixture
def open_p1(plan, p1, partner):
    return make_request(plan, title="Warehouse cannot ship", priority=p1, party=partner)
