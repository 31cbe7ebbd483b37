import factory
from django.contrib.auth import get_user_model

from supportplan.models import Location, Membership, PlanRole, Product, SupportPlan


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportPlan

    name = factory.Sequence(lambda n: f"Plan {n}")
    slug = factory.Sequence(lambda n: f"plan-{n}")
    products = factory.LazyFunction(lambda: [Product.FINANCE_OPERATIONS])


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    plan = factory.SubFactory(PlanFactory)
    name = factory.Sequence(lambda n: f"Office {n}")
    country = "GB"
    timezone = "Europe/London"
    languages = factory.LazyFunction(lambda: ["en"])
    user_count = 100


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    plan = factory.SubFactory(PlanFactory)
    user = factory.SubFactory(UserFactory)
    role = PlanRole.TEAM_MEMBER
