"""Booking a course: every rule broken once, and what a booking writes."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ClosureDay, TimeOff
from courses.models import Course
from ketaminecare.errors import (
    BookingConflict,
    InvalidInput,
    RuleViolation,
)
from ketaminecare.roles import Role
from patients.models import Screening
from sessions.models import TreatmentSession
from sessions.scheduling import Rule
from sessions.services.booking import course_book
from sessions.services.lifecycle import (
    course_cancel,
)
from sessions.services.proposal import SessionRequest, course_propose
from tests import factories
from tests.conftest import CLINIC_ZONE, at
from tests.sessions.services.booking_data import (
    MWF,
    assert_refused,
    days,
    other_patient,
    requests,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Booking a course


def test_course_book_writes_the_course_every_session_and_every_window(clinic, patient, monday, now):
    course = course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )

    assert course.status == Course.Status.PLANNED
    assert course.screening.patient == patient
    sessions = list(course.sessions.select_related("integration_window").order_by("sequence"))
    assert [s.sequence for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert [s.local_date for s in sessions] == [monday + days(o) for o in MWF]
    for session in sessions:
        assert session.phase == TreatmentSession.Phase.INDUCTION
        assert session.status == TreatmentSession.Status.SCHEDULED
        assert session.ends_at - session.starts_at == dt.timedelta(minutes=100)
        window = session.integration_window
        assert window.opens_at - session.ends_at == dt.timedelta(hours=24)
        assert window.closes_at - session.ends_at == dt.timedelta(hours=48)
        assert window.patient_id == patient.pk


@pytest.mark.parametrize(
    "screening",
    [
        None,
        {"valid_until": dt.date(2031, 5, 29)},  # expired the day before the clock's today
        {"valid_until": dt.date(2031, 6, 1)},  # expires before the first session
        {"outcome": Screening.Outcome.NOT_ELIGIBLE},
        {"outcome": Screening.Outcome.NEEDS_REVIEW},
        {"outcome": Screening.Outcome.NEEDS_REVIEW, "informed_consent_off_label": False},
        {"performed_on": dt.date(2031, 6, 1)},  # recorded for a day still to come
    ],
    ids=["none", "expired", "expires_before_first_session", "not_eligible", "needs_review", "no_consent", "future"],
)
def test_course_book_without_a_current_eligible_screening_is_refused(clinic, monday, now, screening):
    patient = factories.PatientFactory()
    if screening is not None:
        factories.ScreeningFactory(patient=patient, clinician=clinic.clinicians[0].user, **screening)
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])

    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        "screening_required",
        "patient",
    )
    assert_refused(
        lambda: course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, now=now),
        RuleViolation,
        "screening_required",
        "patient",
    )


def test_course_propose_refuses_a_first_date_in_the_past(clinic, patient, now):
    yesterday = now.astimezone(CLINIC_ZONE).date() - days(1)
    assert_refused(
        lambda: course_propose(patient=patient, protocol=clinic.protocol, first_date=yesterday, now=now),
        InvalidInput,
        Rule.IN_THE_PAST,
        "first_date",
    )


def test_course_book_refuses_a_session_in_the_past(clinic, patient, monday):
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=at(monday, 12)),
        RuleViolation,
        Rule.IN_THE_PAST,
        "sessions[0]",
    )


def test_course_book_refuses_a_naive_datetime(clinic, patient, monday, now):
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    sessions[2] = SessionRequest(dt.datetime(2031, 6, 6, 8), clinic.chairs[0].pk, clinic.clinicians[0].pk)
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        InvalidInput,
        "aware_datetime",
        "sessions[2].starts_at",
    )


def test_course_book_refuses_no_sessions(clinic, patient, now):
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=[], now=now),
        InvalidInput,
        "sessions_required",
        "sessions",
    )


@pytest.mark.parametrize(
    ("offsets", "rule"),
    [
        ((0, 4, 9), Rule.SESSION_COUNT),
        ((0, 2, 4, 7, 9, 11, 14), Rule.SESSION_COUNT),
        ((0, 2, 4, 7), Rule.INDUCTION_SPAN),
        ((0, 2, 4, 7, 9, 17), Rule.INDUCTION_SPAN),
    ],
    ids=["three_sessions", "seven_sessions", "span_too_short", "span_too_long"],
)
def test_course_book_refuses_a_count_or_span_outside_the_protocol(clinic, patient, monday, now, offsets, rule):
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0], offsets=offsets)
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        rule,
        "sessions",
    )


def test_course_book_refuses_sessions_closer_than_the_min_gap(clinic, patient, monday, now):
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    sessions[1] = SessionRequest(at(monday + days(1), 12), clinic.chairs[0].pk, clinic.clinicians[0].pk)
    error = assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        Rule.MIN_GAP,
        "sessions",
    )
    assert error.details["problems"] == [
        {"rule": Rule.MIN_GAP, "date": (monday + days(1)).isoformat(), "message": error.message}
    ]


def test_course_book_refuses_two_sessions_on_one_day(clinic, patient, monday, now):
    sessions = [
        *requests(monday, clinic.chairs[0], clinic.clinicians[0], offsets=(0,)),
        *requests(monday, clinic.chairs[0], clinic.clinicians[0], offsets=(0, 2, 4, 7, 9), hour=14),
    ]
    error = assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        Rule.ONE_PER_DAY,
        "sessions",
    )
    assert [p["rule"] for p in error.details["problems"]] == [Rule.ONE_PER_DAY]


def test_course_book_refuses_a_day_the_clinic_is_closed(clinic, patient, monday, now):
    ClosureDay.objects.create(date=monday + days(2), reason="Staff training")
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        Rule.CLINIC_CLOSED,
        "sessions[1]",
    )


@pytest.mark.parametrize("hour", [7, 17])
def test_course_book_refuses_a_session_outside_clinic_hours(clinic, patient, monday, now, hour):
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0], hour=hour)
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        RuleViolation,
        Rule.CLINIC_HOURS,
        "sessions[0]",
    )


def test_course_book_refuses_a_chair_already_taken(clinic, patient, monday, now):
    course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[1]),
        now=now,
    )
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        BookingConflict,
        Rule.CHAIR_UNAVAILABLE,
        "sessions[0]",
    )


def test_course_book_refuses_a_clinician_already_busy(clinic, patient, monday, now):
    course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[1], clinic.clinicians[0], offsets=(0, 2, 4, 7, 9, 14)),
        now=now,
    )
    sessions = requests(monday, clinic.chairs[0], clinic.clinicians[0])
    error = assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        BookingConflict,
        Rule.CLINICIAN_UNAVAILABLE,
        "sessions[0]",
    )
    assert [p["rule"] for p in error.details["problems"]] == [Rule.CLINICIAN_UNAVAILABLE]


def test_course_book_refuses_a_clinician_not_working_that_day(clinic, patient, monday, now):
    # Works Tuesday to Friday: not on the course's Mondays.
    part_timer = factories.staff(Role.CLINICIAN, weekdays=range(1, 5))
    sessions = requests(monday, clinic.chairs[0], part_timer)
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        BookingConflict,
        Rule.CLINICIAN_UNAVAILABLE,
        "sessions[0]",
    )


def test_course_book_refuses_a_clinician_on_time_off(clinic, patient, monday, now):
    clinician = clinic.clinicians[0]
    wednesday = monday + days(2)
    TimeOff.objects.create(staff=clinician, starts_at=at(wednesday, 0), ends_at=at(wednesday, 23), reason="Leave")
    sessions = requests(monday, clinic.chairs[0], clinician)
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now),
        BookingConflict,
        Rule.CLINICIAN_UNAVAILABLE,
        "sessions[1]",
    )


def test_course_book_refuses_a_second_active_course(clinic, patient, monday, now, course):
    later = requests(monday + days(21), clinic.chairs[1], clinic.clinicians[1])
    assert_refused(
        lambda: course_book(patient=patient, protocol=clinic.protocol, sessions=later, now=now),
        RuleViolation,
        "one_active_course",
        "patient",
    )


def test_course_book_is_allowed_again_after_the_course_is_cancelled(clinic, patient, monday, now, course):
    course_cancel(course_id=course.pk, reason="Patient moved away", now=now)
    again = course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )
    assert again.status == Course.Status.PLANNED
    assert again.sessions.count() == 6


def test_course_propose_and_book_refuse_a_retired_protocol(clinic, patient, monday, now):
    clinic.protocol.is_active = False
    clinic.protocol.save(update_fields=["is_active"])
    assert_refused(
        lambda: course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, now=now),
        RuleViolation,
        "protocol_active",
        "protocol",
    )
    assert_refused(
        lambda: course_book(
            patient=patient,
            protocol=clinic.protocol,
            sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
            now=now,
        ),
        RuleViolation,
        "protocol_active",
        "protocol",
    )
