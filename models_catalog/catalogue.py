"""What the guide gives every plan: the eight roles, the five responsibility areas, and the
five-level template of each support model. Our own wording, after the Dynamics 365
implementation guide ("Transition to support")."""

from __future__ import annotations

from dataclasses import dataclass

from models_catalog.models import ModelKind, PartyKind

ROLES: list[tuple[str, str, str]] = [
    # seed key, name, description
    (
        "super_user",
        "Super user",
        "Part-time first line inside each business unit: unblocks colleagues, answers "
        "“how do I…?”, triages and writes up issues so the next level can reproduce them.",
    ),
    (
        "business_process_expert",
        "Business process expert",
        "Subject-matter expert or functional lead per process "
        "area: second line, triage, communication with the business, follows issues to resolution.",
    ),
    (
        "technical_architect",
        "Technical architect",
        "Owns the enterprise and Dynamics 365 technical standards; "
        "technical experts, developers and the release manager often report here.",
    ),
    ("technical_expert", "Technical expert", "Servicing, operations, monitoring and application management."),
    ("developer", "Developer", "Fixes defects in custom code and builds new custom functionality."),
    (
        "release_manager",
        "Release manager",
        "Validates releases for production; runs the deployment standards and the testing regimen.",
    ),
    (
        "support_manager",
        "Support manager",
        "Accountable for the Dynamics 365 support service (often related systems too).",
    ),
    (
        "stakeholder",
        "Business and IT stakeholder",
        "Sponsorship, direction, priorities, decisions and expectations.",
    ),
]

RESPONSIBILITIES: list[tuple[str, str, str]] = [
    (
        "business_process_areas",
        "Business process areas",
        "Process health with the process owners, business "
        "priorities, how-to advice, triage, shepherding issues through resolving authorities within SLA.",
    ),
    (
        "technical_areas",
        "Technical areas",
        "Service and system operations, maintenance and monitoring, "
        "break/fix, system parameters, update management.",
    ),
    (
        "data_quality",
        "Data quality",
        "Core business data, configuration and admin parameters with the data "
        "stewards; periodic data-quality audits.",
    ),
    (
        "user_proficiency",
        "User proficiency",
        "Training, adoption, documentation and FAQs so users get the most from the system.",
    ),
    (
        "new_features",
        "New features and developments",
        "Requirements, changes and new releases: assess, prioritise, build, test and release.",
    ),
]


@dataclass(frozen=True)
class LevelTemplate:
    number: int
    name: str
    description: str
    entry_criteria: str
    handoff_criteria: str
    party_kinds: tuple[str, ...]
    role_keys: tuple[str, ...]


_L1 = LevelTemplate(
    1,
    "Super users",
    "Super users in each business unit or function unblock users, filter “how do I…?” and “is this "
    "expected?” questions, train ad hoc and give early warning of growing issues.",
    "A user cannot complete a task or doubts a result.",
    "Not a how-to question and not solvable in the business unit: write it up with steps to reproduce "
    "and log it with the helpdesk.",
    (PartyKind.BUSINESS_UNIT,),
    ("super_user",),
)
_L5 = LevelTemplate(
    5,
    "Microsoft or ISV support",
    "Microsoft for standard software and the service (through in-app support); ISVs under their support "
    "and maintenance contracts.",
    "Root cause in standard Dynamics 365, the platform or an ISV solution, with environment, steps to "
    "reproduce and business impact recorded.",
    "Fix or workaround delivered; the owning level verifies and closes.",
    (PartyKind.MICROSOFT, PartyKind.ISV),
    (),
)

TEMPLATES: dict[str, list[LevelTemplate]] = {
    ModelKind.OUTSOURCED: [
        _L1,
        LevelTemplate(
            2,
            "Internal helpdesk",
            "The internal helpdesk registers requests, tracks them and routes Dynamics 365 issues to the partner, "
            "controlling which business data is passed on.",
            "Logged by a super user or user with a write-up.",
            "Dynamics 365 issue confirmed: assign to the partner with the reference and data they may see.",
            (PartyKind.HELPDESK,),
            (),
        ),
        LevelTemplate(
            3,
            "Partner (triage and resolution)",
            "The partner triages, resolves functional and configuration issues, and owns the issue to resolution.",
            "Routed by the helpdesk.",
            "Needs custom code, integration or specialist work: move to level 4.",
            (PartyKind.PARTNER,),
            (),
        ),
        LevelTemplate(
            4,
            "Partner (specialists and custom code)",
            "Partner specialists fix custom code and integrations to the agreed standards and testing regimen, "
            "delivering to pre-production; the customer deploys to production.",
            "Complex or specialist issue confirmed at level 3.",
            "Root cause in standard software or an ISV solution: raise with Microsoft or the ISV.",
            (PartyKind.PARTNER,),
            ("release_manager",),
        ),
        _L5,
    ],
    ModelKind.INTERNAL: [
        _L1,
        LevelTemplate(
            2,
            "Helpdesk or Dynamics 365 support team",
            "The internal helpdesk or a dedicated Dynamics 365 support team registers, assigns and tracks "
            "requests, with clear criteria for picking the resolving authority.",
            "Logged by a super user or user with a write-up.",
            "Not resolvable with known fixes or how-to answers: assign to the core team.",
            (PartyKind.HELPDESK, PartyKind.INTERNAL_TEAM),
            ("business_process_expert",),
        ),
        LevelTemplate(
            3,
            "Centre of excellence or project core team",
            "A small internal Dynamics 365 team triages, resolves, and owns the issue to resolution whoever "
            "else is involved.",
            "Assigned by the helpdesk.",
            "Needs development or specialist technical work: move to level 4.",
            (PartyKind.CENTRE_OF_EXCELLENCE, PartyKind.INTERNAL_TEAM),
            ("business_process_expert", "technical_expert"),
        ),
        LevelTemplate(
            4,
            "Centre of excellence (specialists)",
            "Internal specialists fix custom code and integrations following the development standards, testing "
            "regimen and deployment process.",
            "Complex or specialist issue confirmed at level 3.",
            "Root cause in standard software or an ISV solution: raise with Microsoft or the ISV.",
            (PartyKind.CENTRE_OF_EXCELLENCE,),
            ("developer", "technical_architect", "release_manager"),
        ),
        _L5,
    ],
    ModelKind.MIXED: [
        _L1,
        LevelTemplate(
            2,
            "Helpdesk or Dynamics 365 support team",
            "The internal helpdesk or a dedicated Dynamics 365 support team registers, assigns and tracks "
            "requests; internal staff who know the business handle simple issues and triage.",
            "Logged by a super user or user with a write-up.",
            "Not resolvable with known fixes or how-to answers: assign to the core team.",
            (PartyKind.HELPDESK, PartyKind.INTERNAL_TEAM),
            ("business_process_expert",),
        ),
        LevelTemplate(
            3,
            "Centre of excellence or project core team",
            "A small internal Dynamics 365 team triages, resolves or engages the partner, and owns the issue "
            "to resolution.",
            "Assigned by the helpdesk.",
            "Needs custom code, integration or specialist work: raise with the partner under the support "
            "agreement.",
            (PartyKind.CENTRE_OF_EXCELLENCE, PartyKind.INTERNAL_TEAM),
            ("business_process_expert", "technical_expert"),
        ),
        LevelTemplate(
            4,
            "Partner under the support agreement",
            "The partner gives specialist and custom-code support, peak capacity and strategic advice under "
            "the support agreement; fixes reach pre-production, the internal team deploys to production.",
            "Specialist issue confirmed at level 3, within the agreement's scope.",
            "Root cause in standard software or an ISV solution: raise with Microsoft or the ISV (the partner "
            "may do so under contract).",
            (PartyKind.PARTNER,),
            ("release_manager",),
        ),
        _L5,
    ],
}
