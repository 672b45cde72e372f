"""Who reads the calendar, and what they may see of it.

``visible`` is the one place where the access policy applies to the calendar: every face (the
JSON calendar, the iCalendar feeds, and later the web pages and exports) reads events through
``calendars.reader``, which asks it, and nothing else narrows or widens what a viewer sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from calendars.events import CalendarQuery
from ketaminecare.access.fields import SESSION as SESSION_RECORD
from ketaminecare.access.fields import hidden_for_roles
from ketaminecare.errors import NotAllowed
from ketaminecare.roles import Role, user_roles
from patients.models import Patient

MSG_CANCELLED_STAFF_ONLY = "Only staff may ask for cancelled items."


class Visibility(enum.Enum):
    # Front desk, clinicians and administrators.
    FULL = "full"
    THERAPIST = "therapist"
    # A patient signed in.
    PATIENT = "patient"
    # Subscription feeds, read with their secret token: the owner's own bookings.
    STAFF_FEED = "staff_feed"
    PATIENT_FEED = "patient_feed"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads the calendar: what they may see, and for a patient or a feed, who they are."""

    visibility: Visibility
    patient_id: int | None = None
    staff_id: int | None = None
    # A session's hold reason is clinical: only the roles the access policy shows it to see it.
    sees_hold_reason: bool = False


@dataclass(frozen=True, slots=True)
class Scope:
    """What the reader reads for one viewer: which rows (the narrowed query) and which fields."""

    query: CalendarQuery
    # Sessions' details: course, sequence, ride home.
    details: bool
    hold_reason: bool
    # Titles carry the patient's initials (staff); a patient's own titles name nobody.
    initials: bool


def calendar_viewer(user: Any) -> Viewer | None:
    """The widest view a user's roles give (one query, two for a patient); None when none."""
    roles = user_roles(user)
    if roles & {Role.FRONT_DESK, Role.CLINICIAN, Role.ADMINISTRATOR}:
        hidden = hidden_for_roles(roles, SESSION_RECORD)
        return Viewer(Visibility.FULL, sees_hold_reason="hold_reason" not in hidden)
    if Role.THERAPIST in roles:
        return Viewer(Visibility.THERAPIST)
    if Role.PATIENT in roles:
        patient_id = Patient.objects.filter(user=user).values_list("id", flat=True).first()
        if patient_id is not None:
            return Viewer(Visibility.PATIENT, patient_id=patient_id)
    return None


def feed_viewer(*, staff_id: int | None, patient_id: int | None) -> Viewer:
    """The reader of a feed: its owner, whoever holds the token (no query)."""
    if staff_id is not None:
        return Viewer(Visibility.STAFF_FEED, staff_id=staff_id)
    if patient_id is not None:
        return Viewer(Visibility.PATIENT_FEED, patient_id=patient_id)
    raise ValueError("A feed has an owner.")


def visible(*, query: CalendarQuery, viewer: Viewer) -> Scope | None:
    """The one place the access policy applies to the calendar: the query narrowed to what the
    viewer may see, and which fields they see; None when that is nothing.

    - Front desk, clinicians and administrators see everything, with sessions' details (the hold
      reason only for the roles ketaminecare.access.fields shows it to).
    - Therapists see every event, never a session's details (a hold reason is clinical). This is
      wider than the API's sessions/ and appointments/ let them read; the access policy
      (ketaminecare.access) narrows it when it is asked here.
    - A patient sees only their own sessions, windows and appointments, with their sessions'
      details but no hold reason, and the clinic's closures; naming another patient answers
      nothing at all. Asking for cancelled items is refused (NotAllowed).
    - A staff member's feed holds what they are booked for (sessions they give, appointments
      they hold) and the closures; a patient's feed their own bookings. Feeds keep cancelled
      items (so that subscribed calendars remove them) and show no details.
    - Every staff view shows the patient's initials in titles; a patient's shows nobody's.
    """
    kind = viewer.visibility
    if kind is Visibility.FULL:
        return Scope(query, details=True, hold_reason=viewer.sees_hold_reason, initials=True)
    if kind is Visibility.THERAPIST:
        return Scope(query, details=False, hold_reason=False, initials=True)
    if kind is Visibility.STAFF_FEED:
        if viewer.staff_id is None:
            return None
        return Scope(
            replace(query, staff_ids=frozenset({viewer.staff_id})), details=False, hold_reason=False, initials=True
        )
    if kind is Visibility.PATIENT and query.include_cancelled:
        raise NotAllowed(MSG_CANCELLED_STAFF_ONLY, field="include_cancelled", rule="staff_only")
    own = viewer.patient_id
    if own is None or (query.patient_ids is not None and own not in query.patient_ids):
        # Another patient's id answers nothing: never their rows, not even the clinic's closures.
        return None
    own_rows = replace(query, patient_ids=frozenset({own}))
    return Scope(own_rows, details=kind is Visibility.PATIENT, hold_reason=False, initials=False)
