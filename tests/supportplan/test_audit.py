"""Every configuration change is audited, whatever the door, and the trail cannot be rewritten."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import InternalError
from django.urls import reverse
from django.utils import timezone

from supportplan import services
from supportplan.models import AuditEntry, Location
from tests.conftest import api_as


def entries_for(obj):
    return AuditEntry.objects.filter(
        content_type__model=obj._meta.model_name, object_pk=str(obj.pk)
    ).order_by("pk")


def test_an_api_change_records_who_and_the_before_and_after(alice, location):
    api_as(user=alice).patch(
        reverse("location-detail", args=[location.pk]), {"user_count": 250}, format="json"
    )
    entry = entries_for(location).last()
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.actor == alice
    assert entry.plan_id == location.plan_id
    assert entry.changes_dict["user_count"] == ["100", "250"]


def test_a_ui_change_is_audited_with_its_author(client, bob, location):
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        reverse("location-edit", args=["northwind", location.pk]),
        {
            "name": "HQ",
            "country": "gb",
            "subdivision": "eng",
            "timezone": "Europe/London",
            "languages": "en, cy",
            "user_count": "120",
        },
    )
    assert response.status_code == 302
    entry = entries_for(location).last()
    assert entry.actor == bob
    assert entry.changes_dict["name"] == ["Head office", "HQ"]
    assert entry.changes_dict["languages"] == ['["en"]', '["en", "cy"]']


def test_an_admin_change_is_audited(admin_client, admin_user, plan):
    url = reverse("admin:supportplan_supportplan_change", args=[plan.pk])
    response = admin_client.post(
        url,
        {
            "name": "Northwind renamed",
            "slug": "northwind",
            "products": '["other"]',
            "phase": "prepare",
            "description": "",
            "locations-TOTAL_FORMS": "0",
            "locations-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = entries_for(plan).last()
    assert entry.actor == admin_user
    assert entry.changes_dict["phase"] == ["initiate", "prepare"]


def test_a_delete_is_audited_and_the_plan_keeps_its_history(alice, location):
    api_as(user=alice).delete(reverse("location-detail", args=[location.pk]))
    assert not Location.objects.filter(pk=location.pk).exists()
    assert entries_for(location).last().action == AuditEntry.Action.DELETE
    assert entries_for(location).last().plan_id == location.plan_id


def test_membership_changes_are_audited(alice, victor, plan):
    membership = services.membership_change_role(membership=victor.memberships.get(), role="team_member")
    assert entries_for(membership).last().changes_dict["role"] == ["viewer", "team_member"]


def test_an_entry_cannot_be_changed_or_deleted_through_the_model(alice, location):
    entry = AuditEntry.objects.filter(plan=location.plan).first()
    entry.object_repr = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_the_admin_offers_no_way_to_change_or_delete_entries(admin_client, location):
    entry = AuditEntry.objects.filter(plan=location.plan).first()
    assert admin_client.get(reverse("admin:supportplan_auditentry_changelist")).status_code == 200
    assert (
        admin_client.post(reverse("admin:supportplan_auditentry_delete", args=[entry.pk])).status_code == 403
    )
    response = admin_client.post(
        reverse("admin:supportplan_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert response.status_code in {200, 302}


@pytest.mark.postgres
def test_postgresql_itself_refuses_to_rewrite_the_trail(needs_postgres, location):
    entry = AuditEntry.objects.filter(plan=location.plan).first()
    for statement in (
        "UPDATE supportplan_auditentry SET object_repr = 'x' WHERE id = %s",
        "DELETE FROM supportplan_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(InternalError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


@pytest.mark.postgres
def test_deleting_a_user_keeps_their_entries_with_their_email(needs_postgres, alice, location):
    api_as(user=alice).patch(reverse("location-detail", args=[location.pk]), {"user_count": 7}, format="json")
    alice.delete()
    entry = entries_for(location).last()
    assert entry.actor is None
    assert entry.actor_email == "alice@example.com"


def test_leads_read_the_history_and_others_may_not(client, alice, tina, location):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    services.location_update(location=location, user_count=333)
    response = client.get(reverse("plan-history", args=["northwind"]))
    assert response.status_code == 200
    assert "Head office" in response.content.decode()
    client.force_login(tina, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("plan-history", args=["northwind"])).status_code == 403


def test_the_history_of_one_plan_holds_nothing_of_another(alice, location, other_location):
    from supportplan.selectors import plan_history

    names = {entry.object_repr for entry in plan_history(user=alice, plan=location.plan)}
    assert "Dublin (IE)" not in names
    assert timezone.is_aware(plan_history(user=alice, plan=location.plan).first().timestamp)


def test_a_request_records_its_address_and_leaves_no_context_behind(client, bob, location):
    from auditlog.context import auditlog_value

    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")

    def edit(user_count: int, **meta) -> None:
        form = {
            "name": "HQ",
            "country": "gb",
            "subdivision": "eng",
            "timezone": "Europe/London",
            "languages": "en",
            "user_count": str(user_count),
        }
        client.post(reverse("location-edit", args=["northwind", location.pk]), form, **meta)

    edit(120, REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_PORT="4431", HTTP_X_CORRELATION_ID="change-4711")
    entry = entries_for(location).last()
    assert (entry.actor, entry.remote_addr, entry.remote_port, entry.cid) == (
        bob,
        "192.0.2.7",
        4431,
        "change-4711",
    )
    # Behind a proxy: the first forwarded address, without its port.
    edit(125, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9:5555, 10.0.0.1")
    entry = entries_for(location).last()
    assert (entry.remote_addr, entry.remote_port, entry.cid) == ("203.0.113.9", None, None)
    # Once the request is over, a change made outside any request names nobody and no address.
    with pytest.raises(LookupError):
        auditlog_value.get()
    location.refresh_from_db()
    location.user_count = 130
    location.save()
    entry = entries_for(location).last()
    assert (entry.actor, entry.remote_addr) == (None, None)
