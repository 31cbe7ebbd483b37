"""The iCalendar (RFC 5545) feed of a plan's maintenance calendar, or of one person's tasks.

One VEVENT per materialised occurrence from ``PAST`` before to ``AHEAD`` after now (open, done and
skipped, the status in STATUS and the summary), plus the freeze and update windows as transparent
VEVENTs. Times are UTC (``...Z``), so no VTIMEZONE is needed and every client shows the instant
the task is due in its own zone. UIDs are stable (``occurrence-<id>@supportplan``,
``window-<id>@supportplan``) so a client updates an event instead of duplicating it; DTSTAMP is the
occurrence's last change and SEQUENCE grows with every change, so the same data gives the same bytes
(the ETag is a hash of them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db.models import Max, Q
from django.urls import reverse
from icalendar import Calendar, Event

from operations.maintenance_catalogue import category_label
from operations.models import (
    UPDATE_KINDS,
    CalendarEvent,
    FeedScope,
    FeedToken,
    MaintenanceTask,
    OccurrenceStatus,
    TaskOccurrence,
)

PAST = timedelta(days=90)
AHEAD = timedelta(days=400)
PRODID = "-//SupportPlan//Maintenance calendar//EN"


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime


def feed_occurrences(token: FeedToken, *, start: datetime, end: datetime):
    """The occurrences the token's feed shows, due in [start, end): one query with their tasks."""
    occurrences = TaskOccurrence.objects.filter(plan_id=token.plan_id, due_at__gte=start, due_at__lt=end)
    if token.scope == FeedScope.PERSON:
        occurrences = occurrences.filter(
            Q(task__owner_id=token.person_id) | Q(task__backup_id=token.person_id)
        )
    return occurrences.select_related("task", "task__owner", "task__backup", "closed_by").order_by(
        "due_at", "id"
    )


def feed_windows(token: FeedToken, *, start: datetime, end: datetime):
    """Freeze windows (``blocks_maintenance``) and update/release windows overlapping [start, end)."""
    return (
        CalendarEvent.objects.filter(plan_id=token.plan_id, starts_at__lt=end, ends_at__gt=start)
        .filter(Q(blocks_maintenance=True) | Q(kind__in=UPDATE_KINDS))
        .select_related("party")
        .order_by("starts_at", "id")
    )


def _sequence(created: datetime, updated: datetime) -> int:
    # Seconds from creation to the last change: it only grows, so clients take each change.
    return max(0, int((updated - created).total_seconds()))


def _occurrence_event(occurrence: TaskOccurrence, base_url: str) -> Event:
    task = occurrence.task
    event = Event()
    event.add("uid", f"occurrence-{occurrence.pk}@supportplan")
    event.add("dtstamp", occurrence.updated_at.astimezone(UTC))
    event.add("dtstart", occurrence.due_at.astimezone(UTC))
    event.add("dtend", (occurrence.due_at + timedelta(minutes=task.duration_minutes)).astimezone(UTC))
    event.add("sequence", _sequence(occurrence.created_at, occurrence.updated_at))
    prefix = {OccurrenceStatus.DONE: "Done: ", OccurrenceStatus.SKIPPED: "Skipped: "}.get(
        occurrence.status, ""
    )
    event.add("summary", prefix + task.title)
    url = base_url + reverse("maintenance-task", args=[occurrence.plan.slug, task.pk])
    lines = []
    if task.description:
        lines.append(task.description)
    if task.owner:
        lines.append(f"Owner: {task.owner.name}")
    if task.backup:
        lines.append(f"Backup: {task.backup.name}")
    if occurrence.moved and occurrence.move_reason:
        lines.append(f"Moved: {occurrence.move_reason}")
    if occurrence.status != OccurrenceStatus.OPEN:
        who = occurrence.closed_by.get_username() if occurrence.closed_by else "someone"
        when = f"{occurrence.closed_at:%Y-%m-%d %H:%M} UTC" if occurrence.closed_at else ""
        lines.append(f"{occurrence.get_status_display()} by {who} {when}".strip())
        if occurrence.notes:
            lines.append(occurrence.notes)
        if occurrence.evidence_url:
            lines.append(f"Evidence: {occurrence.evidence_url}")
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("status", "CANCELLED" if occurrence.status == OccurrenceStatus.SKIPPED else "CONFIRMED")
    event.add("categories", [category_label(task.category)])
    event.add("transp", "OPAQUE")
    event.add("x-supportplan-status", occurrence.status)
    return event


def _window_event(window: CalendarEvent, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"window-{window.pk}@supportplan")
    event.add("dtstamp", stamp)
    event.add("dtstart", window.starts_at.astimezone(UTC))
    event.add("dtend", window.ends_at.astimezone(UTC))
    kind = window.get_kind_display()
    label = "Freeze" if window.blocks_maintenance else kind
    event.add("summary", f"{label}: {window.name}")
    details = [kind]
    if window.party:
        details.append(f"Party: {window.party.name}")
    if window.required_service_level:
        details.append(f"Service level: {window.required_service_level}")
    if window.notes:
        details.append(window.notes)
    event.add("description", "\n".join(details))
    event.add("categories", ["Freeze window" if window.blocks_maintenance else "Update window"])
    event.add("transp", "TRANSPARENT")
    return event


def feed_name(token: FeedToken) -> str:
    if token.scope == FeedScope.PERSON:
        return f"{token.plan.name} – maintenance for {token.person.name}"
    return f"{token.plan.name} – maintenance"


def feed_build(token: FeedToken, *, now: datetime, base_url: str) -> Feed:
    """The feed's bytes, their ETag (a hash of them) and the latest change of an occurrence or task
    shown (aware UTC; the windows' DTSTAMP; the Last-Modified header is ``feed_changed_at``).
    Three queries whatever the number of events."""
    start, end = now - PAST, now + AHEAD
    occurrences = list(feed_occurrences(token, start=start, end=end))
    windows = list(feed_windows(token, start=start, end=end))
    tasks = MaintenanceTask.objects.filter(plan_id=token.plan_id)
    task_changed = tasks.aggregate(latest=Max("updated_at"))["latest"]
    stamps = (
        [o.updated_at for o in occurrences] + [token.created_at] + ([task_changed] if task_changed else [])
    )
    last_modified = max(stamps).astimezone(UTC).replace(microsecond=0)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", feed_name(token))
    calendar.add("x-wr-timezone", "UTC")
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for occurrence in occurrences:
        occurrence.plan = token.plan  # the token's plan: no query per event for the link
        calendar.add_component(_occurrence_event(occurrence, base_url))
    for window in windows:
        calendar.add_component(_window_event(window, last_modified))
    body = calendar.to_ical()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Feed(body=body, etag=etag, last_modified=last_modified)


#: How long the cache remembers when a feed's content last changed (a miss only costs one 200).
CHANGED_AT_TTL = int(timedelta(days=30).total_seconds())


def feed_changed_at(token: FeedToken, etag: str, *, now: datetime) -> datetime:
    """When the feed's current content (its ETag) was first served: the Last-Modified header,
    aware UTC to the second.

    The rows cannot say it: a deleted task or an edited window leaves no newer ``updated_at``
    behind, so "latest change of the rows shown" would answer 304 to a stale If-Modified-Since.
    The cache remembers (etag, first served); on a miss (first fetch, eviction, another cache) it
    is ``now``, so a client may download once more but never misses a change.
    """
    key = f"maintenance-feed-changed:{token.pk}"
    cached = cache.get(key)
    if cached and cached[0] == etag:
        return cached[1]
    changed = now.astimezone(UTC).replace(microsecond=0)
    cache.set(key, (etag, changed), CHANGED_AT_TTL)
    return changed
