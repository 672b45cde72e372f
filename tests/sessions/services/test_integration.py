"""Integration appointments: inside the window, with a therapist working and free."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import TimeOff
from ketaminecare.errors import (
    BookingConflict,
    InvalidInput,
    RuleViolation,
)
from ketaminecare.roles import Role
from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.services.booking import course_book
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import (
    session_cancel,
)
from tests import factories
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
# Integration appointments


@pytest.fixture
def window(course) -> IntegrationWindow:
    """Monday's window: Tuesday 09:40 to Wednesday 09:40."""
    return first_session(course).integration_window


def test_window_appointment_inside_the_window_is_booked(clinic, monday, now, window):
    therapist = clinic.therapists[0]
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=therapist.pk, starts_at=at(monday + days(1), 9, 40), now=now
    )
    assert appointment.status == IntegrationAppointment.Status.BOOKED
    assert (appointment.therapist, appointment.patient_id) == (therapist, window.patient_id)
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=60)


def test_window_appointment_may_end_exactly_when_the_window_closes(clinic, monday, now):
    # A Wednesday session at 10:00 ends 11:40; its window closes Friday 11:40, within hours.
    course = course_book(
        patient=factories.screened_patient(clinician=clinic.clinicians[0]),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0], offsets=(2, 4, 7, 9, 11, 14), hour=10),
        now=now,
    )
    window = first_session(course).integration_window
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=at(monday + days(4), 10, 40), now=now
    )
    assert appointment.ends_at == window.closes_at


@pytest.mark.parametrize(
    ("day", "hour", "minute"),
    [(1, 9, 0), (2, 9, 0), (3, 10, 0)],
    ids=["before_opening", "past_closing", "next_day"],
)
def test_window_appointment_outside_the_window_is_refused(clinic, monday, now, window, day, hour, minute):
    error = assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk,
            therapist_id=clinic.therapists[0].pk,
            starts_at=at(monday + days(day), hour, minute),
            now=now,
        ),
        RuleViolation,
        "inside_window",
        "starts_at",
    )
    assert error.details == {"opens_at": window.opens_at.isoformat(), "closes_at": window.closes_at.isoformat()}


def test_window_appointment_outside_the_therapists_hours_is_refused(clinic, monday, now, window):
    # Tuesday 17:00-18:00 lies inside the window, after the therapist's 09:00-17:00.
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=at(monday + days(1), 17), now=now
        ),
        RuleViolation,
        "therapist_hours",
        "therapist",
    )


def test_window_appointment_during_the_therapists_time_off_is_refused(clinic, monday, now, window):
    therapist = clinic.therapists[0]
    tuesday = monday + days(1)
    TimeOff.objects.create(staff=therapist, starts_at=at(tuesday, 0), ends_at=at(tuesday, 23, 59))
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=therapist.pk, starts_at=at(tuesday, 10), now=now
        ),
        RuleViolation,
        "therapist_hours",
        "therapist",
    )


def test_window_appointment_with_a_busy_therapist_is_a_conflict(clinic, monday, now, window):
    therapist = clinic.therapists[0]
    tuesday = monday + days(1)
    other = course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[1], clinic.clinicians[1]),
        now=now,
    )
    window_appointment_book(window_id=window.pk, therapist_id=therapist.pk, starts_at=at(tuesday, 10), now=now)
    assert_refused(
        lambda: window_appointment_book(
            window_id=first_session(other).integration_window.pk,
            therapist_id=therapist.pk,
            starts_at=at(tuesday, 10, 30),
            now=now,
        ),
        BookingConflict,
        "therapist_unavailable",
        "starts_at",
    )


def test_window_holds_one_appointment(clinic, monday, now, window):
    second_therapist = factories.staff(Role.THERAPIST)
    tuesday = monday + days(1)
    window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=at(tuesday, 10), now=now
    )
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=second_therapist.pk, starts_at=at(tuesday, 14), now=now
        ),
        BookingConflict,
        "window_already_booked",
        "window",
    )


def test_window_appointment_in_a_cancelled_or_closed_window_is_refused(clinic, monday, now, window):
    therapist = clinic.therapists[0]
    tuesday = monday + days(1)
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=therapist.pk, starts_at=at(tuesday, 10), now=window.closes_at
        ),
        RuleViolation,
        "window_closed",
        "window",
    )
    session_cancel(session_id=window.session_id, now=now)
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=therapist.pk, starts_at=at(tuesday, 10), now=now
        ),
        RuleViolation,
        "window_cancelled",
        "window",
    )


def test_window_appointment_bad_input_is_refused(clinic, monday, now, window):
    tuesday = monday + days(1)
    therapist = clinic.therapists[0]
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=therapist.pk, starts_at=dt.datetime(2031, 6, 3, 10), now=now
        ),
        InvalidInput,
        "aware_datetime",
        "starts_at",
    )
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk,
            therapist_id=therapist.pk,
            starts_at=at(tuesday, 11),
            ends_at=at(tuesday, 10),
            now=now,
        ),
        InvalidInput,
        "ends_after_start",
        "ends_at",
    )
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=clinic.clinicians[0].pk, starts_at=at(tuesday, 10), now=now
        ),
        InvalidInput,
        "exists",
        "therapist",
    )
    assert_refused(
        lambda: window_appointment_book(
            window_id=window.pk, therapist_id=therapist.pk, starts_at=at(tuesday, 10), now=at(tuesday, 10, 5)
        ),
        InvalidInput,
        "in_the_past",
        "starts_at",
    )
