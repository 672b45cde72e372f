"""Who may call each operation of the API, and which kind of record each resource reads.

An operation is ``"<resource>.<action>"``: the resource a view names (``policy_resource``) and
the viewset action or, for a plain view, the HTTP method. ``may`` answers from ``OPERATIONS``; an
operation the table does not name is refused, so a new endpoint is closed until someone opens it
here. Which rows the allowed roles then reach is the records' scope (``records.scope_q``) of the
resource's record: a row outside it answers 404.
"""

from __future__ import annotations

from typing import Any

from ketaminecare.access import labels as L
from ketaminecare.roles import Role, user_roles

# Not roles: anyone at all (signed in or not), and anyone signed in whatever their roles.
ANYONE = "anyone"
SIGNED_IN = "signed_in"

FD, CL, TH, AD, PT = Role.FRONT_DESK, Role.CLINICIAN, Role.THERAPIST, Role.ADMINISTRATOR, Role.PATIENT
CLINIC_WIDE = frozenset({FD, CL, AD})
STAFF = frozenset({FD, CL, TH, AD})
CLINICAL = frozenset({CL, AD})
CONFIGURERS = frozenset({FD, AD})
EVERYONE = frozenset({*STAFF, PT})
OPEN = frozenset({ANYONE})
SELF = frozenset({SIGNED_IN})

_READ_ALL: dict[str, frozenset[str]] = {"list": CLINIC_WIDE | {PT}, "retrieve": CLINIC_WIDE | {PT}}
_CONFIG: dict[str, frozenset[str]] = {
    "list": STAFF,
    "retrieve": STAFF,
    "create": CONFIGURERS,
    "partial_update": CONFIGURERS,
}

# fmt: off
OPERATIONS: dict[str, dict[str, frozenset[str]]] = {
    "root":                {"get": OPEN},
    "auth.token":          {"post": OPEN},
    "auth.logout":         {"post": SELF},
    "auth.me":             {"get": SELF},
    "auth.tokens":         {"get": SELF},
    "auth.token_revoke":   {"post": SELF},
    "patients":            {**_READ_ALL, "create": CLINIC_WIDE, "partial_update": CLINIC_WIDE},
    "preferences":         {"get": frozenset({PT}), "patch": frozenset({PT})},
    # The front desk reads a screening's outcome only (records' private fields).
    "screenings":          {"list": CLINIC_WIDE, "retrieve": CLINIC_WIDE, "create": frozenset({CL})},
    "protocols":           {"list": STAFF, "retrieve": STAFF},
    "courses":             {**_READ_ALL, "create": CLINIC_WIDE, "propose": CLINIC_WIDE,
                            "cancel": CLINIC_WIDE, "maintenance": CLINIC_WIDE},
    "reschedule_requests": {**_READ_ALL, "handle": CLINIC_WIDE},
    "chairs":              _CONFIG,
    "staff":               {"list": STAFF, "retrieve": STAFF,
                            "bookings_to_move": CLINIC_WIDE, "all_bookings_to_move": CLINIC_WIDE},
    # Staff time: the front desk and administrators write, in the API and the admin alike.
    "working_hours":       {**_CONFIG, "destroy": CONFIGURERS},
    "time_off":            {**_CONFIG, "destroy": CONFIGURERS},
    "sessions":            {**_READ_ALL, "reschedule": CLINIC_WIDE, "cancel": CLINIC_WIDE,
                            "check_in": CLINIC_WIDE, "no_show": CLINIC_WIDE,
                            "complete": CLINICAL, "hold": CLINICAL, "make_up": CLINIC_WIDE,
                            "ride_home": CLINIC_WIDE | {PT}, "request_reschedule": frozenset({PT})},
    "availability":        {"get": CLINIC_WIDE},
    # Outcome measures: a patient answers and reads their own; clinicians and administrators enter
    # paper forms and read them all. The front desk and therapists have none (records.SCOPES).
    "measures":            {"list": CLINICAL | {PT}, "retrieve": CLINICAL | {PT}, "create": CLINICAL | {PT}},
    # A course's change on them from its baseline, read through the course's scope (a patient: their own).
    "course_progress":     {"get": CLINICAL | {PT}},
    # Acknowledging an alert says a clinician has taken it on: clinicians only.
    "measure_alerts":      {"list": CLINICAL, "retrieve": CLINICAL, "acknowledge": frozenset({CL})},
    # The front desk's follow-up: reminders failed or not delivered (?follow_up=true), and the
    # patients' SMS replies no keyword answered (the inbox).
    "reminders":           {"list": CONFIGURERS},
    "sms_inbox":           {"list": CONFIGURERS, "retrieve": CONFIGURERS, "handle": CONFIGURERS},
    # The SMS provider's webhooks: open to anyone, authenticated by the provider's signature
    # (reminders.inbound); closed (404) while SMS_WEBHOOK_SECRET is unset.
    "sms.inbound":         {"post": OPEN},
    "sms.status":          {"post": OPEN},
    "windows":             {"list": EVERYONE, "retrieve": EVERYONE, "free_slots": STAFF,
                            "book": CLINIC_WIDE | {TH}},
    "appointments":        {"list": EVERYONE, "retrieve": EVERYONE, "move": CLINIC_WIDE | {TH},
                            "cancel": CLINIC_WIDE | {TH}, "record": frozenset({TH, AD})},
    # Every role has a calendar and a feed of its own, scoped by events.CALENDAR_EVENTS;
    # whoever holds a feed's secret URL reads it.
    "calendar":            {"get": SELF},
    "feeds":               {"get": SELF, "post": SELF},
    "feeds.rotate":        {"post": SELF},
    "feeds.revoke":        {"post": SELF},
    "feeds.ics":           {"get": OPEN},
    # Pages outside the API and the admin (PAGES below names their routes). /health/ shows
    # counts and states only; /metrics/ answers the scraper holding METRICS_TOKEN; the API's
    # documentation is for the signed in unless the operator makes it public (API_DOCS_PUBLIC).
    "home":                {"get": SELF},
    "health":              {"get": OPEN},
    "metrics":             {"get": OPEN},
    "sign_in":             {"get": OPEN, "post": OPEN},
    "docs":                {"get": SELF},
    # The web app's pages (web/), one resource per person's workspace; administrators keep the
    # admin. What each page then shows is the records' scope and private fields, as in the API.
    "web.desk":            {"get": frozenset({FD}), "post": frozenset({FD})},
    "web.board":           {"get": frozenset({TH}), "post": frozenset({TH})},
    "web.chairs":          {"get": frozenset({CL}), "post": frozenset({CL})},
    "web.me":              {"get": frozenset({PT}), "post": frozenset({PT})},
}
# fmt: on

# The record each resource reads, and for the caller's own things the path to the caller that
# holds for every role (a token is one's own, whoever one is), instead of the record's scope.
RESOURCE_RECORDS: dict[str, tuple[str, str | None]] = {
    "auth.token_revoke": (L.API_TOKEN, "user"),
    "patients": (L.PATIENT, None),
    "screenings": (L.SCREENING, None),
    "protocols": (L.PROTOCOL, None),
    "courses": (L.COURSE, None),
    "reschedule_requests": (L.RESCHEDULE_REQUEST, None),
    "chairs": (L.CHAIR, None),
    "staff": (L.STAFF_MEMBER, None),
    "working_hours": (L.WORKING_HOURS, None),
    "time_off": (L.TIME_OFF, None),
    "sessions": (L.SESSION, None),
    "measures": (L.MEASURE, None),
    "course_progress": (L.COURSE, None),
    "measure_alerts": (L.MEASURE_ALERT, None),
    "windows": (L.WINDOW, None),
    "reminders": (L.REMINDER, None),
    "sms_inbox": (L.INBOUND_MESSAGE, None),
    "appointments": (L.APPOINTMENT, None),
    "feeds.rotate": (L.CALENDAR_FEED, None),
    "feeds.revoke": (L.CALENDAR_FEED, None),
}

# Views that name no resource of their own, by URL name: the API root, whose links anyone reads.
ROUTE_RESOURCES: dict[str, str] = {
    "api-root": "root",
}

# Routes outside the API and the admin, by URL name: the resource each is in the table as. A page
# added without an entry here fails tests/ketaminecare/test_pages_policy.py.
PAGES: dict[str, str] = {
    "web:sign-in": "sign_in",
    "web:sign-out": "sign_in",
    "web:home": "home",
    "web:desk": "web.desk",
    "web:desk-today": "web.desk",
    "web:desk-patients": "web.desk",
    "web:desk-sick-call": "web.desk",
    "web:board": "web.board",
    "web:board-window": "web.board",
    "web:board-appointment": "web.board",
    "web:board-move": "web.board",
    "web:board-cancel": "web.board",
    "web:chairs": "web.chairs",
    "web:chairs-check-in": "web.chairs",
    "web:chairs-complete": "web.chairs",
    "web:chairs-hold": "web.chairs",
    "web:me": "web.me",
    "web:me-ride-home": "web.me",
    "web:me-change": "web.me",
    "web:me-preferences": "web.me",
    "web:me-calendar": "web.me",
    "health": "health",
    "metrics": "metrics",
    "rest_framework:login": "sign_in",
    "rest_framework:logout": "sign_in",
    "schema": "docs",
    "api-docs": "docs",
}


def roles_of(resource: str, action: str) -> frozenset[str] | None:
    """The roles (or ``ANYONE``/``SIGNED_IN``) the table lets do ``action``; None: not named."""
    return OPERATIONS.get(resource, {}).get(action)


def may(user: Any, operation: str) -> bool:
    """Whether ``user`` may call ``operation`` (``"resource.action"``); unnamed ones are refused."""
    resource, _, action = operation.rpartition(".")
    allowed = roles_of(resource, action)
    if allowed is None:
        return False
    if ANYONE in allowed:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return SIGNED_IN in allowed or bool(user_roles(user) & allowed)


def may_any(user: Any, resource: str) -> bool:
    """Whether ``user`` may call at least one action of ``resource`` (what OPTIONS answers)."""
    return any(may(user, f"{resource}.{action}") for action in OPERATIONS.get(resource, {}))
