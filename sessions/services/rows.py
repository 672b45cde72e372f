"""The rows every session service starts from: locked in one order, created with their window.

Every service that changes a session locks its course first, then the session, so two of them
never wait on each other in opposite orders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clinic.models import Chair, StaffMember
from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import InvalidInput, NotFound
from ketaminecare.rules import Rule
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.scheduling import window_bounds
from sessions.selectors import clinic_zone


def session_locked(session_id: int) -> TreatmentSession:
    """The session, with its course locked first (the order every service takes the two locks)."""
    course_id = TreatmentSession.objects.filter(pk=session_id).values_list("course_id", flat=True).first()
    if course_id is None:
        raise NotFound("No such session.", field="session", rule=Rule.EXISTS)
    Course.objects.select_for_update().get(pk=course_id)
    return TreatmentSession.objects.select_for_update().select_related("course__protocol").get(pk=session_id)


def course_locked(course_id: int) -> Course:
    """The course, locked, or NotFound."""
    course = Course.objects.select_for_update().filter(pk=course_id).first()
    if course is None:
        raise NotFound("No such course.", field="course", rule=Rule.EXISTS)
    return course


def resources_require(chair_id: int, clinician_id: int) -> None:
    """Refuse a chair or a clinician that does not exist or no longer works."""
    if not Chair.objects.filter(pk=chair_id, is_active=True).exists():
        raise InvalidInput("No such active chair.", field="chair", rule=Rule.EXISTS)
    if not StaffMember.objects.filter(pk=clinician_id, is_active=True, role="clinician").exists():
        raise InvalidInput("No such active clinician.", field="clinician", rule=Rule.EXISTS)


def session_create(
    *,
    course: Course,
    sequence: int,
    phase: str,
    starts_at: dt.datetime,
    chair_id: int,
    clinician_id: int,
    protocol: TreatmentProtocol,
) -> TreatmentSession:
    """Write one session of ``course`` and its integration window (the caller checked the rules)."""
    # Elapsed time: a timedelta added to a zoned wall-clock datetime is off by an hour across DST.
    ends_at = starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=protocol.session_minutes)
    session = TreatmentSession.objects.create(
        course=course,
        patient_id=course.patient_id,
        sequence=sequence,
        phase=phase,
        chair_id=chair_id,
        clinician_id=clinician_id,
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=starts_at.astimezone(clinic_zone()).date(),
    )
    opens_at, closes_at = window_bounds(ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours)
    IntegrationWindow.objects.create(
        session=session, patient_id=course.patient_id, opens_at=opens_at, closes_at=closes_at
    )
    return session


def user_or_none(actor: Any) -> Any:
    """The signed-in user behind ``actor``, or None (a system change, an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None
