"""Sign-in: a per-account lockout on every way in, a throttle per trusted client address, and an
administrator's unlock."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from ketaminecare.api.throttling import ClientAddressThrottle
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"
TOKEN_URL = "/api/v1/auth/token/"


def _login_rate(monkeypatch, rate: str) -> None:
    # DRF binds the rates to the throttle class when it is first imported: set them there.
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"login": rate})


@pytest.fixture(autouse=True)
def _lockout(settings, monkeypatch):
    settings.AXES_FAILURE_LIMIT = 5
    # The throttle out of the way, except where a test is about it.
    _login_rate(monkeypatch, "1000/min")


def _sign_in(username: str, password: str, forwarded_for: str = "") -> tuple[int, dict]:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)
    return response.status_code, response.json()


def test_five_wrong_passwords_lock_the_account_whatever_address_they_come_from(world: World):
    statuses = [_sign_in("patient.a", "wrong", forwarded_for=f"198.51.100.{n}")[0] for n in range(5)]
    assert statuses[:4] == [400, 400, 400, 400]
    status, body = _sign_in("patient.a", PASSWORD, forwarded_for="203.0.113.77")
    assert status == 429
    assert (body["code"], body["rule"]) == ("account_locked", "login_lockout")
    assert body["details"]["cool_off_minutes"] == 15
    # Another account is not affected.
    assert _sign_in("patient.b", PASSWORD)[0] == 200


def test_a_success_before_the_limit_starts_the_count_again(world: World):
    for _ in range(4):
        assert _sign_in("patient.a", "wrong")[0] == 400
    assert _sign_in("patient.a", PASSWORD)[0] == 200
    for _ in range(4):
        assert _sign_in("patient.a", "wrong")[0] == 400
    assert _sign_in("patient.a", PASSWORD)[0] == 200


def test_the_admin_login_locks_the_same_account(world: World):
    user = world.users["administrator"]
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "administrator", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "administrator", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is per account: the API refuses it too.
    assert _sign_in("administrator", PASSWORD)[1]["code"] == "account_locked"


def test_administrators_see_locked_accounts_and_unlock_them(world: World):
    for _ in range(5):
        _sign_in("patient.a", "wrong")
    assert _sign_in("patient.a", PASSWORD)[0] == 429
    attempt = AccessAttempt.objects.get(username="patient.a")
    admin = Client()
    admin.force_login(world.users["administrator"])
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin.get(changelist, {"locked_out": "yes"})
    assert page.status_code == 200
    assert "patient.a" in page.content.decode()
    admin.post(changelist, {"action": "unlock", ACTION_CHECKBOX_NAME: [attempt.pk]})
    assert _sign_in("patient.a", PASSWORD)[0] == 200


def test_only_administrators_see_the_lockouts(world: World):
    front_desk = Client()
    world.users["front_desk"].is_staff = True
    world.users["front_desk"].save()
    front_desk.force_login(world.users["front_desk"])
    assert front_desk.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_the_lockout_is_logged_by_user_id_never_by_username(world: World, caplog):
    with caplog.at_level(logging.INFO):
        for _ in range(6):
            _sign_in("patient.a", "wrong")
    locked = [r for r in caplog.records if getattr(r, "event", "") == "login_locked"]
    assert locked and locked[0].user_id == world.users["patient_a"].pk
    assert "patient.a" not in caplog.text


def test_the_throttle_counts_per_client_and_a_new_forwarded_for_header_does_not_escape_it(world: World, monkeypatch):
    _login_rate(monkeypatch, "10/min")
    # A new username and a new header each time: no lockout applies, only the throttle.
    statuses = [_sign_in(f"nobody{n}", "wrong", forwarded_for=f"198.51.100.{n}")[0] for n in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    assert _sign_in("patient.a", PASSWORD, forwarded_for="203.0.113.1")[0] == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(world: World, settings, monkeypatch):
    settings.TRUSTED_PROXY_COUNT = 1
    _login_rate(monkeypatch, "10/min")
    for n in range(10):
        assert _sign_in(f"nobody{n}", "wrong", forwarded_for="198.51.100.1")[0] == 400
    assert _sign_in("nobody", "wrong", forwarded_for="198.51.100.1")[0] == 429
    # The proxy appended another client's address: that client has a count of its own.
    assert _sign_in("patient.a", PASSWORD, forwarded_for="198.51.100.1, 198.51.100.2")[0] == 200


def test_the_admin_login_shares_the_throttle_of_the_token_endpoint(world: World, monkeypatch):
    _login_rate(monkeypatch, "3/min")
    for n in range(3):
        assert _sign_in(f"nobody{n}", "wrong")[0] == 400
    response = Client().post(reverse("admin:login"), {"username": "administrator", "password": "wrong"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not AccessAttempt.objects.filter(username="administrator").exists()
