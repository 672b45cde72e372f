"""Reads of the clinic's people."""

from __future__ import annotations

from typing import Any

from clinic.models import StaffMember


def staff_member_id_of(user: Any) -> int | None:
    """The staff record a staff login belongs to, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StaffMember.objects.filter(user=user).values_list("id", flat=True).first()
