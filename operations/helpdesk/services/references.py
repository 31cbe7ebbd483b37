"""External references of requests, and the integrations' status mappings."""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from models_catalog.models import Party
from operations.helpdesk.idempotency import atomic_service
from operations.helpdesk.services._common import _errors_raise
from operations.models import (
    ClockEffect,
    RequestReference,
    StatusMapping,
    SupportRequest,
)
from operations.statuses import RequestStatus
from supportplan.lib import rows
from supportplan.models import ApiKey, SupportPlan


# --- References --------------------------------------------------------------------------------
def _reference_party(plan: SupportPlan, system: str) -> Party | None:
    """The party a reference system names (its name, helpdesk system or kind), when exactly one does."""
    if connection.vendor == "postgresql":  # every new request and hand-off asks: one prepared statement
        with connection.cursor() as cursor:
            cursor.execute(
                *rows.prepared("sp_reference_party", _reference_party_sql(), [plan.pk, *[system] * 3])
            )
            matches = cursor.fetchall()
        return rows.instance(Party, matches[0]) if len(matches) == 1 else None
    matches = list(
        Party.objects.filter(plan=plan).filter(
            Q(name__iexact=system) | Q(kind__iexact=system) | Q(helpdesk_system__iexact=system)
        )[:2]
    )
    return matches[0] if len(matches) == 1 else None


@functools.cache
def _reference_party_sql() -> str:
    """``_reference_party``'s filter as the ORM writes ``iexact`` on PostgreSQL, at most two rows."""
    quote = connection.ops.quote_name
    matches = " OR ".join(
        f"UPPER(t.{quote(Party._meta.get_field(name).column)}::text) = UPPER(%s)"
        for name in ("name", "kind", "helpdesk_system")
    )
    return (
        f"SELECT {rows.columns(Party, 't')} FROM {rows.table(Party)} t "  # noqa: S608
        f"WHERE t.{quote('plan_id')} = %s AND ({matches}) LIMIT 2"
    )


@functools.cache
def _reference_store_sql() -> str:
    """One reference stored unless its (plan, system, reference) is taken, and the reference that
    takes it (``%s``: ``rows.insert_sql``'s values, then the plan, system and reference). Rows: (True,
    the new row) or (False, the stored row); none when it is taken by a row this statement's
    snapshot does not see (a concurrent transaction's). The ``SELECT`` does not see the ``INSERT``'s
    row (one snapshot): a stored row it finds is the one the insert conflicted with."""
    quote = connection.ops.quote_name
    sample = RequestReference(plan_id=0, request_id=0, system="", reference="")
    insert, _ = rows.insert_sql([sample])
    returned = ", ".join(quote(field.column) for field in RequestReference._meta.concrete_fields)
    return (
        f"WITH made AS ({insert} ON CONFLICT DO NOTHING RETURNING {returned}) "  # noqa: S608
        f"SELECT TRUE, {rows.columns(RequestReference, 'r')} FROM made r UNION ALL "
        f"SELECT FALSE, {rows.columns(RequestReference, 'r')} FROM {rows.table(RequestReference)} r "
        f"WHERE r.{quote('plan_id')} = %s AND r.{quote('system')} = %s AND r.{quote('reference')} = %s"
    )


_REFERENCE_PK_INDEX = RequestReference._meta.concrete_fields.index(RequestReference._meta.pk)


def _reference_store(made: RequestReference) -> RequestReference | None:
    """``made`` stored (PostgreSQL, one prepared statement), or the stored reference with its key;
    None when the key is taken by a row not visible yet."""
    _, params = rows.insert_sql([made])
    params += [made.plan_id, made.system, made.reference]
    with connection.cursor() as cursor:
        cursor.execute(*rows.prepared("sp_reference_store", _reference_store_sql(), params))
        row = cursor.fetchone()
    if row is None:
        return None
    if not row[0]:
        return rows.instance(RequestReference, row[1:])
    made.pk = row[1 + _REFERENCE_PK_INDEX]
    made._state.adding, made._state.db = False, connection.alias
    return made


@atomic_service
def reference_add(
    *, request: SupportRequest, system: str, reference: str, party: Party | None = None
) -> RequestReference:
    """Adds (system, reference) to the request, checked against the party's reference pattern.

    Unique per plan and system: the same reference on the same request is returned as it is; on
    another request it is refused.
    """
    system, reference = (system or "").strip(), (reference or "").strip()
    errors = {}
    if not system:
        errors["reference_system"] = "Name the system the reference belongs to."
    if not reference:
        errors["reference"] = "Give the reference."
    elif len(reference) > 120 or len(system) > 60:
        errors["reference"] = "References are at most 120 characters, systems 60."
    _errors_raise(errors)
    if party is not None and party.plan_id != request.plan_id:
        raise ValidationError({"party": "Choose a party of this plan."})
    checked = party or _reference_party(request.plan, system)
    if checked is not None and not checked.reference_matches(reference):
        raise ValidationError(
            {
                "reference": f"“{reference}” does not match {checked.name}'s reference pattern "
                f"{checked.reference_pattern}."
            }
        )
    made = RequestReference(
        plan_id=request.plan_id, request=request, system=system, reference=reference, party=party
    )
    if connection.vendor == "postgresql":
        # Stored, or found stored, in one statement without a savepoint (ON CONFLICT): every new
        # request and hand-off brings a reference, updates bring theirs again.
        stored = _reference_store(made)
        if stored is None:
            raise _taken(system, reference)
        return made if stored is made else _same_request(stored, request, system, reference)
    existing = _stored_reference(request, system, reference)
    if existing is not None:
        return _same_request(existing, request, system, reference)
    try:
        with transaction.atomic():
            made.save()
    except IntegrityError:
        raise _taken(system, reference) from None
    return made


def _stored_reference(request: SupportRequest, system: str, reference: str) -> RequestReference | None:
    return RequestReference.objects.filter(
        plan_id=request.plan_id, system=system, reference=reference
    ).first()


def _same_request(
    existing: RequestReference, request: SupportRequest, system: str, reference: str
) -> RequestReference:
    """The stored reference when it is ``request``'s; else the error naming the request it belongs to."""
    if existing.request_id != request.pk:
        raise ValidationError(
            {
                "reference": f"{system} reference {reference} already belongs to request "
                f"#{existing.request_id}."
            }
        )
    return existing


def _taken(system: str, reference: str) -> ValidationError:
    return ValidationError({"reference": f"{system} reference {reference} is already taken."})


def request_by_reference(*, plan: SupportPlan, system: str, reference: str) -> SupportRequest | None:
    """The plan's request known to ``system`` as ``reference`` (an external reference or the source id)."""
    found = RequestReference.objects.filter(plan=plan, system__iexact=system, reference=reference).first()
    if found is not None:
        return SupportRequest.objects.get(pk=found.request_id)
    return SupportRequest.objects.filter(plan=plan, source_system__iexact=system, source_id=reference).first()


# --- Status mappings -----------------------------------------------------------------------------
def _validate_mapping(mapping: StatusMapping) -> None:
    errors = {}
    mapping.external_status = (mapping.external_status or "").strip()
    if not mapping.external_status:
        errors["external_status"] = "Give the helpdesk's status name."
    if mapping.status not in RequestStatus.values:
        errors["status"] = f"Choose one of: {', '.join(RequestStatus.values)}."
    if mapping.clock_effect not in ClockEffect.values:
        errors["clock_effect"] = "Choose pause, resume or blank (the policy decides)."
    _errors_raise(errors)
    clash = StatusMapping.objects.filter(
        api_key=mapping.api_key, external_status__iexact=mapping.external_status
    )
    if clash.exclude(pk=mapping.pk).exists():
        raise ValidationError(
            {"external_status": f"“{mapping.external_status}” is already mapped for this key."}
        )
    mapping.full_clean(validate_constraints=False)


@transaction.atomic
def status_mapping_create(
    *, api_key: ApiKey, external_status: str, status: str, clock_effect: str = ""
) -> StatusMapping:
    mapping = StatusMapping(
        plan_id=api_key.plan_id,
        api_key=api_key,
        external_status=external_status,
        status=status,
        clock_effect=clock_effect or "",
    )
    _validate_mapping(mapping)
    mapping.save()
    return mapping


@transaction.atomic
def status_mapping_update(*, mapping: StatusMapping, **fields: Any) -> StatusMapping:
    unknown = set(fields) - {"external_status", "status", "clock_effect"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    for name, value in fields.items():
        setattr(mapping, name, value if value is not None else "")
    _validate_mapping(mapping)
    mapping.save()
    return mapping


@transaction.atomic
def status_mapping_delete(*, mapping: StatusMapping) -> None:
    mapping.delete()
