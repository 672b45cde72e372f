"""Whether a claimed change notice still tells the truth, and what a staff notice says.

A notice is written with the final state of its subject and replaced by the next change
(reminders.services.notices), so these checks find nothing to object to in the normal course;
they are the guard that a notice whose subject changed in some other way is cancelled rather than
sent with a stale time: the subject's revision and time must still be the row's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from courses.models import Course
from reminders.messages import local_time_text, patient_ref
from reminders.models import Reminder, ReminderKind
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.selectors import clinic_zone

Kind = ReminderKind
SessionStatus = TreatmentSession.Status
AppointmentStatus = IntegrationAppointment.Status

STALE_CHANGED = "Its subject changed again: a newer notice tells the final state."
STALE_PASSED = "The time it tells of has passed."
STALE_HANDLED = "The request was handled or declined."


def notice_stale_reason(
    row: Reminder, *, now: dt.datetime, next_visits: dict[int, dt.datetime], open_request_sessions: set[int]
) -> str:
    """Why the notice must not go ("" when it still tells the truth)."""
    if row.anchor_at <= now and row.kind != Kind.REQUEST_NEEDS_HANDLING:
        return STALE_PASSED
    if row.kind in (Kind.COURSE_BOOKED, Kind.COURSE_CANCELLED):
        return _course_stale(row, next_visits)
    if row.kind in (Kind.SESSION_MOVED, Kind.SESSION_CANCELLED):
        wanted = SessionStatus.SCHEDULED if row.kind == Kind.SESSION_MOVED else SessionStatus.CANCELLED
        return _stale(row.session, row, lambda s: s.status == wanted and s.starts_at == row.anchor_at)
    if row.kind == Kind.REQUEST_NEEDS_HANDLING:
        return "" if row.session_id in open_request_sessions else STALE_HANDLED
    return _appointment_stale(row)


def _stale(subject: TreatmentSession | IntegrationAppointment | None, row: Reminder, holds: Callable) -> str:
    if subject is None or subject.revision != row.subject_revision or not holds(subject):
        return STALE_CHANGED
    return ""


def _course_stale(row: Reminder, next_visits: dict[int, dt.datetime]) -> str:
    course = row.course
    if course is None:
        return STALE_CHANGED
    if row.kind == Kind.COURSE_CANCELLED:
        return "" if course.status == Course.Status.CANCELLED else STALE_CHANGED
    if course.status not in Course.ACTIVE_STATUSES or next_visits.get(course.pk) != row.anchor_at:
        return STALE_CHANGED
    return ""


def _appointment_stale(row: Reminder) -> str:
    if row.kind == Kind.APPOINTMENT_CANCELLED:
        return _stale(row.appointment, row, lambda a: a.status == AppointmentStatus.CANCELLED)
    if row.kind == Kind.APPOINTMENT_CHANGED_BY_OTHER:
        return _stale(
            row.appointment, row, lambda a: a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)
        )
    return _stale(row.appointment, row, lambda a: a.status == AppointmentStatus.BOOKED and a.starts_at == row.anchor_at)


def staff_notice_context(row: Reminder) -> dict[str, object]:
    """A staff notice names the patient by reference and the time on the clinic's clock."""
    zone = clinic_zone()
    if row.kind == Kind.REQUEST_NEEDS_HANDLING:
        session = row.session
        assert session is not None
        return {"patient_ref": patient_ref(session.patient), "when": local_time_text(session.starts_at, zone)}
    appointment = row.appointment
    assert appointment is not None
    return {
        "patient_ref": patient_ref(appointment.patient),
        "when": local_time_text(appointment.starts_at, zone),
        "cancelled": appointment.status == AppointmentStatus.CANCELLED,
        # A move that gave the appointment to a colleague: the time is no longer the recipient's.
        "reassigned": row.staff_id != appointment.therapist_id,
    }
