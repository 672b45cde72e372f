"""The rows every session service starts from: locked in one order, created with their window.

Every service that changes a session locks its course first, then the session, so two of them
never wait on each other in opposite orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NewSession:
    """One session to write: its time, chair and clinician (the caller checked the rules)."""

    starts_at: dt.datetime
    chair_id: int
    clinician_id: int
    make_up_for_id: int | None = None


def sessions_create(
    *, course: Course, first_sequence: int, phase: str, sessions: Sequence[NewSession], protocol: TreatmentProtocol
) -> list[TreatmentSession]:
    """Write sessions of ``course`` and their integration windows: two statements however many.

    Numbered from ``first_sequence`` in the order given. The exclusion and unique constraints
    refuse the whole statement when one of them was taken meanwhile (the caller's transaction
    turns that into a BookingConflict).
    """
    zone = clinic_zone()
    rows = []
    for sequence, new in enumerate(sessions, start=first_sequence):
        # Elapsed time: a timedelta added to a zoned wall-clock datetime is off by an hour across DST.
        ends_at = new.starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=protocol.session_minutes)
        rows.append(
            TreatmentSession(
                course=course,
                patient_id=course.patient_id,
                sequence=sequence,
                phase=phase,
                chair_id=new.chair_id,
                clinician_id=new.clinician_id,
                starts_at=new.starts_at,
                ends_at=ends_at,
                local_date=new.starts_at.astimezone(zone).date(),
                make_up_for_id=new.make_up_for_id,
            )
        )
    created = TreatmentSession.objects.bulk_create(rows)
    windows = []
    for session in created:
        opens_at, closes_at = window_bounds(
            session.ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours
        )
        windows.append(
            IntegrationWindow(session=session, patient_id=course.patient_id, opens_at=opens_at, closes_at=closes_at)
        )
    IntegrationWindow.objects.bulk_create(windows)
    return created


def user_or_none(actor: Any) -> Any:
    """The signed-in user behind ``actor``, or None (a system change, an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None
