"""API tokens: many per user, each with an idle and an absolute lifetime, revocable one by one.

Only a token's SHA-256 is kept: the token itself is shown once, when it is issued. A database
dump therefore holds no usable credential.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    class RevokedBecause(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        USER = "user", "Revoked by its owner"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        ADMINISTRATOR = "administrator", "Revoked by an administrator"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, so that its owner can tell their tokens apart.
    prefix = models.CharField(max_length=8)
    # What the client said it was when the token was issued (a browser, a script), cut short.
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="The absolute end of the token's life.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_because = models.CharField(max_length=20, choices=RevokedBecause.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="api_token_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_because="")
                | models.Q(revoked_at__isnull=False) & ~models.Q(revoked_because=""),
                name="api_token_revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… of user {self.user_id}"

    def idle_until(self) -> dt.datetime:
        return self.last_used_at + dt.timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES)

    def live_at(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at and now < self.idle_until()
