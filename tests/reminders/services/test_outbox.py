"""The outbox: a booked course writes exactly the reminders its plan calls for."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.models import Channel, Reminder, ReminderKind
from tests.conftest import at
from tests.reminders.services.outbox_data import book, expected_plan, rows_of

pytestmark = pytest.mark.django_db


def test_course_book_writes_exactly_the_planned_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)

    assert rows_of(course) == expected_plan(course, now)
    first = course.sessions.order_by("starts_at").first()
    # The first session is on Monday morning: its 72-hour reminder (Friday morning) had passed.
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM).exists()
    assert Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_SOON, channel=Channel.SMS).exists()
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_SOON, channel=Channel.EMAIL).exists()
    assert all(r.due_at >= r.planned_at for r in Reminder.objects.all())


def _first_session_rows(course):
    first = course.sessions.order_by("starts_at").first()
    rows = Reminder.objects.filter(session=first, status__in=Reminder.LIVE_STATUSES)
    return first, {(r.kind, r.channel) for r in rows}, list(rows)


def test_a_session_booked_too_late_for_its_plan_gets_the_latest_passed_reminder_per_channel(clinic, patient, monday):
    now = at(monday, 7)  # the first session at 08:00: its 72-hour, 24-hour and 2-hour moments passed
    course = book(clinic, patient, monday, now)

    first, kinds, rows = _first_session_rows(course)

    assert first.starts_at - now <= dt.timedelta(hours=2)
    # One on each channel, the latest of its passed lines: never two together, never none.
    assert kinds == {(ReminderKind.SESSION_SOON, Channel.SMS), (ReminderKind.SESSION_PREPARE, Channel.EMAIL)}
    assert all(r.due_at < first.starts_at for r in rows)
    # The later sessions keep the plan as it is: only lines still ahead.
    assert rows_of(course) - {(first.pk, None, r.kind, r.channel, r.planned_at) for r in rows} == {
        row for row in expected_plan(course, now) if row[0] != first.pk
    }


def test_with_the_setting_off_every_passed_moment_is_skipped(clinic, patient, monday, settings):
    settings.REMINDER_SEND_LATEST_PASSED = False
    course = book(clinic, patient, monday, at(monday, 7))

    _, kinds, _ = _first_session_rows(course)

    assert kinds == set()
