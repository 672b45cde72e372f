"""A session's and a course's life: check in, complete, no-show, hold, cancel.

The changes that take a session or a course off the calendar send ``session_changed`` or
``course_ended`` inside their transaction (sessions.signals): the reminder outbox follows them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from courses.models import Course
from ketaminecare.errors import InvalidInput, InvalidTransition
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone
from sessions.services.common import now_or
from sessions.services.minimum import course_minimum_mark
from sessions.services.rows import course_locked, session_locked

Status = TreatmentSession.Status

# Which statuses each action may start from.
ALLOWED_FROM = {
    "check_in": {Status.SCHEDULED},
    "complete": {Status.CHECKED_IN},
    "no_show": {Status.SCHEDULED},
    "hold": {Status.SCHEDULED, Status.CHECKED_IN},
    "cancel": {Status.SCHEDULED},
}

MSG_TRANSITION = "A session that is {status} cannot be {verb}."
VERBS = {
    "check_in": "checked in",
    "complete": "completed",
    "no_show": "marked a no-show",
    "hold": "held",
    "cancel": "cancelled",
}
MSG_TOO_EARLY = "A session can be checked in on its own day only."
MSG_NO_SHOW_EARLY = "A session can be marked a no-show only after it was due to start."


def _transition(session: TreatmentSession, action: str) -> None:
    if session.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            MSG_TRANSITION.format(status=session.get_status_display().lower(), verb=VERBS[action]),
            field="status",
            rule=Rule.transition(action, session.status),
            details={"status": session.status, "allowed_from": sorted(ALLOWED_FROM[action])},
        )


def window_cancel(window: IntegrationWindow, *, now: dt.datetime, reason: str) -> list[IntegrationAppointment]:
    """Take a window off the calendar and cancel the appointments booked in it."""
    if window.cancelled_at is not None:
        return []
    window.cancelled_at = now
    window.revision += 1
    window.save(update_fields=["cancelled_at", "revision"])
    booked = list(window.appointments.select_for_update().filter(status=IntegrationAppointment.Status.BOOKED))
    for appointment in booked:
        appointment.status = IntegrationAppointment.Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancel_reason = reason
        appointment.revision += 1
        appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "revision"])
    return booked


def _cancel_window_of(session: TreatmentSession, *, now: dt.datetime, reason: str) -> list[IntegrationAppointment]:
    """Cancel the session's window; the appointments that went with it."""
    window = IntegrationWindow.objects.select_for_update().filter(session=session).first()
    if window is None:
        return []
    return window_cancel(window, now=now, reason=reason)


def _session_changed(
    session: TreatmentSession, *, cancelled: list[IntegrationAppointment], now: dt.datetime, actor: Any
) -> None:
    signals.session_changed.send(
        sender=TreatmentSession,
        session_id=session.pk,
        moved_appointment_ids=[],
        cancelled_appointment_ids=[a.pk for a in cancelled],
        now=now,
        actor=actor,
    )


def session_check_in(
    *, session_id: int, ride_home_confirmed: bool | None = None, now: dt.datetime | None = None
) -> TreatmentSession:
    """The patient arrived. Starts the course's induction at its first check-in."""
    now = now_or(now)
    with transaction.atomic():
        session = session_locked(session_id)
        _transition(session, "check_in")
        if now.astimezone(clinic_zone()).date() != session.local_date:
            raise InvalidTransition(MSG_TOO_EARLY, field="status", rule=Rule.CHECK_IN_SAME_DAY)
        session.status = Status.CHECKED_IN
        session.checked_in_at = now
        if ride_home_confirmed is not None:
            session.ride_home_confirmed = ride_home_confirmed
        session.save(update_fields=["status", "checked_in_at", "ride_home_confirmed", "updated_at"])
        course = session.course
        if course.status == Course.Status.PLANNED:
            course.status = Course.Status.INDUCTION
            course.save(update_fields=["status"])
    return session


def session_complete(
    *,
    session_id: int,
    dose_mg: Decimal | None = None,
    clinical_notes: str = "",
    now: dt.datetime | None = None,
) -> TreatmentSession:
    """The session was given and the patient discharged."""
    now = now_or(now)
    if dose_mg is not None and dose_mg <= 0:
        raise InvalidInput("A dose is a positive number of milligrams.", field="dose_mg", rule=Rule.POSITIVE)
    with transaction.atomic():
        session = session_locked(session_id)
        _transition(session, "complete")
        session.status = Status.COMPLETED
        session.completed_at = now
        session.dose_mg = dose_mg
        session.clinical_notes = clinical_notes
        session.save(update_fields=["status", "completed_at", "dose_mg", "clinical_notes", "updated_at"])
    return session


def session_no_show(*, session_id: int, actor: Any = None, now: dt.datetime | None = None) -> TreatmentSession:
    """The patient did not come. Their window goes: there is nothing to integrate."""
    now = now_or(now)
    with transaction.atomic():
        session = session_locked(session_id)
        _transition(session, "no_show")
        if now < session.starts_at:
            raise InvalidTransition(MSG_NO_SHOW_EARLY, field="status", rule=Rule.NO_SHOW_AFTER_START)
        session.status = Status.NO_SHOW
        session.save(update_fields=["status", "updated_at"])
        cancelled = _cancel_window_of(session, now=now, reason="The session was a no-show.")
        course_minimum_mark(session.course, now=now)
        _session_changed(session, cancelled=cancelled, now=now, actor=actor)
    return session


def session_hold(
    *, session_id: int, reason: str, actor: Any = None, now: dt.datetime | None = None
) -> TreatmentSession:
    """Not dosed today (for example blood pressure above the protocol's limit), with the reason."""
    now = now_or(now)
    if not reason or not reason.strip():
        raise InvalidInput("A hold needs a reason.", field="reason", rule=Rule.HOLD_REASON_REQUIRED)
    with transaction.atomic():
        session = session_locked(session_id)
        _transition(session, "hold")
        session.status = Status.HELD
        session.hold_reason = reason.strip()
        session.save(update_fields=["status", "hold_reason", "updated_at"])
        cancelled = _cancel_window_of(session, now=now, reason="The session was held.")
        course_minimum_mark(session.course, now=now)
        _session_changed(session, cancelled=cancelled, now=now, actor=actor)
    return session


def session_cancel(
    *, session_id: int, reason: str = "", actor: Any = None, now: dt.datetime | None = None
) -> TreatmentSession:
    """Cancel one scheduled session; its window and the appointments in it go with it.

    A course left with fewer live induction sessions than its protocol's minimum is marked
    (``Course.induction_incomplete_at``); ``sessions.selectors.induction_shortfall`` says by how much.
    """
    now = now_or(now)
    with transaction.atomic():
        session = session_locked(session_id)
        _transition(session, "cancel")
        session.status = Status.CANCELLED
        session.cancelled_at = now
        session.revision += 1
        session.save(update_fields=["status", "cancelled_at", "revision", "updated_at"])
        cancelled = _cancel_window_of(session, now=now, reason=reason or "The session was cancelled.")
        course_minimum_mark(session.course, now=now)
        # Its reminders go in the same transaction: a worker sending one finishes first or sees it.
        _session_changed(session, cancelled=cancelled, now=now, actor=actor)
    return session


def session_ride_home_confirm(*, session_id: int, confirmed: bool = True) -> TreatmentSession:
    with transaction.atomic():
        session = session_locked(session_id)
        if session.status not in (Status.SCHEDULED, Status.CHECKED_IN):
            raise InvalidTransition("The session is over.", field="status", rule=Rule.SESSION_OPEN)
        session.ride_home_confirmed = confirmed
        session.save(update_fields=["ride_home_confirmed", "updated_at"])
    return session


def course_cancel(
    *,
    course_id: int,
    reason: str,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Course:
    """Cancel a course and every session of it still scheduled (with their windows)."""
    now = now_or(now)
    if not reason or not reason.strip():
        raise InvalidInput("A cancellation needs a reason.", field="reason", rule=Rule.CANCEL_REASON_REQUIRED)
    with transaction.atomic():
        course = course_locked(course_id)
        if course.status not in Course.ACTIVE_STATUSES:
            raise InvalidTransition(
                f"A {course.get_status_display().lower()} course cannot be cancelled.",
                field="status",
                rule=Rule.transition("cancel", course.status),
            )
        cancelled: list[IntegrationAppointment] = []
        for session in course.sessions.select_for_update().filter(status=Status.SCHEDULED):
            session.status = Status.CANCELLED
            session.cancelled_at = now
            session.revision += 1
            session.save(update_fields=["status", "cancelled_at", "revision", "updated_at"])
            cancelled += _cancel_window_of(session, now=now, reason="The course was cancelled.")
        course.status = Course.Status.CANCELLED
        course.cancelled_at = now
        course.cancel_reason = reason.strip()
        course.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        signals.course_ended.send(
            sender=Course,
            course=course,
            cancelled_appointment_ids=[a.pk for a in cancelled],
            now=now,
            actor=actor,
        )
    return course
