"""Daily digests and the catch-up collapse: never a storm.

Two kinds of pending notices are folded into ONE e-mail per recipient (and plan):
- notices waiting for the recipient's daily digest (``context["digest"]``) once the digest time came;
- after downtime, several notices for one recipient that are more than ``CATCH_UP_AFTER`` overdue.
The folded notices keep their inbox items and point at the new e-mail through ``sent_in_digest``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from operations.models import Notification
from operations.models.notifications import DeliveryStatus, EventType
from operations.notify.outbox import CATCH_UP_AFTER


def _recipient_key(notice: Notification) -> str:
    if notice.recipient_user_id:
        return f"user:{notice.recipient_user_id}"
    if notice.recipient_person_id:
        return f"person:{notice.recipient_person_id}"
    return f"email:{notice.recipient_email.lower()}"


def fold_digests_and_catch_up(*, now: datetime, limit: int = 500) -> list[int]:
    """Folds due digest notices and overdue catch-up notices; returns the ids of the new e-mails,
    already claimed ("sending"), for the caller to queue after this commits."""
    candidates = (
        Notification.objects.filter(email_status=DeliveryStatus.PENDING, deliver_after__lte=now)
        .filter(Q(context__digest=True) | Q(deliver_after__lt=now - CATCH_UP_AFTER))
        .order_by("deliver_after", "id")
    )
    created: list[int] = []
    with transaction.atomic():
        rows = list(candidates.select_for_update(skip_locked=True, of=("self",))[: limit * 10])
        groups: dict[tuple[int, str, bool], list[Notification]] = defaultdict(list)
        for notice in rows:
            is_digest = bool((notice.context or {}).get("digest"))
            groups[(notice.plan_id, _recipient_key(notice), is_digest)].append(notice)
        for (_plan_id, recipient_key, is_digest), notices in groups.items():
            if not is_digest and len(notices) < 2:
                continue  # one late notice goes out on its own through the normal claim
            created.append(_fold(notices=notices, recipient_key=recipient_key, digest=is_digest, now=now).pk)
    return created


def _fold(*, notices: list[Notification], recipient_key: str, digest: bool, now: datetime) -> Notification:
    first = notices[0]
    count = len(notices)
    if digest:
        subject = f"Your daily digest: {count} reminder{'s' if count != 1 else ''} for {first.plan.name}"
        kind = "digest"
    else:
        subject = f"{count} reminders you missed for {first.plan.name}"
        kind = "catch_up"
    stamp = int(now.timestamp())
    folded = Notification.objects.create(
        plan=first.plan,
        dedupe_key=f"{kind}:{first.plan_id}:{stamp}:{recipient_key}"[:200],
        event_key=f"{kind}:{first.plan_id}:{stamp}",
        event_type=EventType.TASK_DIGEST,
        recipient_user=first.recipient_user,
        recipient_person=first.recipient_person,
        recipient_email=first.recipient_email,
        subject=subject,
        body="\n".join(notice.subject for notice in notices),
        link=first.plan.get_absolute_url(),
        context={"kind": kind, "count": count},
        read_at=now,  # the folded notices are the inbox items; this one is only the e-mail
        email_status=DeliveryStatus.SENDING,
        deliver_after=now,
        claimed_at=now,
    )
    Notification.objects.filter(pk__in=[notice.pk for notice in notices]).update(
        email_status=DeliveryStatus.NOT_NEEDED, sent_in_digest=folded
    )
    return folded
