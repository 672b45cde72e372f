"""The outbox follows the calendar: a moved, cancelled or ended session or course, and a booked
appointment, change their reminders."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.models import PLANNED_KINDS, Channel, Reminder, ReminderKind
from reminders.services.plan import DEFAULT_REMINDER_PLAN
from sessions.models import IntegrationWindow
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import course_cancel, session_cancel
from sessions.services.reschedule import session_reschedule
from tests.conftest import at
from tests.reminders.services.outbox_data import NEW_YORK, Status, book, sweep_and_send

pytestmark = pytest.mark.django_db


def test_session_reschedule_moves_its_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    before = {(r.kind, r.channel): r.pk for r in Reminder.objects.filter(session=session, status=Status.PENDING)}
    new_start = session.starts_at + dt.timedelta(hours=2)

    session_reschedule(session_id=session.pk, starts_at=new_start, now=now)

    moved = Reminder.objects.filter(session=session, status=Status.PENDING)
    assert {(r.kind, r.channel): r.pk for r in moved} == before  # the same rows, moved
    session.refresh_from_db()
    for row in moved:
        line = next(li for li in DEFAULT_REMINDER_PLAN if li.kind == row.kind)
        assert row.anchor_at == new_start
        assert row.planned_at == new_start - dt.timedelta(minutes=line.minutes_before)
        assert row.subject_revision == session.revision
    assert not Reminder.objects.filter(session=session, status=Status.CANCELLED).exists()


def test_session_moved_later_gets_reminders_that_had_passed_again(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    first = course.sessions.order_by("starts_at").first()
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM).exists()

    # Monday morning's session moves to the afternoon: its 72-hour reminder (Friday 13:00) is ahead.
    session_reschedule(session_id=first.pk, starts_at=at(monday, 13), now=now)

    assert Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM, status=Status.PENDING).count() == 2


def test_session_cancel_cancels_its_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[3]
    assert Reminder.objects.filter(session=session, status=Status.PENDING).count() == 5

    session_cancel(session_id=session.pk, now=now)

    assert not Reminder.objects.filter(session=session, status__in=Reminder.LIVE_STATUSES).exists()
    assert Reminder.objects.filter(session=session, status=Status.CANCELLED).count() == 5
    # The other sessions keep theirs.
    assert Reminder.objects.filter(session__course=course, status=Status.PENDING).exclude(session=session).exists()


def test_cancelling_the_last_session_moves_the_maintenance_due_reminder(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    sessions = list(course.sessions.order_by("starts_at"))
    due = {"course": course, "kind": ReminderKind.MAINTENANCE_DUE, "channel": Channel.SMS, "status": Status.PENDING}
    due_before = Reminder.objects.get(**due).anchor_at

    session_cancel(session_id=sessions[-1].pk, now=now)

    due_after = Reminder.objects.get(**due).anchor_at
    assert due_before - due_after == sessions[-1].starts_at - sessions[-2].starts_at


def test_course_cancel_cancels_every_reminder(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)

    course_cancel(course_id=course.pk, reason="Patient moved away", now=now)

    assert not Reminder.objects.filter(status__in=Reminder.LIVE_STATUSES).exists()
    assert sweep_and_send(at(monday + dt.timedelta(days=30), 12)) == []


def test_appointment_booking_writes_its_reminders_and_cancelling_the_session_cancels_them(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[1]
    window = IntegrationWindow.objects.get(session=session)
    start = window.opens_at.astimezone(NEW_YORK).replace(hour=10, minute=0)
    if start < window.opens_at:
        start += dt.timedelta(days=1)
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=start, now=now
    )
    rows = set(
        Reminder.objects.filter(appointment=appointment, kind__in=PLANNED_KINDS).values_list(
            "kind", "channel", "planned_at"
        )
    )
    assert rows == {
        (ReminderKind.APPOINTMENT_DAY_BEFORE, Channel.SMS, start - dt.timedelta(hours=24)),
        (ReminderKind.APPOINTMENT_DAY_BEFORE, Channel.EMAIL, start - dt.timedelta(hours=24)),
        (ReminderKind.APPOINTMENT_SOON, Channel.SMS, start - dt.timedelta(hours=2)),
    }

    session_cancel(session_id=session.pk, now=now)

    assert not Reminder.objects.filter(
        appointment=appointment, kind__in=PLANNED_KINDS, status__in=Reminder.LIVE_STATUSES
    ).exists()
