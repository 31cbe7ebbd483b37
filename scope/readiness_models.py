"""Go-live readiness (the guide's checklist), the transition plan, hypercare and the risk log.

Imported by ``scope.models`` so Django registers these models in the scope app: readiness is the last
step of preparing the support scope and model before go-live."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportplan.models import Phase, PlanOwned


class ReadinessGroup(models.TextChoices):
    SCOPE = "scope", "Support scope"
    MODEL = "model", "Support model and organisation"
    OPERATIONS = "operations", "Operational considerations"
    GO_LIVE = "go_live", "Go-live support readiness"


class ReadinessStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ReadinessItem(PlanOwned):
    """One item of the checklist, seeded per plan from ``scope.readiness_catalogue``."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="readiness_items"
    )
    key = models.CharField(max_length=60, help_text="Catalogue key; derived evidence is looked up by it.")
    group = models.CharField(max_length=20, choices=ReadinessGroup.choices)
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    must_have = models.BooleanField(default=True, help_text="Open must-haves block the go-live gate.")
    owner = models.ForeignKey(
        "models_catalog.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="readiness_items",
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ReadinessStatus.choices, default=ReadinessStatus.OPEN)
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_file = models.FileField(upload_to="readiness/%Y/%m/", blank=True, max_length=300)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "group", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="readiness_item_key_unique_in_plan")
        ]

    def __str__(self) -> str:
        return self.title


class ReadinessSnapshot(PlanOwned):
    """The scores of one day, for the trend."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="readiness_snapshots"
    )
    taken_on = models.DateField()
    overall_percent = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    #: {group: percent}
    group_percents = models.JSONField(default=dict)
    open_must_haves = models.PositiveSmallIntegerField(default=0)
    warnings = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "taken_on"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "taken_on"], name="readiness_snapshot_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.taken_on}: {self.overall_percent} %"


class GateAction(models.TextChoices):
    OPERATE = "operate", "Move the plan to Operate"
    START_HYPERCARE = "start_hypercare", "Start hypercare"


class GateOverride(PlanOwned):
    """A lead's recorded decision to pass the go-live gate with must-have items open."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="gate_overrides"
    )
    action = models.CharField(max_length=20, choices=GateAction.choices)
    reason = models.TextField()
    #: The open must-have items at the time: [{"key", "title"}].
    open_items = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""),
                name="gate_override_needs_reason",
                violation_error_message="An override needs a reason.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} override"


class TransitionActivityKind(models.TextChoices):
    SHADOWING = "shadowing", "Shadowing the project team"
    DESIGN_REVIEW = "design_review", "Design review"
    TEST_CASE_AUTHORING = "test_cases", "Test-case authoring"
    UAT_DRILL = "uat_drill", "UAT support drill"
    TASK_RECORDING = "task_recording", "Task recordings"
    TRAINING = "training", "Training"
    HANDOVER = "handover", "Handover session"
    OTHER = "other", "Other"


class TransitionActivity(PlanOwned):
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="transition_activities"
    )
    kind = models.CharField(max_length=20, choices=TransitionActivityKind.choices)
    title = models.CharField(max_length=200)
    phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    people = models.ManyToManyField("models_catalog.Person", blank=True, related_name="transition_activities")
    planned_start = models.DateField()
    planned_end = models.DateField()
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "planned_start", "id"]
        verbose_name_plural = "transition activities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="transition_activity_ends_after_it_starts",
                violation_error_message="An activity cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(actual_end__isnull=True)
                | models.Q(actual_start__isnull=False, actual_end__gte=models.F("actual_start")),
                name="transition_activity_actual_end_after_start",
                violation_error_message="The actual end needs an actual start before it.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReadinessTarget(PlanOwned):
    """An intermediate readiness target: e.g. 60 % by the end of build."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="readiness_targets"
    )
    name = models.CharField(max_length=160)
    target_date = models.DateField()
    target_percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    group = models.CharField(
        max_length=20, choices=ReadinessGroup.choices, blank=True, help_text="Blank = overall."
    )

    class Meta:
        ordering = ["plan", "target_date"]

    def __str__(self) -> str:
        return f"{self.name}: {self.target_percent} % by {self.target_date}"


class HypercarePlan(PlanOwned):
    plan = models.OneToOneField("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="hypercare")
    starts_on = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    entry_criteria = models.TextField(blank=True)
    exit_criteria_notes = models.TextField(blank=True)
    p1_p2_met_threshold = models.PositiveSmallIntegerField(default=90, validators=[MaxValueValidator(100)])
    resolved_without_hypercare_threshold = models.PositiveSmallIntegerField(
        default=95, validators=[MaxValueValidator(100)]
    )
    key_processes_working = models.BooleanField(default=False, help_text="Confirmed by a person (manual).")
    key_processes_note = models.TextField(blank=True)
    partner = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hypercare_plans",
    )
    committed_project_hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    committed_partner_hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    used_project_hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    used_partner_hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(planned_end__gte=models.F("starts_on")),
                name="hypercare_ends_after_it_starts",
                violation_error_message="Hypercare cannot end before it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"Hypercare of {self.plan}"


class RiskSeverity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class RiskStatus(models.TextChoices):
    OPEN = "open", "Open"
    MITIGATED = "mitigated", "Mitigated"
    CLOSED = "closed", "Closed"


class RiskEntry(PlanOwned):
    """A manual entry of the risk log (the derived gaps are computed, not stored)."""

    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="risks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=RiskSeverity.choices, default=RiskSeverity.MEDIUM)
    status = models.CharField(max_length=10, choices=RiskStatus.choices, default=RiskStatus.OPEN)
    owner = models.ForeignKey(
        "models_catalog.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="risks"
    )
    mitigation = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "status", "severity", "-created_at"]
        verbose_name_plural = "risk entries"

    def __str__(self) -> str:
        return self.title
