"""The one exception handler: every 4xx answer has the same JSON shape.

``{"code": str, "message": str, "field": str?, "rule": str?, "details": {...}?}``. Domain errors
(ketaminecare.errors) carry their own status; DRF's and Django's own errors are translated so
that a client never has to parse two shapes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ketaminecare.db import violated_constraint
from ketaminecare.errors import DomainError
from ketaminecare.rules import Rule


def _first_field_error(detail: Any, prefix: str = "") -> tuple[str | None, str, str]:
    """The first (field path, message, code) in a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            # List items come keyed by their index: "sessions[0].starts_at".
            path = f"{prefix}[{key}]" if str(key).isdigit() else (f"{prefix}.{key}" if prefix else key)
            field, message, code = _first_field_error(value, path)
            return (field if key != "non_field_errors" else prefix or None), message, code
    if isinstance(detail, list) and detail:
        for index, item in enumerate(detail):
            if item:
                path = prefix if not isinstance(item, dict) else f"{prefix}[{index}]"
                return _first_field_error(item, path)
    code = getattr(detail, "code", "invalid")
    return (prefix or None), str(detail), str(code)


def error_body(
    code: str, message: str, *, field: str | None = None, rule: str | None = None, details: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    if rule:
        body["rule"] = rule
    if details:
        body["details"] = details
    return body


def _own_answer(exc: Exception) -> Response | None:
    """The answer to an error this service words itself (DRF never sees these), or None."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, IntegrityError):
        # A constraint the view's validation did not foresee (or a race it lost): the database
        # kept the rule, so the client is told of a conflict, not of a server error.
        name = violated_constraint(exc)
        return Response(
            error_body("conflict", "The change conflicts with the clinic's records.", rule=name or None),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("body_too_large", "The request body is too large.", rule=Rule.MAX_BODY_SIZE),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response(
            error_body("invalid_input", "The request has too many fields.", rule=Rule.MAX_FIELDS),
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None


def _as_drf(exc: Exception) -> Exception:
    """Django's own validation, 404 and permission errors as DRF's, which DRF answers."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    own = _own_answer(exc)
    if own is not None:
        return own
    exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message, rule = _first_field_error(exc.detail)
        response.data = error_body("invalid_input", message, field=field, rule=rule, details={"errors": exc.detail})
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        details = {"wait_seconds": wait} if wait else None
        response.data = error_body(str(code), str(exc.detail), details=details)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 for a path no route matches: JSON in the error shape under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such resource."), status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception or Http404())
