"""Explicit limits on what a request may carry, answered in the API's error shape.

- A URL (path and query) longer than ``MAX_URL_LENGTH`` characters: 414.
- A body declared longer than ``MAX_REQUEST_BODY_BYTES``: 413, before it is read. The body is
  read and dropped first (up to ``DRAIN_BYTES``) so that the client, still sending, gets the
  answer rather than a reset connection. Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (the same
  number) catches a body that did not declare its length (the exception handler answers 413).
- More than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` form or query fields: 400 (the exception handler).

And under ``/api/``, any error page Django or a middleware renders as HTML (the DEBUG pages of
the demo, a refused host, a 500) is answered in the JSON shape instead, in every mode.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from ketaminecare.api.exceptions import error_body
from ketaminecare.rules import Rule

DRAIN_BYTES = 32 * 1024 * 1024
CHUNK = 64 * 1024

MSG_URL_TOO_LONG = "The URL is longer than the {limit} characters this service accepts."
MSG_BODY_TOO_LARGE = "The request body is larger than the {limit} bytes this service accepts."

# The JSON answer for an HTML error page under /api/.
HTML_ERRORS = {
    400: ("invalid_input", "The request is malformed."),
    403: ("permission_denied", "You may not do this."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("body_too_large", "The request body is too large."),
    500: ("server_error", "The server failed to answer; the error is logged with this request's id."),
}


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _drain(request: HttpRequest, length: int) -> None:
    stream = request.META.get("wsgi.input")
    if stream is None or length > DRAIN_BYTES:
        return
    left = length
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        url_limit = settings.MAX_URL_LENGTH
        if len(request.get_full_path()) > url_limit:
            return JsonResponse(
                error_body("uri_too_long", MSG_URL_TOO_LONG.format(limit=url_limit), rule=Rule.MAX_URL_LENGTH),
                status=414,
            )
        body_limit = settings.MAX_REQUEST_BODY_BYTES
        length = _declared_length(request)
        if length > body_limit:
            _drain(request, length)
            return JsonResponse(
                error_body("body_too_large", MSG_BODY_TOO_LARGE.format(limit=body_limit), rule=Rule.MAX_BODY_SIZE),
                status=413,
            )
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code >= 400 and _is_html(response):
            code, message = HTML_ERRORS.get(response.status_code, ("error", "The request failed."))
            json_response = JsonResponse(error_body(code, message), status=response.status_code)
            for header in ("X-Request-ID", "Allow", "Retry-After"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response


def _is_html(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith("text/html")
