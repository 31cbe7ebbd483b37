"""Writes for the support model: model choice and level templates, parties, agreements, roles, people.

(RACI writes live in ``raci.py``, the staffing plan's in ``staffing_plan.py``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from models_catalog import catalogue
from models_catalog.models import (
    Agreement,
    AgreementCommitment,
    ModelKind,
    Party,
    Person,
    Responsibility,
    Role,
    SupportLevel,
    SupportModel,
)
from models_catalog.recommendation import validate_answers
from supportplan.lib.services import apply_fields
from supportplan.models import SupportPlan


# --- Seeding --------------------------------------------------------------------------------
@transaction.atomic
def catalogue_seed_plan(*, plan: SupportPlan) -> None:
    """Gives a plan the guide's eight roles and five responsibility areas. Idempotent."""
    existing_roles = set(Role.objects.filter(plan=plan).values_list("seed_key", flat=True))
    taken_names = set(Role.objects.filter(plan=plan).values_list("name", flat=True))
    Role.objects.bulk_create(
        Role(plan=plan, seed_key=key, name=name, description=description)
        for key, name, description in catalogue.ROLES
        if key not in existing_roles and name not in taken_names
    )
    existing = set(Responsibility.objects.filter(plan=plan).values_list("seed_key", flat=True))
    taken = set(Responsibility.objects.filter(plan=plan).values_list("name", flat=True))
    Responsibility.objects.bulk_create(
        Responsibility(plan=plan, seed_key=key, name=name, description=description, position=index)
        for index, (key, name, description) in enumerate(catalogue.RESPONSIBILITIES)
        if key not in existing and name not in taken
    )


# --- The model and its levels ---------------------------------------------------------------
@dataclass(frozen=True)
class TemplateResult:
    created: list[int]
    updated: list[int]
    kept_edited: list[int]


def support_model_get(*, plan: SupportPlan) -> SupportModel:
    model, _ = SupportModel.objects.get_or_create(plan=plan)
    return model


@transaction.atomic
def support_model_save_answers(*, plan: SupportPlan, answers: dict[str, str]) -> SupportModel:
    errors = validate_answers(answers)
    if errors:
        raise ValidationError(errors)
    model = support_model_get(plan=plan)
    model.answers = dict(answers)
    model.save(update_fields=["answers", "updated_at"])
    return model


@transaction.atomic
def support_model_choose(
    *,
    plan: SupportPlan,
    kind: str,
    centre_of_excellence: bool = False,
    rationale: str = "",
    overwrite_edited: bool = False,
) -> tuple[SupportModel, TemplateResult]:
    """Sets the model and proposes its five-level template.

    Levels a person edited are kept unless ``overwrite_edited`` (the UI asks first); the result
    says which levels were created, rewritten and kept.
    """
    if kind not in ModelKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(ModelKind.values)}."})
    model = support_model_get(plan=plan)
    model.kind, model.centre_of_excellence, model.rationale = kind, centre_of_excellence, rationale
    model.full_clean()
    model.save(update_fields=["kind", "centre_of_excellence", "rationale", "updated_at"])
    return model, _apply_level_template(plan=plan, kind=kind, overwrite_edited=overwrite_edited)


def _apply_level_template(*, plan: SupportPlan, kind: str, overwrite_edited: bool) -> TemplateResult:
    catalogue_seed_plan(plan=plan)
    levels = {
        level.number: level
        for level in SupportLevel.objects.select_for_update(of=("self",)).filter(plan=plan)
    }
    parties = list(Party.objects.filter(plan=plan))
    roles = {role.seed_key: role for role in Role.objects.filter(plan=plan).exclude(seed_key="")}
    created, updated, kept = [], [], []
    for template in catalogue.TEMPLATES[kind]:
        level = levels.get(template.number)
        if level is not None and level.edited and not overwrite_edited:
            kept.append(template.number)
            continue
        if level is None:
            level = SupportLevel(plan=plan, number=template.number)
            created.append(template.number)
        else:
            updated.append(template.number)
        level.name, level.description = template.name, template.description
        level.entry_criteria, level.handoff_criteria = template.entry_criteria, template.handoff_criteria
        level.template_kind, level.edited = kind, False
        level.full_clean()
        level.save()
        level.parties.set([party for party in parties if party.kind in template.party_kinds])
        level.roles.set([roles[key] for key in template.role_keys if key in roles])
    return TemplateResult(created=created, updated=updated, kept_edited=kept)


def level_template_conflicts(*, plan: SupportPlan) -> list[int]:
    """Numbers of the levels a person edited: choosing a model would ask before replacing them."""
    return list(SupportLevel.objects.filter(plan=plan, edited=True).values_list("number", flat=True))


LEVEL_FIELDS = {"name", "description", "entry_criteria", "handoff_criteria"}


@transaction.atomic
def support_level_update(
    *,
    level: SupportLevel,
    parties: Iterable[Party] | None = None,
    roles: Iterable[Role] | None = None,
    **fields: Any,
) -> SupportLevel:
    changed = apply_fields(level, fields, LEVEL_FIELDS)
    level.edited = True
    level.full_clean()
    level.save(update_fields=[*changed, "edited"])
    if parties is not None:
        parties = list(parties)
        _same_plan(level.plan_id, parties, "parties")
        level.parties.set(parties)
    if roles is not None:
        roles = list(roles)
        _same_plan(level.plan_id, roles, "roles")
        level.roles.set(roles)
    return level


def _same_plan(plan_id: int, objects: Iterable, field: str) -> None:
    if any(obj.plan_id != plan_id for obj in objects):
        raise ValidationError({field: "Choose only from this plan."})


# --- Parties --------------------------------------------------------------------------------
PARTY_FIELDS = {
    "name",
    "kind",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_hours",
    "helpdesk_system",
    "reference_pattern",
    "escalation_contact_name",
    "escalation_contact_email",
    "escalation_contact_phone",
    "anonymised_data_only",
    "notes",
}


@transaction.atomic
def party_create(*, plan: SupportPlan, **fields: Any) -> Party:
    party = Party(plan=plan)
    apply_fields(party, fields, PARTY_FIELDS)
    party.full_clean()
    party.save()
    return party


@transaction.atomic
def party_update(*, party: Party, **fields: Any) -> Party:
    changed = apply_fields(party, fields, PARTY_FIELDS)
    party.full_clean()
    party.save(update_fields=changed)
    return party


@transaction.atomic
def party_delete(*, party: Party) -> None:
    if party.agreements.exists():
        raise ValidationError({"party": f"{party} has agreements: end or remove them first."})
    party.delete()


# --- Agreements -----------------------------------------------------------------------------
AGREEMENT_FIELDS = {
    "party",
    "name",
    "kind",
    "starts_on",
    "ends_on",
    "renewal_date",
    "budget_hours",
    "hours_used",
    "follows_microsoft_release_cadence",
    "notes",
}


@dataclass(frozen=True)
class CommitmentInput:
    priority: str
    response_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours_only: bool = True


def _replace_commitments(agreement: Agreement, commitments: Iterable[CommitmentInput]) -> None:
    commitments = list(commitments)
    priorities = [item.priority for item in commitments]
    if len(set(priorities)) != len(priorities):
        raise ValidationError({"commitments": "A priority is listed twice."})
    rows = [
        AgreementCommitment(
            agreement=agreement,
            priority=item.priority,
            response_minutes=item.response_minutes,
            resolution_minutes=item.resolution_minutes,
            business_hours_only=item.business_hours_only,
        )
        for item in commitments
    ]
    for row in rows:
        row.full_clean(exclude=["agreement"])
        if row.response_minutes and row.resolution_minutes and row.resolution_minutes < row.response_minutes:
            raise ValidationError({"commitments": f"{row.priority}: resolution cannot come before response."})
    agreement.commitments.all().delete()
    AgreementCommitment.objects.bulk_create(rows)


@transaction.atomic
def agreement_create(
    *, plan: SupportPlan, commitments: Iterable[CommitmentInput] = (), **fields: Any
) -> Agreement:
    agreement = Agreement(plan=plan)
    apply_fields(agreement, fields, AGREEMENT_FIELDS)
    agreement.full_clean()
    agreement.save()
    _replace_commitments(agreement, commitments)
    return agreement


@transaction.atomic
def agreement_update(
    *, agreement: Agreement, commitments: Iterable[CommitmentInput] | None = None, **fields: Any
) -> Agreement:
    changed = apply_fields(agreement, fields, AGREEMENT_FIELDS)
    agreement.full_clean()
    if changed:
        agreement.save(update_fields=changed)
    if commitments is not None:
        _replace_commitments(agreement, commitments)
    return agreement


@transaction.atomic
def agreement_delete(*, agreement: Agreement) -> None:
    agreement.delete()


# --- Roles and people -----------------------------------------------------------------------
@transaction.atomic
def role_create(*, plan: SupportPlan, name: str, description: str = "") -> Role:
    role = Role(plan=plan, name=name, description=description)
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_update(*, role: Role, **fields: Any) -> Role:
    changed = apply_fields(role, fields, {"name", "description"})
    role.full_clean()
    role.save(update_fields=changed)
    return role


@transaction.atomic
def role_delete(*, role: Role) -> None:
    if role.seed_key:
        raise ValidationError({"role": "The guide's roles stay; rename or leave them unused instead."})
    role.delete()


PERSON_FIELDS = {
    "name",
    "email",
    "user",
    "party",
    "location",
    "languages",
    "skills",
    "allocation_percent",
    "working_hours",
    "weekly_contract_hours",
    "super_user_formalised",
    "super_user_objectives",
}


@transaction.atomic
def person_create(
    *,
    plan: SupportPlan,
    roles: Iterable[Role] = (),
    levels: Iterable[SupportLevel] = (),
    **fields: Any,
) -> Person:
    person = Person(plan=plan)
    apply_fields(person, fields, PERSON_FIELDS)
    person.full_clean()
    person.save()
    _set_person_links(person, roles, levels)
    return person


@transaction.atomic
def person_update(
    *,
    person: Person,
    roles: Iterable[Role] | None = None,
    levels: Iterable[SupportLevel] | None = None,
    **fields: Any,
) -> Person:
    changed = apply_fields(person, fields, PERSON_FIELDS)
    person.full_clean()
    if changed:
        person.save(update_fields=changed)
    _set_person_links(person, roles, levels)
    return person


def _set_person_links(person: Person, roles, levels) -> None:
    if roles is not None:
        roles = list(roles)
        _same_plan(person.plan_id, roles, "roles")
        person.roles.set(roles)
    if levels is not None:
        levels = list(levels)
        _same_plan(person.plan_id, levels, "levels")
        person.levels.set(levels)


@transaction.atomic
def person_delete(*, person: Person) -> None:
    person.delete()
