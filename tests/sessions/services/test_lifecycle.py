"""A session's and a course's life: check in, complete, no-show, hold, cancel."""

from __future__ import annotations

import pytest

from courses.models import Course
from ketaminecare.errors import (
    InvalidInput,
    InvalidTransition,
)
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.services.booking import course_book
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import (
    course_cancel,
    session_cancel,
    session_check_in,
    session_complete,
    session_hold,
    session_no_show,
)
from tests.conftest import at
from tests.sessions.services.booking_data import (
    assert_refused,
    days,
    first_session,
    other_patient,
    requests,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# A session's life


def test_session_cancel_removes_the_window_and_its_appointments(clinic, monday, now, course):
    session = first_session(course)
    window = session.integration_window
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=at(monday + days(1), 10), now=now
    )

    session_cancel(session_id=session.pk, reason="Patient unwell", now=now)

    session.refresh_from_db()
    window.refresh_from_db()
    appointment.refresh_from_db()
    assert (session.status, session.cancelled_at, session.revision) == (TreatmentSession.Status.CANCELLED, now, 1)
    assert window.cancelled_at == now
    assert (appointment.status, appointment.cancelled_at) == (IntegrationAppointment.Status.CANCELLED, now)
    assert appointment.cancel_reason == "Patient unwell"


def test_session_cancel_frees_the_chair_for_another_patient(clinic, monday, now, course):
    session_cancel(session_id=first_session(course).pk, now=now)
    sessions = [
        *requests(monday, clinic.chairs[0], clinic.clinicians[0], offsets=(0,)),
        *requests(monday, clinic.chairs[1], clinic.clinicians[1], offsets=(2, 4, 7, 9, 11)),
    ]
    other = course_book(patient=other_patient(clinic), protocol=clinic.protocol, sessions=sessions, now=now)
    assert first_session(other).starts_at == at(monday, 8)
    assert first_session(other).chair_id == clinic.chairs[0].pk


def test_session_cancel_twice_is_an_invalid_transition(now, course):
    session = first_session(course)
    session_cancel(session_id=session.pk, now=now)
    assert_refused(
        lambda: session_cancel(session_id=session.pk, now=now),
        InvalidTransition,
        "cancel_from_cancelled",
        "status",
    )


def test_course_cancel_cancels_every_scheduled_session_and_window(now, course):
    cancelled = course_cancel(course_id=course.pk, reason="  Patient withdrew  ", now=now)

    course.refresh_from_db()
    assert cancelled.pk == course.pk
    assert (course.status, course.cancelled_at, course.cancel_reason) == (
        Course.Status.CANCELLED,
        now,
        "Patient withdrew",
    )
    assert set(course.sessions.values_list("status", flat=True)) == {TreatmentSession.Status.CANCELLED}
    assert not IntegrationWindow.objects.filter(session__course=course, cancelled_at__isnull=True).exists()


def test_course_cancel_needs_a_reason_and_an_active_course(now, course):
    assert_refused(
        lambda: course_cancel(course_id=course.pk, reason=" ", now=now),
        InvalidInput,
        "cancel_reason_required",
        "reason",
    )
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED
    course_cancel(course_id=course.pk, reason="Withdrew", now=now)
    assert_refused(
        lambda: course_cancel(course_id=course.pk, reason="Again", now=now),
        InvalidTransition,
        "cancel_from_cancelled",
        "status",
    )


def test_session_check_in_only_on_its_day(monday, now, course):
    session = first_session(course)
    assert_refused(
        lambda: session_check_in(session_id=session.pk, now=now),
        InvalidTransition,
        "check_in_same_day",
        "status",
    )
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.SCHEDULED

    session_check_in(session_id=session.pk, ride_home_confirmed=True, now=at(monday, 7, 45))

    session.refresh_from_db()
    course.refresh_from_db()
    assert (session.status, session.checked_in_at, session.ride_home_confirmed) == (
        TreatmentSession.Status.CHECKED_IN,
        at(monday, 7, 45),
        True,
    )
    assert course.status == Course.Status.INDUCTION
    assert_refused(
        lambda: session_check_in(session_id=session.pk, now=at(monday, 7, 50)),
        InvalidTransition,
        "check_in_from_checked_in",
        "status",
    )


def test_session_no_show_only_after_its_start(monday, now, course):
    session = first_session(course)
    assert_refused(
        lambda: session_no_show(session_id=session.pk, now=at(monday, 7, 59)),
        InvalidTransition,
        "no_show_after_start",
        "status",
    )

    session_no_show(session_id=session.pk, now=at(monday, 8, 30))

    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.NO_SHOW
    assert session.integration_window.cancelled_at == at(monday, 8, 30)


@pytest.mark.parametrize("reason", ["", "   "])
def test_session_hold_needs_a_reason(now, course, reason):
    session = first_session(course)
    assert_refused(
        lambda: session_hold(session_id=session.pk, reason=reason, now=now),
        InvalidInput,
        "hold_reason_required",
        "reason",
    )
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.SCHEDULED


def test_session_hold_records_the_reason_and_removes_the_window(monday, course):
    session = first_session(course)
    session_check_in(session_id=session.pk, now=at(monday, 7, 50))

    session_hold(session_id=session.pk, reason=" BP 162/98 before dosing ", now=at(monday, 8, 5))

    session.refresh_from_db()
    assert (session.status, session.hold_reason) == (TreatmentSession.Status.HELD, "BP 162/98 before dosing")
    assert session.integration_window.cancelled_at == at(monday, 8, 5)


def test_session_complete_only_after_check_in(monday, now, course):
    session = first_session(course)
    assert_refused(
        lambda: session_complete(session_id=session.pk, now=now),
        InvalidTransition,
        "complete_from_scheduled",
        "status",
    )
    session_check_in(session_id=session.pk, now=at(monday, 7, 50))
    assert_refused(
        lambda: session_complete(session_id=session.pk, dose_mg=-1, now=at(monday, 9, 40)),
        InvalidInput,
        "positive",
        "dose_mg",
    )

    session_complete(session_id=session.pk, dose_mg=35, clinical_notes="Tolerated well", now=at(monday, 9, 40))

    session.refresh_from_db()
    assert (session.status, session.completed_at, session.dose_mg) == (
        TreatmentSession.Status.COMPLETED,
        at(monday, 9, 40),
        35,
    )
    assert session.integration_window.cancelled_at is None
