"""Demo partner access for the demo plan (``manage.py seed_demo``, after the support model): policies
for the partner (Contoso Consulting) and the ISV (Wide World Warehousing), one pending request and one
expired grant of carol's. Bob Clarke (the support lead's person) approves, so his person is linked to
the ``bob`` login. Converges: a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from models_catalog import services as catalog_services
from models_catalog.models import Party, Person
from operations import access_services as services
from operations.models import AccessPolicy, AccessRequest
from supportplan.models import SupportPlan

PARTNER = "Contoso Consulting"
ISV = "Wide World Warehousing (WMS ISV)"
APPROVER = ("Bob Clarke", "bob")
REQUESTER = "carol"

# party, environment, data class, pre-approved for P1, max hours, notes
POLICIES = [
    (
        PARTNER,
        "production",
        "anonymised",
        True,
        8,
        "Read-only diagnostic role; personal data masked in views.",
    ),
    (PARTNER, "support_copy", "anonymised", False, 72, "The anonymised copy refreshed monthly."),
    (PARTNER, "test", "full", False, 168, "UAT and regression testing."),
    (PARTNER, "development", "full", False, 720, "Their own development boxes."),
    (ISV, "production", "none", False, 1, "No production access: the ISV reproduces on the support copy."),
    (ISV, "support_copy", "anonymised", False, 48, "WMS integration diagnostics."),
]

PENDING_REASON = "Reproduce the intercompany invoice posting error on the support copy (demo)."
EXPIRED_REASON = "Run the regression pack for the WMS integration fix in UAT (demo)."


@transaction.atomic
def seed_access_demo(*, plan: SupportPlan) -> None:
    parties = {party.name: party for party in Party.objects.filter(plan=plan, name__in=[PARTNER, ISV])}
    if len(parties) < 2:
        return  # the support model's demo did not run; nothing to attach policies to
    user_model = get_user_model()
    bob = user_model.objects.filter(username=APPROVER[1]).first()
    approver = Person.objects.filter(plan=plan, name=APPROVER[0]).first()
    if approver is not None and approver.user_id is None and bob is not None:
        approver = catalog_services.person_update(person=approver, user=bob)

    for party_name, environment, data_class, p1, max_hours, notes in POLICIES:
        party = parties[party_name]
        if AccessPolicy.objects.filter(party=party, environment=environment).exists():
            continue
        services.access_policy_create(
            plan=plan,
            party=party,
            environment=environment,
            data_class=data_class,
            approver=approver if data_class != "none" and approver and approver.user_id else None,
            preapproved_for_p1=p1,
            max_duration_hours=max_hours,
            notes=notes,
        )

    carol = user_model.objects.filter(username=REQUESTER).first()
    if carol is None or bob is None:
        return
    partner = parties[PARTNER]
    now = timezone.now()
    if not AccessRequest.objects.filter(plan=plan, reason=EXPIRED_REASON).exists():
        asked = now - timedelta(days=10)
        expired = services.access_request_create(
            plan=plan,
            actor=carol,
            party=partner,
            environment="test",
            reason=EXPIRED_REASON,
            duration_hours=8,
            now=asked,
        )
        services.access_request_decide(
            access_request=expired,
            actor=bob,
            approve=True,
            note="Fine for the regression run.",
            now=asked + timedelta(minutes=40),
        )
        services.access_grants_expire(now=now)
        # The demo row was asked ten days ago: show it so (auto_now_add stamped it now).
        AccessRequest.objects.filter(pk=expired.pk).update(created_at=asked)
    if not AccessRequest.objects.filter(plan=plan, reason=PENDING_REASON).exists():
        services.access_request_create(
            plan=plan,
            actor=carol,
            party=partner,
            environment="support_copy",
            reason=PENDING_REASON,
            duration_hours=24,
            now=now - timedelta(hours=2),
        )
