"""Signing in on the front page: by Django session, with the API's lockout and throttle, and CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.lockout import MSG_LOCKED
from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def _sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("web:sign-in"), {"username": username, "password": password})


def test_a_front_desk_login_lands_on_the_calendar() -> None:
    member = StaffMemberFactory(role="front_desk")
    client = Client()
    response = _sign_in(client, member.user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("web:desk")
    assert client.get(reverse("web:desk")).status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong() -> None:
    member = StaffMemberFactory(role="front_desk")
    response = _sign_in(Client(), member.user.username, "not-it")
    assert response.status_code == 200
    assert "The name or the password is not right" in response.content.decode()


def test_the_account_locks_after_the_same_failures_as_the_api(settings: Any) -> None:
    member = StaffMemberFactory(role="front_desk")
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, member.user.username, "not-it")
    response = _sign_in(client, member.user.username, PASSWORD)
    assert response.status_code == 429
    assert MSG_LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_in_needs_the_page_s_csrf_token() -> None:
    member = StaffMemberFactory(role="front_desk")
    client = Client(enforce_csrf_checks=True)
    assert _sign_in(client, member.user.username, PASSWORD).status_code == 403


def test_signing_out_takes_a_post_and_ends_the_session() -> None:
    member = StaffMemberFactory(role="front_desk")
    client = Client()
    client.force_login(member.user)
    assert client.get(reverse("web:sign-out")).status_code == 405
    assert client.post(reverse("web:sign-out")).status_code == 302
    assert client.get(reverse("web:desk")).status_code == 302
