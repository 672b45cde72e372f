"""Recording audit events. Called by the API and admin hooks (audit/hooks.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from audit.models import AuditEvent
from ketaminecare.client import client_address
from ketaminecare.logging import mask_path, request_id_var
from ketaminecare.roles import user_roles


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
        # A feed's URL is its credential: the trail keeps the feed's id (object_id), never its token.
        path=mask_path(request.path)[:300],
        status_code=status_code,
        ip_address=client_address(request),
        request_id=request_id_var.get(),
    )
