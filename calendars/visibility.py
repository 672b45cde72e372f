"""Who reads the calendar, and what they may see of it.

``visible`` is the one place where the access policy applies to the calendar: every face (the
JSON calendar, the iCalendar feeds, and later the web pages and exports) reads events through
``calendars.reader``, which asks it, and nothing else narrows or widens what a viewer sees.
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any

from django.db.models import Q

from calendars.events import CalendarQuery
from ketaminecare.access import labels
from ketaminecare.access.events import OWN, owner_paths_for_roles, scopes_for_roles
from ketaminecare.access.fields import SESSION as SESSION_RECORD
from ketaminecare.access.fields import hidden_for_roles
from ketaminecare.access.records import ALL, scope_for_roles
from ketaminecare.errors import NotAllowed
from ketaminecare.roles import Role, user_roles
from ketaminecare.rules import Rule
from patients.selectors import patient_id_of

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
    """Who reads the calendar: what they may see, and for a patient or a feed, who they are.

    ``kinds`` and ``owned`` are the access policy's calendar rows for the viewer
    (``ketaminecare.access.events``): the kinds of event they see at all (None: every kind), and
    for the kinds they see only their own of, the filter that keeps those rows.
    """

    visibility: Visibility
    patient_id: int | None = None
    staff_id: int | None = None
    # A session's hold reason is clinical: only the roles the access policy shows it to see it.
    sees_hold_reason: bool = False
    kinds: frozenset[str] | None = None
    owned: dict[str, Q] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Scope:
    """What the reader reads for one viewer: which rows (the narrowed query) and which fields."""

    query: CalendarQuery
    # Sessions' details: course, sequence, ride home.
    details: bool
    hold_reason: bool
    # Titles carry the patient's initials (staff); a patient's own titles name nobody.
    initials: bool
    # For each kind seen only in part: the filter that keeps the viewer's own rows.
    owned: dict[str, Q] = field(default_factory=dict, hash=False, compare=False)


def _policy_rows(roles: set[str], owner: Any) -> tuple[frozenset[str], dict[str, Q]]:
    """The kinds ``roles`` see, and for each ``OWN`` kind the filter ``Q(path=owner)`` (OR'ed)."""
    scopes = scopes_for_roles(roles)
    owned: dict[str, Q] = {}
    for kind, scope in scopes.items():
        if scope != OWN:
            continue
        owned[kind] = reduce(operator.or_, (Q(**{path: owner}) for path in owner_paths_for_roles(roles, kind)))
    return frozenset(scopes), owned


def calendar_viewer(user: Any) -> Viewer | None:
    """The widest view a user's roles give, as the access policy states it (one query, two for a
    patient); None when the policy gives the user no kind of event."""
    roles = user_roles(user)
    kinds, owned = _policy_rows(roles, user)
    if not kinds:
        return None
    sees_hold_reason = "hold_reason" not in hidden_for_roles(roles, SESSION_RECORD)
    # Whoever sees every treatment session sees the whole clinic, with sessions' details.
    if scope_for_roles(roles, labels.SESSION) == [ALL]:
        return Viewer(Visibility.FULL, sees_hold_reason=sees_hold_reason, kinds=kinds, owned=owned)
    if Role.THERAPIST in roles:
        return Viewer(Visibility.THERAPIST, sees_hold_reason=sees_hold_reason, kinds=kinds, owned=owned)
    if Role.PATIENT in roles:
        patient_id = patient_id_of(user)
        if patient_id is not None:
            return Viewer(Visibility.PATIENT, patient_id=patient_id, kinds=kinds, owned=owned)
    return None


def feed_viewer(*, staff_id: int | None, patient_id: int | None, role: str | None = None) -> Viewer:
    """The reader of a feed: its owner, whoever holds the token (no query).

    The policy's calendar rows are the owner's: a staff member's ``role`` (None: the rows are not
    narrowed by kind), a patient's the patient role's, their own rows being the patient's.
    """
    if staff_id is not None:
        # The feed already keeps to what the staff member is booked for (their own sessions and
        # appointments); the policy takes out the kinds their role does not see at all.
        kinds = frozenset(scopes_for_roles({role})) if role is not None else None
        return Viewer(Visibility.STAFF_FEED, staff_id=staff_id, kinds=kinds)
    if patient_id is not None:
        # A patient's own rows are the patient's, whether or not they have a login.
        kinds = frozenset(scopes_for_roles({Role.PATIENT}))
        return Viewer(Visibility.PATIENT_FEED, patient_id=patient_id, kinds=kinds)
    raise ValueError("A feed has an owner.")


def visible(*, query: CalendarQuery, viewer: Viewer) -> Scope | None:
    """The one place the access policy applies to the calendar: the query narrowed to what the
    viewer may see, and which fields they see; None when that is nothing.

    - Every viewer sees the kinds of event the policy's calendar rows give their roles, and of a
      kind they see only their own of, only their own rows (``ketaminecare.access.events``):
      therapists no sessions and only the appointments they hold.
    - Front desk, clinicians and administrators see every row, with sessions' details (the hold
      reason only for the roles ketaminecare.access.fields shows it to).
    - A patient sees only their own sessions, windows and appointments, with their sessions'
      details but no hold reason, and the clinic's closures; naming another patient answers
      nothing at all. Asking for cancelled items is refused (NotAllowed).
    - A staff member's feed holds what they are booked for (sessions they give, appointments
      they hold) of the kinds their role sees, and the closures; a patient's feed their own
      bookings. Feeds keep cancelled items (so that subscribed calendars remove them) and show no
      details.
    - Every staff view shows the patient's initials in titles; a patient's shows nobody's.
    """
    if viewer.kinds is not None:
        query = replace(query, types=query.types & viewer.kinds)
    kind = viewer.visibility
    if kind is Visibility.FULL:
        return Scope(query, details=True, hold_reason=viewer.sees_hold_reason, initials=True, owned=viewer.owned)
    if kind is Visibility.THERAPIST:
        return Scope(query, details=False, hold_reason=False, initials=True, owned=viewer.owned)
    if kind is Visibility.STAFF_FEED:
        if viewer.staff_id is None:
            return None
        return Scope(
            replace(query, staff_ids=frozenset({viewer.staff_id})), details=False, hold_reason=False, initials=True
        )
    if kind is Visibility.PATIENT and query.include_cancelled:
        raise NotAllowed(MSG_CANCELLED_STAFF_ONLY, field="include_cancelled", rule=Rule.STAFF_ONLY)
    own = viewer.patient_id
    if own is None or (query.patient_ids is not None and own not in query.patient_ids):
        # Another patient's id answers nothing: never their rows, not even the clinic's closures.
        return None
    own_rows = replace(query, patient_ids=frozenset({own}))
    return Scope(own_rows, details=kind is Visibility.PATIENT, hold_reason=False, initials=False, owned=viewer.owned)
