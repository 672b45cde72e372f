"""Who is asking, as the views of sessions, windows and appointments need to know."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from clinic.models import StaffMember
from ketaminecare.access.labels import APPOINTMENT
from ketaminecare.access.records import sees_all
from ketaminecare.api.permissions import has_role
from ketaminecare.roles import Role


def staff_of(request: Request) -> StaffMember | None:
    user: Any = request.user
    return StaffMember.objects.filter(user=user, is_active=True).first()


def is_therapist_only(request: Request) -> bool:
    """A therapist who sees only their own appointments books and moves them as themselves."""
    return has_role(request.user, Role.THERAPIST) and not sees_all(request.user, APPOINTMENT)
