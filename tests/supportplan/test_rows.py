"""``supportplan.lib.rows``: the plain-SQL statements of the hot paths store what the ORM stores."""

from __future__ import annotations

from datetime import timedelta

from operations.models import TaskOccurrence
from operations.models.maintenance import ReminderKind
from supportplan.lib import rows
from tests.operations.notify_fixtures import occurrence, task, utc

DUE = utc(2026, 7, 6, 7, 0)


def test_bulk_update_writes_each_rows_own_values_as_the_orm_would(needs_postgres, plan):
    job = task(plan)
    first, second, untouched = (
        occurrence(job, due_at=DUE + timedelta(days=day), now=utc(2026, 7, 1)) for day in range(3)
    )
    first.next_remind_at, first.next_remind_kind, first.late_reminders_sent = DUE, ReminderKind.LATE, 2
    second.next_remind_at, second.next_remind_kind, second.late_reminders_sent = None, "", 0
    before = TaskOccurrence.objects.get(pk=untouched.pk).next_remind_at
    rows.bulk_update([first, second], ["next_remind_at", "next_remind_kind", "late_reminders_sent"])
    stored = {
        o.pk: (o.next_remind_at, o.next_remind_kind, o.late_reminders_sent)
        for o in TaskOccurrence.objects.all()
    }
    assert stored[first.pk] == (DUE, ReminderKind.LATE, 2)
    assert stored[second.pk] == (None, "", 0)
    assert stored[untouched.pk][0] == before


def test_update_sql_prepares_values_through_the_fields(needs_postgres, plan):
    from django.db import connection

    job = task(plan)
    row = occurrence(job, due_at=DUE, now=utc(2026, 7, 1))
    sql, params = rows.update_sql(
        TaskOccurrence, {"next_remind_at": DUE, "late_reminders_sent": 3}, "id = %s", [row.pk]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    row.refresh_from_db()
    assert (row.next_remind_at, row.late_reminders_sent) == (DUE, 3)
