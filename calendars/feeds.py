"""What a subscription feed holds, read by the one calendar reader and written as iCalendar.

A feed belongs to one staff member or one patient and is read with a secret token in its URL
(only the token's sha256 is stored: calendars.selectors). It covers FEED_DAYS_BACK days back and
FEED_DAYS_AHEAD days ahead, in a fixed number of queries whatever its length: three for a staff
member (their sessions, their appointments, the closures; one more when the owner's role is not
given), two for a patient.

A staff member's feed holds what they are booked for (sessions they give, integration
appointments they hold) and the clinic's closure days; a patient's feed holds their sessions and
integration appointments. Cancelled items inside the horizon stay, so that calendars remove them.
Which rows each owner sees is decided by calendars.visibility from the access policy's calendar
rows, as for every face: a therapist's feed holds no sessions, whatever it is asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from calendars.events import CLOSURE, INTEGRATION_APPOINTMENT, MAINTENANCE_SESSION, SESSION, CalendarQuery, Event
from calendars.ical import ical_calendar
from calendars.models import CalendarFeed
from calendars.reader import calendar_read
from calendars.visibility import feed_viewer
from clinic.models import StaffMember

FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 365

PATIENT_FEED_TYPES = frozenset({SESSION, MAINTENANCE_SESSION, INTEGRATION_APPOINTMENT})
STAFF_FEED_TYPES = PATIENT_FEED_TYPES | {CLOSURE}


@dataclass(frozen=True, slots=True)
class FeedOwner:
    """Whose feed: a staff member (with the role the access policy reads their rows by) or a
    patient. A staff member's role, when not given, is read with one query."""

    staff_id: int | None = None
    patient_id: int | None = None
    role: str | None = None


def feed_owner(feed: CalendarFeed) -> FeedOwner:
    """The owner of a feed read with its staff member's role (``selectors.feed_for_token``)."""
    staff = feed.staff
    return FeedOwner(staff_id=feed.staff_id, patient_id=feed.patient_id, role=staff.role if staff else None)


def feed_horizon(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=FEED_DAYS_BACK), now + dt.timedelta(days=FEED_DAYS_AHEAD)


def feed_events(owner: FeedOwner, *, now: dt.datetime) -> list[Event]:
    """The events of the owner's feed over the horizon around ``now``, by start time."""
    start, end = feed_horizon(now)
    types = STAFF_FEED_TYPES if owner.staff_id is not None else PATIENT_FEED_TYPES
    query = CalendarQuery(start=start, end=end, types=types, include_cancelled=True)
    role = owner.role
    if owner.staff_id is not None and role is None:
        role = StaffMember.objects.filter(pk=owner.staff_id).values_list("role", flat=True).first()
    viewer = feed_viewer(staff_id=owner.staff_id, patient_id=owner.patient_id, role=role)
    return calendar_read(query=query, viewer=viewer)


def feed_ical(owner: FeedOwner, *, now: dt.datetime, patients: set[int] | None = None) -> str:
    """The whole feed of one owner as RFC 5545 text; DTSTAMP is ``now``.

    ``patients``, when given, receives the ids of the patients whose sessions and appointments
    the feed shows (for the audit trail).
    """
    events = feed_events(owner, now=now)
    if patients is not None:
        patients.update(event.patient.id for event in events if event.patient is not None)
    return ical_calendar(events, now=now, for_staff=owner.staff_id is not None)
