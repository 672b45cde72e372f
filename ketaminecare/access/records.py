"""Which rows of each kind of record a role sees: all of them, none, or only the rows it owns.

A scope is ``ALL``, ``NONE`` or the relation path from the record to the login that owns it
(``"patient__user"``: a patient's own rows; ``"therapist__user"``: a therapist's own
appointments). A person holding several roles sees the union of what each role sees. The API's
querysets and the admin's filter by ``scope_q`` (the calendar by its own rows in ``events.py``),
so a row outside a person's scope answers 404 on every face, never 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from ketaminecare.access import labels as L
from ketaminecare.roles import Role, user_roles

ALL = "all"
NONE = "none"

FD, CL, TH, AD, PT = Role.FRONT_DESK, Role.CLINICIAN, Role.THERAPIST, Role.ADMINISTRATOR, Role.PATIENT


def _row(front_desk: str, clinician: str, therapist: str, administrator: str, patient: str) -> dict[str, str]:
    return {FD: front_desk, CL: clinician, TH: therapist, AD: administrator, PT: patient}


# fmt: off
SCOPES: dict[str, dict[str, str]] = {
    #                          front desk clinician      therapist          administrator patient
    L.PATIENT:            _row(ALL,       ALL,           NONE,              ALL,          "user"),
    L.SCREENING:          _row(ALL,       ALL,           NONE,              ALL,          NONE),
    L.PROTOCOL:           _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.COURSE:             _row(ALL,       ALL,           NONE,              ALL,          "patient__user"),
    L.RESCHEDULE_REQUEST: _row(ALL,       ALL,           NONE,              ALL,          "patient__user"),
    L.CALENDAR_FEED:      _row(ALL,       "staff__user", "staff__user",     ALL,          "patient__user"),
    L.CHAIR:              _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.CLINIC_HOURS:       _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.CLOSURE_DAY:        _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.STAFF_MEMBER:       _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.WORKING_HOURS:      _row(ALL,       ALL,           ALL,               ALL,          NONE),
    L.TIME_OFF:           _row(ALL,       ALL,           ALL,               ALL,          NONE),
    # Infusions are not the therapists' business: dose and clinical notes live there.
    L.SESSION:            _row(ALL,       ALL,           NONE,              ALL,          "patient__user"),
    # Therapists book inside any open window, so they see them all; appointments: their own.
    L.WINDOW:             _row(ALL,       ALL,           ALL,               ALL,          "patient__user"),
    L.APPOINTMENT:        _row(ALL,       ALL,           "therapist__user", ALL,          "patient__user"),
    L.RULE_OVERRIDE:      _row(NONE,      ALL,           NONE,              ALL,          NONE),
    # Outcome measures are clinical: the clinicians and administrators, and each patient their own.
    # Not the front desk (an item-9 answer is a clinical fact, as a dose or a screening's findings
    # are), nor therapists (who see no patient's clinical record anywhere in the policy).
    L.MEASURE:            _row(NONE,      ALL,           NONE,              ALL,          "patient__user"),
    # An alert is for the clinic's clinical staff to act on; the patient's answer says it was raised.
    L.MEASURE_ALERT:      _row(NONE,      ALL,           NONE,              ALL,          NONE),
    L.REMINDER_RULE:      _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.REMINDER:           _row(ALL,       ALL,           NONE,              ALL,          NONE),
    # Patients' SMS replies are the front desk's inbox (a patient's own words: not the therapists').
    L.INBOUND_MESSAGE:    _row(ALL,       NONE,          NONE,              ALL,          NONE),
    L.API_TOKEN:          _row("user",    "user",        "user",            ALL,          "user"),
    L.ACCESS_ATTEMPT:     _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.ACCESS_LOG:         _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.ACCESS_FAILURE_LOG: _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.AUDIT_EVENT:        _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.USER:               _row(NONE,      NONE,          NONE,              ALL,          NONE),
    L.GROUP:              _row(NONE,      NONE,          NONE,              ALL,          NONE),
}
# fmt: on

NOTHING = Q(pk__in=[])


def scope_for_roles(roles: set[str], label: str) -> list[str]:
    """The scopes ``roles`` hold on ``label`` records (``ALL`` alone when any of them sees all)."""
    row = SCOPES[label]
    scopes = {row[role] for role in roles if role in row} - {NONE}
    return [ALL] if ALL in scopes else sorted(scopes)


def scope_q(user: Any, label: str) -> Q:
    """The filter that keeps the ``label`` rows ``user`` may see (nothing when signed out).

    A label the table does not name raises KeyError: a new kind of record is closed until
    someone gives it a row.
    """
    scopes = scope_for_roles(user_roles(user), label)
    if scopes == [ALL]:
        return Q()
    if not scopes:
        return NOTHING
    query = Q(**{scopes[0]: user})
    for path in scopes[1:]:
        query |= Q(**{path: user})
    return query


def sees_all(user: Any, label: str) -> bool:
    """Whether ``user`` sees every ``label`` row (no filter needed)."""
    return scope_for_roles(user_roles(user), label) == [ALL]
