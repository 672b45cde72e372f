"""The calendar: every kind of event between two instants, as plain dicts, in a fixed number of queries.

One indexed range query per kind of row (sessions, integration windows, integration appointments,
closure days), whatever the number of events: ``values_list`` rows are turned straight into the
dicts the API serialises, without model instances or nested serializers. What each role may see
is decided here, so that no view can show more than its caller may:

- front desk, clinicians and administrators see everything, with the sessions' details (course,
  sequence, ride home; the hold reason only for the roles ketaminecare.access.fields shows it to);
- therapists see sessions' times, places and people, windows and appointments, never a session's
  details (a hold reason is clinical);
- a patient sees only their own sessions, windows and appointments, and the clinic's closures.

Titles never name a drug, a diagnosis or a treatment: someone else may read the screen.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from clinic.models import ClosureDay
from ketaminecare.access.fields import SESSION as SESSION_RECORD
from ketaminecare.access.fields import hidden_for_roles
from ketaminecare.roles import Role, user_roles
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone

SESSION = "session"
MAINTENANCE_SESSION = "maintenance_session"
INTEGRATION_WINDOW = "integration_window"
INTEGRATION_APPOINTMENT = "integration_appointment"
CLOSURE = "closure"
EVENT_TYPES = (SESSION, MAINTENANCE_SESSION, INTEGRATION_WINDOW, INTEGRATION_APPOINTMENT, CLOSURE)

# The longest range one request may ask for: a quarter, whatever the months.
MAX_RANGE = dt.timedelta(days=93)
# The largest id a filter may name (a bigint); larger ones would fail in the database.
MAX_ID = 2**63 - 1

TITLES = {
    SESSION: "Clinic appointment",
    MAINTENANCE_SESSION: "Maintenance visit",
    INTEGRATION_WINDOW: "Follow-up window",
    INTEGRATION_APPOINTMENT: "Follow-up appointment",
    CLOSURE: "Clinic closed",
}

# Where each kind of object lives in the API, relative to its root (/api/v1/): <path><id>/.
LINK_PATHS = {
    SESSION: "sessions/",
    MAINTENANCE_SESSION: "sessions/",
    INTEGRATION_WINDOW: "integration-windows/",
    INTEGRATION_APPOINTMENT: "integration-appointments/",
    CLOSURE: "closures/",
}

WINDOW_UNBOOKED = "unbooked"
WINDOW_BOOKED = "booked"
WINDOW_CANCELLED = "cancelled"
CLOSURE_STATUS = "closed"


class Visibility(enum.Enum):
    FULL = "full"
    THERAPIST = "therapist"
    PATIENT = "patient"


@dataclass(frozen=True)
class Viewer:
    """Who reads the calendar: what they may see, and for a patient, who they are."""

    visibility: Visibility
    patient_id: int | None = None
    # A session's hold reason is clinical: only the roles the access policy shows it to see it.
    sees_hold_reason: bool = False

    @property
    def is_staff(self) -> bool:
        return self.visibility is not Visibility.PATIENT


@dataclass(frozen=True)
class CalendarQuery:
    """A validated request: an aware, bounded range and the filters (None: no filter)."""

    start: dt.datetime
    end: dt.datetime
    types: frozenset[str] = frozenset(EVENT_TYPES)
    chair_ids: frozenset[int] | None = None
    clinician_ids: frozenset[int] | None = None
    therapist_ids: frozenset[int] | None = None
    patient_ids: frozenset[int] | None = None
    include_cancelled: bool = False


def calendar_viewer(user: Any) -> Viewer | None:
    """The widest view a user's roles give (one query, two for a patient); None when none."""
    roles = user_roles(user)
    if roles & {Role.FRONT_DESK, Role.CLINICIAN, Role.ADMINISTRATOR}:
        return Viewer(Visibility.FULL, sees_hold_reason="hold_reason" not in hidden_for_roles(roles, SESSION_RECORD))
    if Role.THERAPIST in roles:
        return Viewer(Visibility.THERAPIST)
    if Role.PATIENT in roles:
        patient_id = Patient.objects.filter(user=user).values_list("id", flat=True).first()
        if patient_id is not None:
            return Viewer(Visibility.PATIENT, patient_id=patient_id)
    return None


class _Cache:
    """One dict per chair, staff member and patient per answer: rows repeat the same people."""

    def __init__(self, *, initials: bool) -> None:
        self.initials = initials
        self.chairs: dict[int, dict[str, Any]] = {}
        self.staff: dict[int, dict[str, Any]] = {}
        # A patient's dict and the title suffix staff see (their initials; nothing for a patient).
        self.patients: dict[int, tuple[dict[str, Any], str]] = {}

    def patient(self, pk: int, first: str, last: str) -> tuple[dict[str, Any], str]:
        entry = self.patients[pk] = (
            {"id": pk, "name": f"{first} {last}"},
            f" · {first[:1]}.{last[:1]}.".upper() if self.initials else "",
        )
        return entry

    def chair(self, pk: int, name: str) -> dict[str, Any]:
        person = self.chairs[pk] = {"id": pk, "name": name}
        return person

    def member(self, pk: int, name: str) -> dict[str, Any]:
        person = self.staff[pk] = {"id": pk, "name": name}
        return person


def _scoped(query: CalendarQuery, viewer: Viewer) -> CalendarQuery | None:
    """The query narrowed to what the viewer may see; None when that is nothing."""
    if viewer.visibility is not Visibility.PATIENT:
        return query
    own = viewer.patient_id
    if own is None or (query.patient_ids is not None and own not in query.patient_ids):
        # Another patient's id answers nothing: never their rows, not even the clinic's closures.
        return None
    return CalendarQuery(
        start=query.start,
        end=query.end,
        types=query.types,
        chair_ids=query.chair_ids,
        clinician_ids=query.clinician_ids,
        therapist_ids=query.therapist_ids,
        patient_ids=frozenset({own}),
        include_cancelled=False,
    )


def calendar_events(*, query: CalendarQuery, viewer: Viewer, link_prefix: str = "/api/v1/") -> list[dict[str, Any]]:
    """Every event overlapping [start, end) that the viewer may see, by start time.

    At most four queries (fewer when ``types`` leaves kinds out), none of them per event. Times
    are aware datetimes on the clinic's wall clock (they serialise with their offset); closures
    are all-day events from local midnight to local midnight. Filters keep the events that carry
    the filtered attribute (chair and clinician: sessions; therapist: appointments; patient:
    sessions, windows and appointments); closures concern everyone and stay unless ``types``
    leaves them out. Cancelled items are left out unless ``include_cancelled``.
    """
    scoped = _scoped(query, viewer)
    if scoped is None:
        return []
    zone = clinic_zone()
    rows: list[tuple[dt.datetime, dict[str, Any]]] = []
    people = _Cache(initials=viewer.visibility is not Visibility.PATIENT)
    rows += _sessions(scoped, viewer, zone, link_prefix, people)
    rows += _windows(scoped, viewer, zone, link_prefix, people)
    rows += _appointments(scoped, viewer, zone, link_prefix, people)
    rows += _closures(scoped, zone, link_prefix)
    # Each part comes ordered by its UTC start; a stable sort on the UTC instant merges them
    # (wall-clock times would misorder the repeated hour when daylight saving ends).
    rows.sort(key=_utc_start)
    return [event for _, event in rows]


def _utc_start(row: tuple[dt.datetime, dict[str, Any]]) -> dt.datetime:
    return row[0]


def _excluded_by_filters(query: CalendarQuery, carried: Iterable[str]) -> bool:
    """Whether a filter asks for an attribute this kind of event does not carry."""
    filters = {
        "chair": query.chair_ids,
        "clinician": query.clinician_ids,
        "therapist": query.therapist_ids,
        "patient": query.patient_ids,
    }
    carried = set(carried)
    return any(ids is not None and name not in carried for name, ids in filters.items())


def _sessions(
    query: CalendarQuery,
    viewer: Viewer,
    zone: ZoneInfo,
    prefix: str,
    people: _Cache,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    phases = []
    if SESSION in query.types:
        phases.append(TreatmentSession.Phase.INDUCTION)
    if MAINTENANCE_SESSION in query.types:
        phases.append(TreatmentSession.Phase.MAINTENANCE)
    if not phases or _excluded_by_filters(query, ("chair", "clinician", "patient")):
        return []
    qs = TreatmentSession.objects.filter(starts_at__lt=query.end, ends_at__gt=query.start)
    if len(phases) == 1:
        qs = qs.filter(phase=phases[0])
    if not query.include_cancelled:
        qs = qs.exclude(status=TreatmentSession.Status.CANCELLED)
    if query.chair_ids is not None:
        qs = qs.filter(chair_id__in=query.chair_ids)
    if query.clinician_ids is not None:
        qs = qs.filter(clinician_id__in=query.clinician_ids)
    if query.patient_ids is not None:
        qs = qs.filter(patient_id__in=query.patient_ids)
    full = viewer.visibility is Visibility.FULL
    own = viewer.visibility is Visibility.PATIENT
    fields = [
        "id",
        "phase",
        "status",
        "starts_at",
        "ends_at",
        "revision",
        "chair_id",
        "chair__name",
        "clinician_id",
        "clinician__display_name",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
    ]
    if full or own:
        fields += ["course_id", "sequence", "ride_home_confirmed", "hold_reason"]
    chairs, staff, patients = people.chairs, people.staff, people.patients
    maintenance = TreatmentSession.Phase.MAINTENANCE
    session_url, session_title = prefix + LINK_PATHS[SESSION], TITLES[SESSION]
    maintenance_title = TITLES[MAINTENANCE_SESSION]
    out = []
    for row in qs.order_by("starts_at", "id").values_list(*fields):
        pk, phase, status, starts_at, ends_at, revision, chair_id, chair_name, clinician_id, clinician_name = row[:10]
        patient_id = row[10]
        patient, suffix = patients.get(patient_id) or people.patient(patient_id, row[11], row[12])
        is_maintenance = phase == maintenance
        details: dict[str, Any] | None = None
        if full or own:
            details = {"course_id": row[13], "sequence": row[14], "ride_home_confirmed": row[15]}
            if viewer.sees_hold_reason:
                details["hold_reason"] = row[16]
        event = {
            "type": MAINTENANCE_SESSION if is_maintenance else SESSION,
            "id": pk,
            "start": starts_at.astimezone(zone),
            "end": ends_at.astimezone(zone),
            "all_day": False,
            "title": (maintenance_title if is_maintenance else session_title) + suffix,
            "status": status,
            "revision": revision,
            "chair": chairs.get(chair_id) or people.chair(chair_id, chair_name),
            "clinician": staff.get(clinician_id) or people.member(clinician_id, clinician_name),
            "therapist": None,
            "patient": patient,
            "url": f"{session_url}{pk}/",
            "details": details,
        }
        out.append((starts_at, event))
    return out


def _windows(
    query: CalendarQuery,
    viewer: Viewer,
    zone: ZoneInfo,
    prefix: str,
    people: _Cache,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    if INTEGRATION_WINDOW not in query.types or _excluded_by_filters(query, ("patient",)):
        return []
    qs = IntegrationWindow.objects.filter(opens_at__lt=query.end, closes_at__gt=query.start)
    if not query.include_cancelled:
        qs = qs.filter(cancelled_at__isnull=True)
    if query.patient_ids is not None:
        qs = qs.filter(patient_id__in=query.patient_ids)
    booked = IntegrationAppointment.objects.filter(
        window_id=OuterRef("pk"), status__in=IntegrationAppointment.OCCUPYING_STATUSES
    )
    qs = qs.annotate(booked=Exists(booked))
    patients = people.patients
    title = TITLES[INTEGRATION_WINDOW]
    window_url = prefix + LINK_PATHS[INTEGRATION_WINDOW]
    out = []
    for pk, session_id, opens_at, closes_at, cancelled_at, revision, patient_id, first, last, is_booked in qs.order_by(
        "opens_at", "id"
    ).values_list(
        "id",
        "session_id",
        "opens_at",
        "closes_at",
        "cancelled_at",
        "revision",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "booked",
    ):
        patient, suffix = patients.get(patient_id) or people.patient(patient_id, first, last)
        status = WINDOW_BOOKED if is_booked else WINDOW_UNBOOKED
        if cancelled_at is not None:
            status = WINDOW_CANCELLED
        event = {
            "type": INTEGRATION_WINDOW,
            "id": pk,
            "start": opens_at.astimezone(zone),
            "end": closes_at.astimezone(zone),
            "all_day": False,
            "title": title + suffix,
            "status": status,
            "revision": revision,
            "chair": None,
            "clinician": None,
            "therapist": None,
            "patient": patient,
            "url": f"{window_url}{pk}/",
            "details": {"session_id": session_id},
        }
        out.append((opens_at, event))
    return out


def _appointments(
    query: CalendarQuery,
    viewer: Viewer,
    zone: ZoneInfo,
    prefix: str,
    people: _Cache,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    if INTEGRATION_APPOINTMENT not in query.types or _excluded_by_filters(query, ("therapist", "patient")):
        return []
    qs = IntegrationAppointment.objects.filter(starts_at__lt=query.end, ends_at__gt=query.start)
    if not query.include_cancelled:
        qs = qs.exclude(status=IntegrationAppointment.Status.CANCELLED)
    if query.therapist_ids is not None:
        qs = qs.filter(therapist_id__in=query.therapist_ids)
    if query.patient_ids is not None:
        qs = qs.filter(patient_id__in=query.patient_ids)
    staff, patients = people.staff, people.patients
    title = TITLES[INTEGRATION_APPOINTMENT]
    appointment_url = prefix + LINK_PATHS[INTEGRATION_APPOINTMENT]
    out = []
    for (
        pk,
        window_id,
        status,
        starts_at,
        ends_at,
        revision,
        therapist_id,
        therapist,
        patient_id,
        first,
        last,
    ) in qs.order_by("starts_at", "id").values_list(
        "id",
        "window_id",
        "status",
        "starts_at",
        "ends_at",
        "revision",
        "therapist_id",
        "therapist__display_name",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
    ):
        patient, suffix = patients.get(patient_id) or people.patient(patient_id, first, last)
        event = {
            "type": INTEGRATION_APPOINTMENT,
            "id": pk,
            "start": starts_at.astimezone(zone),
            "end": ends_at.astimezone(zone),
            "all_day": False,
            "title": title + suffix,
            "status": status,
            "revision": revision,
            "chair": None,
            "clinician": None,
            "therapist": staff.get(therapist_id) or people.member(therapist_id, therapist),
            "patient": patient,
            "url": f"{appointment_url}{pk}/",
            "details": {"window_id": window_id},
        }
        out.append((starts_at, event))
    return out


def _closures(query: CalendarQuery, zone: ZoneInfo, prefix: str) -> list[tuple[dt.datetime, dict[str, Any]]]:
    if CLOSURE not in query.types:
        return []
    first = query.start.astimezone(zone).date()
    last = (query.end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    out = []
    title = TITLES[CLOSURE]
    for pk, day, reason in (
        ClosureDay.objects.filter(date__gte=first, date__lte=last).order_by("date").values_list("id", "date", "reason")
    ):
        # Local midnight to local midnight: 23 or 25 hours on the days the clocks change.
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        if not (start < query.end and end > query.start):
            continue
        event = {
            "type": CLOSURE,
            "id": pk,
            "start": start,
            "end": end,
            "all_day": True,
            "title": title,
            "status": CLOSURE_STATUS,
            "revision": 0,
            "chair": None,
            "clinician": None,
            "therapist": None,
            "patient": None,
            "url": f"{prefix}{LINK_PATHS[CLOSURE]}{pk}/",
            "details": {"reason": reason},
        }
        out.append((start.astimezone(dt.UTC), event))
    return out
