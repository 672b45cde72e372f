"""Recording audit events. Called by the API and admin hooks (audit/hooks.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from audit.models import AuditEvent
from ketaminecare.logging import request_id_var
from ketaminecare.roles import user_roles


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the first X-Forwarded-For hop when behind the proxy, else the peer."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    return candidate or None


def audit_record(
    *,
    request: HttpRequest,
    channel: str,
    action: str,
    patient_ids: Iterable[int | None],
    object_type: str = "",
    object_id: Any = "",
    verb: str = "",
    status_code: int | None = None,
) -> AuditEvent | None:
    """Append one event. Nothing is recorded when no patient's records were touched."""
    ids = sorted({int(pid) for pid in patient_ids if pid is not None})
    if not ids:
        return None
    user = getattr(request, "user", None)
    authenticated = bool(getattr(user, "is_authenticated", False))
    return AuditEvent.objects.create(
        actor=user if authenticated else None,
        actor_username=user.get_username() if authenticated and user is not None else "",
        roles=",".join(sorted(user_roles(user))),
        channel=channel,
        action=action,
        verb=verb,
        patient_ids=ids,
        object_type=object_type,
        object_id=str(object_id or ""),
        method=request.method or "",
        path=request.path[:300],
        status_code=status_code,
        ip_address=client_ip(request),
        request_id=request_id_var.get(),
    )
