"""Partner access: policies decided before they are needed (party × environment), and access
requests whose approved grants expire on their own."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from operations.models.maintenance import Environment
from supportplan.access import PlanScopedQuerySet
from supportplan.models import PlanOwned


class DataClass(models.TextChoices):
    FULL = "full", "Full production data"
    ANONYMISED = "anonymised", "Anonymised data only"
    NONE = "none", "No access"


class AccessPolicyQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> AccessPolicyQuerySet:
        return self.filter(party__members__user=user)


class AccessPolicy(PlanOwned):
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="access_policies"
    )
    party = models.ForeignKey(
        "models_catalog.Party", on_delete=models.CASCADE, related_name="access_policies"
    )
    environment = models.CharField(max_length=20, choices=Environment.choices)
    data_class = models.CharField(max_length=12, choices=DataClass.choices)
    approver = models.ForeignKey(
        "models_catalog.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approves_access",
        help_text="Who approves requests (needs a login); leads may always approve.",
    )
    preapproved_for_p1 = models.BooleanField(
        default=False, help_text="A request linked to an open P1 is granted at once and reported."
    )
    max_duration_hours = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(8760)]
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccessPolicyQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "party", "environment"]
        verbose_name_plural = "access policies"
        constraints = [
            models.UniqueConstraint(fields=["party", "environment"], name="access_policy_once_per_party_env"),
        ]

    def __str__(self) -> str:
        return f"{self.party} · {self.get_environment_display()}: {self.get_data_class_display()}"


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Granted"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    CANCELLED = "cancelled", "Cancelled"


class AccessRequestQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> AccessRequestQuerySet:
        return self.filter(party__members__user=user)


class AccessRequest(PlanOwned):
    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="access_requests"
    )
    policy = models.ForeignKey(AccessPolicy, on_delete=models.PROTECT, related_name="requests")
    party = models.ForeignKey(
        "models_catalog.Party", on_delete=models.CASCADE, related_name="access_requests"
    )
    environment = models.CharField(max_length=20, choices=Environment.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    reason = models.TextField()
    support_request = models.ForeignKey(
        "operations.SupportRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_requests",
    )
    duration_hours = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(8760)])
    status = models.CharField(
        max_length=12, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    auto_approved = models.BooleanField(default=False, help_text="Granted at once under P1 pre-approval.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    granted_from = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it expired or was revoked.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"], name="access_grant_expiry_due", condition=models.Q(status="approved")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(expires_at__isnull=False),
                name="access_grant_has_expiry",
                violation_error_message="A granted request needs an expiry.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.party} → {self.get_environment_display()} ({self.get_status_display()})"
