"""Priorities, SLA policies (phase-aware), targets with the calendar their clock runs on, and
escalation ladders. Sending escalations is the notification pipeline's job; here they are configured."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned


class Impact(models.TextChoices):
    HIGH = "high", "High: many users or a critical process"
    MEDIUM = "medium", "Medium: a team or a non-critical process"
    LOW = "low", "Low: one user, a workaround exists"


class Urgency(models.TextChoices):
    HIGH = "high", "High: work has stopped"
    MEDIUM = "medium", "Medium: work is slowed"
    LOW = "low", "Low: can wait"


class RequestType(models.TextChoices):
    INCIDENT = "incident", "Incident"
    SERVICE_REQUEST = "service_request", "Service request"
    HOW_TO = "how_to", "How-to question"
    CHANGE = "change", "Change"
    DEFECT = "defect", "Defect"


class SharedQuerySet(PlanScopedQuerySet):
    # Priorities and SLA terms are what partners are measured against: they may read them.
    partner_sees_all = True


class Priority(PlanOwned):
    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="priorities")
    code = models.CharField(max_length=10, help_text="e.g. P1.")
    name = models.CharField(max_length=80)
    definition = models.TextField(blank=True)
    rank = models.PositiveSmallIntegerField(default=1, help_text="1 is the most urgent.")

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "rank", "code"]
        verbose_name_plural = "priorities"
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="priority_code_unique_in_plan")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriorityMatrixCell(PlanOwned):
    """Impact × urgency → priority."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="priority_matrix"
    )
    impact = models.CharField(max_length=10, choices=Impact.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="matrix_cells")

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "impact", "urgency"], name="matrix_one_priority_per_cell")
        ]

    def __str__(self) -> str:
        return f"{self.impact} × {self.urgency} → {self.priority.code}"


class SlaPhase(models.TextChoices):
    HYPERCARE = "hypercare", "Hypercare"
    STEADY_STATE = "steady_state", "Steady state"


class SlaPolicy(PlanOwned):
    """A set of targets in force for a date range of one phase (hypercare or steady state)."""

    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="sla_policies")
    name = models.CharField(max_length=120)
    phase = models.CharField(max_length=20, choices=SlaPhase.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day in force; blank = open-ended.")
    pause_statuses = models.JSONField(
        default=list,
        blank=True,
        help_text='Request statuses that pause the clock, e.g. ["awaiting_customer"].',
    )
    vendor_wait_keeps_vendor_clock = models.BooleanField(
        default=True,
        help_text="While awaiting a vendor, our clock pauses but the vendor's own (underpinning) clock runs.",
    )
    description = models.TextField(blank=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "phase", "valid_from"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="sla_policy_ends_after_it_starts",
                violation_error_message="A policy cannot end before it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_phase_display()})"


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_UPDATE = "next_update", "Next update"
    RESOLUTION = "resolution", "Resolution"


class SlaTarget(models.Model):
    """A time allowed for one metric at one priority (optionally per request type and support level)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="sla_targets")
    metric = models.CharField(max_length=20, choices=SlaMetric.choices)
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(525_600)])
    calendar = models.ForeignKey(
        "operations.ServiceCalendar",
        on_delete=models.PROTECT,
        related_name="sla_targets",
        help_text="The calendar this clock runs on.",
    )
    request_type = models.CharField(
        max_length=20, choices=RequestType.choices, blank=True, help_text="Blank = any."
    )
    support_level = models.ForeignKey(
        "models_catalog.SupportLevel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_targets",
        help_text="A per-level clock: the time this level may hold the request before handing over.",
    )
    underpinning_agreement = models.ForeignKey(
        "models_catalog.Agreement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="underpinned_targets",
    )

    class Meta:
        ordering = ["policy", "priority__rank", "metric"]

    def __str__(self) -> str:
        return f"{self.priority.code} {self.get_metric_display()}: {self.minutes} min on {self.calendar}"

    def get_additional_data(self) -> dict:
        return {"plan_id": self.policy.plan_id}


class EscalationTrigger(models.TextChoices):
    PERCENT_ELAPSED = "percent", "At a share of the target elapsed"
    AT_BREACH = "breach", "At breach"
    AFTER_BREACH = "after_breach", "Minutes after breach"


class EscalationAction(models.TextChoices):
    NOTIFY_ROLE = "notify_role", "Notify a role"
    NOTIFY_PERSON = "notify_person", "Notify a person"
    NOTIFY_PARTY = "notify_party", "Notify a party"
    NOTIFY_LEVEL_CONTACT = "notify_level_contact", "Notify the holding level's contact"
    RAISE_LEVEL = "raise_level", "Raise the support level"
    RAISE_PRIORITY = "raise_priority", "Raise the priority"


class EscalationStep(models.Model):
    """One rung of a target's ladder. Steps stop when the clock is met or paused; repeats are bounded."""

    target = models.ForeignKey(SlaTarget, on_delete=models.CASCADE, related_name="escalation_steps")
    position = models.PositiveSmallIntegerField(default=0)
    trigger = models.CharField(max_length=20, choices=EscalationTrigger.choices)
    percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    minutes_after_breach = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(525_600)]
    )
    action = models.CharField(max_length=30, choices=EscalationAction.choices)
    role = models.ForeignKey(
        "models_catalog.Role", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "models_catalog.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    party = models.ForeignKey(
        "models_catalog.Party", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    repeat_every_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(10_080)]
    )
    max_repeats = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(10)])

    class Meta:
        ordering = ["target", "position"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(trigger="percent") | models.Q(percent__gte=1, percent__lte=100),
                name="escalation_percent_1_to_100",
                violation_error_message="A percentage step needs a percentage between 1 and 100.",
            ),
            models.CheckConstraint(
                condition=~models.Q(trigger="after_breach") | models.Q(minutes_after_breach__gte=1),
                name="escalation_after_breach_needs_minutes",
                violation_error_message="A step after breach needs the minutes after breach.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} → {self.get_action_display()}"

    def get_additional_data(self) -> dict:
        return {"plan_id": self.target.policy.plan_id}
