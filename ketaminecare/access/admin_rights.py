"""What each staff role may do in the admin, per kind of record: view, add, change, delete.

``roles_ensure`` gives each role's Django group exactly the permissions this table names, so the
admin's own checks answer from it; which rows an admin page lists is the records' scope, and
which fields it shows the private fields. Patients have no admin. The admin agrees with the API:
staff time is written by the front desk and administrators only, in both.
"""

from __future__ import annotations

from typing import Any

from ketaminecare.access import labels as L
from ketaminecare.roles import Role, user_roles

RIGHTS = {"v": "view", "a": "add", "c": "change", "d": "delete"}

FD, CL, TH, AD = Role.FRONT_DESK, Role.CLINICIAN, Role.THERAPIST, Role.ADMINISTRATOR


def _row(front_desk: str, clinician: str, therapist: str, administrator: str) -> dict[str, str]:
    return {FD: front_desk, CL: clinician, TH: therapist, AD: administrator}


# fmt: off
ADMIN_RIGHTS: dict[str, dict[str, str]] = {
    #                          front desk clinician therapist administrator
    L.PATIENT:            _row("vac",     "vac",    "",       "vacd"),
    # A screening is recorded through the service and never edited or deleted afterwards.
    L.SCREENING:          _row("v",       "va",     "",       "va"),
    L.PROTOCOL:           _row("v",       "v",      "",       "vacd"),
    # Courses are booked by the planner: read and cancelled here.
    L.COURSE:             _row("v",       "v",      "",       "vc"),
    L.CHAIR:              _row("v",       "v",      "",       "vacd"),
    L.CLINIC_HOURS:       _row("v",       "v",      "",       "vacd"),
    L.CLOSURE_DAY:        _row("v",       "v",      "",       "vacd"),
    L.STAFF_MEMBER:       _row("v",       "v",      "",       "vacd"),
    L.WORKING_HOURS:      _row("vacd",    "v",      "",       "vacd"),
    L.TIME_OFF:           _row("vacd",    "v",      "",       "vacd"),
    # Sessions, windows and appointments change through the services (actions), never a form.
    L.SESSION:            _row("vc",      "vc",     "",       "vc"),
    L.WINDOW:             _row("v",       "v",      "v",      "v"),
    L.APPOINTMENT:        _row("vc",      "vc",     "vc",     "vc"),
    L.RULE_OVERRIDE:      _row("",        "v",      "",       "v"),
    # A measure is never edited (a wrong one is entered again, through the API); an alert is
    # acknowledged by a clinician (the admin's action, through the service).
    L.MEASURE:            _row("",        "v",      "",       "v"),
    L.MEASURE_ALERT:      _row("",        "vc",     "",       "v"),
    L.REMINDER_RULE:      _row("",        "",       "",       "vacd"),
    # Failed reminders are the front desk's to follow up and send again.
    L.REMINDER:           _row("vc",      "vc",     "",       "vc"),
    # The SMS inbox: read, and marked handled (the admin's action, through the service).
    L.INBOUND_MESSAGE:    _row("vc",      "",       "",       "vc"),
    L.API_TOKEN:          _row("",        "",       "",       "v"),
    L.ACCESS_ATTEMPT:     _row("",        "",       "",       "vd"),
    L.ACCESS_LOG:         _row("",        "",       "",       "v"),
    L.ACCESS_FAILURE_LOG: _row("",        "",       "",       "v"),
    L.AUDIT_EVENT:        _row("",        "",       "",       "v"),
    L.USER:               _row("",        "",       "",       "vacd"),
    L.GROUP:              _row("",        "",       "",       "vacd"),
}
# fmt: on

# Permissions that are not a model's view/add/change/delete: (label, codename) -> roles.
EXTRA_PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    # Setting a course rule aside (with a reason) on a reschedule is a clinical decision.
    (L.RULE_OVERRIDE, "override_course_rules"): frozenset({CL, AD}),
}


def admin_rights_of(roles: set[str], label: str) -> set[str]:
    """The rights ("view", "add", ...) ``roles`` hold on ``label`` records in the admin."""
    row = ADMIN_RIGHTS.get(label, {})
    return {RIGHTS[letter] for role in roles for letter in row.get(role, "")}


def admin_may(user: Any, label: str, right: str) -> bool:
    """Whether ``user`` may ``right`` ("view", "add", "change", "delete") ``label`` in the admin."""
    return right in admin_rights_of(user_roles(user), label)


def role_permissions(role: str) -> list[tuple[str, str]]:
    """The Django permissions of ``role``'s group, as (app_label, codename) pairs."""
    wanted = []
    for label, row in ADMIN_RIGHTS.items():
        app_label, model = label.split(".")
        wanted += [(app_label, f"{RIGHTS[letter]}_{model}") for letter in row.get(role, "")]
    for (label, codename), roles in EXTRA_PERMISSIONS.items():
        if role in roles:
            wanted.append((label.split(".")[0], codename))
    return wanted
