"""A small RACI for the Northwind plan, built with the ORM (not the catalogue seeding), shared by the
RACI tests. Each test module wraps ``build_raci`` in its own fixture.

Two rows are complete (one A, at least one R); the other three are empty, so each has two
problems (no A, no R) until a test fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from models_catalog.models import Party, PartyKind, RaciAssignment, Responsibility, Role
from supportplan.models import SupportPlan


@dataclass
class Raci:
    plan: SupportPlan
    support_manager: Role
    process_expert: Role
    technical_expert: Role
    super_user: Role
    partner: Party
    microsoft: Party
    business_processes: Responsibility
    technical_areas: Responsibility
    data_quality: Responsibility
    user_proficiency: Responsibility
    new_features: Responsibility


def build_raci(plan: SupportPlan) -> Raci:
    roles = {
        key: Role.objects.create(plan=plan, name=name, seed_key=key)
        for key, name in [
            ("support_manager", "Support manager"),
            ("business_process_expert", "Business process expert"),
            ("technical_expert", "Technical expert"),
            ("super_user", "Super user"),
        ]
    }
    partner = Party.objects.create(plan=plan, name="Fabrikam Consulting", kind=PartyKind.PARTNER)
    microsoft = Party.objects.create(plan=plan, name="Microsoft", kind=PartyKind.MICROSOFT)
    rows = [
        Responsibility.objects.create(plan=plan, name=name, seed_key=key, position=position)
        for position, (key, name) in enumerate(
            [
                ("business_process_areas", "Business process areas"),
                ("technical_areas", "Technical areas"),
                ("data_quality", "Data quality maintenance"),
                ("user_proficiency", "User proficiency"),
                ("new_features", "New features and developments"),
            ]
        )
    ]
    raci = Raci(
        plan,
        roles["support_manager"],
        roles["business_process_expert"],
        roles["technical_expert"],
        roles["super_user"],
        partner,
        microsoft,
        *rows,
    )
    for responsibility, column, letter in [
        (raci.business_processes, raci.support_manager, "A"),
        (raci.business_processes, raci.process_expert, "R"),
        (raci.business_processes, raci.super_user, "C"),
        (raci.business_processes, raci.partner, "I"),
        (raci.technical_areas, raci.support_manager, "A"),
        (raci.technical_areas, raci.technical_expert, "R"),
        (raci.technical_areas, raci.partner, "R"),
        (raci.technical_areas, raci.microsoft, "C"),
    ]:
        kind = "role" if isinstance(column, Role) else "party"
        RaciAssignment.objects.create(
            plan=plan, responsibility=responsibility, letter=letter, **{kind: column}
        )
    return raci


@dataclass
class OtherPlanRaci:
    plan: SupportPlan
    role: Role
    party: Party
    responsibility: Responsibility
    cell: RaciAssignment


def build_other_plan_raci(plan: SupportPlan) -> OtherPlanRaci:
    """Contoso's own row and columns: what Northwind's grid must never show or accept."""
    role = Role.objects.create(plan=plan, name="Support manager", seed_key="support_manager")
    party = Party.objects.create(plan=plan, name="Contoso Partner", kind=PartyKind.PARTNER)
    responsibility = Responsibility.objects.create(plan=plan, name="Technical areas", position=0)
    cell = RaciAssignment.objects.create(plan=plan, responsibility=responsibility, role=role, letter="A")
    return OtherPlanRaci(plan, role, party, responsibility, cell)


def grow_raci(plan, *, roles: int, parties: int, rows: int) -> None:
    """Adds many roles, parties and rows, every cell filled: for query-count tests."""
    new_roles = Role.objects.bulk_create(Role(plan=plan, name=f"Role {n}") for n in range(roles))
    new_parties = Party.objects.bulk_create(
        Party(plan=plan, name=f"Party {n}", kind=PartyKind.ISV) for n in range(parties)
    )
    new_rows = Responsibility.objects.bulk_create(
        Responsibility(plan=plan, name=f"Area {n}", position=10 + n) for n in range(rows)
    )
    RaciAssignment.objects.bulk_create(
        [
            RaciAssignment(plan=plan, responsibility=row, role=role, letter="ARCI"[(i + j) % 4])
            for i, row in enumerate(new_rows)
            for j, role in enumerate(new_roles)
        ]
        + [
            RaciAssignment(plan=plan, responsibility=row, party=party, letter="I")
            for row in new_rows
            for party in new_parties
        ]
    )
