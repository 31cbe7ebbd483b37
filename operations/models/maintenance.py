"""The shared maintenance calendar: recurring tasks with owners, their materialised occurrences and the
secret feed tokens calendars subscribe with. Freeze and update windows are ``CalendarEvent`` rows
(kinds in ``operations.models.calendars``) whose ``blocks_maintenance`` flag makes an occurrence inside
them a conflict."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned, validate_timezone


class Environment(models.TextChoices):
    """The environments a task runs in and an access policy is about (shared with partner access)."""

    PRODUCTION = "production", "Production"
    SUPPORT_COPY = "support_copy", "Support copy of production"
    TEST = "test", "Test / UAT"
    DEVELOPMENT = "development", "Development"


class NonWorkingDayShift(models.TextChoices):
    NONE = "none", "Keep the date"
    PREVIOUS = "previous", "Move to the previous working day"
    NEXT = "next", "Move to the next working day"


class MaintenanceTaskQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> MaintenanceTaskQuerySet:
        # A partner sees the tasks its organisation is responsible for or whose owner/backup it employs.
        # A subquery, not .distinct(): for_user() ORs this with the staff rows, and Django cannot
        # combine a distinct query with a non-distinct one.
        return self.filter(
            pk__in=MaintenanceTask.objects.filter(
                models.Q(responsible_party__members__user=user)
                | models.Q(owner__party__members__user=user)
                | models.Q(backup__party__members__user=user)
            ).values("pk")
        )


class MaintenanceTask(PlanOwned):
    """A recurring task of the support and servicing calendar (domain 4.5)."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="maintenance_tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    #: A key of ``operations.maintenance_catalogue.CATEGORIES`` (or "other").
    category = models.CharField(max_length=40, default="other")
    owner = models.ForeignKey(
        "models_catalog.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_tasks"
    )
    backup = models.ForeignKey(
        "models_catalog.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="backup_tasks"
    )
    responsible_role = models.ForeignKey(
        "models_catalog.Role",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="maintenance_tasks",
    )
    responsible_party = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="maintenance_tasks",
    )
    environment = models.CharField(max_length=20, choices=Environment.choices, blank=True)
    scope_item = models.ForeignKey(
        "scope.ScopeItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="maintenance_tasks"
    )
    # Recurrence: an RFC 5545 RRULE (without DTSTART) expanded from starts_on at local_time in timezone,
    # so occurrences keep their wall-clock time across daylight-saving changes.
    rrule = models.TextField(help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO.")
    #: The structured pattern the form built the RRULE from ({} when an expert typed it).
    pattern = models.JSONField(default=dict, blank=True)
    starts_on = models.DateField()
    local_time = models.TimeField()
    timezone = models.CharField(max_length=64, validators=[validate_timezone], help_text="IANA name.")
    ends_on = models.DateField(null=True, blank=True, help_text="Last day an occurrence may fall on.")
    schedule_from_completion = models.BooleanField(
        default=False, help_text="Count the next due date from the last completion instead of the plan."
    )
    non_working_day_shift = models.CharField(
        max_length=10, choices=NonWorkingDayShift.choices, default=NonWorkingDayShift.NONE
    )
    working_calendar = models.ForeignKey(
        "operations.ServiceCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="maintenance_tasks",
        help_text="Decides working days for moves and “last working day”.",
    )
    duration_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(10_080)]
    )
    reminder_lead_minutes = models.PositiveIntegerField(
        default=1440, validators=[MaxValueValidator(43_200)], help_text="How long before due to remind."
    )
    grace_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(43_200)], help_text="After due + grace, it is late."
    )
    evidence_required = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MaintenanceTaskQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1),
                name="maintenance_task_duration_positive",
                violation_error_message="A task's duration must be at least one minute.",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="maintenance_task_ends_after_it_starts",
                violation_error_message="A task cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OccurrenceStatus(models.TextChoices):
    """What is stored. The displayed state adds time: see ``OccurrenceState``."""

    OPEN = "open", "Open"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class OccurrenceState(models.TextChoices):
    """Displayed state: an open occurrence is upcoming before its reminder lead time starts, due from
    then until due + grace, late afterwards."""

    UPCOMING = "upcoming", "Upcoming"
    DUE = "due", "Due"
    LATE = "late", "Late"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class ReminderKind(models.TextChoices):
    BEFORE_DUE = "before_due", "Due soon"
    ON_DUE = "on_due", "Due now"
    LATE = "late", "Late"


class OccurrenceQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> OccurrenceQuerySet:
        return self.filter(task__in=MaintenanceTask.objects.partner_visible(user))


class TaskOccurrence(PlanOwned):
    """One materialised occurrence. Identity is (task, original_due_at): the instant the rule gave,
    so rebuilding the horizon is idempotent and a moved occurrence keeps its identity."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="task_occurrences"
    )
    task = models.ForeignKey(MaintenanceTask, on_delete=models.CASCADE, related_name="occurrences")
    original_due_at = models.DateTimeField(help_text="The instant the recurrence rule gave (UTC).")
    due_at = models.DateTimeField(help_text="When it is due, after a working-day shift or a manual move.")
    moved = models.BooleanField(default=False, help_text="Moved by hand; a rebuild keeps its date.")
    move_reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=OccurrenceStatus.choices, default=OccurrenceStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was completed or skipped.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="Completion notes or the reason for skipping.")
    evidence_url = models.URLField(max_length=500, blank=True)
    # The reminder schedule: the next reminder to write into the outbox. The beat sweep asks for
    # rows whose next_remind_at has passed through a partial index of exactly those rows.
    next_remind_at = models.DateTimeField(null=True, blank=True)
    next_remind_kind = models.CharField(max_length=12, choices=ReminderKind.choices, blank=True)
    late_reminders_sent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "original_due_at"], name="occurrence_once_per_rule_instant"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_remind_at"],
                name="occurrence_reminder_due",
                condition=models.Q(next_remind_at__isnull=False),
            ),
            models.Index(
                fields=["plan", "due_at"], name="occurrence_open_by_due", condition=models.Q(status="open")
            ),
            models.Index(fields=["task", "due_at"], name="occurrence_task_due"),
        ]

    def __str__(self) -> str:
        return f"{self.task} @ {self.due_at:%Y-%m-%d %H:%M} UTC"


class FeedScope(models.TextChoices):
    PLAN = "plan", "Whole plan"
    PERSON = "person", "One person's tasks"


class FeedTokenQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> FeedTokenQuerySet:
        # A partner sees (to list and revoke) only the feeds of their own tasks.
        return self.filter(person__user=user)


class FeedToken(PlanOwned):
    """A secret iCalendar feed URL. Only a hash is stored; rotating revokes the old URL at once."""

    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="feed_tokens")
    scope = models.CharField(max_length=10, choices=FeedScope.choices)
    person = models.ForeignKey(
        "models_catalog.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False, help_text="First characters, to recognise it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = FeedTokenQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "scope", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(scope="plan") & models.Q(person__isnull=True))
                | (models.Q(scope="person") & models.Q(person__isnull=False)),
                name="feed_token_person_matches_scope",
                violation_error_message="A person's feed needs the person; a plan feed has none.",
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(revoked_at__isnull=True, scope="plan"),
                name="feed_token_one_active_plan_feed",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(revoked_at__isnull=True, scope="person"),
                name="feed_token_one_active_person_feed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} feed {self.prefix}…"
