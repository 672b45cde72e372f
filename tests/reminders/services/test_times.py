"""Time: offsets are elapsed time, and quiet hours hold a reminder back in the patient's own zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reminders.models import Channel, Reminder, ReminderKind
from reminders.times import planned_at, release_at
from sessions.services.booking import course_book
from sessions.services.proposal import SessionRequest
from tests import factories
from tests.conftest import at
from tests.reminders.services.outbox_data import NEW_YORK, UTC, Status, book, sweep_and_send

pytestmark = pytest.mark.django_db


def test_a_72_hour_reminder_is_72_elapsed_hours_before_its_session_across_dst(clinic, patient):
    # Daylight saving starts in New York on Sunday 9 March 2031 (02:00 -> 03:00).
    days = [dt.date(2031, 3, d) for d in (10, 12, 14, 17, 19, 21)]
    requests = [SessionRequest(at(day, 10), clinic.chairs[0].pk, clinic.clinicians[0].pk) for day in days]
    course = course_book(patient=patient, protocol=clinic.protocol, sessions=requests, now=at(dt.date(2031, 3, 1), 12))
    first = course.sessions.order_by("starts_at").first()

    row = Reminder.objects.get(session=first, kind=ReminderKind.SESSION_CONFIRM, channel=Channel.SMS)

    assert first.starts_at - row.planned_at == dt.timedelta(hours=72)
    assert row.due_at == row.planned_at
    # 72 elapsed hours before Monday 10:00 EDT is Friday 09:00 EST, not 10:00 on the wall clock.
    assert row.due_at.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2031, 3, 7, 9, 0)
    assert planned_at(at(dt.date(2031, 3, 10), 10), 72 * 60) == dt.datetime(2031, 3, 7, 14, 0, tzinfo=UTC)


def test_quiet_hours_delay_a_reminder_in_the_patients_own_zone(clinic, monday, now):
    patient = factories.screened_patient(
        clinician=clinic.clinicians[0],
        time_zone="America/Los_Angeles",
        quiet_hours_start=dt.time(21),
        quiet_hours_end=dt.time(8),
    )
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[1]  # Wednesday, 08:00 in New York: 05:00 for the patient
    la = ZoneInfo("America/Los_Angeles")
    assert session.starts_at.astimezone(la).hour < 8

    prepare = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_PREPARE, channel=Channel.SMS)
    soon = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON, channel=Channel.SMS)

    # The day-before reminder falls in the patient's night: it waits until 08:00 their time.
    assert prepare.due_at > prepare.planned_at
    assert prepare.due_at.astimezone(la).time() == dt.time(8)
    assert prepare.due_at.astimezone(la).date() == prepare.planned_at.astimezone(la).date()
    # The one two hours before goes when planned, quiet hours or not.
    assert soon.due_at == soon.planned_at
    assert soon.planned_at.astimezone(la).hour < 8


def test_quiet_hours_at_send_time_defer_rather_than_drop(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)
    row = Reminder.objects.filter(patient=patient, kind=ReminderKind.SESSION_CONFIRM).order_by("due_at").first()
    # The patient changes their quiet hours after the booking so that the planned time is quiet.
    local = row.due_at.astimezone(NEW_YORK)
    patient.quiet_hours_start = (local - dt.timedelta(hours=1)).time()
    patient.quiet_hours_end = (local + dt.timedelta(hours=1)).time()
    patient.save()

    sweep_and_send(row.due_at)

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.due_at == local + dt.timedelta(hours=1)
    assert row.attempts == 0
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert course.pk


def test_release_at_never_waits_past_two_hours_before_the_anchor():
    anchor = dt.datetime(2031, 6, 4, 9, 0, tzinfo=NEW_YORK)
    planned = dt.datetime(2031, 6, 4, 6, 30, tzinfo=NEW_YORK)  # quiet until 08:00; 2 h before is 07:00
    got = release_at(
        planned=planned,
        anchor=anchor,
        zone=NEW_YORK,
        quiet_start=dt.time(21),
        quiet_end=dt.time(8),
        exempt_within=dt.timedelta(hours=2),
    )
    assert got == anchor - dt.timedelta(hours=2)
