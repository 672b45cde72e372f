"""Change notices: the messages that tell people the plan changed, as rows of the same outbox.

A patient is told when their visits are booked (one notice for a whole course or series: the next
visit's time), when a session or a follow-up appointment moves (the new time) or is cancelled; a
therapist is told when someone else moves or cancels their appointment; the front desk is told
when a patient asks to move a session (those two in reminders.services.staff_notices). Each
function runs in the transaction of the change (the receivers of the sessions signals call it), so
a refused change writes no notice.

Never stale, exactly once:

- **One live notice per family, subject, recipient and channel** (a database constraint too).
  A change cancels the pending (or claimed, not yet taken) notice of an earlier change and
  writes one with the final state: a move then another move sends one notice with the final
  time; a move then a cancel sends the cancel. The row is replaced rather than updated in place:
  the row's id is the provider's idempotency key, and a new text deserves a new key.
- **Nothing about what the patient was never told.** A pending booking notice absorbs the changes
  that follow it: a move rewrites it with the new time, a cancel withdraws it (booked then
  cancelled before anything went: nothing at all). Decided per channel, since an SMS may have
  gone while the email waits for the end of quiet hours.
- **A notice that went (sending, sent) is never touched**: the worker's take (claimed to sending)
  and this replacement lock the same row, so each change and each send are in one order; the
  next change gets a notice of its own.
- **The time is the row's** (``anchor_at``, with ``subject_revision``): written with the final
  state, and re-checked at send time against the subject (reminders.services.checks), so a row
  that a later change should have replaced is cancelled rather than sent.

Patients get notices on every channel they allow, released like reminders after their quiet
hours (never past a short while before the visit); staff get theirs by email at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from clinic.models import StaffMember
from courses.models import Course
from patients.models import Patient
from reminders.models import (
    APPOINTMENT_NOTICE_KINDS,
    COURSE_NOTICE_KINDS,
    SESSION_NOTICE_KINDS,
    Channel,
    Reminder,
    ReminderKind,
)
from reminders.services.notice_rows import REASON_REPLACED, live_notices, replace_notices
from reminders.services.outbox import cancel_rows
from reminders.services.plan import patient_release_at
from reminders.services.staff_notices import therapist_notice
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.selectors import next_visits

Kind = ReminderKind

REASON_NEVER_TOLD = "Booked and cancelled before the booking notice went: there is nothing to tell."
REASON_COURSE = "The course was cancelled: one notice for the whole course tells it."


def _patient_channels(patient: Patient) -> list[str]:
    return [channel for channel in Channel.values if patient.channel_allowed(channel)]


def _patient_notice(
    *,
    kind: str,
    channel: str,
    patient: Patient,
    subject: dict[str, Any],
    anchor: dt.datetime,
    revision: int,
    now: dt.datetime,
) -> Reminder:
    return Reminder(
        **subject,
        kind=kind,
        channel=channel,
        patient=patient,
        anchor_at=anchor,
        subject_revision=revision,
        planned_at=now,
        due_at=patient_release_at(patient, now, anchor),
    )


def _course_booked_rows(course: Course, channels: Iterable[str], *, now: dt.datetime) -> list[Reminder]:
    """A booking notice naming the course's next visit, on each of ``channels`` (none if none is ahead).

    The next visit of the course, not the first of this booking: a maintenance series may be
    booked while induction visits remain, and "your next visit" stays true whichever it is, and
    is what the send-time check can confirm from the course alone."""
    # The same question the send-time check asks (reminders.services.notice_checks).
    visit = next_visits([course.pk], now=now).get(course.pk)
    if visit is None:
        return []
    return [
        _patient_notice(
            kind=Kind.COURSE_BOOKED,
            channel=channel,
            patient=course.patient,
            subject={"course": course},
            anchor=visit,
            revision=0,
            now=now,
        )
        for channel in channels
    ]


def notices_course_booked(course: Course, *, now: dt.datetime) -> None:
    """Visits were added to a course (its induction, or a maintenance series): one notice, not one per
    session, naming the next visit; it replaces a booking notice still waiting."""
    live = live_notices(COURSE_NOTICE_KINDS, course=course, patient=course.patient)
    replace_notices(
        cancelled=list(live.values()),
        reason=REASON_REPLACED,
        new=_course_booked_rows(course, _patient_channels(course.patient), now=now),
        now=now,
    )


def _appointments(ids: Iterable[int]) -> list[IntegrationAppointment]:
    return list(
        IntegrationAppointment.objects.filter(pk__in=list(ids)).select_related("patient", "therapist").order_by("pk")
    )


def notices_session_changed(
    session_id: int,
    *,
    moved_appointment_ids: Sequence[int],
    cancelled_appointment_ids: Sequence[int],
    actor: Any,
    now: dt.datetime,
) -> None:
    """A session moved or was cancelled, held or missed: the session's notice (``_session_notice``),
    and one for each appointment of its window that moved with it or was cancelled, so the patient
    and the therapist learn which of the two happened to it."""
    session = TreatmentSession.objects.select_related("patient", "course__patient").get(pk=session_id)
    _session_notice(session, now=now)
    for appointment in _appointments([*moved_appointment_ids, *cancelled_appointment_ids]):
        _appointment_notices(appointment, actor=actor, now=now)


def _session_notice(session: TreatmentSession, *, now: dt.datetime) -> None:
    """A session moved (still scheduled) or was cancelled: its patient is told, unless the booking
    notice has not gone yet on a channel, in which case that notice is rewritten to the new state.
    A held or no-show session is not notified (the patient is, or was due, at the clinic)."""
    if session.status == TreatmentSession.Status.SCHEDULED:
        kind = Kind.SESSION_MOVED
    elif session.status == TreatmentSession.Status.CANCELLED:
        kind = Kind.SESSION_CANCELLED
    else:
        return
    patient, course = session.patient, session.course
    live = live_notices(SESSION_NOTICE_KINDS, session=session, patient=patient)
    booked = live_notices((Kind.COURSE_BOOKED,), course=course, patient=patient)
    channels = _patient_channels(patient)
    new = _course_booked_rows(course, [c for c in channels if c in booked], now=now)
    new += [
        _patient_notice(
            kind=kind,
            channel=channel,
            patient=patient,
            subject={"session": session},
            anchor=session.starts_at,
            revision=session.revision,
            now=now,
        )
        for channel in channels
        if channel not in booked
    ]
    replace_notices(cancelled=[*live.values(), *booked.values()], reason=REASON_REPLACED, new=new, now=now)


def _appointment_change(appointment: IntegrationAppointment) -> str | None:
    """What happened to the appointment, from its state: booked (never moved), moved, cancelled."""
    if appointment.status == IntegrationAppointment.Status.CANCELLED:
        return Kind.APPOINTMENT_CANCELLED
    if appointment.status != IntegrationAppointment.Status.BOOKED:
        return None
    return Kind.APPOINTMENT_BOOKED if appointment.revision == 0 else Kind.APPOINTMENT_MOVED


def _patient_appointment_notices(appointment: IntegrationAppointment, change: str, *, now: dt.datetime) -> None:
    patient = appointment.patient
    live = live_notices(APPOINTMENT_NOTICE_KINDS, appointment=appointment, patient=patient)
    new, never_told = [], []
    for channel in _patient_channels(patient):
        was_booked = channel in live and live[channel].kind == Kind.APPOINTMENT_BOOKED
        if change == Kind.APPOINTMENT_CANCELLED and was_booked:
            never_told.append(live.pop(channel))
            continue
        kind = Kind.APPOINTMENT_BOOKED if was_booked else change
        new.append(
            _patient_notice(
                kind=kind,
                channel=channel,
                patient=patient,
                subject={"appointment": appointment},
                anchor=appointment.starts_at,
                revision=appointment.revision,
                now=now,
            )
        )
    cancel_rows(never_told, now=now, reason=REASON_NEVER_TOLD)
    replace_notices(cancelled=list(live.values()), reason=REASON_REPLACED, new=new, now=now)


def notices_appointment_changed(
    appointment_id: int, *, actor: Any, now: dt.datetime, previous_therapist_id: int | None = None
) -> None:
    """An appointment was booked, moved or cancelled by itself (not with its session). A move to
    another therapist also tells the one it was taken from."""
    (appointment,) = _appointments([appointment_id])
    _appointment_notices(appointment, actor=actor, now=now)
    if previous_therapist_id is not None and previous_therapist_id != appointment.therapist_id:
        previous = StaffMember.objects.select_related("user").get(pk=previous_therapist_id)
        therapist_notice(appointment, Kind.APPOINTMENT_MOVED, actor=actor, now=now, therapist=previous)


def _appointment_notices(appointment: IntegrationAppointment, *, actor: Any, now: dt.datetime) -> None:
    """The patient is told of a booking, a move or a cancellation; the therapist of a move or a
    cancellation that someone else made."""
    change = _appointment_change(appointment)
    if change is None:
        return
    _patient_appointment_notices(appointment, change, now=now)
    therapist_notice(appointment, change, actor=actor, now=now)


def notices_course_ended(
    course: Course, *, cancelled_appointment_ids: Sequence[int], actor: Any, now: dt.datetime
) -> None:
    """A course was cancelled: one notice for all its remaining visits (none if the patient was
    never told of them, or none was ahead), in place of the pending notices about single ones;
    the therapists of the appointments it cancelled are told as for any cancellation."""
    patient = course.patient
    if course.status != Course.Status.CANCELLED:
        return
    live = live_notices(COURSE_NOTICE_KINDS, course=course, patient=patient)
    singles = Reminder.objects.select_for_update(of=("self",)).filter(
        patient=patient, status__in=Reminder.LIVE_STATUSES
    )
    singles_rows = [
        *singles.filter(kind__in=list(SESSION_NOTICE_KINDS), session__course=course),
        *singles.filter(kind__in=list(APPOINTMENT_NOTICE_KINDS), appointment__window__session__course=course),
    ]
    first = (
        course.sessions.filter(status=TreatmentSession.Status.CANCELLED, cancelled_at=now, starts_at__gt=now)
        .order_by("starts_at")
        .first()
    )
    new, never_told = [], []
    for channel in _patient_channels(patient):
        if channel in live and live[channel].kind == Kind.COURSE_BOOKED:
            never_told.append(live.pop(channel))
            continue
        if first is None:
            continue
        new.append(
            _patient_notice(
                kind=Kind.COURSE_CANCELLED,
                channel=channel,
                patient=patient,
                subject={"course": course},
                anchor=first.starts_at,
                revision=0,
                now=now,
            )
        )
    cancel_rows(singles_rows, now=now, reason=REASON_COURSE)
    cancel_rows(never_told, now=now, reason=REASON_NEVER_TOLD)
    replace_notices(cancelled=list(live.values()), reason=REASON_REPLACED, new=new, now=now)
    for appointment in _appointments(cancelled_appointment_ids):
        therapist_notice(appointment, Kind.APPOINTMENT_CANCELLED, actor=actor, now=now)
