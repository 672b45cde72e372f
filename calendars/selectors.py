"""Reads of calendar feeds: the feed a token opens, and the feeds a person may manage."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Q, QuerySet

from calendars.models import CalendarFeed
from ketaminecare.roles import Role, user_roles

# The roles that may manage anybody's feed; everyone else manages their own.
MANAGERS = (Role.FRONT_DESK, Role.ADMINISTRATOR)

# A feed lives only as long as its owner's access: a staff member who is active and can sign in,
# or a patient whose account (when they have one) is open.
OWNER_HAS_ACCESS = Q(staff__is_active=True, staff__user__is_active=True) | Q(
    Q(patient__user__isnull=True) | Q(patient__user__is_active=True), patient__isnull=False
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown and revoked tokens, and feeds whose owner has
    lost their access, alike)."""
    return (
        CalendarFeed.objects.filter(OWNER_HAS_ACCESS, token_hash=token_hash(token), revoked_at__isnull=True)
        .only("id", "staff_id", "patient_id")
        .first()
    )


def feeds_manageable_by(user: Any) -> QuerySet[CalendarFeed]:
    """The feeds a user may see and manage: front desk and administrators all of them, anyone
    else their own (a staff member's feed, a patient's feed)."""
    roles = user_roles(user)
    if roles & set(MANAGERS):
        return CalendarFeed.objects.all()
    qs = CalendarFeed.objects.none()
    if roles & {Role.CLINICIAN, Role.THERAPIST}:
        qs = qs | CalendarFeed.objects.filter(staff__user=user)
    if Role.PATIENT in roles:
        qs = qs | CalendarFeed.objects.filter(patient__user=user)
    return qs
