"""Log-in throttling, password length, session lifetime, no secrets in logs."""

import logging

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture
def erin(db):
    return UserFactory(username="erin", password="erin-has-a-long-password")


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_a_correct_login_reaches_the_plans(client, erin):
    response = attempt(client, "erin", "erin-has-a-long-password")
    assert response.status_code == 302
    assert response["Location"] == reverse("plan-list")


def test_five_failures_lock_that_username_from_that_address_only(client, erin, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "erin", "wrong")
    locked = attempt(client, "erin", "erin-has-a-long-password")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    # The same person from another address, and another person from the same office, still get in.
    assert attempt(client, "erin", "erin-has-a-long-password", ip="10.0.0.2").status_code == 302
    client.logout()
    UserFactory(username="frank", password="frank-has-a-long-password")
    assert attempt(client, "frank", "frank-has-a-long-password").status_code == 302


def test_the_lockout_cools_off(client, erin, settings):
    import time_machine

    with time_machine.travel("2026-11-25 09:00:00Z", tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt(client, "erin", "wrong")
        assert attempt(client, "erin", "erin-has-a-long-password").status_code == 429
    with time_machine.travel("2026-11-25 09:16:00Z", tick=False):
        assert attempt(client, "erin", "erin-has-a-long-password").status_code == 302


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Short-pw-1!")
    validate_password("twelve-chars-ok-xyz")


def test_sessions_last_twelve_hours_however_active(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


def test_api_keys_never_reach_the_logs(alice, caplog):
    from supportplan import services

    with caplog.at_level(logging.DEBUG):
        _key, raw = services.api_key_create(
            plan=alice.memberships.get().plan, name="Log check", created_by=alice
        )
        from tests.conftest import api_as

        api_as(key=raw).get(reverse("location-list"))
        api_as(key=raw + "x").get(reverse("location-list"))
    assert raw not in caplog.text


def test_the_api_refuses_anonymous_requests_by_default(client, db):
    from rest_framework.settings import api_settings

    assert [cls.__name__ for cls in api_settings.DEFAULT_PERMISSION_CLASSES] == ["IsAuthenticated"]
    assert client.get(reverse("api-schema")).status_code == 401
