"""``Cache-Control: no-store`` on every dynamic response.

Nearly every page and answer of the service carries a patient's data or a credential (API
answers, admin pages, calendar feeds, the docs behind sign-in), and a shared machine's browser
cache or a proxy must keep none of it. Static files never reach this middleware: whitenoise,
before it, answers them with their own long-lived caching.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response
