"""The support scope: a versioned catalogue of aspects and, per plan, a scope item per aspect
answering the guide's five questions (what, what in detail, who, when, how)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned

QUESTIONS = ("what", "detail", "who", "when", "how")


class AspectGroup(models.Model):
    """One of the guide's seven groups (enterprise architecture, policies, …). Catalogue data."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class AspectQuerySet(models.QuerySet):
    def for_plan(self, plan) -> AspectQuerySet:
        """The catalogue's current aspects plus the plan's own."""
        return self.filter(models.Q(plan__isnull=True, retired_in_version__isnull=True) | models.Q(plan=plan))


class Aspect(models.Model):
    """An aspect of the solution to answer the five questions for.

    Catalogue aspects (``plan`` empty) carry the catalogue version that introduced them and, once
    replaced, the version that retired them; a plan adds its own (one per integration, say).
    """

    group = models.ForeignKey(AspectGroup, on_delete=models.PROTECT, related_name="aspects")
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, null=True, blank=True, related_name="own_aspects"
    )
    key = models.SlugField(max_length=60, blank=True)
    name = models.CharField(max_length=160)
    guidance = models.TextField(blank=True)
    prompt_what = models.CharField(max_length=300, blank=True)
    prompt_detail = models.CharField(max_length=300, blank=True)
    prompt_who = models.CharField(max_length=300, blank=True)
    prompt_when = models.CharField(max_length=300, blank=True)
    prompt_how = models.CharField(max_length=300, blank=True)
    is_business_process = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    catalogue_version = models.PositiveSmallIntegerField(default=1)
    retired_in_version = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = AspectQuerySet.as_manager()

    class Meta:
        ordering = ["group__position", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(plan__isnull=True), name="catalogue_aspect_key_unique"
            ),
            models.UniqueConstraint(fields=["plan", "name"], name="plan_aspect_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        return {"plan_id": self.plan_id}


class ScopeStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    AGREED = "agreed", "Agreed"


class Criticality(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


#: The guide's nine questions for a business process (domain.md 1.3 D).
PROCESS_PROFILE_QUESTIONS = [
    ("expertise", "Expertise level needed"),
    ("typical_requests", "Likely support tasks and queries"),
    ("usage", "Usage type, frequency and volume"),
    ("criticality", "Criticality to outcomes and priority of its issues"),
    ("skills", "Skill type and level"),
    ("pooling", "Resources pooled by department, workstream or value chain?"),
    ("interactions", "Interactions with other systems and protocols"),
    ("compliance_training", "Special security or compliance training or certification"),
    ("out_of_hours", "Out-of-hours and holiday support needs"),
]


class ScopeItemQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> ScopeItemQuerySet:
        # A partner sees the items its organisation is named on.
        return self.filter(pk__in=ScopeItem.objects.filter(parties__members__user=user).values("pk"))


class ScopeItem(PlanOwned):
    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="scope_items")
    aspect = models.ForeignKey(Aspect, on_delete=models.PROTECT, related_name="scope_items")
    in_scope = models.BooleanField(null=True, blank=True, help_text="Blank until decided.")
    out_of_scope_reason = models.TextField(blank=True)
    redirect_to = models.CharField(
        max_length=200, blank=True, help_text="Out of scope: where such questions go instead."
    )
    # What
    what = models.TextField(blank=True, help_text="What is supported, in a sentence or two.")
    # What in detail: [{"task": "...", "standard": "...", "frequency": "monthly"}]
    details = models.JSONField(default=list, blank=True)
    # Who
    roles = models.ManyToManyField("models_catalog.Role", blank=True, related_name="scope_items")
    people = models.ManyToManyField("models_catalog.Person", blank=True, related_name="scope_items")
    parties = models.ManyToManyField("models_catalog.Party", blank=True, related_name="scope_items")
    support_level = models.ForeignKey(
        "models_catalog.SupportLevel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scope_items",
    )
    # When
    service_calendar = models.ForeignKey(
        "operations.ServiceCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scope_items",
    )
    when_text = models.CharField(max_length=300, blank=True, help_text="Hours, frequency or trigger.")
    peak_relevance = models.CharField(
        max_length=300, blank=True, help_text="Relevance to peaks and period-end."
    )
    # How
    procedure_url = models.URLField(blank=True, help_text="Procedure or runbook.")
    tool = models.CharField(max_length=160, blank=True)
    access_needs = models.TextField(blank=True)
    # Business processes
    criticality = models.CharField(max_length=10, choices=Criticality.choices, blank=True)
    process_profile = models.JSONField(default=dict, blank=True)
    # Review
    status = models.CharField(max_length=20, choices=ScopeStatus.choices, default=ScopeStatus.NOT_STARTED)
    owner = models.ForeignKey(
        "models_catalog.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_scope_items",
    )
    last_reviewed = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopeItemQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "aspect__group__position", "aspect__position"]
        constraints = [models.UniqueConstraint(fields=["plan", "aspect"], name="scope_item_one_per_aspect")]

    def __str__(self) -> str:
        return f"{self.aspect} ({self.plan})"

    def clean(self) -> None:
        errors = {}
        if self.aspect_id and self.plan_id and self.aspect.plan_id not in (None, self.plan_id):
            errors["aspect"] = "Choose an aspect of the catalogue or of this plan."
        if self.in_scope is False and not self.out_of_scope_reason:
            errors["out_of_scope_reason"] = "Say why it is out of scope."
        if not isinstance(self.details, list) or not all(
            isinstance(row, dict) and isinstance(row.get("task"), str) and row["task"].strip()
            for row in self.details
        ):
            errors["details"] = 'Give details as a list of {"task": …, "standard": …, "frequency": …}.'
        known = {key for key, _label in PROCESS_PROFILE_QUESTIONS}
        if not isinstance(self.process_profile, dict) or set(self.process_profile) - known:
            errors["process_profile"] = f"Profile answers are keyed by: {', '.join(sorted(known))}."
        for field in ("support_level", "service_calendar", "owner"):
            related = getattr(self, field)
            if related is not None and self.plan_id and related.plan_id != self.plan_id:
                errors[field] = "Choose one from this plan."
        if errors:
            raise ValidationError(errors)


class CharterVersion(PlanOwned):
    """An issued version of the support charter: frozen content, who issued it, who signed it off."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="charter_versions"
    )
    number = models.PositiveIntegerField()
    content_markdown = models.TextField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="charter_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"Charter v{self.number} of {self.plan}"


# Readiness, transition, hypercare and the risk log live in their own module, registered in this app.
from scope.readiness_models import (  # noqa: E402, F401
    GateAction,
    GateOverride,
    HypercarePlan,
    ReadinessGroup,
    ReadinessItem,
    ReadinessSnapshot,
    ReadinessStatus,
    ReadinessTarget,
    RiskEntry,
    RiskSeverity,
    RiskStatus,
    TransitionActivity,
    TransitionActivityKind,
)
