"""The outbox: a booked course writes exactly the reminders its plan calls for."""

from __future__ import annotations

import pytest

from reminders.models import Channel, Reminder, ReminderKind
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
