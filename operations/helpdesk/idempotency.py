"""Idempotent writes for the helpdesk API: claim a key, do the write, store its response — one transaction.

A helpdesk retries when it did not see our answer (timeouts, restarts). It sends the same
``Idempotency-Key`` (or its own event id) with the same body, and must get the original response
back instead of a second event. How it works, on PostgreSQL:

1. ``INSERT … ON CONFLICT DO NOTHING`` the claim ``(principal, key)``. A concurrent request with the
   same key blocks on the unique index until the first transaction commits or rolls back.
2. If the insert conflicted, ``SELECT … FOR UPDATE`` the stored row: same fingerprint → return its
   stored response (a replay); a different fingerprint → :class:`IdempotencyKeyReused` (the API
   answers 422).
3. Otherwise run the write and store its response on the claim, still in the same transaction.

A write that fails (bad input, 4xx) rolls the claim back with it: nothing is stored, and the
helpdesk may correct the body and retry with the same key. Keys live at least
:data:`KEY_LIFETIME`; :func:`idempotency_purge` removes expired ones (the SLA sweep calls it).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from operations.models import IdempotencyRecord
from supportplan.access import is_api_key
from supportplan.lib import rows

#: How long a key and its response are kept; the issue asks for at least 72 hours.
KEY_LIFETIME = timedelta(hours=72)
MAX_KEY_LENGTH = 200
HEADER = "Idempotency-Key"
HEADER_META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")  # how WSGI names the header
REPLAY_HEADER = "Idempotent-Replayed"


#: True while ``idempotent_write`` runs its write: any exception then rolls back the whole
#: transaction, claim included.
_in_write: ContextVar[bool] = ContextVar("idempotent_write_running", default=False)


def atomic_service(service: Callable) -> Callable:
    """``transaction.atomic`` for a service the idempotent API calls: inside ``idempotent_write`` it
    joins the claim's transaction without a savepoint (an exception rolls all of it back anyway, so
    the savepoint would only cost two round trips per write); called anywhere else, it is a plain
    ``transaction.atomic`` (a savepoint when nested)."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with transaction.atomic(savepoint=not _in_write.get()):
            return service(*args, **kwargs)

    return wrapper


def _run_write(write: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    token = _in_write.set(True)
    try:
        return write()
    finally:
        _in_write.reset(token)


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request (method, target or body)."""


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: Any
    replayed: bool


def principal_label(principal: Any) -> str:
    """``key:<id>`` for an API key, ``user:<id>`` for a person: keys are private to their sender."""
    if is_api_key(principal):
        return f"key:{principal.api_key.pk}"
    return f"user:{principal.pk}"


def canonical_json(data: Any) -> str:
    """Key order and whitespace do not change a body's meaning, so they do not change its fingerprint."""
    if isinstance(data, QueryDict):
        data = {key: values if len(values) > 1 else values[0] for key, values in data.lists()}
    return json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_fingerprint(*, method: str, target: str, body: Any) -> str:
    """sha256 (hex) of the method, the canonical target (e.g. ``requests/12/events``) and the body."""
    text = "\n".join([method.upper(), target, canonical_json(body)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_key_clean(value: str) -> str:
    """A key as sent in the header: 1–200 printable ASCII characters (surrounding spaces dropped)."""
    value = value.strip()
    if not value or len(value) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise ValidationError({HEADER: f"Send 1–{MAX_KEY_LENGTH} printable ASCII characters."})
    return value


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_json_native(value: Any) -> bool:
    """Whether ``value`` is made of str/int/float/bool/None, lists and str-keyed dicts only (a
    serializer's ``ReturnDict``/``ReturnList`` included): what a JSON round trip gives back equal."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if isinstance(value, dict):
        return all(type(key) is str and _is_json_native(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_json_native(item) for item in value)
    return False


def _json_safe(body: Any) -> Any:
    # What the JSON renderer would send, so a replay is identical to the original response. Most
    # responses are built of JSON values already: checking costs less than the round trip.
    if _is_json_native(body):
        return body
    return json.loads(json.dumps(body, cls=JSONEncoder))


#: Runs the claim's ``INSERT … RETURNING`` (SQL with ``%s`` parameters, and the parameters) as part
#: of a statement of the caller's, and says whether it returned a row: ``idempotent_write``'s
#: ``claim_with`` (PostgreSQL), so the claim costs no round trip of its own.
ClaimRunner = Callable[[str, list[Any]], bool]


@functools.cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(IdempotencyRecord._meta.db_table)
    principal_column, key_column = quote("principal"), quote("key")
    return (
        f"INSERT INTO {table} ({principal_column}, {key_column}, {quote('fingerprint')}, "  # noqa: S608
        f"{quote('created_at')}, {quote('expires_at')}) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({principal_column}, {key_column}) DO NOTHING RETURNING {quote('id')}"
    )


def _insert_claim(
    *, principal: str, key: str, fingerprint: str, expires_at: datetime, run: ClaimRunner | None = None
) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``: True when this transaction now holds a new claim.

    One round trip and no savepoint. A concurrent claim of the same key makes this wait on the
    unique index until the other transaction ends (then: conflict if it committed)."""
    sql = _claim_sql()
    params = [principal, key, fingerprint, timezone.now(), expires_at]
    if connection.vendor == "postgresql":
        if run is not None:
            return run(sql, params)
        sql, params = rows.prepared("sp_idempotency_claim", sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _claim(
    *, principal: str, key: str, fingerprint: str, now: datetime, run: ClaimRunner | None = None
) -> IdempotencyRecord | None:
    """None when this transaction made a new claim; else the stored row, locked for this
    transaction (an expired one is renewed as a new claim and None returned)."""
    for attempt in range(3):
        if _insert_claim(
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            expires_at=now + KEY_LIFETIME,
            run=run if attempt == 0 else None,
        ):
            return None
        record = IdempotencyRecord.objects.select_for_update().filter(principal=principal, key=key).first()
        if record is None:  # purged between our insert and our read: claim again
            continue
        if record.expires_at <= now or record.response_status is None:
            # An expired key not purged yet counts as new.
            record.fingerprint, record.expires_at = fingerprint, now + KEY_LIFETIME
            record.response_status = record.response_body = None
            record.save(update_fields=["fingerprint", "expires_at", "response_status", "response_body"])
            return None
        return record
    raise IntegrityError("Could not claim the idempotency key.")  # pragma: no cover - needs a purge storm


def _store_response(*, principal: str, key: str, status: int, body: Any) -> None:
    values = {"response_status": status, "response_body": body}
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        # Sent with the write's own queued statements (``rows.write_batch``), one round trip.
        sql, params = rows.update_sql(
            IdempotencyRecord, values, f"{quote('principal')} = %s AND {quote('key')} = %s", [principal, key]
        )
        rows.execute_later(*rows.prepared("sp_idempotency_store", sql, params))
    else:
        IdempotencyRecord.objects.filter(principal=principal, key=key).update(**values)


def idempotent_write(
    *,
    principal: str,
    key: str | None,
    fingerprint: str,
    write: Callable[[], tuple[int, Any]],
    now: datetime | None = None,
    claim_with: ClaimRunner | None = None,
) -> IdempotentResponse:
    """Runs ``write`` (returns ``(status, body)``) once per ``(principal, key)``.

    Without a key the write simply runs. A replay with the same fingerprint returns the stored
    status and body with ``replayed=True``; a different fingerprint raises
    :class:`IdempotencyKeyReused`. Exceptions from ``write`` (or ``claim_with``) roll the claim
    back. ``claim_with``: see :data:`ClaimRunner` (used with a key, on PostgreSQL)."""
    if not key:
        with transaction.atomic(), rows.write_batch(until_commit=True):
            status, body = _run_write(write)
        return IdempotentResponse(status=status, body=_json_safe(body), replayed=False)
    now = now or timezone.now()
    with transaction.atomic():
        stored = _claim(principal=principal, key=key, fingerprint=fingerprint, now=now, run=claim_with)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise IdempotencyKeyReused(key)
            return IdempotentResponse(status=stored.response_status, body=stored.response_body, replayed=True)
        # The last thing this transaction does: the queued writes may go with its COMMIT.
        with rows.write_batch(until_commit=True):
            status, body = _run_write(write)
            body = _json_safe(body)
            _store_response(principal=principal, key=key, status=status, body=body)
        return IdempotentResponse(status=status, body=body, replayed=False)


def idempotency_purge(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Deletes expired keys in batches (short locks); returns how many were deleted."""
    now = now or timezone.now()
    deleted = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(expires_at__lt=now).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
