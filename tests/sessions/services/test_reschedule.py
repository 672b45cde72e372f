"""Rescheduling a session: the window follows, taken time is refused, a rule may be overridden."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ClosureDay, TimeOff
from ketaminecare.errors import (
    BookingConflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from reminders.models import Reminder
from sessions.models import IntegrationAppointment, RuleOverride
from sessions.scheduling import Rule
from sessions.services.booking import course_book
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import (
    session_cancel,
)
from sessions.services.maintenance import maintenance_series_book
from sessions.services.reschedule import session_reschedule
from tests.conftest import at
from tests.sessions.services.booking_data import (
    assert_refused,
    days,
    first_session,
    other_patient,
    override_user,
    requests,
)

pytestmark = pytest.mark.django_db


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


def _tuesday_appointment(clinic, session, monday, now):
    return window_appointment_book(
        window_id=session.integration_window.pk,
        therapist_id=clinic.therapists[0].pk,
        starts_at=at(monday + days(1), 10),
        now=now,
    )


def test_an_appointment_the_moved_window_no_longer_holds_moves_with_the_session(clinic, monday, now, course):
    session = first_session(course)
    appointment = _tuesday_appointment(clinic, session, monday, now)
    offset = at(monday, 10) - session.starts_at

    result = session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now)

    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.BOOKED
    assert appointment.starts_at == at(monday + days(1), 10) + offset  # the session's offset
    assert appointment.revision == 1
    assert [a.pk for a in result.moved_appointments] == [appointment.pk]
    assert result.cancelled_appointments == []
    window = session.integration_window
    window.refresh_from_db()
    assert window.opens_at <= appointment.starts_at and appointment.ends_at <= window.closes_at
    # Its reminders follow it (the outbox replans the window's appointments with the session).
    live = Reminder.objects.filter(appointment=appointment, status__in=Reminder.LIVE_STATUSES)
    assert live.exists()
    assert set(live.values_list("anchor_at", flat=True)) == {appointment.starts_at}


def test_an_appointment_whose_therapist_is_not_free_at_the_new_time_is_cancelled(clinic, monday, now, course):
    session = first_session(course)
    appointment = _tuesday_appointment(clinic, session, monday, now)
    offset = at(monday, 10) - session.starts_at
    TimeOff.objects.create(
        staff=clinic.therapists[0],
        starts_at=appointment.starts_at + offset,
        ends_at=appointment.ends_at + offset,
        reason="Training",
    )

    result = session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now)

    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.CANCELLED
    assert appointment.cancelled_at == now
    assert "not free" in appointment.cancel_reason
    assert appointment.revision == 1
    assert [a.pk for a in result.cancelled_appointments] == [appointment.pk]
    assert result.moved_appointments == []


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
