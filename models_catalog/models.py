"""The support model of a plan: model choice, five levels, parties and agreements, roles, people,
RACI and the staffing plan."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportplan.access import PlanScopedQuerySet
from supportplan.models import Location, PlanOwned, validate_language_list


class ModelKind(models.TextChoices):
    OUTSOURCED = "outsourced", "Outsourced (partner-led)"
    INTERNAL = "internal", "Internal (in-house)"
    MIXED = "mixed", "Mixed (hybrid)"


class SupportModel(PlanOwned):
    """The plan's chosen model, the rationale, and the questionnaire behind the recommendation."""

    plan = models.OneToOneField(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="support_model"
    )
    kind = models.CharField(max_length=20, choices=ModelKind.choices, blank=True)
    centre_of_excellence = models.BooleanField(
        default=False,
        help_text="A Dynamics 365 centre of excellence inside the model (not a model of its own).",
    )
    rationale = models.TextField(blank=True)
    #: The questionnaire's answers, keyed by question (see models_catalog.recommendation.QUESTIONS).
    answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "support model"

    def __str__(self) -> str:
        return f"{self.get_kind_display() or 'No model chosen'} — {self.plan}"


class PartyKind(models.TextChoices):
    INTERNAL_TEAM = "internal_team", "Internal team"
    HELPDESK = "helpdesk", "Helpdesk"
    CENTRE_OF_EXCELLENCE = "coe", "Centre of excellence"
    PARTNER = "partner", "Partner"
    ISV = "isv", "ISV"
    MICROSOFT = "microsoft", "Microsoft"
    ENTERPRISE_IT = "enterprise_it", "Enterprise IT"
    BUSINESS_UNIT = "business_unit", "Business unit"


EXTERNAL_PARTY_KINDS = frozenset({PartyKind.PARTNER, PartyKind.ISV, PartyKind.MICROSOFT})


def validate_reference_pattern(value: str) -> None:
    try:
        re.compile(value)
    except re.error as error:
        raise ValidationError(f"Not a valid regular expression: {error}.", code="regex") from None
    if len(value) > 200:
        raise ValidationError("Keep the pattern under 200 characters.")


class PartyQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> PartyQuerySet:
        # A partner sees its own organisation.
        return self.filter(members__user=user)


class Party(PlanOwned):
    """A resolving authority: who can resolve a kind of request (team, helpdesk, partner, ISV, …)."""

    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=PartyKind.choices)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_hours = models.CharField(max_length=120, blank=True, help_text="e.g. Mon–Fri 08:00–18:00 CET.")
    helpdesk_system = models.CharField(max_length=80, blank=True, help_text="e.g. ServiceNow, Jira, Zendesk.")
    reference_pattern = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_reference_pattern],
        help_text=r"Regular expression their ticket references match, e.g. ^PRT-\d{4,}$.",
    )
    escalation_contact_name = models.CharField(max_length=120, blank=True)
    escalation_contact_email = models.EmailField(blank=True)
    escalation_contact_phone = models.CharField(max_length=40, blank=True)
    anonymised_data_only = models.BooleanField(
        default=False, help_text="This party may see only anonymised data (copies, descriptions)."
    )
    notes = models.TextField(blank=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "kind", "name"]
        verbose_name_plural = "parties"
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="party_name_unique_in_plan")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_external(self) -> bool:
        return self.kind in EXTERNAL_PARTY_KINDS

    def reference_matches(self, reference: str) -> bool:
        return not self.reference_pattern or re.fullmatch(self.reference_pattern, reference) is not None


class AgreementKind(models.TextChoices):
    CONTRACT_WITH_SLA = "contract_sla", "Contract with SLA"
    SERVICE_DELIVERY = "service_delivery", "Internal service delivery agreement"
    UNDERPINNING = "underpinning", "Underpinning contract"


class AgreementQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> AgreementQuerySet:
        return self.filter(party__members__user=user)


class Agreement(PlanOwned):
    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="agreements")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="agreements")
    name = models.CharField(max_length=160, help_text="e.g. Partner support contract 2027.")
    kind = models.CharField(max_length=20, choices=AgreementKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    budget_hours = models.DecimalField(
        max_digits=9, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    hours_used = models.DecimalField(
        max_digits=9, decimal_places=1, default=0, validators=[MinValueValidator(0)]
    )
    follows_microsoft_release_cadence = models.BooleanField(
        null=True, blank=True, help_text="For ISVs: do they commit to follow Microsoft's update cadence?"
    )
    notes = models.TextField(blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "party__name", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_it_starts",
                violation_error_message="An agreement cannot end before it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.party})"

    def clean(self) -> None:
        errors = {}
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "An agreement cannot end before it starts."
        if self.party_id and self.plan_id and self.party.plan_id != self.plan_id:
            errors["party"] = "The party belongs to another plan."
        if (
            self.follows_microsoft_release_cadence is not None
            and self.party_id
            and self.party.kind != PartyKind.ISV
        ):
            errors["follows_microsoft_release_cadence"] = "Only an ISV's agreement records release alignment."
        if errors:
            raise ValidationError(errors)

    @property
    def hours_remaining(self):
        return None if self.budget_hours is None else self.budget_hours - self.hours_used


class AgreementCommitment(models.Model):
    """What the party commits to for one priority; later checked against the SLA it underpins."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="commitments")
    priority = models.CharField(max_length=10, help_text="Priority code, e.g. P1.")
    response_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(525_600)]
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(525_600)]
    )
    business_hours_only = models.BooleanField(
        default=True, help_text="Counted in the party's business hours."
    )

    class Meta:
        ordering = ["agreement", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "priority"], name="commitment_one_per_priority"),
        ]

    def __str__(self) -> str:
        return f"{self.priority}: respond {self.response_minutes} min, resolve {self.resolution_minutes} min"

    def get_additional_data(self) -> dict:
        return {"plan_id": self.agreement.plan_id}


class Role(PlanOwned):
    """A support role: the guide's eight are seeded per plan (``seed_key`` set); others are custom."""

    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    seed_key = models.SlugField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["plan", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="role_name_unique_in_plan"),
            models.UniqueConstraint(
                fields=["plan", "seed_key"], condition=~models.Q(seed_key=""), name="role_seed_unique_in_plan"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_super_user(self) -> bool:
        return self.seed_key == "super_user"


class SupportLevel(PlanOwned):
    """One of the five support levels, filled by parties and roles, with its hand-off rules."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="support_levels"
    )
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    entry_criteria = models.TextField(blank=True)
    handoff_criteria = models.TextField(
        blank=True, help_text="When and how a request moves to the next level."
    )
    parties = models.ManyToManyField(Party, blank=True, related_name="levels")
    roles = models.ManyToManyField(Role, blank=True, related_name="levels")
    #: Which model's template wrote this level; blank once a person has edited it.
    template_kind = models.CharField(max_length=20, choices=ModelKind.choices, blank=True)
    edited = models.BooleanField(default=False, help_text="Changed by a person since the template wrote it.")

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="level_number_unique_in_plan"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=5), name="level_number_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"L{self.number} {self.name}"


class PersonQuerySet(PlanScopedQuerySet):
    def partner_visible(self, user) -> PersonQuerySet:
        return self.filter(party__members__user=user)


def validate_weekly_hours(value) -> None:
    """``{"0": [["09:00", "17:00"]], …}``: weekday (Monday 0) to local wall-clock windows."""
    if not isinstance(value, dict):
        raise ValidationError("Working hours map weekdays 0–6 to lists of [start, end] times.")
    pattern = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
    for day, windows in value.items():
        if str(day) not in {"0", "1", "2", "3", "4", "5", "6"}:
            raise ValidationError(f"“{day}” is not a weekday number (0 = Monday … 6 = Sunday).")
        if not isinstance(windows, list):
            raise ValidationError(f"Weekday {day}: give a list of [start, end] pairs.")
        for window in windows:
            if (
                not isinstance(window, list | tuple)
                or len(window) != 2
                or not all(isinstance(t, str) and pattern.match(t) for t in window)
            ):
                raise ValidationError(f'Weekday {day}: {window!r} is not a ["HH:MM", "HH:MM"] pair.')


class Person(PlanOwned):
    plan = models.ForeignKey("supportplan.SupportPlan", on_delete=models.CASCADE, related_name="people")
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_people",
        help_text="Their SupportPlan login, if they have one (for 'my tasks').",
    )
    party = models.ForeignKey(Party, on_delete=models.SET_NULL, null=True, blank=True, related_name="people")
    roles = models.ManyToManyField(Role, blank=True, related_name="people")
    levels = models.ManyToManyField(SupportLevel, blank=True, related_name="people")
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    languages = models.JSONField(default=list, blank=True, validators=[validate_language_list])
    skills = models.JSONField(default=list, blank=True, help_text='Free tags, e.g. ["finance", "X++"].')
    allocation_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of their time on support.",
    )
    working_hours = models.JSONField(default=dict, blank=True, validators=[validate_weekly_hours])
    weekly_contract_hours = models.DecimalField(
        max_digits=4, decimal_places=1, default=40, validators=[MinValueValidator(0), MaxValueValidator(80)]
    )
    super_user_formalised = models.BooleanField(
        default=False,
        help_text="Super users: time allocated and objectives agreed (the case study's lesson).",
    )
    super_user_objectives = models.TextField(blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for field in ("party", "location"):
            related = getattr(self, field)
            if related is not None and self.plan_id and related.plan_id != self.plan_id:
                errors[field] = "Choose one from this plan."
        if not isinstance(self.skills, list) or not all(isinstance(skill, str) for skill in self.skills):
            errors["skills"] = "Skills are a list of words."
        if errors:
            raise ValidationError(errors)


class Responsibility(PlanOwned):
    """A row of the RACI: the guide's five responsibility areas are seeded; others are custom."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="responsibilities"
    )
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    seed_key = models.SlugField(max_length=40, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "name"]
        verbose_name_plural = "responsibilities"
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="responsibility_unique_in_plan")]

    def __str__(self) -> str:
        return self.name


class RaciLetter(models.TextChoices):
    RESPONSIBLE = "R", "Responsible"
    ACCOUNTABLE = "A", "Accountable"
    CONSULTED = "C", "Consulted"
    INFORMED = "I", "Informed"


class RaciAssignment(PlanOwned):
    """One cell of the RACI grid: a responsibility against a role or a party."""

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="raci_assignments"
    )
    responsibility = models.ForeignKey(Responsibility, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(
        Role, on_delete=models.CASCADE, null=True, blank=True, related_name="raci_assignments"
    )
    party = models.ForeignKey(
        Party, on_delete=models.CASCADE, null=True, blank=True, related_name="raci_assignments"
    )
    letter = models.CharField(max_length=1, choices=RaciLetter.choices)

    class Meta:
        ordering = ["plan", "responsibility"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role__isnull=False) & models.Q(party__isnull=True))
                | (models.Q(role__isnull=True) & models.Q(party__isnull=False)),
                name="raci_cell_is_a_role_or_a_party",
                violation_error_message="A RACI cell names either a role or a party.",
            ),
            models.UniqueConstraint(
                fields=["responsibility", "role"],
                condition=models.Q(role__isnull=False),
                name="raci_one_cell_per_role",
            ),
            models.UniqueConstraint(
                fields=["responsibility", "party"],
                condition=models.Q(party__isnull=False),
                name="raci_one_cell_per_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.responsibility}: {self.role or self.party} = {self.letter}"


class StaffingProfile(PlanOwned):
    """Expected demand for one support level (optionally one location or language) and its target."""

    class Source(models.TextChoices):
        ENTERED = "entered", "Requests per hour entered"
        DERIVED = "derived", "Derived from users × requests per user per month × hourly shape"

    plan = models.ForeignKey(
        "supportplan.SupportPlan", on_delete=models.CASCADE, related_name="staffing_profiles"
    )
    name = models.CharField(max_length=120)
    level = models.ForeignKey(SupportLevel, on_delete=models.CASCADE, related_name="staffing_profiles")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    language = models.CharField(max_length=3, blank=True, help_text="ISO 639-1; blank for any language.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="The zone the weekly profile is in.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DERIVED)
    #: 168 values (Monday 00:00 … Sunday 23:00, local), requests per hour, when ``source`` is entered.
    requests_per_hour = models.JSONField(default=list, blank=True)
    users = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(10_000_000)])
    requests_per_user_per_month = models.DecimalField(
        max_digits=6, decimal_places=3, default=0, validators=[MinValueValidator(0), MaxValueValidator(1000)]
    )
    hourly_shape = models.CharField(max_length=20, default="office", help_text="office, extended or flat.")
    handle_time_seconds = models.PositiveIntegerField(
        default=900, validators=[MinValueValidator(1), MaxValueValidator(86_400)]
    )
    service_level = models.DecimalField(
        max_digits=4, decimal_places=3, default=0.8, help_text="Share answered within the target, e.g. 0.8."
    )
    answer_within_seconds = models.PositiveIntegerField(
        default=3600, validators=[MaxValueValidator(7 * 86_400)]
    )
    max_occupancy = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    shrinkage = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=0.3,
        validators=[MinValueValidator(0), MaxValueValidator(0.99)],
    )
    weekly_contract_hours = models.DecimalField(
        max_digits=4, decimal_places=1, default=37.5, validators=[MinValueValidator(1), MaxValueValidator(80)]
    )

    class Meta:
        ordering = ["plan", "level__number", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="staffing_profile_unique_in_plan")
        ]

    def __str__(self) -> str:
        return self.name
