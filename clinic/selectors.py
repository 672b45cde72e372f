"""Reads of the clinic's people and chairs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from clinic.models import Chair, StaffMember


def staff_member_id_of(user: Any) -> int | None:
    """The staff record a staff login belongs to, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StaffMember.objects.filter(user=user).values_list("id", flat=True).first()


def chairs_active() -> QuerySet[Chair]:
    return Chair.objects.filter(is_active=True).order_by("name", "id")
