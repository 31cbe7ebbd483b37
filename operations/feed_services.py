"""Secret iCalendar feed URLs: create (= rotate), revoke, resolve.

The raw token appears once, in the URL handed to the person who asked for it; only its SHA-256 is
stored. A plan has at most one active plan feed and a person at most one active personal feed
(partial unique constraints): creating a new one revokes the previous one in the same transaction,
so the old URL answers 404 from that moment.

Who may do it: a plan feed shows the whole plan's calendar, so only leads manage it; a personal
feed may be managed by leads for anyone and by the person linked to the requesting user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from models_catalog.models import Person
from operations.models import FeedScope, FeedToken
from supportplan import access
from supportplan.models import SupportPlan

PREFIX_LENGTH = 8
#: ``last_fetched_at`` is written at most this often: calendar clients poll, a write per poll is waste.
FETCH_STAMP_EVERY = timedelta(minutes=15)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def feed_token_can_manage(principal: Any, *, plan: SupportPlan, scope: str, person: Person | None) -> bool:
    """Whether the principal may create, rotate or revoke this feed (API keys never may)."""
    if access.is_api_key(principal) or not access.can_view(principal, plan):
        return False
    if access.can_configure(principal, plan):
        return True
    return scope == FeedScope.PERSON and person is not None and person.user_id == principal.pk


@transaction.atomic
def feed_token_create(
    *, plan: SupportPlan, scope: str, person: Person | None = None, actor: Any
) -> tuple[FeedToken, str]:
    """A new secret feed URL token; returns the row and the raw token (shown once, never stored).

    Revokes the feed's previous active token (rotation). Raises PermissionDenied or ValidationError.
    """
    if scope not in FeedScope.values:
        raise ValidationError({"scope": f"Choose one of: {', '.join(FeedScope.values)}."})
    if scope == FeedScope.PLAN and person is not None:
        raise ValidationError({"person": "A plan feed has no person."})
    if scope == FeedScope.PERSON:
        if person is None:
            raise ValidationError({"person": "Choose whose feed it is."})
        if person.plan_id != plan.pk:
            raise ValidationError({"person": "Choose a person of this plan."})
    if not feed_token_can_manage(actor, plan=plan, scope=scope, person=person):
        raise PermissionDenied("You may not manage this feed.")
    active = FeedToken.objects.select_for_update(of=("self",)).filter(
        plan=plan, scope=scope, revoked_at__isnull=True
    )
    if scope == FeedScope.PERSON:
        active = active.filter(person=person)
    now = timezone.now()
    for previous in active:
        previous.revoked_at = now
        previous.save(update_fields=["revoked_at"])
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    raw = prefix + secrets.token_urlsafe(32)
    token = FeedToken(
        plan=plan,
        scope=scope,
        person=person if scope == FeedScope.PERSON else None,
        prefix=prefix,
        token_hash=_hash(raw),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    token.full_clean(exclude=["token_hash", "prefix"])
    token.save()
    return token, raw


@transaction.atomic
def feed_token_revoke(*, token: FeedToken, actor: Any) -> FeedToken:
    """Revokes the token now; its URL answers 404 from then on. Revoking twice changes nothing."""
    if not feed_token_can_manage(actor, plan=token.plan, scope=token.scope, person=token.person):
        raise PermissionDenied("You may not manage this feed.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def feed_token_resolve(raw: str) -> FeedToken | None:
    """The active token for a raw feed token, or None (unknown, malformed, revoked or rotated).

    Records the fetch (at most every ``FETCH_STAMP_EVERY``) with a conditional UPDATE.
    """
    if not raw or len(raw) > 100 or not raw.isascii():
        return None
    digest = _hash(raw)
    token = (
        FeedToken.objects.select_related("plan", "person")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = timezone.now()
    if token.last_fetched_at is None or now - token.last_fetched_at > FETCH_STAMP_EVERY:
        FeedToken.objects.filter(pk=token.pk).update(last_fetched_at=now)
        token.last_fetched_at = now
    return token
