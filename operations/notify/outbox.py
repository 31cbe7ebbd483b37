"""The outbox: ``publish`` (one event) and ``write_events`` (many) write notice rows (one per
recipient) and webhook deliveries (one per subscribed endpoint) inside the caller's transaction; the
claims hand due rows to the workers once; ``DeliveryLedger`` runs each delivery in its own transaction.

PostgreSQL is the only source of truth. A row is claimed by switching it to "sending" (with
``claimed_at``) under ``select_for_update(skip_locked=True)``, so two sweeps never hand out one row;
a row stuck in "sending" for longer than ``RECLAIM_AFTER`` (a lost message or a dead worker) is
claimed again. Delivery tasks lock the row and return unless it is still "sending": a duplicate
message is harmless."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from models_catalog.models import Party, Person, Role
from operations.models import Notification, NotificationSettings, WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, DigestMode, EventType
from supportplan.lib import rows
from supportplan.models import LEAD_ROLES, Location, Membership, PlanRole, SupportPlan

logger = logging.getLogger(__name__)
User = get_user_model()

#: A row in "sending" for longer than this lost its message or its worker: claim it again
#: (settings.NOTIFY_RECLAIM_AFTER_SECONDS; above the task time limit, so a running task is never doubled).
RECLAIM_AFTER = timedelta(minutes=10)


def reclaim_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "NOTIFY_RECLAIM_AFTER_SECONDS", RECLAIM_AFTER.total_seconds()))


#: Task reminders are folded into the daily digest; SLA and access notices always go at once.
DIGESTIBLE_EVENT_TYPES = frozenset({EventType.TASK_DUE_SOON, EventType.TASK_DUE, EventType.TASK_LATE})


@dataclass(frozen=True)
class Recipient:
    """Who gets a notice: a user, a person (maybe with a user) or a bare e-mail address."""

    user: User | None = None  # type: ignore[valid-type]
    person: Person | None = None
    email: str = ""

    def __post_init__(self) -> None:
        if self.user is None and self.person is None and not self.email:
            raise ValueError("A recipient needs a user, a person or an e-mail address.")

    def resolved_user(self):
        if self.user is not None:
            return self.user
        return self.person.user if self.person is not None and self.person.user_id else None

    def key(self) -> str:
        """``user:<id>`` / ``person:<id>`` / ``email:<addr>``; a person with a login is that user."""
        user = self.resolved_user()
        if user is not None:
            return f"user:{user.pk}"
        if self.person is not None:
            return f"person:{self.person.pk}"
        return f"email:{self.email.strip().lower()}"

    def address(self) -> str:
        user = self.resolved_user()
        return (
            self.email
            or (self.person.email if self.person is not None else "")
            or (user.email if user is not None else "")
        ).strip()


@dataclass
class PublishResult:
    notification_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)
    skipped: int = 0


def recipients_for_people(people: Iterable[Person]) -> list[Recipient]:
    """One recipient per person (a person with a login counts as that user), duplicates dropped."""
    seen: dict[str, Recipient] = {}
    for person in people:
        if person is None:
            continue
        if not person.user_id and not person.email:
            continue
        recipient = Recipient(user=person.user if person.user_id else None, person=person, email=person.email)
        seen.setdefault(recipient.key(), recipient)
    return list(seen.values())


def recipients_for_role(*, plan: SupportPlan, role: Role) -> list[Recipient]:
    people = Person.objects.filter(plan=plan, roles=role).select_related("user").order_by("pk")
    return recipients_for_people(people)


def recipients_for_party(*, party: Party) -> list[Recipient]:
    """The party's people, its escalation contact's address and the users who sign in for it."""
    recipients = recipients_for_people(party.people.select_related("user").order_by("pk"))
    if party.escalation_contact_email:
        recipients.append(Recipient(email=party.escalation_contact_email))
    for membership in Membership.objects.filter(organisation=party).select_related("user").order_by("pk"):
        recipients.append(Recipient(user=membership.user))
    return dedupe(recipients)


def recipients_for_plan_leads(*, plan: SupportPlan) -> list[Recipient]:
    """The plan's support leads (its project leads when it has none): who hears of ownerless work."""
    memberships = Membership.objects.filter(plan=plan).select_related("user").order_by("pk")
    support_leads = list(memberships.filter(role=PlanRole.SUPPORT_LEAD))
    chosen = support_leads or list(memberships.filter(role__in=LEAD_ROLES))
    return [Recipient(user=membership.user) for membership in chosen]


def recipients_for_all_leads(*, plan: SupportPlan) -> list[Recipient]:
    """Every lead of the plan (project and support): who decides on configuration and access."""
    memberships = (
        Membership.objects.filter(plan=plan, role__in=LEAD_ROLES).select_related("user").order_by("pk")
    )
    return [Recipient(user=membership.user) for membership in memberships]


def dedupe(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.key(), recipient)
    return list(seen.values())


# --- Preferences and delivery times ------------------------------------------------------------
@dataclass(frozen=True)
class Preferences:
    timezone: str = "UTC"
    email_enabled: bool = True
    digest_mode: str = DigestMode.IMMEDIATE
    digest_time: time = time(7, 30)
    quiet_start: time | None = None
    quiet_end: time | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def preferences_for(*, user=None, person: Person | None = None, user_id: int | None = None) -> Preferences:
    """A user's settings (or the defaults); a person without a login gets their location's zone."""
    user_id = user_id or (user.pk if user is not None else None)
    if user_id is not None:
        stored = NotificationSettings.objects.filter(user_id=user_id).first()
        if stored is not None:
            return _preferences_from(stored)
    if person is not None and person.location_id:
        return Preferences(timezone=person.location.timezone)
    return Preferences()


def _preferences_from(stored: NotificationSettings) -> Preferences:
    return Preferences(
        timezone=stored.timezone,
        email_enabled=stored.email_enabled,
        digest_mode=stored.digest_mode,
        digest_time=_as_time(stored.digest_time),
        quiet_start=_as_time(stored.quiet_start) if stored.quiet_start else None,
        quiet_end=_as_time(stored.quiet_end) if stored.quiet_end else None,
    )


class PreferenceBook:
    """``preferences_for`` for many recipients at once: the users' settings and the people's location
    zones are each read in one query (a sweep or a delivery batch, not one query per notice)."""

    def __init__(self, *, user_ids: Iterable[int] = (), location_ids: Iterable[int] = ()):
        user_ids, location_ids = set(user_ids) - {None}, set(location_ids) - {None}
        self._settings = (
            {
                s.user_id: _preferences_from(s)
                for s in NotificationSettings.objects.filter(user_id__in=user_ids)
            }
            if user_ids
            else {}
        )
        self._zones = (
            dict(Location.objects.filter(pk__in=location_ids).values_list("pk", "timezone"))
            if location_ids
            else {}
        )

    @classmethod
    def for_recipients(cls, recipients: Iterable[Recipient]) -> PreferenceBook:
        user_ids, location_ids = set(), set()
        for recipient in recipients:
            user = recipient.resolved_user()
            if user is not None:
                user_ids.add(user.pk)
            if recipient.person is not None:
                location_ids.add(recipient.person.location_id)
        return cls(user_ids=user_ids, location_ids=location_ids)

    def get(self, *, user_id: int | None, location_id: int | None) -> Preferences:
        if user_id is not None and user_id in self._settings:
            return self._settings[user_id]
        if location_id is not None and location_id in self._zones:
            return Preferences(timezone=self._zones[location_id])
        return Preferences()

    def for_recipient(self, recipient: Recipient) -> Preferences:
        user = recipient.resolved_user()
        return self.get(
            user_id=user.pk if user is not None else None,
            location_id=recipient.person.location_id if recipient.person is not None else None,
        )


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _local_at(day, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of a local wall-clock time (a time skipped by DST resolves forward)."""
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC)


def quiet_hours_end(*, prefs: Preferences, at: datetime) -> datetime | None:
    """If ``at`` (aware) falls in the recipient's quiet hours, the UTC instant they end; else None."""
    if prefs.quiet_start is None or prefs.quiet_end is None or prefs.quiet_start == prefs.quiet_end:
        return None
    local = at.astimezone(prefs.zone)
    now_time, start, end = local.time(), prefs.quiet_start, prefs.quiet_end
    if start < end:
        inside = start <= now_time < end
        end_day = local.date()
    else:  # across midnight, e.g. 22:00–07:00
        inside = now_time >= start or now_time < end
        end_day = local.date() + timedelta(days=1) if now_time >= start else local.date()
    return _local_at(end_day, end, prefs.zone) if inside else None


def next_digest_at(*, prefs: Preferences, at: datetime) -> datetime:
    """The next digest instant (aware UTC) at or after ``at``, at the recipient's local digest time."""
    local = at.astimezone(prefs.zone)
    candidate = _local_at(local.date(), prefs.digest_time, prefs.zone)
    if candidate < at:
        candidate = _local_at(local.date() + timedelta(days=1), prefs.digest_time, prefs.zone)
    return candidate


def deliver_after_for(
    *, prefs: Preferences, event_type: str, urgent: bool, now: datetime
) -> tuple[datetime, bool]:
    """(When the e-mail may go, whether it waits for the digest). Urgent notices go at once."""
    if urgent:
        return now, False
    if prefs.digest_mode == DigestMode.DAILY and event_type in DIGESTIBLE_EVENT_TYPES:
        return next_digest_at(prefs=prefs, at=now), True
    return quiet_hours_end(prefs=prefs, at=now) or now, False


# --- Publishing --------------------------------------------------------------------------------
def publish(
    *,
    plan: SupportPlan,
    event_key: str,
    event_type: str,
    recipients: Iterable[Recipient],
    subject: str,
    body: str,
    link: str = "",
    context: dict | None = None,
    urgent: bool = False,
    webhook_payload: dict | None = None,
    now: datetime | None = None,
    scheduled_for: datetime | None = None,
) -> PublishResult:
    """Writes the event's notices and webhook deliveries (insert-if-absent: a replay is a no-op) and
    queues the due ones after the caller's transaction commits. Call inside that transaction.

    ``scheduled_for``: the instant the notice was meant for. A notice more than ``CATCH_UP_AFTER``
    late (after downtime) is left pending for the outbox sweep, which collapses several for one
    recipient into one e-mail instead of sending a storm. Many events at once: ``write_events``."""
    event = OutboxEvent(
        plan=plan,
        event_key=event_key,
        event_type=event_type,
        recipients=list(recipients),
        subject=subject,
        body=body,
        link=link,
        context=context,
        urgent=urgent,
        webhook_payload=webhook_payload,
        scheduled_for=scheduled_for,
    )
    return write_events([event], now=now)


#: How late a scheduled notice may be and still go out on its own at once.
CATCH_UP_AFTER = timedelta(minutes=30)


@dataclass
class OutboxEvent:
    """One event to publish: a notice per recipient and a delivery per subscribed webhook endpoint."""

    plan: SupportPlan
    event_key: str
    event_type: str
    recipients: list[Recipient]
    subject: str
    body: str = ""
    link: str = ""
    context: dict | None = None
    urgent: bool = False
    webhook_payload: dict | None = None
    scheduled_for: datetime | None = None


#: Keys per ``IN (…)`` lookup: well below SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 500


def _existing(model, field: str, values: list[str]) -> set:
    found = set()
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        found.update(model.objects.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
    return found


def write_events(events: Iterable[OutboxEvent], *, now: datetime | None = None) -> PublishResult:
    """Writes the notices and webhook deliveries of many events at once (insert-if-absent: a replay
    is a no-op) and queues the due ones after the caller's transaction commits. Call inside that
    transaction.

    A sweep publishes hundreds of events: the existing keys, the recipients' settings and the plans'
    endpoints are read in one query each and the new rows inserted in one statement per table,
    instead of a handful of statements per notice. Should a concurrent publisher have written one of
    the rows in between, the batch falls back to inserting row by row, skipping the duplicates."""
    now = now or timezone.now()
    events = list(events)
    result = PublishResult()
    if not events:
        return result
    planned = [
        (event, recipient, f"{event.event_key}:{recipient.key()}"[:200])
        for event in events
        for recipient in dedupe(event.recipients)
    ]
    existing = _existing(Notification, "dedupe_key", [key for _, _, key in planned])
    book = PreferenceBook.for_recipients(recipient for _, recipient, _ in planned)
    notices: list[tuple[Notification, bool]] = []
    for event, recipient, dedupe_key in planned:
        if dedupe_key in existing:
            result.skipped += 1
            continue
        existing.add(dedupe_key)
        notices.append(_notice(event, recipient, dedupe_key, prefs=book.for_recipient(recipient), now=now))
    deliveries = _deliveries(events, now=now, result=result)
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                Notification.objects.bulk_create([notice for notice, _ in notices])
                WebhookDelivery.objects.bulk_create(deliveries)
        except IntegrityError:  # written by a concurrent publisher a moment ago
            notices = [pair for pair in notices if _insert_if_absent(pair[0], result)]
            deliveries = [delivery for delivery in deliveries if _insert_if_absent(delivery, result)]
    result.notification_ids = [notice.pk for notice, _ in notices]
    result.delivery_ids = [delivery.pk for delivery in deliveries]
    emails_to_queue = [notice.pk for notice, send_now in notices if send_now]
    deliveries_to_queue = list(result.delivery_ids)
    if emails_to_queue or deliveries_to_queue:
        transaction.on_commit(lambda: queue_deliveries(emails=emails_to_queue, webhooks=deliveries_to_queue))
    return result


def _insert_if_absent(row, result: PublishResult) -> bool:
    row.pk = None
    row._state.adding = True
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        result.skipped += 1
        return False
    return True


def _notice(
    event: OutboxEvent, recipient: Recipient, dedupe_key: str, *, prefs: Preferences, now: datetime
) -> tuple[Notification, bool]:
    """The unsaved notice of one recipient and whether its e-mail goes at once."""
    catching_up = event.scheduled_for is not None and now - event.scheduled_for > CATCH_UP_AFTER
    address = recipient.address()
    deliver_after, digest = deliver_after_for(
        prefs=prefs, event_type=event.event_type, urgent=event.urgent, now=event.scheduled_for or now
    )
    status = DeliveryStatus.PENDING
    if not address or not prefs.email_enabled:
        status = DeliveryStatus.NOT_NEEDED
    send_now = status == DeliveryStatus.PENDING and deliver_after <= now and not digest and not catching_up
    context = dict(event.context or {})
    notice = Notification(
        plan=event.plan,
        dedupe_key=dedupe_key,
        event_key=event.event_key,
        event_type=event.event_type,
        recipient_user=recipient.resolved_user(),
        recipient_person=recipient.person,
        recipient_email=address,
        subject=event.subject[:250],
        body=event.body,
        link=event.link,
        context={**context, "digest": True} if digest else context,
        email_status=DeliveryStatus.SENDING if send_now else status,
        deliver_after=deliver_after,
        claimed_at=now if send_now else None,
    )
    return notice, send_now


def _deliveries(events: list[OutboxEvent], *, now: datetime, result: PublishResult) -> list[WebhookDelivery]:
    """The unsaved webhook deliveries of the events: one per (event, subscribed endpoint) not yet written."""
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        plan_id__in={event.plan.pk for event in events}, active=True
    ).order_by("pk"):
        endpoints.setdefault(endpoint.plan_id, []).append(endpoint)
    if not endpoints:
        return []
    written = set(
        _existing_pairs([event.event_key for event in events if event.plan.pk in endpoints], endpoints)
    )
    deliveries = []
    for event in events:
        payload = (
            event.webhook_payload
            if event.webhook_payload is not None
            else {"subject": event.subject, **(event.context or {})}
        )
        for endpoint in endpoints.get(event.plan.pk, []):
            if endpoint.event_types and event.event_type not in endpoint.event_types:
                continue
            if (endpoint.pk, event.event_key) in written:
                result.skipped += 1
                continue
            written.add((endpoint.pk, event.event_key))
            deliveries.append(
                WebhookDelivery(
                    plan=event.plan,
                    endpoint=endpoint,
                    event_key=event.event_key,
                    event_type=event.event_type,
                    webhook_id=new_webhook_id(),
                    payload=webhook_body(event_type=event.event_type, payload=payload, now=now),
                    status=DeliveryStatus.SENDING,
                    deliver_after=now,
                    claimed_at=now,
                )
            )
    return deliveries


def _existing_pairs(event_keys: list[str], endpoints: dict[int, list[WebhookEndpoint]]):
    endpoint_ids = [endpoint.pk for group in endpoints.values() for endpoint in group]
    for start in range(0, len(event_keys), LOOKUP_CHUNK):
        yield from WebhookDelivery.objects.filter(
            endpoint_id__in=endpoint_ids, event_key__in=event_keys[start : start + LOOKUP_CHUNK]
        ).values_list("endpoint_id", "event_key")


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def webhook_body(*, event_type: str, payload: dict, now: datetime) -> dict:
    """The Standard Webhooks envelope: ``type``, ``timestamp`` (UTC ISO) and a thin ``data``."""
    return {"type": event_type, "timestamp": now.astimezone(UTC).isoformat(), "data": payload}


#: Deliveries per Celery message: one message per notice made the broker round trip and the task
#: overhead dominate (bench/bench_delivery.py); a batch still sends each notice in its own transaction.
DELIVERY_BATCH = 20


def queue_deliveries(*, emails: Iterable[int] = (), webhooks: Iterable[int] = ()) -> None:
    """Sends the delivery tasks (lists of ids only, in batches). A failure to reach the broker only
    delays: the rows stay "sending" and the sweep claims them again after ``RECLAIM_AFTER``."""
    from operations import tasks_notify

    for sender, ids in (
        (tasks_notify.deliver_emails, list(emails)),
        (tasks_notify.deliver_webhooks, list(webhooks)),
    ):
        for start in range(0, len(ids), DELIVERY_BATCH):
            batch = ids[start : start + DELIVERY_BATCH]
            try:
                sender.delay(batch)
            except Exception:  # the broker is down: the next sweep finds the rows again
                logger.exception(
                    "Could not queue %s(%s); the outbox sweep will retry them.", sender.name, batch
                )


class DeliveryLedger:
    """Each delivery of a batch in its own transaction: lock the row, check it is still "sending",
    send, record the outcome, commit; a crash re-sends at most the one in flight.

    The delivery transactions commit without waiting for the disk (PostgreSQL's ``synchronous_commit
    off``, for these transactions only): they change nothing but a row's delivery state, and the row
    itself was committed durably before any message was queued. A database crash may forget the
    "sent" mark of the last moments, so the notice goes out again with the same Message-ID /
    webhook-id (a duplicate the receiver can drop), never a loss.

    On PostgreSQL outside any atomic block the transactions are chained: the outcome of one delivery,
    its COMMIT and the next one's BEGIN and lock travel in one round trip, so a delivery costs one
    round trip instead of three (lock, update, commit). Elsewhere each row is a plain atomic block.

    Use as a context manager; ``lock`` each row, ``record`` its outcome; ``abort`` after an error."""

    def __init__(self, model, *, status_field: str, attempts_field: str):
        self.model = model
        table = model._meta.db_table
        self.select = f"SELECT {status_field}, {attempts_field} FROM {table} WHERE id = %s"  # noqa: S608
        connection.ensure_connection()
        self.chained = connection.vendor == "postgresql" and connection.get_autocommit()
        self._pending: list[tuple[str, list]] = []
        self._open = False
        self._atomic = None

    def __enter__(self) -> DeliveryLedger:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if error is None:
            self.finish()
        else:
            self.abort()

    def lock(self, pk: int) -> int | None:
        """Ends the previous row's transaction and opens this row's, locking it; returns its attempts
        so far if it is still "sending" (another worker may have sent it since it was read), else None."""
        if self.chained:
            sql, params = self._flush()
            sql += f"BEGIN; SET LOCAL synchronous_commit TO OFF; {self.select} FOR UPDATE"
            self._open = True
            row = self._execute(sql, [*params, pk])
        else:
            self.finish()
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            lock = ""
            if connection.vendor == "postgresql":
                lock = " FOR UPDATE"
                self._execute("SET LOCAL synchronous_commit TO OFF", [], fetch=False)
            elif connection.features.has_select_for_update:
                lock = " FOR UPDATE"
            row = self._execute(self.select + lock, [pk])
        return row[1] if row is not None and row[0] == DeliveryStatus.SENDING else None

    def record(self, pk: int, **values) -> None:
        """The row's outcome (field values), written in its transaction before it commits."""
        statement = rows.update_sql(self.model, values, "id = %s", [pk])
        if self.chained:
            self._pending.append(statement)
        else:
            self._execute(*statement, fetch=False)

    def finish(self) -> None:
        """Commits the current row's transaction, if one is open."""
        if self.chained:
            if self._open:
                sql, params = self._flush()
                self._execute(sql, params, fetch=False)
        elif self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)

    def abort(self) -> None:
        """Rolls the current row's transaction back (after an unexpected error)."""
        self._pending.clear()
        if self.chained:
            if self._open:
                self._open = False
                self._execute("ROLLBACK", [], fetch=False)
        elif self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(RuntimeError, RuntimeError("delivery aborted"), None)

    def _flush(self) -> tuple[str, list]:
        sql, params = "", []
        for statement, values in self._pending:
            sql += statement + "; "
            params += values
        self._pending.clear()
        if self._open:
            sql += "COMMIT; "
            self._open = False
        return sql, params

    def _execute(self, sql: str, params: list, *, fetch: bool = True):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None


# --- Claims ------------------------------------------------------------------------------------
def _claim(model, *, status_field: str, now: datetime, limit: int, extra: Q | None = None) -> list[int]:
    due = Q(**{status_field: DeliveryStatus.PENDING}) & (
        Q(deliver_after__isnull=True) | Q(deliver_after__lte=now)
    )
    stuck = Q(**{status_field: DeliveryStatus.SENDING}) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - reclaim_after())
    )
    query = model.objects.filter(due | stuck)
    if extra is not None:
        query = query.filter(extra)
    with transaction.atomic():
        ids = list(
            query.select_for_update(skip_locked=True, of=("self",))
            .order_by("deliver_after", "id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            model.objects.filter(id__in=ids).update(
                **{status_field: DeliveryStatus.SENDING, "claimed_at": now}
            )
    return ids


def claim_due_emails(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claims due e-mail notices (and ones stuck in "sending"): each id is returned to one caller."""
    return _claim(Notification, status_field="email_status", now=now or timezone.now(), limit=limit)


def claim_due_webhooks(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claims due webhook deliveries of active endpoints (and stuck ones), each to one caller."""
    return _claim(
        WebhookDelivery,
        status_field="status",
        now=now or timezone.now(),
        limit=limit,
        extra=Q(endpoint__active=True),
    )


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """One pass of the outbox: fold digests and catch-up storms, claim due rows, queue their tasks.
    Returns counts (for logs and tests)."""
    from operations.notify import digest

    now = now or timezone.now()
    folded = digest.fold_digests_and_catch_up(now=now, limit=limit)
    emails = claim_due_emails(now=now, limit=limit)
    webhooks = claim_due_webhooks(now=now, limit=limit)
    queue_deliveries(emails=[*folded, *emails], webhooks=webhooks)
    return {"folded": len(folded), "emails": len(emails), "webhooks": len(webhooks)}
