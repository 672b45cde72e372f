"""The one exception handler: every 4xx answer has the same JSON shape.

``{"code": str, "message": str, "field": str?, "rule": str?, "details": {...}?}``. Domain errors
(ketaminecare.errors) carry their own status; DRF's and Django's own errors are translated so
that a client never has to parse two shapes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ketaminecare.errors import DomainError


def _first_field_error(detail: Any, prefix: str = "") -> tuple[str | None, str, str]:
    """The first (field path, message, code) in a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = key if not prefix else f"{prefix}.{key}"
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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
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
