"""The one calendar reader: every kind of event between two instants, in a fixed number of queries.

One indexed range query per kind of row (sessions, integration windows, integration appointments,
closure days), whatever the number of events: ``values_list`` rows become ``Event``s straight
away, without model instances. What the viewer may see is asked of ``calendars.visibility.visible``
before any query runs; the reader builds no address of any face.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from calendars.events import (
    CANCELLED,
    CLOSURE,
    CLOSURE_STATUS,
    INTEGRATION_APPOINTMENT,
    INTEGRATION_WINDOW,
    MAINTENANCE_SESSION,
    SESSION,
    TITLES,
    WINDOW_BOOKED,
    WINDOW_UNBOOKED,
    CalendarQuery,
    Event,
    SessionDetails,
)
from calendars.people import People
from calendars.visibility import Scope, Viewer, visible
from clinic.models import ClosureDay
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone

# An event with the UTC instant it starts at: the order of the answer.
Row = tuple[dt.datetime, Event]

# The columns of each kind, in the order the loops below unpack them.
# fmt: off
SESSION_FIELDS = (
    "id", "phase", "status", "starts_at", "ends_at", "revision", "chair_id", "chair__name",
    "clinician_id", "clinician__display_name", "patient_id", "patient__first_name", "patient__last_name",
)
SESSION_DETAIL_FIELDS = ("course_id", "sequence", "ride_home_confirmed", "confirmed_at")
WINDOW_FIELDS = (
    "id", "session_id", "opens_at", "closes_at", "cancelled_at", "revision",
    "patient_id", "patient__first_name", "patient__last_name", "booked",
)
APPOINTMENT_FIELDS = (
    "id", "window_id", "status", "starts_at", "ends_at", "revision", "therapist_id", "therapist__display_name",
    "patient_id", "patient__first_name", "patient__last_name", "confirmed_at",
)
# fmt: on


def calendar_read(*, query: CalendarQuery, viewer: Viewer) -> list[Event]:
    """Every event overlapping [start, end) that the viewer may see, by start time.

    At most four queries (fewer when ``types`` leaves kinds out), none of them per event. Times
    are on the clinic's wall clock; closures are all-day events from local midnight to local
    midnight. See ``CalendarQuery`` for the filters and ``visible`` for what each viewer sees.
    """
    scope = visible(query=query, viewer=viewer)
    if scope is None:
        return []
    zone = clinic_zone()
    people = People(initials=scope.initials)
    rows = [
        *_sessions(scope, zone, people),
        *_windows(scope, zone, people),
        *_appointments(scope, zone, people),
        *_closures(scope.query, zone),
    ]
    # Each part comes ordered by its UTC start; a stable sort on the UTC instant merges them
    # (wall-clock times would misorder the repeated hour when daylight saving ends).
    rows.sort(key=_utc_start)
    return [event for _, event in rows]


def _utc_start(row: Row) -> dt.datetime:
    return row[0]


def _excluded_by_filters(query: CalendarQuery, carried: Iterable[str]) -> bool:
    """Whether a filter asks for an attribute this kind of event does not carry."""
    filters = {
        "chair": query.chair_ids,
        "clinician": query.clinician_ids,
        "therapist": query.therapist_ids,
        "patient": query.patient_ids,
        "staff": query.staff_ids,
    }
    carried = set(carried)
    return any(ids is not None and name not in carried for name, ids in filters.items())


def _filtered(qs: QuerySet[Any], **filters: frozenset[int] | None) -> QuerySet[Any]:
    """``qs`` kept to the rows whose ``<field>`` is in each given set (None: no filter)."""
    for field, ids in filters.items():
        if ids is not None:
            qs = qs.filter(**{f"{field}__in": ids})
    return qs


def _session_phases(scope: Scope) -> Q | None:
    """The sessions of the kinds asked for, each kept to the viewer's own rows where the policy
    says so; None when no session kind is asked for."""
    phases = {SESSION: TreatmentSession.Phase.INDUCTION, MAINTENANCE_SESSION: TreatmentSession.Phase.MAINTENANCE}
    asked = [kind for kind in phases if kind in scope.query.types]
    if not asked:
        return None
    if len(asked) == len(phases) and not scope.owned.keys() & set(phases):
        return Q()
    return reduce(operator.or_, (Q(phase=phases[kind]) & scope.owned.get(kind, Q()) for kind in asked))


def _session_rows(scope: Scope) -> QuerySet[Any] | None:
    query = scope.query
    phases = _session_phases(scope)
    if phases is None or _excluded_by_filters(query, ("chair", "clinician", "patient", "staff")):
        return None
    qs = TreatmentSession.objects.filter(phases, starts_at__lt=query.end, ends_at__gt=query.start)
    if not query.include_cancelled:
        qs = qs.exclude(status=TreatmentSession.Status.CANCELLED)
    qs = _filtered(qs, chair_id=query.chair_ids, clinician_id=query.clinician_ids, patient_id=query.patient_ids)
    qs = _filtered(qs, clinician_id=query.staff_ids)
    fields = [*SESSION_FIELDS]
    if scope.details:
        fields += SESSION_DETAIL_FIELDS
        if scope.hold_reason:
            # Read only for the roles that may see it.
            fields.append("hold_reason")
    return qs.order_by("starts_at", "id").values_list(*fields)


def _sessions(scope: Scope, zone: ZoneInfo, people: People) -> list[Row]:
    rows = _session_rows(scope)
    if rows is None:
        return []
    maintenance = TreatmentSession.Phase.MAINTENANCE
    out = []
    for row in rows:
        pk, phase, status, starts_at, ends_at, revision, chair_id, chair_name, clinician_id, clinician_name = row[:10]
        patient, suffix = people.patient(row[10], row[11], row[12])
        kind = MAINTENANCE_SESSION if phase == maintenance else SESSION
        details: SessionDetails | None = None
        if scope.details:
            details = {
                "course_id": row[13],
                "sequence": row[14],
                "ride_home_confirmed": row[15],
                "confirmed": row[16] is not None,
            }
            if scope.hold_reason:
                details["hold_reason"] = row[17]
        event = Event(
            kind=kind,
            id=pk,
            start=starts_at.astimezone(zone),
            end=ends_at.astimezone(zone),
            all_day=False,
            title=TITLES[kind] + suffix,
            status=status,
            revision=revision,
            chair=people.chair(chair_id, chair_name),
            clinician=people.member(clinician_id, clinician_name),
            patient=patient,
            details=details,
        )
        out.append((starts_at, event))
    return out


def _windows(scope: Scope, zone: ZoneInfo, people: People) -> list[Row]:
    query = scope.query
    if INTEGRATION_WINDOW not in query.types or _excluded_by_filters(query, ("patient",)):
        return []
    qs = IntegrationWindow.objects.filter(
        scope.owned.get(INTEGRATION_WINDOW, Q()), opens_at__lt=query.end, closes_at__gt=query.start
    )
    if not query.include_cancelled:
        qs = qs.filter(cancelled_at__isnull=True)
    qs = _filtered(qs, patient_id=query.patient_ids)
    booked = IntegrationAppointment.objects.filter(
        window_id=OuterRef("pk"), status__in=IntegrationAppointment.OCCUPYING_STATUSES
    )
    qs = qs.annotate(booked=Exists(booked))
    title = TITLES[INTEGRATION_WINDOW]
    out = []
    for pk, session_id, opens_at, closes_at, cancelled_at, revision, patient_id, first, last, is_booked in qs.order_by(
        "opens_at", "id"
    ).values_list(*WINDOW_FIELDS):
        patient, suffix = people.patient(patient_id, first, last)
        status = WINDOW_BOOKED if is_booked else WINDOW_UNBOOKED
        event = Event(
            kind=INTEGRATION_WINDOW,
            id=pk,
            start=opens_at.astimezone(zone),
            end=closes_at.astimezone(zone),
            all_day=False,
            title=title + suffix,
            status=CANCELLED if cancelled_at is not None else status,
            revision=revision,
            patient=patient,
            details={"session_id": session_id},
        )
        out.append((opens_at, event))
    return out


def _appointments(scope: Scope, zone: ZoneInfo, people: People) -> list[Row]:
    query = scope.query
    if INTEGRATION_APPOINTMENT not in query.types or _excluded_by_filters(query, ("therapist", "patient", "staff")):
        return []
    qs = IntegrationAppointment.objects.filter(
        scope.owned.get(INTEGRATION_APPOINTMENT, Q()), starts_at__lt=query.end, ends_at__gt=query.start
    )
    if not query.include_cancelled:
        qs = qs.exclude(status=IntegrationAppointment.Status.CANCELLED)
    qs = _filtered(qs, therapist_id=query.therapist_ids, patient_id=query.patient_ids)
    qs = _filtered(qs, therapist_id=query.staff_ids)
    title = TITLES[INTEGRATION_APPOINTMENT]
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
        confirmed_at,
    ) in qs.order_by("starts_at", "id").values_list(*APPOINTMENT_FIELDS):
        patient, suffix = people.patient(patient_id, first, last)
        event = Event(
            kind=INTEGRATION_APPOINTMENT,
            id=pk,
            start=starts_at.astimezone(zone),
            end=ends_at.astimezone(zone),
            all_day=False,
            title=title + suffix,
            status=status,
            revision=revision,
            therapist=people.member(therapist_id, therapist),
            patient=patient,
            details={"window_id": window_id, "confirmed": confirmed_at is not None},
        )
        out.append((starts_at, event))
    return out


def _closures(query: CalendarQuery, zone: ZoneInfo) -> list[Row]:
    if CLOSURE not in query.types:
        return []
    first = query.start.astimezone(zone).date()
    last = (query.end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    title = TITLES[CLOSURE]
    out = []
    for pk, day, reason in (
        ClosureDay.objects.filter(date__gte=first, date__lte=last).order_by("date").values_list("id", "date", "reason")
    ):
        # Local midnight to local midnight: 23 or 25 hours on the days the clocks change.
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        if not (start < query.end and end > query.start):
            continue
        event = Event(
            kind=CLOSURE,
            id=pk,
            start=start,
            end=end,
            all_day=True,
            title=title,
            status=CLOSURE_STATUS,
            revision=0,
            details={"reason": reason},
        )
        out.append((start.astimezone(dt.UTC), event))
    return out
