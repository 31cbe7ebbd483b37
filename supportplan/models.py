"""The support plan (the tenant every record belongs to), who may work on it, and its audit trail."""

from __future__ import annotations

import zoneinfo
from functools import cache

import pycountry
from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from supportplan.access import PlanScopedQuerySet, SupportPlanQuerySet


@cache
def _available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _available_timezones():
        raise ValidationError(
            f"“{value}” is not an IANA time zone (for example Europe/London).", code="timezone"
        )


def validate_country(value: str) -> None:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(f"“{value}” is not an ISO 3166 country code (for example GB).", code="country")


def validate_language_list(value: list) -> None:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError('Give languages as a list of ISO 639-1 codes, e.g. ["en", "de"].')
    unknown = [code for code in value if pycountry.languages.get(alpha_2=code) is None]
    if unknown:
        raise ValidationError(f"Unknown language code(s): {', '.join(unknown)} (use ISO 639-1, e.g. en).")
    if len(set(value)) != len(value):
        raise ValidationError("A language is listed twice.")


class Product(models.TextChoices):
    FINANCE_OPERATIONS = "finance_operations", "Finance & Operations apps"
    CUSTOMER_ENGAGEMENT = "customer_engagement", "Customer Engagement apps"
    BUSINESS_CENTRAL = "business_central", "Business Central"
    POWER_PLATFORM = "power_platform", "Power Platform"
    OTHER = "other", "Other"


def validate_product_list(value: list) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one product.")
    unknown = [item for item in value if item not in Product.values]
    if unknown:
        raise ValidationError(f"Unknown product(s): {', '.join(map(str, unknown))}.")
    if len(set(value)) != len(value):
        raise ValidationError("A product is listed twice.")


class Phase(models.TextChoices):
    INITIATE = "initiate", "Initiate"
    IMPLEMENT = "implement", "Implement"
    PREPARE = "prepare", "Prepare"
    OPERATE = "operate", "Operate"


class SupportPlan(models.Model):
    """The solution being supported; every other record belongs to exactly one plan."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text="Short name used in addresses, e.g. northwind-d365.",
    )
    products = models.JSONField(default=list, validators=[validate_product_list])
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.INITIATE)
    go_live_date = models.DateField(null=True, blank=True)
    hypercare_start = models.DateField(null=True, blank=True)
    hypercare_end = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupportPlanQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hypercare_end__isnull=True)
                | models.Q(hypercare_start__isnull=True)
                | models.Q(hypercare_end__gte=models.F("hypercare_start")),
                name="plan_hypercare_ends_after_it_starts",
                violation_error_message="Hypercare cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", kwargs={"plan_slug": self.slug})

    def get_product_labels(self) -> list[str]:
        return [Product(value).label for value in self.products if value in Product.values]

    def get_additional_data(self) -> dict:
        return {"plan_id": self.pk}

    def clean(self) -> None:
        if self.hypercare_start and self.hypercare_end and self.hypercare_end < self.hypercare_start:
            raise ValidationError({"hypercare_end": "Hypercare cannot end before it starts."})
        if self.hypercare_start and self.go_live_date and self.hypercare_start < self.go_live_date:
            raise ValidationError({"hypercare_start": "Hypercare starts at or after go-live."})


class PlanOwned(models.Model):
    """Base for records that belong to one plan: scoped querysets and the audit link."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="+")

    objects = PlanScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def get_additional_data(self) -> dict:
        return {"plan_id": self.plan_id}


class LocationQuerySet(PlanScopedQuerySet):
    # Where users sit and in which time zone is context every partner needs.
    partner_sees_all = True


class Location(PlanOwned):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=120, help_text="e.g. Head office, Manchester.")
    country = models.CharField(
        max_length=2, validators=[validate_country], help_text="ISO 3166 code, e.g. GB."
    )
    subdivision = models.CharField(
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{1,3}$", "Use the ISO 3166-2 code after the dash, e.g. ENG.")],
        help_text="ISO 3166-2 subdivision after the country, e.g. ENG or BY (optional).",
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone], help_text="IANA name.")
    languages = models.JSONField(default=list, blank=True, validators=[validate_language_list])
    user_count = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(10_000_000)])

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="location_name_unique_in_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    def clean(self) -> None:
        if self.country and self.subdivision:
            code = f"{self.country}-{self.subdivision}"
            if pycountry.subdivisions.get(code=code) is None:
                raise ValidationError({"subdivision": f"“{code}” is not an ISO 3166-2 subdivision."})


class PlanRole(models.TextChoices):
    PROJECT_LEAD = "project_lead", "Project lead"
    SUPPORT_LEAD = "support_lead", "Support lead"
    TEAM_MEMBER = "team_member", "Team member"
    PARTNER = "partner", "Partner"
    VIEWER = "viewer", "Viewer"


LEAD_ROLES = frozenset({PlanRole.PROJECT_LEAD, PlanRole.SUPPORT_LEAD})


class MembershipQuerySet(PlanScopedQuerySet):
    def for_user(self, principal) -> MembershipQuerySet:
        from supportplan.access import is_api_key

        # Who works on a plan is no helpdesk integration's business.
        return self.none() if is_api_key(principal) else super().for_user(principal)

    def partner_visible(self, user) -> MembershipQuerySet:
        return self.filter(user=user)


class Membership(PlanOwned):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=PlanRole.choices)
    organisation = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        help_text="For partners: the organisation whose assigned work they see.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "user"], name="membership_one_role_per_user_and_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.plan}"

    def clean(self) -> None:
        if self.organisation_id and self.plan_id and self.organisation.plan_id != self.plan_id:
            raise ValidationError({"organisation": "Choose an organisation of this plan."})

    @property
    def is_lead(self) -> bool:
        return self.role in LEAD_ROLES


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class ApiKeyQuerySet(PlanScopedQuerySet):
    def for_user(self, principal) -> ApiKeyQuerySet:
        """Keys are credentials: only the plan's leads (and superusers) see them."""
        return self.filter(plan__in=SupportPlan.objects.configurable_by(principal))

    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(PlanOwned):
    """A helpdesk integration's credential: shown once, stored as a SHA-256 hash, one plan."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120, help_text="Which integration uses it, e.g. ServiceNow.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(max_length=20, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.READ_WRITE


class AuditEntry(AbstractLogEntry):
    """An append-only audit row (django-auditlog's entry plus the plan it belongs to)."""

    # No database constraint: the trail outlives the plan or key it describes (append-only rows
    # can't be nulled on delete).
    plan = models.ForeignKey(
        SupportPlan, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["plan", "-timestamp"], name="audit_plan_history")]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Audit entries are append-only.")
        # auditlog fills additional_data from the audited model's get_additional_data().
        plan_id = (self.additional_data or {}).get("plan_id")
        if plan_id and self.plan_id is None:
            self.plan_id = plan_id
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are append-only.")


class ServiceHeartbeat(models.Model):
    """When a background process last proved it was alive (one row per process kind)."""

    name = models.CharField(max_length=60, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S} UTC"
