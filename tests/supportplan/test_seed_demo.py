"""The demo plan: the case study's distributor, one login per role, safe to run twice."""

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from supportplan.models import AuditEntry, Location, Membership, SupportPlan


def test_seed_demo_builds_the_case_study_plan_and_converges(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (SupportPlan.objects.count(), Location.objects.count(), Membership.objects.count())
    audit_rows = AuditEntry.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (SupportPlan.objects.count(), Location.objects.count(), Membership.objects.count()) == counts
    assert AuditEntry.objects.count() == audit_rows

    plan = SupportPlan.objects.get(slug="northwind-d365")
    assert plan.phase == "prepare"
    assert {"finance_operations", "customer_engagement"} == set(plan.products)
    assert sorted(plan.locations.values_list("country", flat=True)) == ["DE", "FR", "GB", "NL"]
    assert sum(plan.locations.values_list("user_count", flat=True)) == 1000
    roles = dict(plan.memberships.values_list("user__username", "role"))
    assert roles == {
        "alice": "project_lead",
        "bob": "support_lead",
        "tina": "team_member",
        "carol": "partner",
        "victor": "viewer",
    }
    assert 250 <= (plan.go_live_date - plan.created_at.date()).days <= 320


def test_the_demo_logins_work(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    request = RequestFactory().post("/accounts/login/")
    for username in ("alice", "bob", "tina", "carol", "victor", "dave", "admin"):
        assert authenticate(request, username=username, password="supportplan-demo") is not None
