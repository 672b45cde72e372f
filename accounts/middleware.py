"""The login throttle per client address on the pages that sign in by form (the admin's, the
browsable API's), sharing its counts with the API's token endpoint: one budget per address."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ketaminecare.api.throttling import ClientAddressThrottle

MSG_THROTTLED = "Too many sign-in attempts from this address. Wait a minute and try again."

# What ScopedRateThrottle asks of a view: its scope.
_LOGIN_SCOPE = SimpleNamespace(throttle_scope="login")


class SignInThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in self.sign_in_paths():
            throttle = ClientAddressThrottle()
            # DRF's throttle reads only the request's META and user, and the view's scope.
            if not throttle.allow_request(cast(Any, request), cast(Any, _LOGIN_SCOPE)):
                response = HttpResponse(MSG_THROTTLED, status=429, content_type="text/plain; charset=utf-8")
                wait = throttle.wait()
                if wait:
                    response["Retry-After"] = str(int(wait) + 1)
                return response
        return self.get_response(request)

    @staticmethod
    def sign_in_paths() -> set[str]:
        return {reverse(name) for name in settings.SIGN_IN_URL_NAMES}
