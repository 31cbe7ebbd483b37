"""Reads for the support model pages, scoped to what the requester may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from models_catalog.models import Agreement, Party, Person, Role, SupportLevel, SupportModel
from supportplan.models import SupportPlan


def support_levels(*, user: Any, plan: SupportPlan) -> QuerySet[SupportLevel]:
    return (
        SupportLevel.objects.for_user(user)
        .filter(plan=plan)
        .prefetch_related("parties", "roles", "people")
        .order_by("number")
    )


def support_model(*, user: Any, plan: SupportPlan) -> SupportModel | None:
    return SupportModel.objects.for_user(user).filter(plan=plan).first()


def parties_with_agreements(*, user: Any, plan: SupportPlan) -> QuerySet[Party]:
    agreements = Agreement.objects.for_user(user).prefetch_related("commitments").order_by("-starts_on")
    return (
        Party.objects.for_user(user)
        .filter(plan=plan)
        .prefetch_related(Prefetch("agreements", queryset=agreements))
        .order_by("kind", "name")
    )


def team(*, user: Any, plan: SupportPlan) -> QuerySet[Person]:
    return (
        Person.objects.for_user(user)
        .filter(plan=plan)
        .select_related("party", "location")
        .prefetch_related("roles", "levels")
        .order_by("name")
    )


def roles_with_counts(*, user: Any, plan: SupportPlan) -> QuerySet[Role]:
    return (
        Role.objects.for_user(user).filter(plan=plan).annotate(people_count=Count("people")).order_by("name")
    )


def informal_super_users(*, people) -> list[Person]:
    """Super users whose role is not formalised (no time or objectives agreed): the case study's lesson."""
    return [
        person
        for person in people
        if any(role.seed_key == "super_user" for role in person.roles.all())
        and not person.super_user_formalised
    ]
