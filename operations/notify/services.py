"""Writes of the inbox and of a user's notification settings."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from operations.models import Notification, NotificationSettings
from operations.models.notifications import DigestMode
from supportplan.models import SupportPlan

SETTINGS_FIELDS = ("timezone", "email_enabled", "digest_mode", "digest_time", "quiet_start", "quiet_end")


@transaction.atomic
def notification_mark_read(*, notification: Notification, user, now: datetime | None = None) -> Notification:
    """Marks one of the user's own notices read (idempotent: the first read time stays)."""
    if notification.recipient_user_id != getattr(user, "pk", None):
        raise PermissionDenied("This notice is someone else's.")
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user, plan: SupportPlan | None = None, now: datetime | None = None) -> int:
    """Marks the user's unread notices read (of one plan, or all); returns how many changed."""
    unread = Notification.objects.filter(recipient_user=user, read_at__isnull=True)
    if plan is not None:
        unread = unread.filter(plan=plan)
    return unread.update(read_at=now or timezone.now())


@transaction.atomic
def notification_settings_update(*, user, **fields) -> NotificationSettings:
    """Updates (or creates) the user's settings; quiet hours need both ends; the zone must be IANA."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This setting does not exist."})
    stored, _created = NotificationSettings.objects.get_or_create(user=user)
    for name, value in fields.items():
        setattr(stored, name, value)
    errors = {}
    if (stored.quiet_start is None) != (stored.quiet_end is None):
        errors["quiet_end" if stored.quiet_end is None else "quiet_start"] = (
            "Give both the start and the end of quiet hours, or neither."
        )
    elif stored.quiet_start is not None and stored.quiet_start == stored.quiet_end:
        errors["quiet_end"] = "Quiet hours must end at a different time than they start."
    if stored.digest_mode not in DigestMode.values:
        errors["digest_mode"] = "Choose immediate or daily."
    if errors:
        raise ValidationError(errors)
    stored.full_clean()
    stored.save()
    return stored


def notification_settings_for(*, user) -> NotificationSettings:
    """The user's settings row (unsaved defaults if they never changed them)."""
    return NotificationSettings.objects.filter(user=user).first() or NotificationSettings(user=user)
