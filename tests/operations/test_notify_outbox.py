"""The outbox: publish writes one notice per recipient and one delivery per subscribed endpoint,
a replay is a no-op, delivery times follow the recipient's settings, and two concurrent claimers on
PostgreSQL never hand out the same row."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from django.db import connection, transaction

from models_catalog.models import Party, PartyKind, Role
from operations.models import Notification, NotificationSettings, WebhookDelivery, WebhookEndpoint
from operations.models.notifications import DeliveryStatus, DigestMode, EventType
from operations.notify.outbox import (
    RECLAIM_AFTER,
    Recipient,
    claim_due_emails,
    claim_due_webhooks,
    publish,
    recipients_for_party,
    recipients_for_people,
    recipients_for_role,
)
from tests.factories import MembershipFactory, UserFactory
from tests.operations.notify_fixtures import *  # noqa: F403
from tests.operations.notify_fixtures import person, utc

NOW = utc(2026, 3, 10, 12, 0)


def endpoint(plan, name="Helpdesk", event_types=()):
    return WebhookEndpoint.objects.create(
        plan=plan,
        name=name,
        url="https://hooks.example.com/x",
        event_types=list(event_types),
        secret="whsec_AAAA",
    )


def publish_breach(plan, recipients, **extra):
    return publish(
        plan=plan,
        event_key="clock:7:step:1:0",
        event_type=EventType.SLA_BREACHED,
        recipients=recipients,
        subject="P1 breached",
        body="Ticket 42 breached its resolution target.",
        now=NOW,
        **extra,
    )


def test_publishing_the_same_event_twice_writes_each_notice_and_delivery_once(plan, tina, bob):
    endpoint(plan)
    first = publish_breach(plan, [Recipient(user=tina), Recipient(user=bob)])
    again = publish_breach(plan, [Recipient(user=tina), Recipient(user=bob)])
    assert len(first.notification_ids) == 2 and len(first.delivery_ids) == 1 and first.skipped == 0
    assert again.notification_ids == [] and again.delivery_ids == [] and again.skipped == 3
    assert Notification.objects.count() == 2 and WebhookDelivery.objects.count() == 1


def test_a_person_with_a_login_and_that_user_are_one_recipient(plan, tina):
    tina_person = person(plan, name="Tina", user=tina)
    result = publish_breach(plan, [Recipient(user=tina), *recipients_for_people([tina_person])])
    assert len(result.notification_ids) == 1
    assert Notification.objects.get().dedupe_key == f"clock:7:step:1:0:user:{tina.pk}"


def test_only_active_endpoints_subscribed_to_the_event_type_get_a_delivery(plan, other_plan, tina):
    all_events = endpoint(plan, "All")
    endpoint(plan, "Only tasks", [EventType.TASK_LATE])
    WebhookEndpoint.objects.filter(pk=endpoint(plan, "Disabled").pk).update(active=False)
    endpoint(other_plan, "Other plan")
    publish_breach(plan, [Recipient(user=tina)])
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == all_events
    assert delivery.payload["type"] == "sla.breached"
    assert delivery.webhook_id.startswith("msg_")


def test_a_recipient_without_address_or_with_email_off_gets_only_the_inbox_item(plan, tina, bob):
    tina.email = ""
    tina.save()
    NotificationSettings.objects.create(user=bob, email_enabled=False)
    publish_breach(plan, [Recipient(user=tina), Recipient(user=bob)])
    assert set(Notification.objects.values_list("email_status", flat=True)) == {DeliveryStatus.NOT_NEEDED}


def test_quiet_hours_defer_the_email_to_their_end_in_the_recipients_zone(plan, tina):
    # 12:00 UTC is 13:00 in Berlin (CET): inside 12:00–14:00 quiet hours, which end 13:00 UTC.
    NotificationSettings.objects.create(
        user=tina, timezone="Europe/Berlin", quiet_start=time(12, 0), quiet_end=time(14, 0)
    )
    publish_breach(plan, [Recipient(user=tina)])
    notice = Notification.objects.get()
    assert notice.email_status == DeliveryStatus.PENDING
    assert notice.deliver_after == utc(2026, 3, 10, 13, 0)


def test_quiet_hours_across_midnight_end_the_next_morning(plan, tina):
    NotificationSettings.objects.create(
        user=tina, timezone="America/New_York", quiet_start=time(22, 0), quiet_end=time(7, 0)
    )
    publish(
        plan=plan,
        event_key="e:1",
        event_type=EventType.SLA_WARNING,
        recipients=[Recipient(user=tina)],
        subject="s",
        body="",
        now=utc(2026, 3, 11, 3, 0),  # 23:00 in New York (EDT from 8 March)
    )
    assert Notification.objects.get().deliver_after == utc(2026, 3, 11, 11, 0)


def test_urgent_notices_ignore_quiet_hours_and_the_digest(plan, tina):
    NotificationSettings.objects.create(
        user=tina, digest_mode=DigestMode.DAILY, quiet_start=time(0, 0), quiet_end=time(23, 59)
    )
    publish_breach(plan, [Recipient(user=tina)], urgent=True)
    notice = Notification.objects.get()
    assert notice.email_status == DeliveryStatus.SENDING and notice.deliver_after == NOW


def test_a_task_reminder_waits_for_the_daily_digest_but_an_sla_notice_does_not(plan, tina):
    NotificationSettings.objects.create(
        user=tina, digest_mode=DigestMode.DAILY, digest_time=time(7, 30), timezone="Europe/London"
    )
    publish(
        plan=plan,
        event_key="occurrence:1:0:on_due:0",
        event_type=EventType.TASK_DUE,
        recipients=[Recipient(user=tina)],
        subject="Due now: backup check",
        body="",
        now=NOW,
    )
    publish_breach(plan, [Recipient(user=tina)])
    reminder = Notification.objects.get(event_type=EventType.TASK_DUE)
    assert reminder.deliver_after == utc(2026, 3, 11, 7, 30) and reminder.context["digest"] is True
    assert Notification.objects.get(event_type=EventType.SLA_BREACHED).deliver_after == NOW


def test_recipients_of_a_role_and_of_a_party(plan, tina, carol):
    role = Role.objects.create(plan=plan, name="Finance key user")
    party = Party.objects.create(
        plan=plan,
        name="Fabrikam Partners",
        kind=PartyKind.PARTNER,
        escalation_contact_email="esc@fabrikam.test",
    )
    with_role = person(plan, name="Tina", user=tina)
    with_role.roles.add(role)
    person(plan, name="Nobody")
    partner_person = person(plan, name="Pat", email="pat@fabrikam.test")
    partner_person.party = party
    partner_person.save()
    carol.memberships.update(organisation=party)
    assert [r.key() for r in recipients_for_role(plan=plan, role=role)] == [f"user:{tina.pk}"]
    assert [r.key() for r in recipients_for_party(party=party)] == [
        f"person:{partner_person.pk}",
        "email:esc@fabrikam.test",
        f"user:{carol.pk}",
    ]


def test_a_claim_hands_out_due_rows_and_reclaims_rows_stuck_in_sending(plan, tina, bob, victor):
    publish_breach(plan, [Recipient(user=tina)])  # claimed at publish: "sending"
    Notification.objects.update(email_status=DeliveryStatus.PENDING, deliver_after=NOW)
    assert len(claim_due_emails(now=NOW)) == 1
    assert claim_due_emails(now=NOW) == []  # already sending
    assert len(claim_due_emails(now=NOW + RECLAIM_AFTER + timedelta(seconds=1))) == 1  # its message was lost


def test_webhook_claims_skip_disabled_endpoints(plan, tina):
    hook = endpoint(plan)
    publish_breach(plan, [Recipient(user=tina)])
    WebhookDelivery.objects.update(status=DeliveryStatus.PENDING)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)
    assert claim_due_webhooks(now=NOW) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_on_postgresql_claim_every_row_exactly_once(needs_postgres, plan):
    users = [UserFactory(username=f"u{n}") for n in range(12)]
    for user in users:
        MembershipFactory(plan=plan, user=user)
    with transaction.atomic():
        for event in range(25):
            publish(
                plan=plan,
                event_key=f"load:{event}",
                event_type=EventType.SLA_WARNING,
                recipients=[Recipient(user=user) for user in users],
                subject="x",
                body="",
                now=NOW,
            )
    Notification.objects.update(email_status=DeliveryStatus.PENDING, deliver_after=NOW, claimed_at=None)
    total = Notification.objects.count()
    assert total == 300
    barrier = threading.Barrier(2)
    claimed: dict[int, list[int]] = {0: [], 1: []}
    errors = []

    def claimer(index: int) -> None:
        try:
            barrier.wait()
            while ids := claim_due_emails(now=NOW, limit=7):
                claimed[index].extend(ids)
        except Exception as error:  # reported below; a thread's exception would be lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert claimed[0] and claimed[1], "both claimers should have won some rows"
    assert set(claimed[0]).isdisjoint(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == total
    assert Notification.objects.filter(email_status=DeliveryStatus.SENDING).count() == total


def test_rows_written_by_a_concurrent_publisher_between_check_and_insert_are_skipped_one_by_one(
    plan, tina, bob, monkeypatch
):
    from operations.notify import outbox

    hook = endpoint(plan)
    publish_breach(plan, [Recipient(user=tina)])  # "the other publisher": tina's notice and the delivery
    monkeypatch.setattr(outbox, "_existing", lambda model, field, values: set())  # it did so after our check
    monkeypatch.setattr(outbox, "_existing_pairs", lambda event_keys, endpoints: iter(()))
    with transaction.atomic():
        result = publish_breach(plan, [Recipient(user=tina), Recipient(user=bob)])
    assert result.skipped == 2  # tina's notice and the endpoint's delivery, each refused by its unique key
    assert list(
        Notification.objects.filter(pk__in=result.notification_ids).values_list("recipient_user", flat=True)
    ) == [bob.pk]
    assert result.delivery_ids == []
    assert Notification.objects.count() == 2 and WebhookDelivery.objects.filter(endpoint=hook).count() == 1


def test_a_batch_of_events_is_written_in_one_statement_per_table(
    plan, tina, bob, django_assert_max_num_queries
):
    endpoint(plan)
    events = [
        outbox_event(plan, f"clock:{number}:step:1:0", [Recipient(user=tina), Recipient(user=bob)])
        for number in range(50)
    ]
    from operations.notify.outbox import write_events

    # existing keys, settings, endpoints, existing deliveries, savepoint, two inserts, release
    with django_assert_max_num_queries(8):
        result = write_events(events, now=NOW)
    assert len(result.notification_ids) == 100 and len(result.delivery_ids) == 50
    again = write_events(events, now=NOW)
    assert again.notification_ids == [] and again.delivery_ids == [] and again.skipped == 150


def outbox_event(plan, key, recipients):
    from operations.notify.outbox import OutboxEvent

    return OutboxEvent(
        plan=plan, event_key=key, event_type=EventType.SLA_BREACHED, recipients=recipients, subject="x"
    )
