"""DRF authentication by ``Authorization: Token <secret>`` against accounts.ApiToken."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.services import token_authenticate

MSG_TOKEN_INVALID = "The token is unknown, revoked or expired: sign in again."  # noqa: S105 (a message)


class ApiTokenAuthentication(TokenAuthentication):
    """Same header and challenge as DRF's tokens; lifetimes and revocation from accounts."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(MSG_TOKEN_INVALID)
        return token.user, token
