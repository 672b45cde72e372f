"""What a page's action answers: the service's refusal in words, with the status the API gives it.

An action validates its form, calls one service and reports an ``Outcome``; the page re-renders
the part it changed with the outcome's words. A refusal answers 400 (bad input) or 409 (a rule of
the clinic), the statuses app.js lets htmx swap in, so the person reads the rule instead of a
blank error; nothing a service refuses becomes a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Model
from django.http import HttpRequest

from audit.hooks import patient_id_of
from audit.models import AuditEvent
from audit.services import audit_record
from ketaminecare.errors import DomainError

# The statuses app.js swaps in; any other refusal of the domain is a rule of the clinic (409).
SWAPPED_STATUSES = (400, 404, 409)


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def kind(self) -> str:
        """The class the page's status line gives the words."""
        return "success" if self.ok else "error"


def attempt(form: forms.Form, call: Callable[[dict[str, Any]], str]) -> Outcome:
    """Validate ``form``, then ``call`` the service with its cleaned data; ``call`` returns the
    words that say what happened."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else None
        return Outcome(400, f"{label}: {errors[0]}" if label else str(errors[0]), field)
    try:
        return Outcome(200, call(form.cleaned_data))
    except DomainError as refusal:
        status = refusal.http_status if refusal.http_status in SWAPPED_STATUSES else 409
        return Outcome(status, refusal.message, refusal.field)


def from_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it swaps the answer in; a plain form post is redirected)."""
    return bool(getattr(request, "htmx", False))


def audit_done(request: HttpRequest, obj: Model, *, verb: str, action: str = AuditEvent.Action.ACTION) -> None:
    """Record in the audit trail a change a page made to a patient's record, as the API records
    its own (the page's reads go through ``web.pages.audit_shown``)."""
    audit_record(
        request=request,
        channel=AuditEvent.Channel.WEB,
        action=action,
        verb=verb,
        patient_ids=[patient_id_of(obj)],
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        status_code=200,
    )
