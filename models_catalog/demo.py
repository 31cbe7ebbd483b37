"""The case-study plan's support model for ``manage.py seed_demo``: a mixed model with an internal
helpdesk, a partner, an ISV and Microsoft, their agreements, the team, and a RACI with one
deliberate gap (nobody is accountable for data quality). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from models_catalog import raci, services
from models_catalog.models import Agreement, ModelKind, Party, Person, Responsibility, Role, SupportLevel
from supportplan.models import Location, Membership, SupportPlan

PARTIES = [
    # name, kind, extra fields
    ("Northwind Business Units", "business_unit", {"contact_hours": "Office hours per country"}),
    (
        "Northwind IT Service Desk",
        "helpdesk",
        {
            "contact_name": "Service desk",
            "contact_email": "servicedesk@northwind.example",
            "contact_phone": "+44 161 555 0100",
            "contact_hours": "Mon–Fri 07:00–19:00 UK",
            "helpdesk_system": "ServiceNow",
            "reference_pattern": r"^INC\d{7}$",
            "escalation_contact_name": "Bob Clarke",
            "escalation_contact_email": "bob@northwind.example",
        },
    ),
    ("Dynamics 365 Core Team", "internal_team", {"contact_email": "d365-core@northwind.example"}),
    (
        "Contoso Consulting",
        "partner",
        {
            "contact_name": "Partner support",
            "contact_email": "support@contoso-consulting.example",
            "contact_phone": "+44 20 5550 0199",
            "contact_hours": "Mon–Fri 08:00–18:00 UK; P1 24×7",
            "helpdesk_system": "Jira Service Management",
            "reference_pattern": r"^PRT-\d{4,}$",
            "escalation_contact_name": "Delivery manager",
            "escalation_contact_email": "escalation@contoso-consulting.example",
            "anonymised_data_only": True,
        },
    ),
    (
        "Wide World Warehousing (WMS ISV)",
        "isv",
        {
            "contact_email": "support@wideworld-wms.example",
            "helpdesk_system": "Zendesk",
            "reference_pattern": r"^\d{6}$",
            "anonymised_data_only": True,
        },
    ),
    (
        "Microsoft",
        "microsoft",
        {"helpdesk_system": "Power Platform admin center", "reference_pattern": r"^\d{16}$"},
    ),
]

PEOPLE = [
    # name, party, roles, levels, location, languages, allocation, formalised super user
    (
        "Priya Shah",
        "Northwind Business Units",
        ["super_user"],
        [1],
        "Head office, Manchester",
        ["en"],
        20,
        True,
    ),
    (
        "Jonas Weber",
        "Northwind Business Units",
        ["super_user"],
        [1],
        "Distribution centre, Duisburg",
        ["de", "en"],
        15,
        False,
    ),
    (
        "Tina Schneider",
        "Northwind IT Service Desk",
        ["business_process_expert"],
        [2],
        "Distribution centre, Duisburg",
        ["de", "en"],
        100,
        False,
    ),
    (
        "Sam Patel",
        "Northwind IT Service Desk",
        ["business_process_expert"],
        [2],
        "Head office, Manchester",
        ["en"],
        100,
        False,
    ),
    (
        "Claire Martin",
        "Dynamics 365 Core Team",
        ["business_process_expert", "technical_expert"],
        [3],
        "Sales office, Lyon",
        ["fr", "en"],
        80,
        False,
    ),
    (
        "Oliver Hughes",
        "Dynamics 365 Core Team",
        ["technical_architect", "release_manager"],
        [3],
        "Head office, Manchester",
        ["en"],
        60,
        False,
    ),
    (
        "Bob Clarke",
        "Northwind IT Service Desk",
        ["support_manager"],
        [2, 3],
        "Head office, Manchester",
        ["en"],
        100,
        False,
    ),
    (
        "Lena de Vries",
        "Contoso Consulting",
        ["developer", "technical_expert"],
        [4],
        "Warehouse, Venlo",
        ["nl", "en"],
        50,
        False,
    ),
]

OFFICE_HOURS = {str(day): [["08:00", "17:00"]] for day in range(5)}

RACI = {
    # responsibility seed key -> [(role seed key or party name, letter)]
    "business_process_areas": [
        ("support_manager", "A"),
        ("business_process_expert", "R"),
        ("super_user", "C"),
        ("stakeholder", "I"),
    ],
    "technical_areas": [
        ("technical_architect", "A"),
        ("technical_expert", "R"),
        ("Contoso Consulting", "R"),
        ("Microsoft", "C"),
    ],
    # The deliberate gap: nobody is accountable for data quality.
    "data_quality": [("business_process_expert", "R"), ("super_user", "C")],
    "user_proficiency": [("support_manager", "A"), ("super_user", "R"), ("business_process_expert", "C")],
    "new_features": [
        ("stakeholder", "A"),
        ("developer", "R"),
        ("release_manager", "R"),
        ("Contoso Consulting", "C"),
        ("Wide World Warehousing (WMS ISV)", "I"),
    ],
}


def seed_support_model(*, plan: SupportPlan) -> None:
    services.catalogue_seed_plan(plan=plan)
    parties = {}
    for name, kind, extra in PARTIES:
        party = Party.objects.filter(plan=plan, name=name).first()
        parties[name] = party or services.party_create(plan=plan, name=name, kind=kind, **extra)

    model = services.support_model_get(plan=plan)
    if not model.kind:
        services.support_model_save_answers(
            plan=plan,
            answers={
                "size": "medium",
                "critical_processes": "many",
                "internal_skills": "some",
                "customisation": "high",
                "outsourcing_strategy": "neutral",
                "existing_agreements": "yes",
                "it_framework": "partial",
                "business_units": "no",
            },
        )
        services.support_model_choose(
            plan=plan,
            kind=ModelKind.MIXED,
            rationale="Internal staff know the business and handle triage and simple issues; Contoso Consulting "
            "built the customisations and supports them under contract, with peak capacity at period-end.",
        )

    today = timezone.localdate()
    go_live = plan.go_live_date or today
    agreements = [
        (
            parties["Contoso Consulting"],
            "Contoso application support",
            "contract_sla",
            1200,
            None,
            [("P1", 30, 480), ("P2", 120, 1440), ("P3", 480, 4800), ("P4", 1440, 14400)],
        ),
        (
            parties["Wide World Warehousing (WMS ISV)"],
            "WMS support and maintenance",
            "underpinning",
            None,
            False,
            [("P1", 60, 1440), ("P2", 240, 4320)],
        ),
        (
            parties["Microsoft"],
            "Microsoft Unified support",
            "underpinning",
            None,
            None,
            [("P1", 60, None), ("P2", 240, None)],
        ),
        (
            parties["Northwind IT Service Desk"],
            "Service desk delivery agreement",
            "service_delivery",
            None,
            None,
            [("P1", 15, None), ("P2", 60, None), ("P3", 240, None), ("P4", 480, None)],
        ),
    ]
    for party, name, kind, budget, cadence, commitments in agreements:
        if Agreement.objects.filter(plan=plan, name=name).exists():
            continue
        services.agreement_create(
            plan=plan,
            party=party,
            name=name,
            kind=kind,
            starts_on=go_live - timedelta(days=30),
            ends_on=go_live + timedelta(days=3 * 365),
            renewal_date=go_live + timedelta(days=2 * 365 + 270),
            budget_hours=budget,
            follows_microsoft_release_cadence=cadence,
            commitments=[
                services.CommitmentInput(p, response, resolution) for p, response, resolution in commitments
            ],
        )

    roles = {role.seed_key: role for role in Role.objects.filter(plan=plan).exclude(seed_key="")}
    levels = {level.number: level for level in SupportLevel.objects.filter(plan=plan)}
    locations = {location.name: location for location in Location.objects.filter(plan=plan)}
    for name, party, role_keys, level_numbers, location, languages, allocation, formalised in PEOPLE:
        if Person.objects.filter(plan=plan, name=name).exists():
            continue
        services.person_create(
            plan=plan,
            name=name,
            email=f"{name.split()[0].lower()}@northwind.example",
            party=parties[party],
            roles=[roles[key] for key in role_keys],
            levels=[levels[n] for n in level_numbers if n in levels],
            location=locations.get(location),
            languages=languages,
            allocation_percent=allocation,
            working_hours=OFFICE_HOURS,
            super_user_formalised=formalised,
            super_user_objectives="4 hours a week; FAQ upkeep; UAT and training cascade"
            if formalised
            else "",
        )

    for key, cells in RACI.items():
        responsibility = Responsibility.objects.filter(plan=plan, seed_key=key).first()
        if responsibility is None or responsibility.assignments.exists():
            continue
        for who, letter in cells:
            if who in roles:
                raci.raci_set_cell(responsibility=responsibility, role=roles[who], letter=letter)
            else:
                raci.raci_set_cell(responsibility=responsibility, party=parties[who], letter=letter)

    # carol, the demo partner user, belongs to Contoso Consulting.
    Membership.objects.filter(plan=plan, user__username="carol", organisation__isnull=True).update(
        organisation=parties["Contoso Consulting"]
    )
