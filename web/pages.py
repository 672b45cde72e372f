"""The gate every page passes: the access policy decides who may open it, nothing here does.

A page is a view decorated with ``@page("resource")``; the resource and its methods are rows of
``ketaminecare.access.operations.OPERATIONS``, and the page's URL name is in ``PAGES``. A visitor
who is not signed in is sent to the sign-in page (and back after); a signed-in person whose roles
the policy does not name gets 403, and the page's code never runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from audit.models import AuditEvent
from audit.services import audit_record
from ketaminecare.access.operations import ANYONE, OPERATIONS, may, roles_of

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def page(resource: str) -> Callable[[View], View]:
    """Open the decorated view to whom the policy lets call ``resource`` with the request's method."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            method = (request.method or "GET").lower()
            allowed = roles_of(resource, method)
            if allowed is None:
                return HttpResponse(status=405, headers={"Allow": _allowed_methods(resource)})
            if ANYONE not in allowed and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may(request.user, f"{resource}.{method}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        gated.policy_resource = resource  # type: ignore[attr-defined]
        return gated  # type: ignore[return-value]

    return decorate


def _allowed_methods(resource: str) -> str:
    return ", ".join(sorted(method.upper() for method in OPERATIONS.get(resource, {})))


def audit_shown(request: HttpRequest, patient_ids: Iterable[int | None], *, verb: str) -> None:
    """Record in the audit trail whose records a page showed (nothing when it showed no one's),
    as the API and the admin do for theirs."""
    audit_record(
        request=request,
        channel=AuditEvent.Channel.WEB,
        action=AuditEvent.Action.LIST,
        verb=verb,
        patient_ids=patient_ids,
        status_code=200,
    )
