"""The booking, lifecycle and integration services: every rule broken once, and what they write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from clinic.models import ClinicHours, ClosureDay, TimeOff, WorkingHours
from courses.models import Course
from ketaminecare.errors import (
    BookingConflict,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from ketaminecare.roles import Role
from patients.models import Screening
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.scheduling import Rule
from sessions.services.booking import (
    SessionRequest,
    course_book,
    course_propose,
    maintenance_series_book,
    session_reschedule,
)
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import (
    course_cancel,
    session_cancel,
    session_check_in,
    session_complete,
    session_hold,
    session_no_show,
)
from tests import factories
from tests.conftest import CLINIC_ZONE, at

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MWF = (0, 2, 4, 7, 9, 11)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def requests(
    monday: dt.date, chair: Any, clinician: Any, *, offsets: tuple[int, ...] = MWF, hour: int = 8
) -> list[SessionRequest]:
    return [SessionRequest(at(monday + days(o), hour), chair.pk, clinician.pk) for o in offsets]


def row_counts() -> dict[str, int]:
    models: list[Any] = [Course, Screening, TreatmentSession, IntegrationWindow, IntegrationAppointment, RuleOverride]
    return {model.__name__: model.objects.count() for model in models}


def assert_refused(call: Callable[[], object], error: type[DomainError], rule: str, field: str | None) -> DomainError:
    """The call raises exactly ``error`` naming ``rule`` and ``field``, and writes no row."""
    before = row_counts()
    with pytest.raises(DomainError) as caught:
        call()
    assert type(caught.value) is error, caught.value
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert caught.value.message
    assert row_counts() == before
    return caught.value


@pytest.fixture
def course(clinic, patient, monday, now) -> Course:
    """Monday, Wednesday, Friday for two weeks at 08:00 in the first chair with the first clinician."""
    return course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )


def first_session(course: Course) -> TreatmentSession:
    return course.sessions.order_by("sequence").first()


def other_patient(clinic) -> Any:
    return factories.screened_patient(clinician=clinic.clinicians[0])


def override_user() -> Any:
    user = factories.UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="treatment_sessions", codename="override_course_rules")
    )
    return user


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


# ---------------------------------------------------------------------------------------------
# Rescheduling


def test_session_reschedule_moves_window(clinic, monday, now, course):
    session = first_session(course)
    window = session.integration_window
    new_start = at(monday, 10)

    result = session_reschedule(session_id=session.pk, starts_at=new_start, now=now)

    session.refresh_from_db()
    window.refresh_from_db()
    assert result.session.pk == session.pk
    assert (session.starts_at, session.ends_at) == (new_start, at(monday, 11, 40))
    assert session.revision == 1
    assert window.opens_at - session.ends_at == dt.timedelta(hours=24)
    assert window.closes_at - session.ends_at == dt.timedelta(hours=48)
    assert window.opens_at == at(monday + days(1), 11, 40)
    assert window.revision == 1
    assert result.overrides == []


def test_session_reschedule_to_another_day_updates_the_local_date(clinic, monday, now, course):
    # The last session from Friday of week 2 to the Monday after: span 14 days, still allowed.
    session = course.sessions.get(sequence=6)
    session_reschedule(session_id=session.pk, starts_at=at(monday + days(14), 8), now=now)
    session.refresh_from_db()
    assert session.local_date == monday + days(14)
    assert session.integration_window.opens_at == at(monday + days(15), 9, 40)


def test_session_reschedule_cancels_appointments_outside_the_moved_window(clinic, monday, now, course):
    session = first_session(course)
    tuesday = monday + days(1)
    appointment = window_appointment_book(
        window_id=session.integration_window.pk,
        therapist_id=clinic.therapists[0].pk,
        starts_at=at(tuesday, 10),
        now=now,
    )

    result = session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now)

    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.CANCELLED
    assert appointment.cancelled_at == now
    assert appointment.cancel_reason
    assert appointment.revision == 1
    assert [a.pk for a in result.cancelled_appointments] == [appointment.pk]


def test_session_reschedule_keeps_appointments_still_inside_the_window(clinic, monday, now, course):
    session = first_session(course)
    appointment = window_appointment_book(
        window_id=session.integration_window.pk,
        therapist_id=clinic.therapists[0].pk,
        starts_at=at(monday + days(1), 14),
        now=now,
    )

    result = session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now)

    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.BOOKED
    assert result.cancelled_appointments == []


def test_session_reschedule_of_a_session_not_scheduled_is_refused(monday, now, course):
    session = first_session(course)
    session_cancel(session_id=session.pk, now=now)
    assert_refused(
        lambda: session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now),
        RuleViolation,
        "session_not_scheduled",
        "status",
    )


def test_session_reschedule_refuses_a_naive_datetime(monday, now, course):
    assert_refused(
        lambda: session_reschedule(session_id=first_session(course).pk, starts_at=dt.datetime(2031, 6, 2, 10), now=now),
        InvalidInput,
        "aware_datetime",
        "starts_at",
    )


def test_session_reschedule_of_an_unknown_session_is_not_found(monday, now, course):
    assert_refused(
        lambda: session_reschedule(session_id=10**9, starts_at=at(monday, 10), now=now), NotFound, "exists", "session"
    )


def test_session_reschedule_refuses_a_taken_chair(clinic, monday, now, course):
    course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[1], clinic.clinicians[1], hour=12),
        now=now,
    )
    session = first_session(course)
    assert_refused(
        lambda: session_reschedule(
            session_id=session.pk, starts_at=at(monday, 12), chair_id=clinic.chairs[1].pk, now=now
        ),
        BookingConflict,
        Rule.CHAIR_UNAVAILABLE,
        "starts_at",
    )
    session.refresh_from_db()
    assert (session.starts_at, session.chair_id, session.revision) == (at(monday, 8), clinic.chairs[0].pk, 0)


def test_session_reschedule_refuses_a_time_the_patient_is_busy(clinic, monday, now, course):
    # Onto the patient's own Wednesday session, in the other chair with the other clinician.
    session = first_session(course)
    assert_refused(
        lambda: session_reschedule(
            session_id=session.pk,
            starts_at=at(monday + days(2), 8, 30),
            chair_id=clinic.chairs[1].pk,
            clinician_id=clinic.clinicians[1].pk,
            now=now,
        ),
        BookingConflict,
        Rule.PATIENT_UNAVAILABLE,
        "starts_at",
    )


def test_session_reschedule_refuses_a_closed_day(monday, now, course):
    ClosureDay.objects.create(date=monday + days(1))
    assert_refused(
        lambda: session_reschedule(session_id=first_session(course).pk, starts_at=at(monday + days(1), 8), now=now),
        RuleViolation,
        Rule.CLINIC_CLOSED,
        "starts_at",
    )


def test_session_reschedule_breaking_a_course_rule_is_refused_then_overridden(clinic, monday, now, course):
    # Wednesday's session to Tuesday: 24 h after Monday's, under the protocol's 40 h gap.
    session = course.sessions.get(sequence=2)
    tuesday = at(monday + days(1), 8)

    error = assert_refused(
        lambda: session_reschedule(session_id=session.pk, starts_at=tuesday, now=now),
        RuleViolation,
        Rule.MIN_GAP,
        "starts_at",
    )
    assert [p["rule"] for p in error.details["problems"]] == [Rule.MIN_GAP]
    session.refresh_from_db()
    assert (session.starts_at, session.revision) == (at(monday + days(2), 8), 0)

    clinician = override_user()
    result = session_reschedule(
        session_id=session.pk,
        starts_at=tuesday,
        actor=clinician,
        override_reason="Patient travels on Wednesday",
        now=now,
    )

    session.refresh_from_db()
    assert (session.starts_at, session.revision) == (tuesday, 1)
    assert session.integration_window.opens_at == at(monday + days(2), 9, 40)
    override = RuleOverride.objects.get(session=session)
    assert (override.rule, override.reason, override.authorised_by) == (
        Rule.MIN_GAP,
        "Patient travels on Wednesday",
        clinician,
    )
    assert result.overrides == [override]


def test_session_reschedule_override_needs_the_permission(clinic, monday, now, course):
    session = course.sessions.get(sequence=2)
    assert_refused(
        lambda: session_reschedule(
            session_id=session.pk,
            starts_at=at(monday + days(1), 8),
            actor=clinic.front_desk.user,
            override_reason="Patient travels on Wednesday",
            now=now,
        ),
        NotAllowed,
        "override_not_authorised",
        "override_reason",
    )
    assert_refused(
        lambda: session_reschedule(
            session_id=session.pk, starts_at=at(monday + days(1), 8), override_reason="No one asked", now=now
        ),
        NotAllowed,
        "override_not_authorised",
        "override_reason",
    )
    session.refresh_from_db()
    assert session.revision == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_session_reschedule_override_needs_a_reason(monday, now, course, reason):
    session = course.sessions.get(sequence=2)
    assert_refused(
        lambda: session_reschedule(
            session_id=session.pk,
            starts_at=at(monday + days(1), 8),
            actor=override_user(),
            override_reason=reason,
            now=now,
        ),
        InvalidInput,
        "override_reason_required",
        "override_reason",
    )


def test_session_reschedule_override_does_not_free_a_taken_chair(clinic, monday, now, course):
    course_book(
        patient=other_patient(clinic),
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[1], clinic.clinicians[1]),
        now=now,
    )
    assert_refused(
        lambda: session_reschedule(
            session_id=first_session(course).pk,
            starts_at=at(monday, 8),
            chair_id=clinic.chairs[1].pk,
            actor=override_user(),
            override_reason="Urgent",
            now=now,
        ),
        BookingConflict,
        Rule.CHAIR_UNAVAILABLE,
        "starts_at",
    )


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


# ---------------------------------------------------------------------------------------------
# Maintenance


def test_maintenance_series_is_booked_as_rows_and_moves_the_course_to_maintenance(clinic, monday, now, course):
    first = at(monday + days(28), 9)

    booked = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=first,
        chair_id=clinic.chairs[1].pk,
        clinician_id=clinic.clinicians[1].pk,
        count=3,
        now=now,
    )

    course.refresh_from_db()
    assert course.status == Course.Status.MAINTENANCE
    assert [s.sequence for s in booked] == [7, 8, 9]
    rows = list(TreatmentSession.objects.filter(course=course, phase=TreatmentSession.Phase.MAINTENANCE))
    assert [s.pk for s in rows] == [s.pk for s in booked]
    # The protocol's default interval: every 21 days at 09:00.
    assert [s.local_date for s in rows] == [monday + days(28), monday + days(49), monday + days(70)]
    assert all(s.starts_at.astimezone(CLINIC_ZONE).time() == dt.time(9) for s in rows)
    assert IntegrationWindow.objects.filter(session__in=rows, cancelled_at__isnull=True).count() == 3


def test_maintenance_series_stays_at_nine_across_the_autumn_clock_change(clinic, now, course):
    # 2031-11-02 is the first Sunday of November: New York falls back from EDT to EST.
    booked = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(dt.date(2031, 10, 20), 9),
        chair_id=clinic.chairs[0].pk,
        clinician_id=clinic.clinicians[0].pk,
        rule="FREQ=WEEKLY;BYDAY=MO",
        count=4,
        now=now,
    )

    stored = list(TreatmentSession.objects.filter(pk__in=[s.pk for s in booked]).order_by("starts_at"))
    assert [s.starts_at.astimezone(CLINIC_ZONE).time() for s in stored] == [dt.time(9)] * 4
    assert [s.starts_at.astimezone(UTC).hour for s in stored] == [13, 13, 14, 14]
    assert [s.local_date for s in stored] == [dt.date(2031, 10, 20) + days(7 * i) for i in range(4)]


def test_maintenance_series_at_a_nonexistent_local_time_is_refused(clinic, now, course):
    # 2032-03-14 is the second Sunday of March: 02:30 does not exist in New York that day.
    assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(dt.date(2032, 3, 7), 2, 30),
            chair_id=clinic.chairs[0].pk,
            clinician_id=clinic.clinicians[0].pk,
            interval_days=7,
            count=2,
            now=now,
        ),
        RuleViolation,
        Rule.NONEXISTENT_LOCAL_TIME,
        "first_starts_at",
    )


def test_maintenance_series_with_one_occurrence_on_a_closed_day_books_nothing(clinic, monday, now, course):
    ClosureDay.objects.create(date=monday + days(49))
    assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(28), 9),
            chair_id=clinic.chairs[0].pk,
            clinician_id=clinic.clinicians[0].pk,
            count=3,
            now=now,
        ),
        RuleViolation,
        Rule.CLINIC_CLOSED,
        "first_starts_at",
    )
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED


def test_maintenance_series_needs_a_bound_and_an_active_course(clinic, monday, now, course):
    def book(**extra: Any) -> object:
        return maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(28), 9),
            chair_id=clinic.chairs[0].pk,
            clinician_id=clinic.clinicians[0].pk,
            now=now,
            **extra,
        )

    assert_refused(book, InvalidInput, "series_bounded", "count")
    assert_refused(lambda: book(count=53), InvalidInput, "series_bounded", "count")
    # Bounded by an until date or by the rule itself: still at most 52 sessions, nothing written.
    assert_refused(lambda: book(interval_days=1, until=monday + days(120)), InvalidInput, "series_bounded", "until")
    assert_refused(lambda: book(rule="FREQ=DAILY;COUNT=60"), InvalidInput, "series_bounded", "rule")
    assert not course.sessions.filter(phase=TreatmentSession.Phase.MAINTENANCE).exists()
    course_cancel(course_id=course.pk, reason="Withdrew", now=now)
    assert_refused(lambda: book(count=1), RuleViolation, "course_not_active", "course")


def test_maintenance_series_bounded_by_its_own_rule(clinic, monday, now, course):
    booked = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(monday + days(28), 9),
        chair_id=clinic.chairs[0].pk,
        clinician_id=clinic.clinicians[0].pk,
        rule="FREQ=WEEKLY;INTERVAL=3;COUNT=3",
        now=now,
    )

    assert [s.starts_at for s in booked] == [at(monday + days(28 + 21 * n), 9) for n in range(3)]


@pytest.fixture
def open_sunday_nights(clinic) -> None:
    """Sunday 00:00-06:00 opening, so that a session can run across the 02:00 clock change."""
    ClinicHours.objects.create(weekday=6, opens=dt.time(0), closes=dt.time(6))
    WorkingHours.objects.create(staff=clinic.clinicians[0], weekday=6, starts=dt.time(0), ends=dt.time(6))


def test_maintenance_session_across_the_clock_change_lasts_its_elapsed_minutes(clinic, now, course, open_sunday_nights):
    # 01:00 EDT on 2031-11-02; the clocks fall back at 02:00. 100 minutes later is 01:40 EST.
    booked = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(dt.date(2031, 11, 2), 1),
        chair_id=clinic.chairs[0].pk,
        clinician_id=clinic.clinicians[0].pk,
        count=1,
        now=now,
    )

    session = TreatmentSession.objects.select_related("integration_window").get(pk=booked[0].pk)
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=100)
    assert session.ends_at.astimezone(CLINIC_ZONE).replace(tzinfo=None) == dt.datetime(2031, 11, 2, 1, 40)
    assert session.integration_window.opens_at - session.ends_at == dt.timedelta(hours=24)


def test_session_rescheduled_across_the_clock_change_lasts_its_elapsed_minutes(clinic, now, course, open_sunday_nights):
    maintenance = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(dt.date(2031, 10, 20), 9),
        chair_id=clinic.chairs[0].pk,
        clinician_id=clinic.clinicians[0].pk,
        count=1,
        now=now,
    )[0]

    session_reschedule(session_id=maintenance.pk, starts_at=at(dt.date(2031, 11, 2), 1, 30), now=now)

    maintenance.refresh_from_db()
    assert maintenance.ends_at - maintenance.starts_at == dt.timedelta(minutes=100)
    assert maintenance.local_date == dt.date(2031, 11, 2)


def test_maintenance_session_onto_the_patients_own_session_is_a_conflict(clinic, monday, now, course):
    # Friday of week 2 at 08:00 is the patient's last induction session, in another chair.
    assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(11), 8, 30),
            chair_id=clinic.chairs[1].pk,
            clinician_id=clinic.clinicians[1].pk,
            count=1,
            now=now,
        ),
        BookingConflict,
        Rule.PATIENT_UNAVAILABLE,
        "first_starts_at",
    )


def test_maintenance_session_too_soon_after_induction_breaks_the_min_gap(clinic, monday, now, course):
    # Thursday noon of week 2, between Wednesday's and Friday's 08:00 sessions: 28 h and 20 h.
    error = assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(10), 12),
            chair_id=clinic.chairs[1].pk,
            clinician_id=clinic.clinicians[1].pk,
            count=1,
            now=now,
        ),
        RuleViolation,
        Rule.MIN_GAP,
        "first_starts_at",
    )
    assert [(p["rule"], p["date"]) for p in error.details["problems"]] == [
        (Rule.MIN_GAP, (monday + days(10)).isoformat()),
        (Rule.MIN_GAP, (monday + days(11)).isoformat()),
    ]


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
