"""Demo scope for the case-study plan: about 60 % of the catalogue answered, some of it partly, a few
aspects out of scope with their reasons, the four business processes profiled — and gaps a reader
can see (a critical process without its out-of-hours answer, an item overdue for review, items
without a *how*).

Idempotent: aspects that already have an item are left as they are. People, parties, roles (by
seed key), levels and calendars are looked up by name; any that are missing are skipped quietly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from models_catalog.models import Party, Person, Role, SupportLevel
from operations.models import ServiceCalendar
from scope.models import Aspect, ScopeItem, ScopeStatus
from scope.services import scope_item_save
from supportplan.models import SupportPlan

HELPDESK = "Northwind IT Service Desk"
CORE_TEAM = "Dynamics 365 Core Team"
PARTNER = "Contoso Consulting"
ISV = "Wide World Warehousing (WMS ISV)"
MICROSOFT = "Microsoft"
UK_HOURS = "UK office hours"
P1_CALENDAR = "EU P1 24×7 cover"

_OFFICE = {"service_calendar": UK_HOURS, "when_text": "Mon–Fri 08:00–17:00 UK"}
_RUNBOOK = "https://wiki.northwind.example/d365/runbooks/"

#: aspect key → answers. ``reviewed_days_ago`` sets last_reviewed relative to today.
ITEMS: dict[str, dict[str, Any]] = {
    # Enterprise architecture
    "enterprise_configuration": {
        "in_scope": True,
        "what": "Tenant settings Dynamics 365 depends on: licences, Entra ID groups, storage.",
        "details": [
            {
                "task": "Review licence assignment",
                "standard": "No unassigned licences",
                "frequency": "monthly",
            }
        ],
        "roles": ["technical_architect"],
        "parties": [CORE_TEAM],
        "level": 3,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "tenant",
        "tool": "Microsoft 365 admin center",
        "access_needs": "Global reader; Dynamics 365 administrator for two named people.",
        "status": ScopeStatus.AGREED,
        "owner": "Oliver Hughes",
        "reviewed_days_ago": 30,
    },
    "managed_environments": {
        "in_scope": True,
        "what": "Production and sandboxes run by Microsoft: what we still do ourselves.",
        "details": [{"task": "Request environment refresh", "standard": "Five working days' notice"}],
        "parties": [MICROSOFT, CORE_TEAM],
        "level": 5,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "environments",
        "tool": "Lifecycle Services",
        "status": ScopeStatus.AGREED,
        "owner": "Oliver Hughes",
        # Overdue for review: a visible low-severity gap.
        "reviewed_days_ago": 240,
    },
    "identity_infrastructure": {
        "in_scope": False,
        "out_of_scope_reason": "Devices, browsers and firewalls belong to Enterprise IT's own service.",
        "redirect_to": "Enterprise IT service desk",
    },
    "interfacing_systems": {
        "in_scope": True,
        "what": "Each system exchanging data with Dynamics 365: the WMS, the e-invoicing hub, payroll.",
        "details": [{"task": "Check interface error queues", "frequency": "daily"}],
        "roles": ["technical_expert"],
        "people": ["Lena de Vries"],
        "parties": [PARTNER],
        "level": 3,
        **_OFFICE,
        # No procedure, tool or access needs yet: the *how* is missing, a visible gap.
        "status": ScopeStatus.DRAFT,
        "owner": "Claire Martin",
    },
    "middleware": {
        "in_scope": True,
        "what": "The Azure integration platform between Dynamics 365 and the WMS.",
        "parties": [PARTNER],
        "when_text": "Monitored 24×7 by alerts",
        "status": ScopeStatus.DRAFT,
    },
    "decommissioned_systems": {
        "in_scope": False,
        "out_of_scope_reason": "The old ERP is read-only and archived by Enterprise IT.",
        "redirect_to": "Enterprise IT (archive requests)",
    },
    "reporting": {
        "in_scope": True,
        "what": "Power BI reports built on Dynamics 365 data.",
        "details": [{"task": "Refresh failures", "standard": "Fixed by next business day"}],
        "roles": ["business_process_expert"],
        "level": 2,
        **_OFFICE,
        "tool": "Power BI service",
        "status": ScopeStatus.IN_REVIEW,
        "owner": "Sam Patel",
    },
    # Policies
    "application_security": {
        "in_scope": True,
        "what": "Security roles and duties in Dynamics 365; periodic access review.",
        "details": [
            {
                "task": "Access review",
                "standard": "Signed off by each process owner",
                "frequency": "quarterly",
            }
        ],
        "roles": ["support_manager"],
        "people": ["Bob Clarke"],
        "parties": [HELPDESK],
        "level": 2,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "security-roles",
        "tool": "Dynamics 365 security configuration",
        "access_needs": "System administrator (two people).",
        "status": ScopeStatus.AGREED,
        "owner": "Bob Clarke",
        "reviewed_days_ago": 60,
    },
    "data_retention": {
        "in_scope": True,
        "what": "Retention and archiving of transactional data.",
        "status": ScopeStatus.DRAFT,
    },
    "group_policies": {
        "in_scope": False,
        "out_of_scope_reason": "Group-wide IT policies are set by the group CIO's office.",
        "redirect_to": "Group IT governance",
    },
    # Dynamics 365 operations
    "environments": {
        "in_scope": True,
        "what": "Environment plan, refreshes and deployments between sandboxes and production.",
        "details": [
            {"task": "Refresh UAT from production", "standard": "Data masked", "frequency": "monthly"}
        ],
        "roles": ["release_manager"],
        "people": ["Oliver Hughes"],
        "parties": [CORE_TEAM],
        "level": 3,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "refresh",
        "tool": "Lifecycle Services",
        "status": ScopeStatus.AGREED,
        "owner": "Oliver Hughes",
        "reviewed_days_ago": 20,
    },
    "integrations": {
        "in_scope": True,
        "what": "Batch jobs and data entities used by interfaces.",
        "details": [{"task": "Monitor batch jobs"}],
        "parties": [PARTNER],
        "level": 3,
        "service_calendar": P1_CALENDAR,
        "procedure_url": _RUNBOOK + "batch",
        "tool": "Azure Monitor",
        "status": ScopeStatus.IN_REVIEW,
        "owner": "Claire Martin",
    },
    "system_maintenance": {
        "in_scope": True,
        "what": "Clean-up jobs, index maintenance, alerts.",
        "details": [{"task": "Run clean-up routines", "standard": "Per the runbook", "frequency": "weekly"}],
        "roles": ["technical_expert"],
        "level": 3,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "maintenance",
        "tool": "Dynamics 365 system administration",
        "status": ScopeStatus.AGREED,
        "owner": "Oliver Hughes",
        "reviewed_days_ago": 45,
    },
    "data_maintenance": {
        "in_scope": True,
        "what": "Master data quality: customers, vendors, products.",
        "roles": ["super_user"],
        "status": ScopeStatus.DRAFT,
    },
    "performance": {
        "in_scope": True,
        "what": "Performance monitoring and tuning.",
        "parties": [MICROSOFT],
        "tool": "Lifecycle Services monitoring",
        "status": ScopeStatus.DRAFT,
    },
    # Business processes: all profiled; record to report is critical with no out-of-hours answer.
    "record_to_report": {
        "in_scope": True,
        "what": "General ledger, period-end close and financial reporting.",
        "details": [
            {"task": "Period-end close support", "standard": "Close by working day 3", "frequency": "monthly"}
        ],
        "roles": ["business_process_expert", "super_user"],
        "people": ["Sam Patel"],
        "parties": [HELPDESK],
        "level": 2,
        **_OFFICE,
        "peak_relevance": "Period-end: extended hours on the last working day.",
        "procedure_url": _RUNBOOK + "period-end",
        "tool": "ServiceNow",
        "criticality": "critical",
        "profile": {
            "expertise": "Finance process and Dynamics 365 ledger configuration.",
            "typical_requests": "Posting errors, period locks, consolidation.",
            "usage": "Daily by 40 finance users; peaks at period-end.",
            "criticality": "Critical at period-end.",
        },
        "status": ScopeStatus.IN_REVIEW,
        "owner": "Sam Patel",
    },
    "order_to_cash": {
        "in_scope": True,
        "what": "Sales orders, invoicing and credit control.",
        "details": [
            {"task": "Unblock stuck orders", "standard": "Within 2 hours", "frequency": "on request"}
        ],
        "roles": ["business_process_expert"],
        "people": ["Claire Martin", "Priya Shah"],
        "parties": [HELPDESK, PARTNER],
        "level": 2,
        "service_calendar": P1_CALENDAR,
        "when_text": "Order desk hours; P1 around the clock",
        "peak_relevance": "Month-end invoicing run.",
        "procedure_url": _RUNBOOK + "order-to-cash",
        "tool": "ServiceNow",
        "criticality": "critical",
        "profile": {
            "expertise": "Sales order processing",
            "usage": "All day, 200 users",
            "out_of_hours": "P1 only, via the partner's 24×7 line.",
        },
        "status": ScopeStatus.AGREED,
        "owner": "Claire Martin",
        "reviewed_days_ago": 15,
    },
    "procure_to_pay": {
        "in_scope": True,
        "what": "Purchasing, receipt and vendor invoices.",
        "roles": ["business_process_expert"],
        "people": ["Tina Schneider"],
        "level": 2,
        **_OFFICE,
        "criticality": "high",
        "profile": {"usage": "Daily, 60 users", "out_of_hours": "None needed."},
        "status": ScopeStatus.DRAFT,
        "owner": "Tina Schneider",
    },
    "warehouse_operations": {
        "in_scope": True,
        "what": "Warehouse execution in the distribution centres, with the WMS.",
        "details": [
            {"task": "Wave release failures", "standard": "Within 30 minutes", "frequency": "on request"}
        ],
        "people": ["Jonas Weber"],
        "parties": [ISV, HELPDESK],
        "level": 2,
        "service_calendar": P1_CALENDAR,
        "peak_relevance": "Christmas peak; Saturday shifts.",
        "procedure_url": _RUNBOOK + "warehouse",
        "tool": "Zendesk (ISV), ServiceNow",
        "criticality": "critical",
        "profile": {
            "expertise": "Warehouse processes and WMS integration.",
            "out_of_hours": "Saturday shifts need on-call cover from the ISV.",
        },
        "status": ScopeStatus.IN_REVIEW,
        "owner": "Jonas Weber",
    },
    # Business continuity
    "disaster_recovery": {
        "in_scope": True,
        "what": "Microsoft's disaster recovery for production; our part: decisions and communication.",
        "parties": [MICROSOFT],
        "level": 5,
        "procedure_url": _RUNBOOK + "disaster-recovery",
        "status": ScopeStatus.DRAFT,
    },
    # Update cycles
    "microsoft_updates": {
        "in_scope": True,
        "what": "Microsoft's service updates: plan, test and apply.",
        "details": [
            {
                "task": "Regression test of key processes",
                "standard": "Signed off before production",
                "frequency": "per release",
            }
        ],
        "roles": ["release_manager"],
        "people": ["Oliver Hughes"],
        "parties": [CORE_TEAM],
        "level": 3,
        **_OFFICE,
        "procedure_url": _RUNBOOK + "updates",
        "tool": "Lifecycle Services update settings",
        "status": ScopeStatus.AGREED,
        "owner": "Oliver Hughes",
        "reviewed_days_ago": 90,
    },
}


def _by_name(queryset) -> dict[str, Any]:
    return {obj.name: obj for obj in queryset}


@transaction.atomic
def seed_scope_demo(*, plan: SupportPlan) -> int:
    """Adds the demo scope items the plan does not have yet; returns how many it created."""
    aspects = {aspect.key: aspect for aspect in Aspect.objects.for_plan(plan).filter(key__in=list(ITEMS))}
    existing = set(ScopeItem.objects.filter(plan=plan).values_list("aspect__key", flat=True))
    people = _by_name(Person.objects.filter(plan=plan))
    parties = _by_name(Party.objects.filter(plan=plan))
    calendars = _by_name(ServiceCalendar.objects.filter(plan=plan))
    roles = {role.seed_key: role for role in Role.objects.filter(plan=plan).exclude(seed_key="")}
    levels = {level.number: level for level in SupportLevel.objects.filter(plan=plan)}
    today = timezone.localdate()
    created = 0
    for key, spec in ITEMS.items():
        aspect = aspects.get(key)
        if aspect is None or key in existing:
            continue
        spec = dict(spec)
        fields: dict[str, Any] = {
            "in_scope": spec.pop("in_scope"),
            "details": spec.pop("details", []),
            "roles": [roles[name] for name in spec.pop("roles", []) if name in roles],
            "people": [people[name] for name in spec.pop("people", []) if name in people],
            "parties": [parties[name] for name in spec.pop("parties", []) if name in parties],
            "support_level": levels.get(spec.pop("level", None)),
            "service_calendar": calendars.get(spec.pop("service_calendar", "")),
            "owner": people.get(spec.pop("owner", "")),
            "process_profile": spec.pop("profile", {}),
        }
        reviewed = spec.pop("reviewed_days_ago", None)
        fields["last_reviewed"] = today - timedelta(days=reviewed) if reviewed is not None else None
        scope_item_save(plan=plan, aspect=aspect, **fields, **spec)
        created += 1
    return created
