"""Rows for the calendar and feed tests, written directly (the booking rules are tested elsewhere)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group
from icalendar import Calendar
from rest_framework.test import APIClient

from clinic.models import StaffMember
from courses.models import Course
from ketaminecare.roles import Role
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.scheduling import window_bounds
from sessions.selectors import clinic_zone
from tests import factories

CALENDAR_URL = "/api/v1/calendar/"
FEEDS = "/api/v1/feeds/"


def course_for(patient: Patient, protocol: Any) -> Course:
    course = Course.objects.filter(patient=patient).first()
    if course is None:
        return factories.CourseFactory(patient=patient, protocol=protocol)
    return course


def session_add(
    *,
    patient: Patient,
    protocol: Any,
    chair: Any,
    clinician: StaffMember,
    starts_at: dt.datetime,
    phase: str = TreatmentSession.Phase.INDUCTION,
) -> TreatmentSession:
    """A scheduled session with its integration window, as the booking service writes them."""
    course = course_for(patient, protocol)
    ends_at = starts_at + dt.timedelta(minutes=protocol.session_minutes)
    session = TreatmentSession.objects.create(
        course=course,
        patient=patient,
        sequence=course.sessions.count() + 1,
        phase=phase,
        chair=chair,
        clinician=clinician,
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=starts_at.astimezone(clinic_zone()).date(),
    )
    opens_at, closes_at = window_bounds(ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours)
    IntegrationWindow.objects.create(session=session, patient=patient, opens_at=opens_at, closes_at=closes_at)
    return session


def appointment_add(session: TreatmentSession, therapist: StaffMember, *, after_opening: int = 1) -> Any:
    """An hour's integration appointment ``after_opening`` hours into the session's window."""
    window = session.integration_window
    starts_at = window.opens_at + dt.timedelta(hours=after_opening)
    return IntegrationAppointment.objects.create(
        window=window,
        patient=session.patient,
        therapist=therapist,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
    )


def bulk_sessions(
    *, count: int, first_day: dt.date, chair: Any, clinician: StaffMember, therapist: StaffMember, protocol: Any
) -> None:
    """``count`` sessions, twelve a day two hours apart, each with its window, every other one
    with an appointment; every fifth a maintenance session. Twelve patients, one session a day each."""
    zone = clinic_zone()
    patients = [factories.PatientFactory() for _ in range(12)]
    courses = [course_for(p, protocol) for p in patients]
    sequence = dict.fromkeys(range(12), 0)
    length = dt.timedelta(minutes=protocol.session_minutes)
    midnight = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    sessions = []
    for index in range(count):
        day, slot = divmod(index, 12)
        starts_at = midnight + dt.timedelta(days=day, hours=2 * slot)
        sequence[slot] += 1
        sessions.append(
            TreatmentSession(
                course=courses[slot],
                patient=patients[slot],
                sequence=sequence[slot],
                phase=TreatmentSession.Phase.MAINTENANCE if index % 5 == 4 else TreatmentSession.Phase.INDUCTION,
                chair=chair,
                clinician=clinician,
                starts_at=starts_at,
                ends_at=starts_at + length,
                local_date=starts_at.astimezone(zone).date(),
            )
        )
    sessions = TreatmentSession.objects.bulk_create(sessions)
    windows = IntegrationWindow.objects.bulk_create(
        IntegrationWindow(
            session=s,
            patient_id=s.patient_id,
            opens_at=s.ends_at + dt.timedelta(hours=24),
            closes_at=s.ends_at + dt.timedelta(hours=48),
        )
        for s in sessions
    )
    IntegrationAppointment.objects.bulk_create(
        IntegrationAppointment(
            window=w,
            patient_id=w.patient_id,
            therapist=therapist,
            starts_at=w.opens_at,
            ends_at=w.opens_at + dt.timedelta(hours=1),
        )
        for index, w in enumerate(windows)
        if index % 2 == 0
    )


def patient_login(patient: Patient) -> Any:
    user: Any = factories.UserFactory()
    user.groups.add(Group.objects.get_or_create(name=Role.PATIENT)[0])
    patient.user = user
    patient.save(update_fields=["user"])
    return user


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def calendar(client: Any, start: dt.datetime, end: dt.datetime, **params: Any) -> dict[str, Any]:
    """The calendar endpoint's answer (asserted 200) for the range and the filters."""
    response = client.get(CALENDAR_URL, {"start": start.isoformat(), "end": end.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def by_type(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in body["events"] if e["type"] == kind]


def issue(client: APIClient, **owner: int) -> dict[str, Any]:
    response = client.post(FEEDS, owner, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def read(url: str) -> tuple[bytes, Calendar]:
    response = APIClient().get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content, Calendar.from_ical(response.content)


def vevents(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}
