"""Issuing, using and revoking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from ketaminecare.errors import InvalidTransition
from ketaminecare.rules import Rule

# 32 random bytes: 43 URL-safe characters.
TOKEN_BYTES = 32
# A token's last use is written at most this often: not one UPDATE per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)

MSG_ALREADY_REVOKED = "The token is already revoked."

Reason = ApiToken.RevokedBecause


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret: the only moment the secret is known."""

    token: ApiToken
    key: str


def token_issue(*, user: Any, user_agent: str = "", now: dt.datetime | None = None) -> IssuedToken:
    """A new token for ``user``, living at most API_TOKEN_MAX_HOURS and API_TOKEN_IDLE_MINUTES idle."""
    now = now or timezone.now()
    key = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(key),
        prefix=key[:8],
        user_agent=user_agent[:200],
        created_at=now,
        last_used_at=now,
        expires_at=now + dt.timedelta(hours=settings.API_TOKEN_MAX_HOURS),
    )
    return IssuedToken(token=token, key=key)


def token_authenticate(key: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token with this secret, its use noted; None when unknown, revoked, idle or expired,
    or when its owner can no longer sign in."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None or not token.live_at(now) or not token.user.is_active:
        return None
    if now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token_id: int, because: str, now: dt.datetime | None = None) -> ApiToken:
    """Revoke one token; revoking a revoked token is refused (409)."""
    now = now or timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id)
        if token.revoked_at is not None:
            raise InvalidTransition(MSG_ALREADY_REVOKED, field="revoked_at", rule=Rule.TOKEN_LIVE)
        token.revoked_at = now
        token.revoked_because = because
        token.save(update_fields=["revoked_at", "revoked_because"])
    return token


def tokens_revoke_for_user(*, user_id: int, because: str, now: dt.datetime | None = None) -> int:
    """Revoke every live token of a user (a password change, a deactivation). Returns how many."""
    now = now or timezone.now()
    return ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_because=because
    )
