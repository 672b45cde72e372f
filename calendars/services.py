"""Calendar feeds: issue, rotate and revoke the secret URL of a staff member's or a patient's feed."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from django.db import transaction

from calendars.models import CalendarFeed
from calendars.selectors import manages_every_feed, token_hash
from clinic.models import StaffMember
from clinic.selectors import staff_member_id_of
from ketaminecare.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound, RuleViolation
from ketaminecare.roles import Role, user_roles
from ketaminecare.rules import Rule
from patients.models import Patient
from patients.selectors import patient_id_of
from sessions.services.common import now_or

# 32 random bytes: 43 URL-safe characters, beyond any guessing.
TOKEN_BYTES = 32

MSG_NO_OWN_CALENDAR = "You have no calendar of your own: name the staff member or the patient."
MSG_NOT_YOURS = "Only the front desk or an administrator may manage another person's feed."
MSG_REVOKED = "The feed is already revoked."
MSG_OWNER_INACTIVE = "A feed cannot be issued for a person who no longer has access (inactive or closed account)."

# Whose feed: ("staff" | "patient", their id).
Owner = tuple[Literal["staff", "patient"], int]


@dataclass(frozen=True)
class IssuedFeed:
    """A new feed and its token: the only moment the token is known."""

    feed: CalendarFeed
    token: str


def feed_owner_for(*, actor: Any, staff_id: int | None = None, patient_id: int | None = None) -> Owner:
    """The owner of the feed ``actor`` asks to make.

    Without an id the actor's own calendar. Whoever the access policy lets see every feed (front
    desk and administrators) may name anybody; a clinician or therapist only themselves; a patient
    only themselves (another patient's id answers 404, as everywhere).
    """
    roles = user_roles(actor)
    manager = manages_every_feed(actor)
    if patient_id is not None:
        return _named_patient(actor=actor, roles=roles, manager=manager, patient_id=patient_id)
    if staff_id is not None:
        return _named_staff(actor=actor, manager=manager, staff_id=staff_id)
    own_staff = staff_member_id_of(actor)
    if own_staff is not None:
        return "staff", own_staff
    own_patient = patient_id_of(actor)
    if own_patient is not None:
        return "patient", own_patient
    raise InvalidInput(MSG_NO_OWN_CALENDAR, field="staff", rule=Rule.OWNER_REQUIRED)


def _named_patient(*, actor: Any, roles: set[str], manager: bool, patient_id: int) -> Owner:
    own = patient_id_of(actor)
    if own == patient_id:
        return "patient", patient_id
    if not manager:
        if Role.PATIENT in roles or not roles:
            raise NotFound("No such patient.", field="patient", rule=Rule.EXISTS)
        raise NotAllowed(MSG_NOT_YOURS, field="patient", rule=Rule.OWN_FEED_ONLY)
    if not Patient.objects.filter(pk=patient_id).exists():
        raise NotFound("No such patient.", field="patient", rule=Rule.EXISTS)
    return "patient", patient_id


def _named_staff(*, actor: Any, manager: bool, staff_id: int) -> Owner:
    own = staff_member_id_of(actor)
    if own == staff_id:
        return "staff", staff_id
    if not manager:
        raise NotAllowed(MSG_NOT_YOURS, field="staff", rule=Rule.OWN_FEED_ONLY)
    if not StaffMember.objects.filter(pk=staff_id).exists():
        raise NotFound("No such staff member.", field="staff", rule=Rule.EXISTS)
    return "staff", staff_id


def feed_issue(*, owner: Owner, now: dt.datetime | None = None) -> IssuedFeed:
    """Make a new feed for the owner and revoke the owner's live ones: one live URL at a time.

    Refused (409, feed_owner_active) for a staff member who is inactive or cannot sign in, or a
    patient whose account is closed. Locks the owner's row, so two requests at once leave one live
    feed, not two.
    """
    now = now_or(now)
    kind, owner_id = owner
    with transaction.atomic():
        if kind == "staff":
            staff = StaffMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=owner_id)
            has_access = staff.is_active and staff.user.is_active
            live = CalendarFeed.objects.filter(staff_id=owner_id, revoked_at__isnull=True)
        else:
            patient = Patient.objects.select_for_update(of=("self",)).select_related("user").get(pk=owner_id)
            has_access = patient.user is None or patient.user.is_active
            live = CalendarFeed.objects.filter(patient_id=owner_id, revoked_at__isnull=True)
        if not has_access:
            raise RuleViolation(MSG_OWNER_INACTIVE, field=kind, rule=Rule.FEED_OWNER_ACTIVE)
        live.update(revoked_at=now)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        feed = CalendarFeed.objects.create(
            staff_id=owner_id if kind == "staff" else None,
            patient_id=owner_id if kind == "patient" else None,
            token_hash=token_hash(token),
        )
    return IssuedFeed(feed=feed, token=token)


def feed_rotate(*, feed: CalendarFeed, now: dt.datetime | None = None) -> IssuedFeed:
    """A new secret URL for the same owner; the old one answers 404 from now on."""
    if feed.staff_id is not None:
        return feed_issue(owner=("staff", feed.staff_id), now=now)
    if feed.patient_id is None:
        raise ValueError("A feed has an owner.")
    return feed_issue(owner=("patient", feed.patient_id), now=now)


def feed_revoke(*, feed_id: int, now: dt.datetime | None = None) -> CalendarFeed:
    """Revoke a feed: its URL answers 404 from now on. Revoking twice is refused (409)."""
    now = now_or(now)
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().get(pk=feed_id)
        if feed.revoked_at is not None:
            raise InvalidTransition(MSG_REVOKED, field="revoked_at", rule=Rule.FEED_LIVE)
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
    return feed
