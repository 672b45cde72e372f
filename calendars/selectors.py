"""Reads of calendar feeds: the feed a token opens, and the feeds a person may manage."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Q, QuerySet

from calendars.models import CalendarFeed
from ketaminecare.access.labels import CALENDAR_FEED
from ketaminecare.access.records import scope_q, sees_all

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
        # The staff owner's role: the access policy reads the feed's rows by it.
        .select_related("staff")
        .only("id", "staff_id", "patient_id", "staff__role")
        .first()
    )


def feeds_manageable_by(user: Any) -> QuerySet[CalendarFeed]:
    """The feeds a user may see and manage, as the access policy's records scope says: front desk
    and administrators all of them, anyone else their own (a staff member's, a patient's)."""
    return CalendarFeed.objects.filter(scope_q(user, CALENDAR_FEED))


def manages_every_feed(user: Any) -> bool:
    """Whether ``user`` may manage anybody's feed (and so name any staff member or patient)."""
    return sees_all(user, CALENDAR_FEED)
