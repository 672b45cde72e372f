"""The reminder outbox: rows written in the same transaction as the change that calls for them.

Booking plans a session's reminders, moving it moves them, cancelling cancels them; the same
for integration appointments and for the course's "maintenance due" reminder. Each function here
runs inside its caller's transaction (it is called by the booking, lifecycle and integration
services, which hold the course, session or window lock) and locks the live rows it may change,
so that a worker sending one of them finishes first: either the message went before the change,
or the change is what the worker sees.

A plan line whose time has already passed when it is planned is not written (a course booked two
days ahead gets no 72-hour reminder); a live row that has not changed is left alone even when it
is due, so that replanning never cancels a reminder about to go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from courses.models import Course, TreatmentProtocol
from patients.models import Patient
from reminders.models import (
    APPOINTMENT_KINDS,
    SESSION_KINDS,
    STAFF_KINDS,
    Channel,
    Reminder,
    ReminderKind,
    ReminderRule,
)
from reminders.times import planned_at, release_at
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone

Status = Reminder.Status

HOUR = 60
DAY = 24 * HOUR


@dataclass(frozen=True)
class PlanLine:
    kind: str
    minutes_before: int
    channels: tuple[str, ...]


# The plan of a protocol that has no ReminderRule of its own (the domain's typical plan).
DEFAULT_REMINDER_PLAN: tuple[PlanLine, ...] = (
    PlanLine(ReminderKind.SESSION_CONFIRM, 72 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.SESSION_PREPARE, 24 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.SESSION_SOON, 2 * HOUR, (Channel.SMS,)),
    PlanLine(ReminderKind.APPOINTMENT_DAY_BEFORE, 24 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.APPOINTMENT_SOON, 2 * HOUR, (Channel.SMS,)),
    PlanLine(ReminderKind.MAINTENANCE_DUE, 5 * DAY, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.WINDOW_OPENED, 0, (Channel.EMAIL,)),
    PlanLine(ReminderKind.WINDOW_CLOSING, 6 * HOUR, (Channel.EMAIL,)),
)

REASON_MOVED = "The subject moved; replaced by a reminder for the new time."
REASON_CANCELLED = "The subject was cancelled."
REASON_PAST = "After the move, its time had already passed."
REASON_NOT_PLANNED = "No longer in the plan."


def protocol_plan(protocol: TreatmentProtocol) -> list[PlanLine]:
    """The protocol's active rules, or the default plan when it has none at all."""
    rules = list(ReminderRule.objects.filter(protocol=protocol))
    if not rules:
        return list(DEFAULT_REMINDER_PLAN)
    return [PlanLine(r.kind, r.minutes_before, tuple(r.channels)) for r in rules if r.is_active and r.channels]


def plans_by_protocol(protocol_ids: Iterable[int]) -> dict[int, list[PlanLine]]:
    """Plans for many protocols in one query (the sweep's window alerts)."""
    ids = set(protocol_ids)
    found: dict[int, list[PlanLine]] = {}
    seen: set[int] = set()
    for rule in ReminderRule.objects.filter(protocol_id__in=ids):
        seen.add(rule.protocol_id)
        if rule.is_active and rule.channels:
            found.setdefault(rule.protocol_id, []).append(
                PlanLine(rule.kind, rule.minutes_before, tuple(rule.channels))
            )
    return {pid: found.get(pid, []) if pid in seen else list(DEFAULT_REMINDER_PLAN) for pid in ids}


def quiet_hours_exemption() -> dt.timedelta:
    return dt.timedelta(minutes=settings.REMINDER_QUIET_HOURS_EXEMPT_MINUTES)


def patient_release_at(patient: Patient, planned: dt.datetime, anchor: dt.datetime) -> dt.datetime:
    return release_at(
        planned=planned,
        anchor=anchor,
        zone=patient.zone,
        quiet_start=patient.quiet_hours_start,
        quiet_end=patient.quiet_hours_end,
        exempt_within=quiet_hours_exemption(),
    )


@dataclass(frozen=True)
class Wanted:
    """A row the plan calls for."""

    kind: str
    channel: str
    anchor_at: dt.datetime
    subject_revision: int
    planned_at: dt.datetime
    due_at: dt.datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.channel)


def _patient_wanted(
    *, patient: Patient, lines: Sequence[PlanLine], kinds: Sequence[str], anchor: dt.datetime, revision: int
) -> list[Wanted]:
    wanted = []
    for line in lines:
        if line.kind not in kinds:
            continue
        planned = planned_at(anchor, line.minutes_before)
        for channel in line.channels:
            if patient.channel_allowed(channel):
                due = patient_release_at(patient, planned, anchor)
                wanted.append(Wanted(line.kind, channel, anchor, revision, planned, due))
    return wanted


def _sync(*, subject: dict[str, object], patient: Patient, wanted: list[Wanted], now: dt.datetime) -> None:
    """Make the live rows of one subject and patient match ``wanted``.

    Locks the live rows first: a worker holding one of them (sending it) finishes before this
    goes on, and the row is then no longer live. A row whose anchor and revision are unchanged is
    kept as it is; a changed one is moved (back to pending, its claim dropped) or, when its new
    time has passed, cancelled; a new one is written only while its time is ahead.
    """
    live = {
        (r.kind, r.channel): r
        for r in Reminder.objects.select_for_update(of=("self",)).filter(
            **subject, patient=patient, status__in=Reminder.LIVE_STATUSES
        )
    }
    done = set(
        Reminder.objects.filter(**subject, patient=patient, status__in=[Status.SENT, Status.FAILED, Status.SKIPPED])
        .values_list("kind", "channel", "anchor_at", "subject_revision")
        .distinct()
    )
    create: list[Reminder] = []
    update: list[Reminder] = []
    for want in wanted:
        row = live.pop(want.key, None)
        if row is not None and row.anchor_at == want.anchor_at and row.subject_revision == want.subject_revision:
            continue
        if (want.kind, want.channel, want.anchor_at, want.subject_revision) in done:
            if row is not None:
                _cancel_row(row, now, REASON_MOVED)
                update.append(row)
            continue
        if want.planned_at <= now:
            if row is not None:
                _cancel_row(row, now, REASON_PAST)
                update.append(row)
            continue
        if row is None:
            create.append(
                Reminder(
                    **subject,
                    patient=patient,
                    kind=want.kind,
                    channel=want.channel,
                    anchor_at=want.anchor_at,
                    subject_revision=want.subject_revision,
                    planned_at=want.planned_at,
                    due_at=want.due_at,
                )
            )
        else:
            row.anchor_at, row.subject_revision = want.anchor_at, want.subject_revision
            row.planned_at, row.due_at = want.planned_at, want.due_at
            row.status, row.claim_token, row.lease_until = Status.PENDING, None, None
            update.append(row)
    for row in live.values():
        _cancel_row(row, now, REASON_NOT_PLANNED)
        update.append(row)
    if create:
        Reminder.objects.bulk_create(create)
    if update:
        Reminder.objects.bulk_update(
            update,
            [
                "anchor_at",
                "subject_revision",
                "planned_at",
                "due_at",
                "status",
                "claim_token",
                "lease_until",
                "cancelled_at",
                "last_error",
            ],
        )


def _cancel_row(row: Reminder, now: dt.datetime, reason: str) -> None:
    row.status, row.claim_token, row.lease_until = Status.CANCELLED, None, None
    row.cancelled_at, row.last_error = now, reason


def cancel_live(*, now: dt.datetime, reason: str = REASON_CANCELLED, **subject: object) -> int:
    """Cancel every live row about one subject (``session=``, ``window_id__in=``, ...)."""
    rows = list(Reminder.objects.select_for_update(of=("self",)).filter(**subject, status__in=Reminder.LIVE_STATUSES))
    for row in rows:
        _cancel_row(row, now, reason)
    Reminder.objects.bulk_update(rows, ["status", "claim_token", "lease_until", "cancelled_at", "last_error"])
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Per subject


def reminders_plan_session(session: TreatmentSession, *, lines: Sequence[PlanLine], now: dt.datetime) -> None:
    """A scheduled session's patient reminders (before its start); none for any other status."""
    wanted = []
    if session.status == TreatmentSession.Status.SCHEDULED:
        wanted = _patient_wanted(
            patient=session.patient,
            lines=lines,
            kinds=SESSION_KINDS,
            anchor=session.starts_at,
            revision=session.revision,
        )
    _sync(subject={"session": session}, patient=session.patient, wanted=wanted, now=now)


def reminders_plan_appointment(appointment: IntegrationAppointment, *, now: dt.datetime) -> None:
    """A booked integration appointment's patient reminders; none once it is anything else."""
    wanted = []
    if appointment.status == IntegrationAppointment.Status.BOOKED:
        protocol = appointment.window.session.course.protocol
        wanted = _patient_wanted(
            patient=appointment.patient,
            lines=protocol_plan(protocol),
            kinds=APPOINTMENT_KINDS,
            anchor=appointment.starts_at,
            revision=appointment.revision,
        )
    _sync(subject={"appointment": appointment}, patient=appointment.patient, wanted=wanted, now=now)


def maintenance_due_anchor(course: Course, last_start: dt.datetime | None) -> dt.datetime | None:
    """When the next maintenance session falls due: the protocol's interval after the course's
    last session that took or keeps its time, on the clinic's wall clock (09:00 stays 09:00)."""
    interval = course.protocol.maintenance_interval_days
    if course.status not in Course.ACTIVE_STATUSES or last_start is None or not interval:
        return None
    zone = clinic_zone()
    local = last_start.astimezone(zone)
    wall = dt.datetime.combine(local.date() + dt.timedelta(days=interval), local.time(), tzinfo=zone)
    return wall.astimezone(dt.UTC)


def last_session_starts(course_ids: Iterable[int]) -> dict[int, dt.datetime]:
    rows = (
        TreatmentSession.objects.filter(course_id__in=list(course_ids), status__in=TreatmentSession.OCCUPYING_STATUSES)
        .values("course_id")
        .annotate(last=Max("starts_at"))
        .values_list("course_id", "last")
    )
    return dict(rows)


def reminders_plan_course_due(course: Course, *, lines: Sequence[PlanLine], now: dt.datetime) -> None:
    anchor = maintenance_due_anchor(course, last_session_starts([course.pk]).get(course.pk))
    wanted = []
    if anchor is not None:
        wanted = _patient_wanted(
            patient=course.patient, lines=lines, kinds=(ReminderKind.MAINTENANCE_DUE,), anchor=anchor, revision=0
        )
    _sync(subject={"course": course}, patient=course.patient, wanted=wanted, now=now)


# ---------------------------------------------------------------------------------------------
# Called by the booking, lifecycle and integration services, inside their transactions


def reminders_course_booked(course: Course, *, now: dt.datetime) -> None:
    """After sessions were added to a course (induction or a maintenance series)."""
    course = Course.objects.select_related("patient", "protocol").get(pk=course.pk)
    lines = protocol_plan(course.protocol)
    for session in course.sessions.filter(status=TreatmentSession.Status.SCHEDULED).select_related("patient"):
        reminders_plan_session(session, lines=lines, now=now)
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


def window_closing_minutes(lines: Sequence[PlanLine]) -> int | None:
    minutes = [line.minutes_before for line in lines if line.kind == ReminderKind.WINDOW_CLOSING]
    return max(minutes) if minutes else None


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


__all__ = [
    "DEFAULT_REMINDER_PLAN",
    "STAFF_KINDS",
    "PlanLine",
    "cancel_live",
    "protocol_plan",
    "reminders_appointment_changed",
    "reminders_course_booked",
    "reminders_course_ended",
    "reminders_session_changed",
]
