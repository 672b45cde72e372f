"""Making up a held or no-show session, and a course that falls below its induction minimum."""

from __future__ import annotations

import pytest

from courses.models import Course
from ketaminecare.errors import BookingConflict, RuleViolation
from ketaminecare.rules import Rule
from patients.models import Screening
from reminders.models import Reminder
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.selectors import course_shortfall, induction_shortfall
from sessions.services.booking import course_book
from sessions.services.lifecycle import course_cancel, session_cancel, session_hold, session_no_show
from sessions.services.makeup import session_make_up
from sessions.services.reschedule import MSG_HELD_NOT_MOVED, session_reschedule
from tests.conftest import at
from tests.sessions.services.booking_data import assert_refused, days, first_session, other_patient, requests

pytestmark = pytest.mark.django_db


def _sessions(course: Course) -> list[TreatmentSession]:
    return list(course.sessions.order_by("sequence"))


def _held(course: Course, monday) -> TreatmentSession:
    session = first_session(course)
    session_hold(session_id=session.pk, reason="BP 168/102 before dosing", now=at(monday, 8, 5))
    session.refresh_from_db()
    return session


# ---------------------------------------------------------------------------------------------
# Make-up


def test_session_make_up_books_a_linked_session_and_keeps_the_held_one(clinic, monday, course):
    held = _held(course, monday)
    now = at(monday, 9)

    made_up = session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=now)

    held.refresh_from_db()
    assert (held.status, held.hold_reason) == (TreatmentSession.Status.HELD, "BP 168/102 before dosing")
    made_up.refresh_from_db()
    assert made_up.status == TreatmentSession.Status.SCHEDULED
    assert (made_up.course_id, made_up.phase, made_up.sequence) == (course.pk, TreatmentSession.Phase.INDUCTION, 7)
    assert made_up.make_up_for_id == held.pk
    assert (made_up.chair_id, made_up.clinician_id) == (held.chair_id, held.clinician_id)
    assert made_up.local_date == monday + days(14)
    assert IntegrationWindow.objects.filter(session=made_up, cancelled_at__isnull=True).exists()
    # The same signal as any booking: its reminders are in the outbox.
    assert Reminder.objects.filter(session=made_up).exists()


def test_session_make_up_for_a_no_show_in_another_chair(clinic, monday, course):
    session = first_session(course)
    session_no_show(session_id=session.pk, now=at(monday, 8, 30))

    made_up = session_make_up(
        session_id=session.pk, starts_at=at(monday + days(14), 10), chair_id=clinic.chairs[1].pk, now=at(monday, 9)
    )

    assert (made_up.make_up_for_id, made_up.chair_id) == (session.pk, clinic.chairs[1].pk)


def test_session_make_up_of_a_session_not_missed_is_refused(monday, now, course):
    session = first_session(course)
    assert_refused(
        lambda: session_make_up(session_id=session.pk, starts_at=at(monday + days(14), 8), now=now),
        RuleViolation,
        Rule.MAKE_UP_NOT_MISSED,
        "status",
    )


def test_session_make_up_twice_is_refused(monday, course):
    held = _held(course, monday)
    session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9))

    assert_refused(
        lambda: session_make_up(session_id=held.pk, starts_at=at(monday + days(16), 8), now=at(monday, 9)),
        RuleViolation,
        Rule.MAKE_UP_EXISTS,
        "session",
    )


def test_session_make_up_again_after_its_make_up_was_cancelled(monday, course):
    held = _held(course, monday)
    first = session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9))
    session_cancel(session_id=first.pk, now=at(monday, 10))

    again = session_make_up(session_id=held.pk, starts_at=at(monday + days(16), 8), now=at(monday, 11))

    assert again.make_up_for_id == held.pk


def test_session_make_up_in_a_taken_chair_is_a_conflict(clinic, monday, course):
    held = _held(course, monday)
    course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday + days(14), clinic.chairs[0], clinic.clinicians[1]),
        now=at(monday, 8, 30),
    )

    assert_refused(
        lambda: session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9)),
        BookingConflict,
        Rule.CHAIR_UNAVAILABLE,
        "starts_at",
    )


def test_session_make_up_too_close_to_the_next_session_breaks_the_min_gap(monday, course):
    held = _held(course, monday)
    # Tuesday 08:00, 24 h before Wednesday's 08:00 session; the protocol asks for 40 h.
    error = assert_refused(
        lambda: session_make_up(session_id=held.pk, starts_at=at(monday + days(1), 8), now=at(monday, 9)),
        RuleViolation,
        Rule.MIN_GAP,
        "starts_at",
    )
    assert error.details["problems"][0]["rule"] == Rule.MIN_GAP


def test_session_make_up_after_the_screening_lapses_is_refused(monday, course):
    held = _held(course, monday)
    Screening.objects.filter(patient_id=course.patient_id).update(valid_until=monday + days(12))

    assert_refused(
        lambda: session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9)),
        RuleViolation,
        Rule.SCREENING_REQUIRED,
        "patient",
    )


def test_session_make_up_on_a_cancelled_course_is_refused(monday, course):
    held = _held(course, monday)
    course_cancel(course_id=course.pk, reason="Moved away", now=at(monday, 9))

    assert_refused(
        lambda: session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 10)),
        RuleViolation,
        Rule.COURSE_NOT_ACTIVE,
        "course",
    )


def test_session_reschedule_of_a_held_session_says_to_book_a_make_up(monday, course):
    held = _held(course, monday)

    error = assert_refused(
        lambda: session_reschedule(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9)),
        RuleViolation,
        Rule.SESSION_NOT_SCHEDULED,
        "status",
    )
    assert error.message == MSG_HELD_NOT_MOVED.format(status="held (not dosed)")
    assert "make-up" in error.message
    assert error.details == {"instead": "make_up"}


# ---------------------------------------------------------------------------------------------
# Below the protocol's minimum of induction sessions (4 of the course's 6)


def test_session_cancel_below_the_minimum_marks_the_course(monday, now, course):
    sessions = _sessions(course)
    session_cancel(session_id=sessions[5].pk, now=now)
    session_cancel(session_id=sessions[4].pk, now=now)
    course.refresh_from_db()
    assert course.induction_incomplete_at is None  # 4 live: still the minimum
    assert course_shortfall(course.pk) is None

    session_cancel(session_id=sessions[3].pk, now=now)

    course.refresh_from_db()
    assert course.induction_incomplete_at == now
    shortfall = course_shortfall(course.pk)
    assert shortfall is not None
    assert shortfall.as_dict() == {
        "rule": Rule.INDUCTION_BELOW_MINIMUM,
        "message": (
            "The course has 3 live induction sessions; its protocol asks for at least 4. "
            "Book a make-up session or review the course."
        ),
        "course": course.pk,
        "live": 3,
        "minimum": 4,
    }


def test_a_make_up_that_restores_the_minimum_clears_the_mark(monday, now, course):
    sessions = _sessions(course)
    session_cancel(session_id=sessions[5].pk, now=now)
    session_cancel(session_id=sessions[4].pk, now=now)
    held = _held(course, monday)
    course.refresh_from_db()
    assert course.induction_incomplete_at == at(monday, 8, 5)
    assert induction_shortfall(course).live == 3

    session_make_up(session_id=held.pk, starts_at=at(monday + days(14), 8), now=at(monday, 9))

    course.refresh_from_db()
    assert course.induction_incomplete_at is None
    assert induction_shortfall(course) is None
    assert course_shortfall(course.pk) is None


def test_a_cancelled_course_carries_no_warning(monday, now, course):
    sessions = _sessions(course)
    for session in sessions[3:]:
        session_cancel(session_id=session.pk, now=now)
    course_cancel(course_id=course.pk, reason="Moved away", now=now)

    assert course_shortfall(course.pk) is None
