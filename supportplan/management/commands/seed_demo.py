"""Builds the demo plan modelled on the guide's case study. Safe to run again: it converges."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from models_catalog.demo import seed_support_model
from models_catalog.staffing_plan import demo_staffing_profiles
from operations.access_demo import seed_access_demo
from operations.demo import seed_operations_demo
from operations.maintenance_demo import seed_maintenance_demo
from operations.requests_demo import seed_requests_demo
from scope.demo import seed_scope_demo
from scope.readiness_demo import seed_readiness_demo
from supportplan import services
from supportplan.models import Location, Membership, Phase, PlanRole, Product, SupportPlan

DEMO_PASSWORD = "supportplan-demo"
DEMO_SLUG = "northwind-d365"
OTHER_SLUG = "contoso-bc"

CAST = [
    # username, first, last, role in the demo plan
    ("alice", "Alice", "Morgan", PlanRole.PROJECT_LEAD),
    ("bob", "Bob", "Clarke", PlanRole.SUPPORT_LEAD),
    ("tina", "Tina", "Schneider", PlanRole.TEAM_MEMBER),
    ("carol", "Carol", "Dupont", PlanRole.PARTNER),
    ("victor", "Victor", "Jansen", PlanRole.VIEWER),
]

LOCATIONS = [
    # name, country, subdivision, time zone, languages, users
    ("Head office, Manchester", "GB", "ENG", "Europe/London", ["en"], 560),
    ("Distribution centre, Duisburg", "DE", "NW", "Europe/Berlin", ["de", "en"], 190),
    ("Sales office, Lyon", "FR", "ARA", "Europe/Paris", ["fr", "en"], 140),
    ("Warehouse, Venlo", "NL", "LI", "Europe/Amsterdam", ["nl", "de", "en"], 110),
]


class Command(BaseCommand):
    help = "Create or refresh the demo plan (Northwind Distribution) and one login per role."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {username: self._user(username, first, last) for username, first, last, _ in CAST}
        admin = self._user("admin", "Ada", "Admin", superuser=True)
        dave = self._user("dave", "Dave", "Okafor")

        plan = SupportPlan.objects.filter(slug=DEMO_SLUG).first()
        go_live = timezone.localdate() + timedelta(days=300)
        if plan is None:
            plan = services.plan_create(
                created_by=users["alice"],
                name="Northwind Distribution — Dynamics 365 rollout",
                slug=DEMO_SLUG,
                products=[Product.FINANCE_OPERATIONS, Product.CUSTOMER_ENGAGEMENT],
                phase=Phase.PREPARE,
                go_live_date=_next_monday(go_live),
                hypercare_start=_next_monday(go_live),
                hypercare_end=_next_monday(go_live) + timedelta(weeks=8),
                description=(
                    "Mid-size distributor moving finance, supply chain and customer service from three "
                    "legacy systems to Dynamics 365 Finance, Supply Chain Management and Customer Service. "
                    "About 1,000 staff: head office in the UK, offices in Germany, France and the Netherlands."
                ),
            )
        for username, _first, _last, role in CAST:
            membership = Membership.objects.filter(plan=plan, user=users[username]).first()
            if membership is None:
                services.membership_add(plan=plan, user=users[username], role=role)
            elif membership.role != role:
                services.membership_change_role(membership=membership, role=role)
        for name, country, subdivision, tz, languages, user_count in LOCATIONS:
            if not Location.objects.filter(plan=plan, name=name).exists():
                services.location_create(
                    plan=plan,
                    name=name,
                    country=country,
                    subdivision=subdivision,
                    timezone=tz,
                    languages=languages,
                    user_count=user_count,
                )

        seed_support_model(plan=plan)
        demo_staffing_profiles(plan=plan)
        seed_operations_demo(plan=plan)
        seed_maintenance_demo(plan=plan)
        seed_scope_demo(plan=plan)
        seed_requests_demo(plan=plan)
        seed_access_demo(plan=plan)
        seed_readiness_demo(plan=plan)

        # A second plan, so the demo shows that plans don't see each other.
        other = SupportPlan.objects.filter(slug=OTHER_SLUG).first()
        if other is None:
            other = services.plan_create(
                created_by=dave,
                name="Contoso Retail — Business Central",
                slug=OTHER_SLUG,
                products=[Product.BUSINESS_CENTRAL],
                phase=Phase.INITIATE,
                go_live_date=date(timezone.localdate().year + 1, 10, 1),
            )
        if not Location.objects.filter(plan=other).exists():
            services.location_create(
                plan=other,
                name="Head office, Dublin",
                country="IE",
                timezone="Europe/Dublin",
                languages=["en"],
                user_count=120,
            )

        self.stdout.write(self.style.SUCCESS(f"Demo plan ready: /plans/{plan.slug}/"))
        self.stdout.write(f"Logins (password “{DEMO_PASSWORD}”):")
        for username, _first, _last, role in CAST:
            self.stdout.write(f"  {username:<7} {PlanRole(role).label}")
        self.stdout.write(f"  {dave.username:<7} project lead of another plan ({other.name})")
        self.stdout.write(f"  {admin.username:<7} superuser (Django admin at /admin/)")

    def _user(self, username: str, first: str, last: str, *, superuser: bool = False):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@northwind.example",
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)
