"""Which calendar events each role sees, and whose: the rows the calendar reader asks.

For every kind of event, each role's scope: ``ALL`` the clinic's, ``OWN`` only the events that
are theirs (a patient's own sessions, windows and appointments; a therapist's own integration
appointments), or ``NONE``. Private fields of the underlying record (a session's hold reason)
follow ``fields.PRIVATE_FIELDS`` as on every other face. The iCalendar feeds render the same
events and obey the same rows.
"""

from __future__ import annotations

from typing import Any

from ketaminecare.access import labels as L
from ketaminecare.access.records import ALL, NONE
from ketaminecare.roles import Role, user_roles

OWN = "own"

SESSION = "session"
MAINTENANCE_SESSION = "maintenance_session"
INTEGRATION_WINDOW = "integration_window"
INTEGRATION_APPOINTMENT = "integration_appointment"
CLOSURE = "closure"

FD, CL, TH, AD, PT = Role.FRONT_DESK, Role.CLINICIAN, Role.THERAPIST, Role.ADMINISTRATOR, Role.PATIENT


def _row(front_desk: str, clinician: str, therapist: str, administrator: str, patient: str) -> dict[str, str]:
    return {FD: front_desk, CL: clinician, TH: therapist, AD: administrator, PT: patient}


# fmt: off
CALENDAR_EVENTS: dict[str, dict[str, str]] = {
    #                             front desk clinician therapist administrator patient
    # Therapists have no treatment sessions, on the calendar as in sessions/.
    SESSION:                 _row(ALL,       ALL,      NONE,     ALL,          OWN),
    MAINTENANCE_SESSION:     _row(ALL,       ALL,      NONE,     ALL,          OWN),
    # Windows are where therapists book, so they see them all, as in windows/.
    INTEGRATION_WINDOW:      _row(ALL,       ALL,      ALL,      ALL,          OWN),
    INTEGRATION_APPOINTMENT: _row(ALL,       ALL,      OWN,      ALL,          OWN),
    CLOSURE:                 _row(ALL,       ALL,      ALL,      ALL,          ALL),
}
# fmt: on

# The record behind each kind of event, and the path from it to the login that owns it.
EVENT_RECORDS: dict[str, str] = {
    SESSION: L.SESSION,
    MAINTENANCE_SESSION: L.SESSION,
    INTEGRATION_WINDOW: L.WINDOW,
    INTEGRATION_APPOINTMENT: L.APPOINTMENT,
    CLOSURE: L.CLOSURE_DAY,
}
OWNER_PATHS: dict[str, dict[str, str]] = {
    SESSION: {PT: "patient__user"},
    MAINTENANCE_SESSION: {PT: "patient__user"},
    INTEGRATION_WINDOW: {PT: "patient__user"},
    INTEGRATION_APPOINTMENT: {PT: "patient__user", TH: "therapist__user"},
}


def scopes_for_roles(roles: set[str]) -> dict[str, str]:
    """For each event kind someone holding ``roles`` sees at all: ``ALL`` or ``OWN`` (kinds seen
    by none left out). Several roles widen: ``ALL`` from any role wins over ``OWN``."""
    answer: dict[str, str] = {}
    for kind, row in CALENDAR_EVENTS.items():
        scopes = {row[role] for role in roles if role in row} - {NONE}
        if scopes:
            answer[kind] = ALL if ALL in scopes else OWN
    return answer


def owner_paths_for_roles(roles: set[str], kind: str) -> list[str]:
    """For an ``OWN`` kind: the relation paths from the event's record to the owner that make it
    theirs, for someone holding ``roles``."""
    return sorted({path for role, path in OWNER_PATHS.get(kind, {}).items() if role in roles})


def calendar_scopes(user: Any) -> dict[str, str]:
    """For each event kind ``user`` sees at all: ``ALL`` or ``OWN`` (kinds seen by none left out).

    Several roles widen: ``ALL`` from any role wins over ``OWN``.
    """
    return scopes_for_roles(user_roles(user))


def calendar_owner_paths(user: Any, kind: str) -> list[str]:
    """For an ``OWN`` kind: the relation paths from the event's record to ``user`` that make it
    theirs (filter ``Q(**{path: user})`` for each, joined with OR)."""
    return owner_paths_for_roles(user_roles(user), kind)
