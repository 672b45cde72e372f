"""The services' signals: sent inside the change's transaction, so the outbox commits or rolls back with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from courses.models import Course
from ketaminecare.errors import RuleViolation
from ketaminecare.rules import Rule
from reminders.models import Reminder
from sessions import signals
from sessions.models import TreatmentSession
from sessions.services.booking import course_book
from sessions.services.lifecycle import session_cancel
from sessions.services.proposal import SessionRequest
from tests.conftest import at

# Real transactions: inside a test's own wrapping transaction every block would look atomic.
pytestmark = pytest.mark.django_db(transaction=True)

MWF = (0, 2, 4, 7, 9, 11)
MSG_REFUSED = "A receiver refused the change."


def requests(clinic: Any, monday: dt.date) -> list[SessionRequest]:
    chair, clinician = clinic.chairs[0], clinic.clinicians[0]
    return [SessionRequest(at(monday + dt.timedelta(days=o), 8), chair.pk, clinician.pk) for o in MWF]


@pytest.fixture
def seen() -> Iterator[list[dict[str, Any]]]:
    """What a receiver connected after the outbox saw, each time ``course_booked`` or
    ``session_changed`` was sent: the transaction it ran in and the outbox rows by then."""
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> None:
        calls.append(
            {
                "in_transaction": connection.in_atomic_block,
                "reminders": Reminder.objects.count(),
                "live": Reminder.objects.filter(status__in=Reminder.LIVE_STATUSES).count(),
                **kwargs,
            }
        )

    signals.course_booked.connect(record, dispatch_uid="test_seen_course_booked")
    signals.session_changed.connect(record, dispatch_uid="test_seen_session_changed")
    yield calls
    signals.course_booked.disconnect(dispatch_uid="test_seen_course_booked")
    signals.session_changed.disconnect(dispatch_uid="test_seen_session_changed")


@pytest.fixture
def refusing() -> Iterator[None]:
    """A receiver, connected after the outbox, that refuses every booking and session change."""

    def refuse(**_: Any) -> None:
        raise RuleViolation(MSG_REFUSED, rule=Rule.CONFLICT)

    signals.course_booked.connect(refuse, dispatch_uid="test_refuse_course_booked")
    signals.session_changed.connect(refuse, dispatch_uid="test_refuse_session_changed")
    yield
    signals.course_booked.disconnect(dispatch_uid="test_refuse_course_booked")
    signals.session_changed.disconnect(dispatch_uid="test_refuse_session_changed")


def test_course_booked_is_sent_inside_the_transaction_after_the_outbox_wrote_its_rows(
    clinic, patient, monday, now, seen
):
    course = course_book(patient=patient, protocol=clinic.protocol, sessions=requests(clinic, monday), now=now)

    assert len(seen) == 1
    call = seen[0]
    assert call["sender"] is Course
    assert (call["course"], call["now"]) == (course, now)
    assert call["in_transaction"] is True
    # The outbox's receiver ran first, in the same transaction: its rows were there to count.
    assert call["reminders"] > 0
    assert Reminder.objects.count() == call["reminders"]


def test_a_booking_refused_after_the_outbox_wrote_leaves_no_reminder_rows(clinic, patient, monday, now, seen, refusing):
    with pytest.raises(RuleViolation, match=MSG_REFUSED):
        course_book(patient=patient, protocol=clinic.protocol, sessions=requests(clinic, monday), now=now)

    assert seen and seen[0]["reminders"] > 0  # written inside the transaction...
    assert Reminder.objects.count() == 0  # ...and rolled back with the booking
    assert not Course.objects.exists()
    assert not TreatmentSession.objects.exists()


def test_a_booking_refused_by_a_rule_sends_nothing_and_writes_no_reminder_rows(clinic, patient, monday, now, seen):
    too_few = requests(clinic, monday)[:2]

    with pytest.raises(RuleViolation) as refused:
        course_book(patient=patient, protocol=clinic.protocol, sessions=too_few, now=now)

    assert refused.value.rule == Rule.SESSION_COUNT
    assert seen == []
    assert Reminder.objects.count() == 0


def test_a_session_change_refused_after_the_outbox_cancelled_keeps_the_reminders_live(
    clinic, patient, monday, now, seen, refusing
):
    signals.course_booked.disconnect(dispatch_uid="test_refuse_course_booked")
    course = course_book(patient=patient, protocol=clinic.protocol, sessions=requests(clinic, monday), now=now)
    session = course.sessions.order_by("sequence").first()
    live = Reminder.objects.filter(session=session, status__in=Reminder.LIVE_STATUSES).count()
    assert live > 0

    with pytest.raises(RuleViolation, match=MSG_REFUSED):
        session_cancel(session_id=session.pk, now=now)

    changed = seen[-1]
    assert (changed["sender"], changed["session_id"]) == (TreatmentSession, session.pk)
    assert changed["live"] < Reminder.objects.filter(status__in=Reminder.LIVE_STATUSES).count()
    assert Reminder.objects.filter(session=session, status__in=Reminder.LIVE_STATUSES).count() == live
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.SCHEDULED
