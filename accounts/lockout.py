"""Per-account lockout after repeated failed sign-ins (django-axes), for every way of signing in.

Axes' backend sits first in AUTHENTICATION_BACKENDS, so every ``authenticate()`` (the API's token
endpoint, the admin's login, any later sign-in page) counts failures per username and refuses a
locked account before its password is even checked. Here: the API's answer for a locked account,
the administrators' unlock, and a log line that names the account by id only.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from ketaminecare.errors import DomainError
from ketaminecare.rules import Rule

logger = logging.getLogger(__name__)

MSG_LOCKED = "Too many failed sign-ins for this account: it is locked for a while. An administrator can unlock it."


class AccountLocked(DomainError):
    http_status = 429
    default_code = "account_locked"

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        super().__init__(MSG_LOCKED, rule=Rule.LOGIN_LOCKOUT, details={"cool_off_minutes": minutes})


def locked_out(request: Any) -> bool:
    """Whether the sign-in just refused on ``request`` was refused because the account is locked."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(
    _request: HttpRequest, original_response: HttpResponse | None = None, _credentials: Any = None
) -> HttpResponse:
    """What a locked account's sign-in answers (axes asks this after the face has answered).

    A face that answered the lockout itself, in its own shape (the API's JSON error, the web
    sign-in page), keeps its answer; any other gets the one sentence in plain text.
    """
    if original_response is not None and original_response.status_code == settings.AXES_HTTP_RESPONSE_CODE:
        return original_response
    return HttpResponse(MSG_LOCKED, status=settings.AXES_HTTP_RESPONSE_CODE, content_type="text/plain; charset=utf-8")


def account_unlock(*, username: str) -> int:
    """Clear an account's failed sign-ins, ending its lockout. Returns how many records went."""
    return int(reset(username=username))


@receiver(user_locked_out, dispatch_uid="accounts.log_lockout")
def _log_lockout(username: str | None = None, **_: Any) -> None:
    user_id = get_user_model().objects.filter(username=username).values_list("id", flat=True).first()
    logger.warning(
        "sign-in: account locked after repeated failures", extra={"event": "login_locked", "user_id": user_id}
    )
