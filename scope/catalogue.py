"""The aspect catalogue, after the guide's seven groups (domain.md 1.3), in our own words.

Versioned: bump ``CATALOGUE_VERSION`` when aspects are added or retired; ``sync`` adds new ones and
marks the dropped ones retired (scope items that answer them keep their history).
"""

from __future__ import annotations

CATALOGUE_VERSION = 1

# group key, name, guidance, [(aspect key, name, guidance, is_business_process)]
GROUPS: list[tuple[str, str, str, list[tuple[str, str, str, bool]]]] = [
    (
        "enterprise_architecture",
        "Enterprise architecture",
        "Every system, service and data store that touches Dynamics 365 — new ones and affected ones. "
        "Production differs from the sandboxes: don't rely on project experience alone.",
        [
            (
                "enterprise_configuration",
                "Enterprise configuration (Azure, Microsoft 365, Entra ID, storage)",
                "Tenant-level settings the solution depends on and who may change them.",
                False,
            ),
            (
                "managed_environments",
                "Microsoft-managed Dynamics 365 environments",
                "Production and sandboxes that Microsoft runs: what the customer still does.",
                False,
            ),
            (
                "identity_infrastructure",
                "Identity and access infrastructure",
                "Operating systems, browsers, mobile devices and firewall rules users need to reach the system.",
                False,
            ),
            (
                "first_cloud_system",
                "First major cloud system",
                "If this is the first big SaaS system: the architecture and servicing habits it brings.",
                False,
            ),
            (
                "interfacing_systems",
                "Systems interfacing with Dynamics 365",
                "Each system exchanging data directly: its owner, support hours and escalation path.",
                False,
            ),
            (
                "middleware",
                "Middleware",
                "Integration platforms between Dynamics 365 and other systems.",
                False,
            ),
            (
                "decommissioned_systems",
                "Systems being decommissioned",
                "Leftover tasks the support team inherits from retired systems.",
                False,
            ),
            (
                "document_management",
                "Document management",
                "SharePoint or other document stores used with Dynamics 365.",
                False,
            ),
            (
                "code_management",
                "Code and configuration management",
                "Azure DevOps or other tools that hold code, builds and release pipelines.",
                False,
            ),
            (
                "reporting",
                "Reporting and analytics",
                "Data lake, warehouse and reports fed from Dynamics 365.",
                False,
            ),
        ],
    ),
    (
        "policies",
        "Business and IT policies",
        "For each policy decide whether to add, revise or simply apply it once Dynamics 365 is live.",
        [
            (
                "group_policies",
                "Group and company policies and standards",
                "Partner contracts, operating hours, period-end and seasonal deadlines, IT change control.",
                False,
            ),
            (
                "application_policies",
                "Dynamics 365 application policies",
                "Rules configured in the application (vendor approval, credit limits, approval thresholds).",
                False,
            ),
            (
                "application_security",
                "Dynamics 365 security and access",
                "Role-based security in the application, usually owned by support.",
                False,
            ),
            (
                "group_security",
                "Group security and access management",
                "Entra ID groups, SSO, MFA, service accounts, certificates, partner and vendor access.",
                False,
            ),
            (
                "data_retention",
                "Data classification and retention",
                "How classification and retention affect backups, copies, archives and audits.",
                False,
            ),
            (
                "regulatory_compliance",
                "Regulatory compliance",
                "E-invoicing, digital tax, privacy rules and their monitoring.",
                False,
            ),
        ],
    ),
    (
        "dynamics_operations",
        "Dynamics 365 operations and maintenance",
        "The operational and maintenance work specific to Dynamics 365.",
        [
            (
                "environments",
                "Environments",
                "Data refreshes, database moves, configuration moves and code promotion between environments.",
                False,
            ),
            (
                "integrations",
                "Integrations",
                "Data at both ends, security, performance, monitoring, stop and restart of integration services.",
                False,
            ),
            (
                "system_maintenance",
                "System maintenance",
                "New environments, copies and restores, security roles, clean-up jobs, batch calendar.",
                False,
            ),
            (
                "data_maintenance",
                "Data maintenance",
                "System-admin, master, security and periodic data support handles with the data stewards.",
                False,
            ),
            (
                "performance",
                "Performance",
                "Business impact, priority, diagnosis across configuration, data and code; performance baselines.",
                False,
            ),
        ],
    ),
    (
        "business_processes",
        "Business processes",
        "Cover every key process, or at least know where out-of-scope questions go. Add one aspect per process.",
        [
            (
                "record_to_report",
                "Record to report (financial close)",
                "General ledger, period-end close and reporting.",
                True,
            ),
            ("order_to_cash", "Order to cash", "Sales orders, shipping, invoicing and collections.", True),
            (
                "procure_to_pay",
                "Procure to pay",
                "Purchasing, receiving, vendor invoices and payments.",
                True,
            ),
            (
                "warehouse_operations",
                "Warehouse operations",
                "Receiving, picking, packing and shipping in the warehouses.",
                True,
            ),
        ],
    ),
    (
        "business_continuity",
        "Business continuity",
        "Support's part in continuity plans, outages and regular continuity tests.",
        [
            (
                "disaster_recovery",
                "Disaster recovery and failover",
                "What the customer does when Microsoft fails over, and the limits on the secondary site.",
                False,
            ),
            (
                "outage_communication",
                "Outage planning and communication",
                "How support plans, acts and communicates during an outage.",
                False,
            ),
        ],
    ),
    (
        "update_cycles",
        "System update cycles",
        "A calendar for every kind of update and the testing around it.",
        [
            (
                "microsoft_updates",
                "Microsoft service updates",
                "Service updates and release waves: planning, validation, scheduling.",
                False,
            ),
            (
                "isv_updates",
                "ISV updates",
                "Updates of ISV solutions and their alignment with Microsoft's.",
                False,
            ),
            ("custom_releases", "Custom code releases", "Fixes and features built for this solution.", False),
            (
                "regression_testing",
                "Regression testing and release management",
                "The test regimen and release steps every update goes through.",
                False,
            ),
        ],
    ),
    (
        "requirements_change",
        "Requirements and change",
        "Where new requirements and production changes come from and how they are decided.",
        [
            (
                "new_requirements",
                "New requirements and feature requests",
                "Collecting, assessing and prioritising new requirements.",
                False,
            ),
            (
                "production_changes",
                "Production changes and defects",
                "Change requests and defect fixes flowing into production under change control.",
                False,
            ),
        ],
    ),
]

PROMPTS = {
    "what": "What about {name} does support look after?",
    "detail": "Which tasks and standards, and how often? (e.g. monitor, restart, rotate, audit)",
    "who": "Which roles, people, parties and support level handle it?",
    "when": "In which hours, at what frequency or on what trigger? Any peaks or period-end?",
    "how": "Which procedure or runbook, tool and access are needed?",
}


def catalogue_rows():
    """Yields (group position, group key, group name, group guidance, aspect position, aspect tuple)."""
    for group_position, (group_key, group_name, group_guidance, aspects) in enumerate(GROUPS):
        for aspect_position, aspect in enumerate(aspects):
            yield group_position, group_key, group_name, group_guidance, aspect_position, aspect


def sync(aspect_group_model, aspect_model, version: int = CATALOGUE_VERSION) -> None:
    """Brings the stored catalogue to this module's content (works with migration models too)."""
    keys = set()
    for group_position, group_key, group_name, group_guidance, position, aspect in catalogue_rows():
        key, name, guidance, is_process = aspect
        keys.add(key)
        group, _ = aspect_group_model.objects.update_or_create(
            key=group_key,
            defaults={"name": group_name, "position": group_position, "guidance": group_guidance},
        )
        prompts = {f"prompt_{q}": text.format(name=name.lower()) for q, text in PROMPTS.items()}
        existing = aspect_model.objects.filter(plan__isnull=True, key=key).first()
        fields = {
            "group": group,
            "name": name,
            "guidance": guidance,
            "is_business_process": is_process,
            "position": position,
            "retired_in_version": None,
            **prompts,
        }
        if existing is None:
            aspect_model.objects.create(key=key, catalogue_version=version, **fields)
        else:
            for field, value in fields.items():
                setattr(existing, field, value)
            existing.save()
    aspect_model.objects.filter(plan__isnull=True, retired_in_version__isnull=True).exclude(
        key__in=keys
    ).update(retired_in_version=version)
