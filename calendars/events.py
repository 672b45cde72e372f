"""The calendar's one event, and the question that asks for events.

Every face of the calendar (the API's JSON, the iCalendar feeds, later the web pages and an
export) renders the same ``Event``, built in one place (``calendars.reader``) and filtered by one
visibility function (``calendars.visibility``). An event carries no address of any face: each
renderer links it as it needs (the JSON renderer to the API's routes).

Titles are stated here once, for every face: they never name a drug, a diagnosis or a treatment,
because someone else may read the screen or the lock screen that shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict

SESSION = "session"
MAINTENANCE_SESSION = "maintenance_session"
INTEGRATION_WINDOW = "integration_window"
INTEGRATION_APPOINTMENT = "integration_appointment"
CLOSURE = "closure"
EVENT_TYPES = (SESSION, MAINTENANCE_SESSION, INTEGRATION_WINDOW, INTEGRATION_APPOINTMENT, CLOSURE)

TITLES = {
    SESSION: "Clinic appointment",
    MAINTENANCE_SESSION: "Maintenance visit",
    INTEGRATION_WINDOW: "Follow-up window",
    INTEGRATION_APPOINTMENT: "Follow-up appointment",
    CLOSURE: "Clinic closed",
}

# Statuses of the kinds that have none of their own (sessions and appointments keep theirs).
WINDOW_UNBOOKED = "unbooked"
WINDOW_BOOKED = "booked"
CLOSURE_STATUS = "closed"
# Every kind that can be cancelled says so with this status (sessions and appointments store it).
CANCELLED = "cancelled"

# The longest range one request may ask for: a quarter, whatever the months.
MAX_RANGE = dt.timedelta(days=93)
# The largest id a filter may name (a bigint); larger ones would fail in the database.
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Party:
    """A chair, a staff member or a patient as an event names them."""

    id: int
    name: str


class SessionDetails(TypedDict, total=False):
    course_id: int
    sequence: int
    ride_home_confirmed: bool
    # The patient confirmed they will come (an SMS reply C or YES).
    confirmed: bool
    # Present only for the roles that may read why a session was held.
    hold_reason: str


class WindowDetails(TypedDict):
    session_id: int


class AppointmentDetails(TypedDict):
    window_id: int
    confirmed: bool


class ClosureDetails(TypedDict):
    reason: str


Details = SessionDetails | WindowDetails | AppointmentDetails | ClosureDetails


@dataclass(frozen=True, slots=True)
class Event:
    """One thing on the calendar, as one viewer may see it.

    ``start`` and ``end`` are aware and on the clinic's wall clock; an all-day event (a closure)
    runs from local midnight to local midnight (23 or 25 hours on the days the clocks change).
    ``title`` is the neutral title of the kind, followed for staff by the patient's initials.
    ``details`` depend on the kind (see the TypedDicts above); None when the viewer may not see
    them (a session's details for a therapist).
    """

    kind: str
    id: int
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    title: str
    status: str
    revision: int
    chair: Party | None = None
    clinician: Party | None = None
    therapist: Party | None = None
    patient: Party | None = None
    details: Details | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


@dataclass(frozen=True, slots=True)
class CalendarQuery:
    """What a face asks for: an aware, bounded range and the filters (None: no filter).

    A filter keeps the events that carry the filtered attribute: chair and clinician, sessions;
    therapist, appointments; patient, sessions, windows and appointments; ``staff_ids``, what
    those staff members are booked for (sessions they give, appointments they hold). Closures
    concern everyone and stay unless ``types`` leaves them out. Cancelled items are left out
    unless ``include_cancelled``.
    """

    start: dt.datetime
    end: dt.datetime
    types: frozenset[str] = frozenset(EVENT_TYPES)
    chair_ids: frozenset[int] | None = None
    clinician_ids: frozenset[int] | None = None
    therapist_ids: frozenset[int] | None = None
    patient_ids: frozenset[int] | None = None
    staff_ids: frozenset[int] | None = None
    include_cancelled: bool = False
