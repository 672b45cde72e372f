"""Whether a claimed reminder still calls for sending, now, on its channel, and what it says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reminders.messages import (
    FALLBACK_PREPARATION,
    clean_free_text,
    local_date_text,
    local_time_text,
    patient_ref,
)
from reminders.models import APPOINTMENT_KINDS, NOTICE_KINDS, SESSION_KINDS, Reminder, ReminderKind
from reminders.services.notice_checks import notice_stale_reason, staff_notice_context
from reminders.services.outbox import maintenance_due_anchor
from reminders.services.plan import patient_release_at
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone

Status = Reminder.Status


class Verdict:
    SEND = "send"
    CANCEL = "cancel"
    SKIP = "skip"
    DEFER = "defer"


@dataclass
class BatchFacts:
    """What the checks need about a whole batch, read in a fixed number of queries."""

    booked_windows: set[int]
    course_last_starts: dict[int, dt.datetime]
    # For the notices: each course's next scheduled visit, and the sessions with an open request.
    next_visits: dict[int, dt.datetime] = field(default_factory=dict)
    open_request_sessions: set[int] = field(default_factory=set)


def verdict(row: Reminder, *, now: dt.datetime, facts: BatchFacts) -> tuple[str, str]:
    """Whether the row's subject still calls for it, now, on its channel."""
    stale = _stale_reason(row, now=now, facts=facts)
    if stale:
        return Verdict.CANCEL, stale
    if not channel_allowed(row):
        return Verdict.SKIP, "The recipient opted out of this channel or has no address for it."
    if row.due_at > now:
        return Verdict.DEFER, "Moved to a later time."
    if row.patient is not None:
        release = patient_release_at(row.patient, now, row.anchor_at)
        if release > now:
            row.due_at = release
            return Verdict.DEFER, "Quiet hours: waits for their end."
    return Verdict.SEND, ""


def _stale_reason(row: Reminder, *, now: dt.datetime, facts: BatchFacts) -> str:
    """Why the row's subject no longer calls for it ("" while it still does)."""
    if row.kind in NOTICE_KINDS:
        return notice_stale_reason(
            row, now=now, next_visits=facts.next_visits, open_request_sessions=facts.open_request_sessions
        )
    if row.kind in SESSION_KINDS:
        return _session_stale(row.session, row=row, now=now)
    if row.kind in APPOINTMENT_KINDS:
        return _appointment_stale(row.appointment, row=row, now=now)
    if row.kind == ReminderKind.MAINTENANCE_DUE:
        course = row.course
        if course is None or maintenance_due_anchor(course, facts.course_last_starts.get(course.pk)) != row.anchor_at:
            return "The course changed: maintenance falls due at another time, or not at all."
        return ""
    if row.kind == ReminderKind.MEASURE_ALERT:
        alert = row.alert
        if alert is None or alert.acknowledged_at is not None:
            return "The alert was acknowledged."
        return ""
    return _window_stale(row.window, row=row, now=now, facts=facts)


def _session_stale(session: TreatmentSession | None, *, row: Reminder, now: dt.datetime) -> str:
    if session is None or session.status != TreatmentSession.Status.SCHEDULED:
        return "The session is no longer scheduled."
    if session.revision != row.subject_revision or session.starts_at != row.anchor_at:
        return "The session moved."
    if session.starts_at <= now:
        return "The session has started."
    return ""


def _appointment_stale(appointment: IntegrationAppointment | None, *, row: Reminder, now: dt.datetime) -> str:
    if appointment is None or appointment.status != IntegrationAppointment.Status.BOOKED:
        return "The appointment is no longer booked."
    if appointment.window.cancelled_at is not None:
        return "The window was cancelled."
    if appointment.revision != row.subject_revision or appointment.starts_at != row.anchor_at:
        return "The appointment moved."
    if appointment.starts_at <= now:
        return "The appointment has started."
    return ""


def _window_stale(window: IntegrationWindow | None, *, row: Reminder, now: dt.datetime, facts: BatchFacts) -> str:
    if window is None or window.cancelled_at is not None:
        return "The window was cancelled."
    if window.revision != row.subject_revision:
        return "The window moved."
    if window.closes_at <= now:
        return "The window has closed."
    if window.pk in facts.booked_windows:
        return "The window has an appointment now."
    return ""


def channel_allowed(row: Reminder) -> bool:
    if row.patient is not None:
        return row.patient.channel_allowed(row.channel)
    staff = row.staff
    return staff is not None and staff.is_active and bool(recipient_address(row))


def recipient_address(row: Reminder) -> str:
    if row.patient is not None:
        return row.patient.phone if row.channel == "sms" else row.patient.email
    assert row.staff is not None
    return row.staff.phone if row.channel == "sms" else row.staff.user.email


def message_context(row: Reminder) -> dict[str, object]:
    if row.patient is not None:
        zone = row.patient.zone
        context: dict[str, object] = {
            "when": local_time_text(row.anchor_at, zone),
            "time": local_time_text(row.anchor_at, zone).split(" at ", 1)[1],
        }
        if row.session is not None:
            chair = row.session.chair
            context["place"] = clean_free_text(chair.location) or clean_free_text(chair.name) or "the front desk"
            context["preparation"] = (
                clean_free_text(row.session.course.protocol.preparation_instructions, FALLBACK_PREPARATION)
                or FALLBACK_PREPARATION
            )
        if row.kind == ReminderKind.MAINTENANCE_DUE:
            context["due_date"] = local_date_text(row.anchor_at, zone)
        return context
    if row.kind in NOTICE_KINDS:
        return staff_notice_context(row)
    zone = clinic_zone()
    if row.alert is not None:
        return {"patient_ref": patient_ref(row.alert.patient), "raised": local_time_text(row.alert.raised_at, zone)}
    window = row.window
    assert window is not None
    return {
        "patient_ref": patient_ref(window.patient),
        "opens": local_time_text(window.opens_at, zone),
        "closes": local_time_text(window.closes_at, zone),
    }
