"""Support requests reported by helpdesks, traced across levels and parties.

The event log is the truth: a request's status, priority, level and party, and every SLA clock, are a
pure function of its stored events ordered by (``occurred_at``, ``sequence``), never by arrival. The
columns on ``SupportRequest`` and ``SlaClock`` are that function's stored result, recomputed by the
services whenever events arrive or the policy, calendar or priority changes, so lists filter on
indexed columns and the breach sweep asks one indexed question."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from operations.models.sla import Impact, RequestType, SlaMetric, SlaPhase, Urgency
from operations.statuses import RequestStatus
from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned


class SupportRequestQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> SupportRequestQuerySet:
        # A partner sees the requests its organisation holds or held at some point.
        # Exists, not a join + distinct(): for_user() ORs this with the plan filter, and Django cannot
        # combine a distinct queryset with a plain one.
        held = RequestEvent.objects.filter(request=models.OuterRef("pk"), party__members__user=user)
        holds = SupportRequest.objects.filter(pk=models.OuterRef("pk"), current_party__members__user=user)
        return self.filter(models.Exists(holds) | models.Exists(held))


class SupportRequest(PlanOwned):
    # Every event rewrites this row, and ``updated_at`` is indexed, so no update is HOT: each index
    # costs an entry (and its WAL) per event. Only the foreign keys that lists and scopes filter on
    # keep an index of their own; ``plan`` leads the composite indexes below. The others are read
    # only when their target is deleted (a rare configuration change that may then scan).
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="support_requests", db_index=False
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    #: What a party that may see anonymised data only is shown instead of the description.
    description_anonymised = models.TextField(blank=True)
    request_type = models.CharField(max_length=20, choices=RequestType.choices, default=RequestType.INCIDENT)
    impact = models.CharField(max_length=10, choices=Impact.choices, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    priority = models.ForeignKey(
        "operations.Priority", on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    scope_item = models.ForeignKey(
        "scope.ScopeItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        db_index=False,
    )
    location = models.ForeignKey(
        "supportplan.Location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        db_index=False,
    )
    current_level = models.ForeignKey(
        "models_catalog.SupportLevel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    current_party = models.ForeignKey(
        "models_catalog.Party", on_delete=models.SET_NULL, null=True, blank=True, related_name="held_requests"
    )
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.NEW)
    #: The integration that created it (its API key) and the helpdesk's own id, for the upsert.
    source_key = models.ForeignKey(
        "supportplan.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        db_index=False,
    )
    source_system = models.CharField(max_length=60, blank=True, help_text="e.g. servicenow.")
    source_id = models.CharField(
        max_length=120, blank=True, help_text="The request's id in the source system."
    )
    reported_at = models.DateTimeField(help_text="When the helpdesk says it was reported (UTC).")
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_public_update_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: Phase-aware SLA: the policy in force when the request was reported.
    phase = models.CharField(max_length=20, choices=SlaPhase.choices, blank=True)
    policy = models.ForeignKey(
        "operations.SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        db_index=False,
    )
    #: Worst clock state, for lists: ok / at_risk / breached (recomputed with the clocks).
    sla_state = models.CharField(max_length=12, default="ok")
    next_breach_at = models.DateTimeField(null=True, blank=True, help_text="Earliest running deadline.")
    #: Hypercare metric: resolved without hypercare-only resources (issue 8 reads it).
    needed_hypercare_resources = models.BooleanField(default=False)
    has_action_plan = models.BooleanField(default=False, help_text="For open P1s during hypercare.")
    event_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupportRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="request_once_per_source_id",
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "status", "-reported_at"], name="request_plan_status"),
            # The list's cursor order, tie-breaker included: a page is read off the index, without
            # sorting the plan's requests (whatever the planner's statistics say).
            models.Index(fields=["plan", "-updated_at", "-id"], name="request_plan_updated"),
            models.Index(
                fields=["plan", "next_breach_at"],
                name="request_open_next_breach",
                condition=models.Q(next_breach_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RequestReference(PlanOwned):
    """One external reference of a request: (system, reference), unique per plan and system."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="request_references"
    )
    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="references")
    system = models.CharField(max_length=60, help_text="e.g. servicenow, partner, isv, microsoft.")
    reference = models.CharField(max_length=120)
    party = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request_references",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "system", "reference"], name="request_reference_unique"),
        ]
        indexes = [models.Index(fields=["plan", "reference"], name="request_reference_search")]

    def __str__(self) -> str:
        return f"{self.system}:{self.reference}"


class RequestEventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority or impact/urgency changed"
    HANDED_OFF = "handed_off", "Handed off"
    PUBLIC_UPDATE = "public_update", "Public update sent"
    REOPENED = "reopened", "Reopened"
    COMMENT = "comment", "Comment"
    ESCALATED = "escalated", "Escalated by the SLA ladder"


class RequestEvent(PlanOwned):
    # The most written table: every event is an insert into each of its indexes. Events are read by
    # request (``request_event_order`` leads with it) and, for a partner's scope, by party; the other
    # foreign keys are read only when their target is deleted (rare; that delete may then scan).
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="request_events", db_index=False
    )
    request = models.ForeignKey(
        SupportRequest, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    #: Arrival order within the request, the tie-breaker after occurred_at.
    sequence = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=RequestEventKind.choices)
    occurred_at = models.DateTimeField(help_text="When it happened, as the helpdesk reports it (UTC).")
    received_at = models.DateTimeField(auto_now_add=True)
    #: The helpdesk's own event id, when it sends one (an idempotency key of its own).
    source_event_id = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)
    external_status = models.CharField(max_length=80, blank=True, help_text="The helpdesk's own status name.")
    #: "pause" / "resume" from the integration's status mapping; blank = the policy's pause statuses decide.
    clock_effect = models.CharField(max_length=10, blank=True)
    priority = models.ForeignKey(
        "operations.Priority",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    impact = models.CharField(max_length=10, choices=Impact.choices, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    level = models.ForeignKey(
        "models_catalog.SupportLevel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    party = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request_events",
    )
    reference_system = models.CharField(max_length=60, blank=True)
    reference = models.CharField(max_length=120, blank=True)
    body = models.TextField(blank=True)
    actor_name = models.CharField(max_length=120, blank=True)
    api_key = models.ForeignKey(
        "supportplan.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["request", "occurred_at", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "source_event_id"],
                condition=~models.Q(source_event_id=""),
                name="request_event_once_per_source_id",
            ),
        ]
        indexes = [models.Index(fields=["request", "occurred_at", "sequence"], name="request_event_order")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class ClockEffect(models.TextChoices):
    POLICY = "", "As the SLA policy says"
    PAUSE = "pause", "Pause the clock"
    RESUME = "resume", "Run the clock"


class StatusMapping(PlanOwned):
    """An integration's own status name → our status and its effect on the clocks."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="status_mappings"
    )
    api_key = models.ForeignKey(
        "supportplan.ApiKey", on_delete=models.CASCADE, related_name="status_mappings"
    )
    external_status = models.CharField(max_length=80, help_text="Compared case-insensitively.")
    status = models.CharField(max_length=20, choices=RequestStatus.choices)
    clock_effect = models.CharField(max_length=10, choices=ClockEffect.choices, blank=True, default="")

    class Meta:
        ordering = ["api_key", "external_status"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("external_status"), "api_key", name="status_mapping_once_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_status} → {self.status}"


class IdempotencyRecord(models.Model):
    """A claimed idempotency key and the response it produced; the claim and the write share one
    transaction, so a replay returns the stored response and a concurrent duplicate waits on the row."""

    principal = models.CharField(max_length=40, help_text="key:<id> or user:<id>.")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"  # the deadline passed while running (may still be running)
    CANCELLED = "cancelled", "Cancelled"


class SlaClockQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> SlaClockQuerySet:
        return self.filter(request__in=SupportRequest.objects.partner_visible(user))


class SlaClock(PlanOwned):
    """One clock of one request: a target of the policy in force, optionally for one level's pass
    (``cycle`` counts next-update cycles and passes through a level)."""

    # Rewritten by most events; an update that moves an indexed instant is not HOT and adds an entry
    # to every index. Clocks are read by request (``sla_clock_once_per_target_cycle`` leads with it),
    # by plan (reports) and through the sweep's partial indexes; the other foreign keys only when
    # their target is deleted (rare; that delete may then scan).
    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="sla_clocks")
    request = models.ForeignKey(
        SupportRequest, on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    target = models.ForeignKey(
        "operations.SlaTarget", on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    metric = models.CharField(max_length=20, choices=SlaMetric.choices)
    level = models.ForeignKey(
        "models_catalog.SupportLevel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    party = models.ForeignKey(
        "models_catalog.Party",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    cycle = models.PositiveIntegerField(default=0)
    calendar = models.ForeignKey(
        "operations.ServiceCalendar", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="When it was met or cancelled.")
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    #: Business seconds counted up to ``computed_at`` (or the stop).
    elapsed_seconds = models.PositiveIntegerField(default=0)
    paused_seconds = models.PositiveIntegerField(default=0, help_text="Wall-clock seconds spent paused.")
    paused_since = models.DateTimeField(null=True, blank=True)
    #: Instants for the running clock (null when paused, met or cancelled), in UTC.
    warn_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True, help_text="When it breached, if it did.")
    #: The next escalation ladder step and when it falls due; the sweep's partial index.
    next_step_at = models.DateTimeField(null=True, blank=True)
    next_step = models.ForeignKey(
        "operations.EscalationStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    next_step_repeat = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField()

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        ordering = ["request", "metric", "cycle"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "target", "cycle"], name="sla_clock_once_per_target_cycle"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_step_at"],
                name="sla_clock_step_due",
                condition=models.Q(next_step_at__isnull=False),
            ),
            models.Index(
                fields=["plan", "breach_at"],
                name="sla_clock_running_breach",
                condition=models.Q(state="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} of request {self.request_id}"
