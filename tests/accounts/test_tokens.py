"""API tokens: idle and absolute lifetimes, revoked by a password change or a deactivation, listed
and revoked by their owner; only a hash is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_hash, token_issue
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _obtain(username: str, password: str = PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_token_from_the_endpoint_works_and_only_its_hash_is_stored(world: World):
    body = _obtain("patient.a")
    assert _client(body["token"]).get("/api/v1/auth/me/").status_code == 200
    stored = ApiToken.objects.get(user=world.users["patient_a"], prefix=body["token"][:8])
    assert stored.key_hash == token_hash(body["token"])
    assert body["token"] not in {stored.key_hash, stored.prefix}
    assert body["idle_minutes"] == 60


def test_a_token_left_idle_past_its_idle_lifetime_answers_401(world: World, settings):
    settings.API_TOKEN_IDLE_MINUTES = 30
    issued = token_issue(user=world.users["front_desk"])
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=31))
    response = _client(issued.key).get("/api/v1/sessions/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_use_keeps_a_token_alive_but_never_past_its_absolute_lifetime(world: World, settings):
    settings.API_TOKEN_IDLE_MINUTES = 30
    settings.API_TOKEN_MAX_HOURS = 12
    long_ago = timezone.now() - dt.timedelta(hours=13)
    issued = token_issue(user=world.users["front_desk"], now=long_ago)
    # Used a moment ago: not idle, but issued thirteen hours ago.
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=1))
    assert _client(issued.key).get("/api/v1/sessions/").status_code == 401


def test_using_a_token_moves_its_last_use(world: World):
    issued = token_issue(user=world.users["front_desk"], now=timezone.now() - dt.timedelta(minutes=10))
    assert _client(issued.key).get("/api/v1/auth/me/").status_code == 200
    issued.token.refresh_from_db()
    assert timezone.now() - issued.token.last_used_at < dt.timedelta(minutes=1)


def test_a_password_change_revokes_every_token_taken_before_it(world: World):
    user = world.users["patient_a"]
    before = _obtain("patient.a")["token"]
    assert _client(before).get(f"/api/v1/patients/{world.patient_a.pk}/").status_code == 200
    user.set_password("a-new-pass-456")
    user.save()
    assert _client(before).get(f"/api/v1/patients/{world.patient_a.pk}/").status_code == 401
    assert ApiToken.objects.get(key_hash=token_hash(before)).revoked_because == ApiToken.RevokedBecause.PASSWORD_CHANGED
    after = _obtain("patient.a", "a-new-pass-456")["token"]
    assert _client(after).get(f"/api/v1/patients/{world.patient_a.pk}/").status_code == 200


def test_saving_a_user_without_a_new_password_keeps_their_tokens(world: World):
    user = world.users["front_desk"]
    issued = token_issue(user=user)
    user.first_name = "Renamed"
    user.save()
    assert _client(issued.key).get("/api/v1/auth/me/").status_code == 200


def test_deactivating_an_account_revokes_its_tokens(world: World):
    user = world.users["therapist"]
    issued = token_issue(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.DEACTIVATED
    assert _client(issued.key).get("/api/v1/auth/me/").status_code == 401


def test_users_list_their_own_live_tokens_without_the_secrets(world: World):
    first = token_issue(user=world.users["front_desk"], user_agent="laptop")
    second = token_issue(user=world.users["front_desk"], user_agent="tablet")
    token_issue(user=world.users["clinician"])  # someone else's
    gone = token_issue(user=world.users["front_desk"])
    assert _client(gone.key).post("/api/v1/auth/logout/").status_code == 204
    rows = _client(second.key).get("/api/v1/auth/tokens/").json()
    assert {row["id"] for row in rows} == {first.token.pk, second.token.pk}
    assert {row["id"]: row["current"] for row in rows} == {first.token.pk: False, second.token.pk: True}
    assert all(first.key not in str(row) and second.key not in str(row) for row in rows)


def test_a_user_revokes_one_of_their_tokens_and_not_another_persons(world: World):
    mine = token_issue(user=world.users["front_desk"])
    other = token_issue(user=world.users["front_desk"])
    theirs = token_issue(user=world.users["clinician"])
    client = _client(mine.key)
    assert client.post(f"/api/v1/auth/tokens/{other.token.pk}/revoke/").status_code == 204
    assert _client(other.key).get("/api/v1/auth/me/").status_code == 401
    assert client.post(f"/api/v1/auth/tokens/{theirs.token.pk}/revoke/").status_code == 404
    assert _client(theirs.key).get("/api/v1/auth/me/").status_code == 200
    again = client.post(f"/api/v1/auth/tokens/{other.token.pk}/revoke/")
    assert (again.status_code, again.json()["rule"]) == (409, "token_live")


def test_the_rehash_of_a_password_at_sign_in_is_not_a_new_password(world: World):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user = world.users["front_desk"]
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    other_device = token_issue(user=user)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        _obtain(user.username)  # signs in; Django re-hashes with today's iterations
    user.refresh_from_db()
    assert not user.password.startswith("pbkdf2_sha256$1000$")
    assert _client(other_device.key).get("/api/v1/auth/me/").status_code == 200
