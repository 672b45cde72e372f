"""What the outbox does when a course, a session or an appointment changes.

Each function runs inside the transaction of the change (the sessions app sends its signals
there, and ``reminders.apps`` connects these functions to them), so the reminder rows are
written or cancelled atomically with the change that calls for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from courses.models import Course
from reminders.services.outbox import (
    REASON_MOVED,
    cancel_live,
    reminders_plan_appointment,
    reminders_plan_course_due,
    reminders_plan_session,
    reminders_plan_sessions,
)
from reminders.services.plan import PlanLine, protocol_plan, window_closing_minutes
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession


def reminders_course_booked(course: Course, *, now: dt.datetime) -> None:
    """After sessions were added to a course (induction or a maintenance series)."""
    lines = protocol_plan(course.protocol)  # the booking's own course: patient and protocol in hand
    scheduled = list(course.sessions.filter(status=TreatmentSession.Status.SCHEDULED))
    reminders_plan_sessions(scheduled, patient=course.patient, lines=lines, now=now)
    reminders_plan_course_due(course, lines=lines, now=now)


def reminders_session_changed(session_id: int, *, now: dt.datetime) -> None:
    """After a session moved or left the calendar (cancelled, held, no-show).

    Replans its reminders (moved, or cancelled with it), replans or cancels the reminders of the
    appointments in its window, cancels the staff alerts of a window that moved or went, re-opens
    the life of a window moved back into the future, and replans the course's maintenance due.
    """
    session = TreatmentSession.objects.select_related("patient", "course__protocol", "course__patient").get(
        pk=session_id
    )
    course = session.course
    lines = protocol_plan(course.protocol)
    reminders_plan_session(session, lines=lines, now=now)
    window = IntegrationWindow.objects.filter(session=session).first()
    if window is not None:
        cancel_live(now=now, reason=REASON_MOVED, window=window)
        for appointment in window.appointments.select_related("patient", "window__session__course__protocol"):
            reminders_plan_appointment(appointment, now=now)
        _window_life_reset(window, lines=lines, now=now)
    reminders_plan_course_due(course, lines=lines, now=now)


def reminders_course_ended(course: Course, *, now: dt.datetime) -> None:
    """After a course was cancelled or completed: nothing more goes out about it."""
    sessions = TreatmentSession.objects.filter(course=course)
    cancel_live(now=now, session__in=sessions)
    cancel_live(now=now, appointment__window__session__in=sessions)
    cancel_live(now=now, window__session__in=sessions)
    cancel_live(now=now, course=course)


def reminders_appointment_changed(appointment_id: int, *, now: dt.datetime) -> None:
    """After an integration appointment was booked, moved or cancelled."""
    appointment = IntegrationAppointment.objects.select_related("patient", "window__session__course__protocol").get(
        pk=appointment_id
    )
    reminders_plan_appointment(appointment, now=now)


def _window_life_reset(window: IntegrationWindow, *, lines: Sequence[PlanLine], now: dt.datetime) -> None:
    """A window moved back into the future lives its moments again."""
    changed = []
    if window.opened_at is not None and window.opens_at > now:
        window.opened_at = None
        changed.append("opened_at")
    closing = window_closing_minutes(lines)
    if (
        window.closing_alert_at is not None
        and closing is not None
        and window.closes_at - dt.timedelta(minutes=closing) > now
    ):
        window.closing_alert_at = None
        changed.append("closing_alert_at")
    if window.closed_at is not None and window.closes_at > now:
        window.closed_at, window.integration_took_place = None, None
        changed += ["closed_at", "integration_took_place"]
    if changed:
        window.save(update_fields=changed)
