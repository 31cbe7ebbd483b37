"""The catalogue of routine maintenance tasks (domain research 4.5), in display order.

The guide lists the tasks but (except Microsoft's update cadence) gives no frequency: every
``suggested`` frequency here is a product suggestion a plan edits, not a guide fact; ``source`` says
where each entry comes from. ``key`` is what ``MaintenanceTask.category`` stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from operations.recurrence import rrule_from_pattern

GUIDE = "Guide task catalogue (domain 4.5); frequency not given by the guide."
GUIDE_CADENCE = "Guide cadence fact (domain 4.5)."
ASSUMPTION = "Product assumption (domain 4.5): default frequency is an editable suggestion."


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    description: str
    #: The form pattern of the suggested frequency (see ``operations.recurrence``).
    pattern: dict = field(default_factory=dict)
    suggested_lead_minutes: int = 1440
    suggested_duration_minutes: int = 60
    evidence_required: bool = False
    #: True: the frequency is our suggestion, not a fact from the guide.
    suggested: bool = True
    source: str = GUIDE

    @property
    def rrule(self) -> str:
        return rrule_from_pattern(self.pattern) if self.pattern else ""


CATEGORIES: list[Category] = [
    Category(
        "environment_refresh",
        "Environment refresh from production",
        "Refresh support/test environments from production (per release, or on a fixed cycle).",
        {"kind": "monthly_nth_weekday", "n": 1, "weekday": "SA"},
        suggested_lead_minutes=7 * 1440,
        suggested_duration_minutes=240,
        source=GUIDE + " Per-release refresh is a product assumption.",
    ),
    Category(
        "anonymised_copy_refresh",
        "Anonymised support copy refresh",
        "Refresh the anonymised copy partners may use; record evidence that data was anonymised.",
        {"kind": "monthly_nth_weekday", "n": 1, "weekday": "SU"},
        suggested_lead_minutes=3 * 1440,
        suggested_duration_minutes=240,
        evidence_required=True,
    ),
    Category(
        "db_copy_restore",
        "Database copy / restore between environments",
        "Copy or restore databases between environments; ad-hoc backups where needed.",
        {"kind": "quarterly", "day": 1},
        suggested_duration_minutes=180,
    ),
    Category(
        "certificate_rotation",
        "Certificate rotation",
        "Rotate certificates (integrations, single sign-on, apps) before they expire.",
        {"kind": "yearly", "month": 1, "day": 15},
        suggested_lead_minutes=30 * 1440,
        evidence_required=True,
    ),
    Category(
        "password_renewal",
        "Password / service-account renewal",
        "Renew passwords and secrets of service accounts; review who holds them.",
        {"kind": "every_n_months", "n": 6, "day": 1},
        suggested_lead_minutes=14 * 1440,
        evidence_required=True,
    ),
    Category(
        "access_review",
        "Security-role and access review",
        "Review who holds which security roles; onboard/offboard users and licences.",
        {"kind": "monthly_nth_weekday", "n": 1, "weekday": "MO"},
        suggested_lead_minutes=3 * 1440,
        suggested_duration_minutes=120,
        evidence_required=True,
        source=ASSUMPTION + " Monthly access review.",
    ),
    Category(
        "vendor_access_removal",
        "Remove departed vendor / consultant access",
        "Remove the access of consultants and vendors who have left the project.",
        {"kind": "monthly_day", "day": "last"},
    ),
    Category(
        "cleanup_jobs",
        "Clean-up jobs",
        "Logs, notifications, batch history, staging tables — only after the business confirms the data "
        "is no longer needed.",
        {"kind": "weekly", "days": ["SU"]},
        suggested_duration_minutes=120,
    ),
    Category(
        "batch_calendar_review",
        "Batch calendar review",
        "Review batch job schedules and system downtime windows.",
        {"kind": "monthly_nth_weekday", "n": 2, "weekday": "TU"},
    ),
    Category(
        "storage_licence_review",
        "Storage and licence review",
        "Storage use and growth against the threshold; archive per retention; licences and cost.",
        {"kind": "weekly", "days": ["MO"]},
        suggested_duration_minutes=30,
        source=ASSUMPTION + " Weekly storage/licence review.",
    ),
    Category(
        "api_telemetry_review",
        "API limits and telemetry review",
        "API limits and throttling, application logs and errors, usage/adoption, performance vs. baselines.",
        {"kind": "weekly", "days": ["WE"]},
        suggested_duration_minutes=30,
    ),
    Category(
        "message_center_review",
        "Message Center review",
        "Check the Microsoft 365 Message center 'frequently' for changes, deprecations and incidents.",
        {"kind": "weekdays"},
        suggested_lead_minutes=0,
        suggested_duration_minutes=15,
    ),
    Category(
        "service_health_check",
        "Service health check",
        "Daily log and service-health check (Power Platform admin center, Azure status).",
        {"kind": "weekdays"},
        suggested_lead_minutes=0,
        suggested_duration_minutes=15,
        source=ASSUMPTION + " Daily log/health check.",
    ),
    Category(
        "service_update_cycle",
        "Service update cycle",
        "Review release notes and deprecations, early access in a sandbox, regression tests (RSAT), "
        "schedule the production update, communicate. F&O updates: February, April, July, October.",
        {"kind": "yearly", "month": 1, "day": 15},
        suggested_lead_minutes=14 * 1440,
        suggested_duration_minutes=480,
        suggested=False,
        source=GUIDE_CADENCE + " F&O service updates in Feb/Apr/Jul/Oct; CE/Power Platform waves Apr/Oct.",
    ),
    Category(
        "isv_update_alignment",
        "ISV update alignment",
        "Check ISV and Marketplace solutions against the coming update; they have their own cadence.",
        {"kind": "quarterly", "day": 1},
    ),
    Category(
        "bc_dr_exercise",
        "Business-continuity / DR exercise",
        "Exercise the business-continuity and disaster-recovery plan; record the outcome.",
        {"kind": "quarterly", "day": 15},
        suggested_lead_minutes=14 * 1440,
        suggested_duration_minutes=480,
        evidence_required=True,
        source=ASSUMPTION + " Quarterly BC test.",
    ),
    Category(
        "data_quality_audit",
        "Data-quality audit",
        "Data-quality audits and reports (master data, duplicates, open transactions).",
        {"kind": "monthly_nth_weekday", "n": 3, "weekday": "TH"},
        suggested_duration_minutes=120,
    ),
    Category(
        "compliance_audit",
        "Compliance audit",
        "Compliance monitoring and audits (segregation of duties, retention, regulatory reports).",
        {"kind": "quarterly", "day": "last"},
        suggested_duration_minutes=240,
        evidence_required=True,
    ),
    Category(
        "backup_before_release",
        "Backup before release",
        "An ad-hoc backup before a release deployment (point-in-time backups are automatic).",
        {"kind": "monthly_nth_weekday", "n": -1, "weekday": "FR"},
        suggested_duration_minutes=60,
        evidence_required=True,
    ),
    Category("other", "Other", "Anything else on the support and servicing calendar.", {}, source=""),
]

CATEGORY_BY_KEY: dict[str, Category] = {category.key: category for category in CATEGORIES}


def category_choices() -> list[tuple[str, str]]:
    """(key, label) pairs for forms and serializers, in catalogue order."""
    return [(category.key, category.label) for category in CATEGORIES]


def category_label(key: str) -> str:
    category = CATEGORY_BY_KEY.get(key)
    return category.label if category else key
