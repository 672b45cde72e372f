"""The reminder outbox: rows written in the same transaction as the change that calls for them.

Booking plans a session's reminders, moving it moves them, cancelling cancels them; the same
for integration appointments and for the course's "maintenance due" reminder. Each function here
runs inside its caller's transaction (it is called by the booking, lifecycle and integration
services, which hold the course, session or window lock) and locks the live rows it may change.
A worker takes a row out of the live ones (claimed to sending) in one conditional statement just
before it hands the message over, so each change and each send are in one order: either the
message went before the change (the change leaves a sending row alone, and never plans it twice),
or the change is what the worker sees (the row is no longer claimed, and the worker skips it).

A plan line whose time has already passed when it is planned is not written when a later line of
the plan still falls due on that channel (a course booked two days ahead gets no 72-hour reminder,
only the 24-hour one); when none does, the latest passed line goes at once (booked an hour ahead,
the patient still gets the "starting soon" one), so that nobody gets two reminders together and
nobody booked late gets none (``REMINDER_SEND_LATEST_PASSED``). A live row that has not changed is
left alone even when it is due, so that replanning never cancels a reminder about to go.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max

from courses.models import Course
from patients.models import Patient
from reminders.models import (
    APPOINTMENT_KINDS,
    NOTICE_KINDS,
    PLANNED_KINDS,
    SESSION_KINDS,
    Reminder,
    ReminderKind,
)
from reminders.services.plan import PlanLine, patient_release_at, protocol_plan
from reminders.times import planned_at
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.selectors import clinic_zone

Status = Reminder.Status


REASON_MOVED = "The subject moved; replaced by a reminder for the new time."


REASON_CANCELLED = "The subject was cancelled."


REASON_PAST = "After the move, its time had already passed."


REASON_NOT_PLANNED = "No longer in the plan."


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


_MOVABLE_FIELDS = [
    "anchor_at",
    "subject_revision",
    "planned_at",
    "due_at",
    "status",
    "claim_token",
    "lease_until",
    "cancelled_at",
    "last_error",
]


def _sync(*, subject: dict[str, Any], patient: Patient, wanted: list[Wanted], now: dt.datetime) -> None:
    """Make the live rows of one subject (``{"session": session}``, ...) and patient match ``wanted``."""
    ((field, obj),) = subject.items()
    _sync_many(field=field, wanted={obj: wanted}, patient=patient, now=now)


Ident = tuple[str, str, dt.datetime, int]


def _sync_many(*, field: str, wanted: dict[Any, list[Wanted]], patient: Patient, now: dt.datetime) -> None:
    """Make the live rows of each subject (a session, ...: the keys of ``wanted``) of one patient
    match what is wanted of it, in a fixed number of statements however many subjects.

    Locks the live rows first, so that no worker takes one of them to send while this decides. A
    row whose anchor and revision are unchanged is kept as it is; a changed one is moved (back to
    pending, its claim dropped) or, when its new time has passed, cancelled; a new one is written
    only while its time is ahead.
    """
    live, done = _rows_of(field=field, subject_ids=[subject.pk for subject in wanted], patient=patient)
    create: list[Reminder] = []
    update: list[Reminder] = []
    for subject, wants in wanted.items():
        rows, finished = live.pop(subject.pk, {}), done[subject.pk]
        late = _latest_passed_alone(wants, now)
        for want in wants:
            row = rows.pop(want.key, None)
            ahead = want.planned_at > now or want.key in late
            if row is None:
                if ahead and _ident(want) not in finished:
                    create.append(_new_row(subject={field: subject}, patient=patient, want=want))
            elif _reconcile(row, want=want, done=finished, now=now, ahead=ahead):
                update.append(row)
        for row in rows.values():
            _cancel_row(row, now, REASON_NOT_PLANNED)
            update.append(row)
    if create:
        Reminder.objects.bulk_create(create)
    if update:
        Reminder.objects.bulk_update(update, _MOVABLE_FIELDS)


def _rows_of(
    *, field: str, subject_ids: list[int], patient: Patient
) -> tuple[dict[int, dict[tuple[str, str], Reminder]], dict[int, set[Ident]]]:
    """Per subject: its live rows by kind and channel (locked), and what it already sent."""
    column = f"{field}_id"
    # The notices about the same subjects are not the plan's: reminders.services.notices keeps them.
    among = {f"{field}__in": subject_ids, "patient": patient, "kind__in": PLANNED_KINDS}
    live: dict[int, dict[tuple[str, str], Reminder]] = collections.defaultdict(dict)
    for row in Reminder.objects.select_for_update(of=("self",)).filter(**among, status__in=Reminder.LIVE_STATUSES):
        live[getattr(row, column)][(row.kind, row.channel)] = row
    done: dict[int, set[Ident]] = collections.defaultdict(set)
    # A row being handed to the provider is as good as sent: never planned a second time. Not
    # locked: a worker records it while holding the next row, which is live and locked above.
    finished = Reminder.objects.filter(**among, status__in=Reminder.FINISHED_OR_SENDING)
    for subject_id, kind, channel, anchor, revision in finished.values_list(
        column, "kind", "channel", "anchor_at", "subject_revision"
    ):
        done[subject_id].add((kind, channel, anchor, revision))
    return live, done


def _latest_passed_alone(wants: Sequence[Wanted], now: dt.datetime) -> set[tuple[str, str]]:
    """The plan lines whose moment has passed that still go, at once: on each channel with no line
    ahead, the latest passed one (a course booked or moved late still reaches the patient once,
    and never with two reminders together). Empty when REMINDER_SEND_LATEST_PASSED is off."""
    if not settings.REMINDER_SEND_LATEST_PASSED:
        return set()
    late = set()
    for channel in {want.channel for want in wants}:
        mine = [w for w in wants if w.channel == channel and w.anchor_at > now]
        passed = [w for w in mine if w.planned_at <= now]
        if passed and len(passed) == len(mine):
            late.add(max(passed, key=lambda w: w.planned_at).key)
    return late


def _ident(want: Wanted) -> tuple[str, str, dt.datetime, int]:
    return (want.kind, want.channel, want.anchor_at, want.subject_revision)


def _new_row(*, subject: dict[str, object], patient: Patient, want: Wanted) -> Reminder:
    return Reminder(
        **subject,
        patient=patient,
        kind=want.kind,
        channel=want.channel,
        anchor_at=want.anchor_at,
        subject_revision=want.subject_revision,
        planned_at=want.planned_at,
        due_at=want.due_at,
    )


def _reconcile(
    row: Reminder, *, want: Wanted, done: set[tuple[str, str, dt.datetime, int]], now: dt.datetime, ahead: bool
) -> bool:
    """Bring a live row to what is wanted of it; whether it changed (and must be saved)."""
    if row.anchor_at == want.anchor_at and row.subject_revision == want.subject_revision:
        return False
    if _ident(want) in done:
        _cancel_row(row, now, REASON_MOVED)
    elif not ahead:
        _cancel_row(row, now, REASON_PAST)
    else:
        row.anchor_at, row.subject_revision = want.anchor_at, want.subject_revision
        row.planned_at, row.due_at = want.planned_at, want.due_at
        row.status, row.claim_token, row.lease_until = Status.PENDING, None, None
    return True


def _cancel_row(row: Reminder, now: dt.datetime, reason: str) -> None:
    row.status, row.claim_token, row.lease_until = Status.CANCELLED, None, None
    row.cancelled_at, row.last_error = now, reason


def cancel_rows(rows: Sequence[Reminder], *, now: dt.datetime, reason: str) -> None:
    """Cancel rows already locked live by the caller."""
    for row in rows:
        _cancel_row(row, now, reason)
    if rows:
        Reminder.objects.bulk_update(rows, ["status", "claim_token", "lease_until", "cancelled_at", "last_error"])


def cancel_live(*, now: dt.datetime, reason: str = REASON_CANCELLED, **subject: object) -> int:
    """Cancel every live reminder about one subject (``session=``, ``window_id__in=``, ...).

    Notices are left alone: the change that cancels a subject's reminders is what a notice tells
    of (reminders.services.notices decides which of them go)."""
    rows = list(
        Reminder.objects.select_for_update(of=("self",))
        .filter(**subject, status__in=Reminder.LIVE_STATUSES)
        .exclude(kind__in=NOTICE_KINDS)
    )
    cancel_rows(rows, now=now, reason=reason)
    return len(rows)


def reminders_plan_session(session: TreatmentSession, *, lines: Sequence[PlanLine], now: dt.datetime) -> None:
    """A scheduled session's patient reminders (before its start); none for any other status."""
    reminders_plan_sessions([session], patient=session.patient, lines=lines, now=now)


def reminders_plan_sessions(
    sessions: Sequence[TreatmentSession], *, patient: Patient, lines: Sequence[PlanLine], now: dt.datetime
) -> None:
    """The reminders of many sessions of one patient (a course just booked), in a few statements."""
    wanted: dict[Any, list[Wanted]] = {}
    for session in sessions:
        wanted[session] = []
        if session.status == TreatmentSession.Status.SCHEDULED:
            wanted[session] = _patient_wanted(
                patient=patient, lines=lines, kinds=SESSION_KINDS, anchor=session.starts_at, revision=session.revision
            )
    if wanted:
        _sync_many(field="session", wanted=wanted, patient=patient, now=now)


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
