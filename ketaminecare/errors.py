"""The one family of domain errors.

Services raise these; the API maps them in one place to an HTTP status and a stable JSON
shape: ``{"code": ..., "message": ..., "field": ..., "rule": ..., "details": {...}}``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses. ``code`` is machine-readable and stable."""

    http_status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        rule: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.rule = rule
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.rule:
            body["rule"] = self.rule
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """The request itself is malformed or out of range (400)."""

    http_status = 400
    default_code = "invalid_input"


class NotFound(DomainError):
    http_status = 404
    default_code = "not_found"


class NotAllowed(DomainError):
    """The actor may not do this (403)."""

    http_status = 403
    default_code = "not_allowed"


class RuleViolation(DomainError):
    """A clinical or scheduling rule refuses the change (409: the state of the clinic conflicts)."""

    http_status = 409
    default_code = "rule_violation"


class BookingConflict(DomainError):
    """The time is taken: a chair, a clinician, a therapist or the patient is already booked."""

    http_status = 409
    default_code = "booking_conflict"


class InvalidTransition(DomainError):
    """The object's status does not allow this action (409)."""

    http_status = 409
    default_code = "invalid_transition"
