"""Working hours and time off changed under bookings: refused, or accepted with the bookings to move.

A clinician's sessions and a therapist's appointments were booked while the person worked and
was not off; a later change to that time must not leave them behind unnoticed.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
from django.db import connection

from clinic.models import TimeOff, WorkingHours
from courses.models import Course
from ketaminecare.errors import BookingConflict, InvalidInput, RuleViolation
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.scheduling import Rule
from sessions.services.booking import course_book
from sessions.services.integration import window_appointment_book
from sessions.services.proposal import SessionRequest
from sessions.services.reschedule import session_reschedule
from sessions.services.staff_bookings import bookings_outside_availability
from sessions.services.staff_time import (
    RULE,
    time_off_change,
    time_off_record,
    working_hours_add,
    working_hours_change,
    working_hours_remove,
)
from tests import factories
from tests.conftest import at
from tests.sessions.test_concurrency import race

pytestmark = pytest.mark.django_db

MWF = (0, 2, 4, 7, 9, 11)  # two weeks of Monday, Wednesday, Friday


def book(clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime) -> Course:
    """Six sessions at 08:00 with the first clinician, Monday to the second Friday."""
    sessions = [
        SessionRequest(at(monday + dt.timedelta(days=o), 8), clinic.chairs[0].pk, clinic.clinicians[0].pk) for o in MWF
    ]
    return course_book(patient=patient, protocol=clinic.protocol, sessions=sessions, now=now)


def session_on(course: Course, day: dt.date) -> TreatmentSession:
    return course.sessions.get(local_date=day)


def refused(call: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call()
    assert caught.value.rule == RULE
    assert caught.value.http_status == 409
    return caught.value


def listed(error: RuleViolation) -> list[tuple[str, int]]:
    return [(b["type"], b["id"]) for b in error.details["bookings"]]


# ---------------------------------------------------------------------------------------------
# Time off


def test_time_off_over_a_booked_session_is_refused_and_writes_nothing(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]

    error = refused(
        lambda: time_off_record(
            staff_id=clinician.pk, starts_at=at(monday, 7), ends_at=at(monday, 12), reason="Sick", now=now
        )
    )

    assert listed(error) == [("session", session_on(course, monday).pk)]
    assert error.field == "staff"
    assert not TimeOff.objects.exists()


def test_time_off_accepted_over_bookings_is_recorded_and_lists_exactly_them(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]

    # Monday to Wednesday noon: the Monday and Wednesday sessions, not Friday's.
    change = time_off_record(
        staff_id=clinician.pk,
        starts_at=at(monday, 0),
        ends_at=at(monday + dt.timedelta(days=2), 12),
        reason="Sick",
        accept_conflicts=True,
        now=now,
    )

    assert TimeOff.objects.get() == change.instance
    days = [monday, monday + dt.timedelta(days=2)]
    assert [(b.kind, b.id) for b in change.bookings_to_move] == [
        ("session", session_on(course, day).pk) for day in days
    ]


def test_time_off_clear_of_bookings_is_recorded_with_nothing_to_move(clinic, patient, monday, now):
    book(clinic, patient, monday, now)

    # The session runs 08:00 to 09:40: time off from 09:40 touches it without overlapping.
    change = time_off_record(
        staff_id=clinic.clinicians[0].pk, starts_at=at(monday, 9, 40), ends_at=at(monday, 18), now=now
    )

    assert change.bookings_to_move == []
    assert TimeOff.objects.count() == 1


def test_a_booking_already_outside_is_not_blamed_on_a_later_change(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]
    time_off_record(
        staff_id=clinician.pk, starts_at=at(monday, 7), ends_at=at(monday, 12), accept_conflicts=True, now=now
    )

    # Another day off, on a Tuesday with no session: nothing new is left behind, so no refusal.
    tuesday = monday + dt.timedelta(days=1)
    change = time_off_record(staff_id=clinician.pk, starts_at=at(tuesday, 8), ends_at=at(tuesday, 18), now=now)

    assert change.bookings_to_move == []
    assert [b.id for b in bookings_outside_availability(clinician, now=now)] == [session_on(course, monday).pk]


def test_sessions_already_over_do_not_count(clinic, patient, monday, now):
    book(clinic, patient, monday, now)
    later = at(monday, 10)  # Monday's session ended at 09:40

    change = time_off_record(
        staff_id=clinic.clinicians[0].pk, starts_at=at(monday, 7), ends_at=at(monday, 12), now=later
    )

    assert change.bookings_to_move == []


def test_moving_time_off_onto_a_session_is_refused_and_leaves_it_where_it_was(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]
    tuesday = monday + dt.timedelta(days=1)
    off = time_off_record(staff_id=clinician.pk, starts_at=at(tuesday, 7), ends_at=at(tuesday, 12), now=now).instance

    error = refused(
        lambda: time_off_change(
            time_off_id=off.pk, changes={"starts_at": at(monday, 7), "ends_at": at(monday, 12)}, now=now
        )
    )

    assert listed(error) == [("session", session_on(course, monday).pk)]
    off.refresh_from_db()
    assert off.starts_at == at(tuesday, 7)


def test_time_off_for_a_therapist_over_an_appointment(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = session_on(course, monday)
    tuesday = monday + dt.timedelta(days=1)
    appointment = window_appointment_book(
        window_id=session.integration_window.pk,
        therapist_id=clinic.therapists[0].pk,
        starts_at=at(tuesday, 10),
        now=now,
    )

    error = refused(
        lambda: time_off_record(
            staff_id=clinic.therapists[0].pk, starts_at=at(tuesday, 9), ends_at=at(tuesday, 17), now=now
        )
    )

    assert listed(error) == [("appointment", appointment.pk)]
    assert IntegrationAppointment.objects.get(pk=appointment.pk).status == IntegrationAppointment.Status.BOOKED


def test_inverted_time_off_is_a_400_naming_the_field(clinic, now, monday):
    with pytest.raises(InvalidInput) as caught:
        time_off_record(staff_id=clinic.clinicians[0].pk, starts_at=at(monday, 12), ends_at=at(monday, 9), now=now)
    assert (caught.value.field, caught.value.rule) == ("ends_at", "ends_after_start")


# ---------------------------------------------------------------------------------------------
# Working hours


def block(staff: Any, weekday: int) -> WorkingHours:
    return WorkingHours.objects.get(staff=staff, weekday=weekday)


def test_shortening_a_day_under_a_session_is_refused(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    monday_block = block(clinic.clinicians[0], 0)

    error = refused(lambda: working_hours_change(block_id=monday_block.pk, changes={"starts": dt.time(10)}, now=now))

    assert listed(error) == [("session", s.pk) for s in course.sessions.filter(local_date__week_day=2)]
    monday_block.refresh_from_db()
    assert monday_block.starts == dt.time(8)


def test_removing_a_day_lists_every_session_on_it_once_accepted(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    wednesday_block = block(clinic.clinicians[0], 2)

    refused(lambda: working_hours_remove(block_id=wednesday_block.pk, now=now))
    assert WorkingHours.objects.filter(pk=wednesday_block.pk).exists()

    change = working_hours_remove(block_id=wednesday_block.pk, accept_conflicts=True, now=now)

    wednesdays = [monday + dt.timedelta(days=2), monday + dt.timedelta(days=9)]
    assert [b.id for b in change.bookings_to_move] == [session_on(course, day).pk for day in wednesdays]
    assert not WorkingHours.objects.filter(pk=wednesday_block.pk).exists()


def test_adding_hours_never_refuses_but_an_overlapping_block_is_a_400(clinic, patient, monday, now):
    book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]

    change = working_hours_add(staff_id=clinician.pk, weekday=5, starts=dt.time(9), ends=dt.time(13), now=now)
    assert change.bookings_to_move == []

    with pytest.raises(InvalidInput) as caught:
        working_hours_add(staff_id=clinician.pk, weekday=5, starts=dt.time(12), ends=dt.time(15), now=now)
    assert caught.value.rule == "working_hours_overlap"
    assert WorkingHours.objects.filter(staff=clinician, weekday=5).count() == 1


# ---------------------------------------------------------------------------------------------
# Through the API


def test_the_api_answers_409_with_the_bookings_then_201_when_accepted(clinic, patient, monday, now, client):
    course = book(clinic, patient, monday, now)
    client.force_login(clinic.front_desk.user)
    body = {
        "staff": clinic.clinicians[0].pk,
        "starts_at": at(monday, 7).isoformat(),
        "ends_at": at(monday, 12).isoformat(),
        "reason": "Sick",
    }

    first = client.post("/api/v1/time-off/", body, content_type="application/json")

    assert first.status_code == 409
    assert first.json()["rule"] == RULE
    assert first.json()["field"] == "staff"
    session = session_on(course, monday)
    assert [b["id"] for b in first.json()["details"]["bookings"]] == [session.pk]
    assert not TimeOff.objects.exists()

    second = client.post("/api/v1/time-off/", {**body, "accept_conflicts": True}, content_type="application/json")

    assert second.status_code == 201
    assert [(b["type"], b["id"]) for b in second.json()["bookings_to_move"]] == [("session", session.pk)]
    assert "accept_conflicts" not in second.json()
    assert TimeOff.objects.count() == 1


def test_the_bookings_left_to_move_can_be_listed_again_later(clinic, patient, monday, now, client):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]
    time_off_record(
        staff_id=clinician.pk, starts_at=at(monday, 7), ends_at=at(monday, 12), accept_conflicts=True, now=now
    )
    path = f"/api/v1/staff/{clinician.pk}/bookings-to-move/"
    client.force_login(clinic.front_desk.user)

    listed_now = client.get(path)  # the real clock: the test's sessions are years ahead

    assert listed_now.status_code == 200
    assert [(b["type"], b["id"]) for b in listed_now.json()] == [("session", session_on(course, monday).pk)]
    client.force_login(clinic.therapists[0].user)
    assert client.get(path).status_code == 403


def test_the_clinic_wide_list_has_every_person_s_bookings_to_move_in_a_fixed_number_of_queries(
    clinic, patient, monday, now, client, django_assert_num_queries
):
    course = book(clinic, patient, monday, now)
    clinician, therapist = clinic.clinicians[0], clinic.therapists[0]
    tuesday = monday + dt.timedelta(days=1)
    appointment = window_appointment_book(
        window_id=session_on(course, monday).integration_window.pk,
        therapist_id=therapist.pk,
        starts_at=at(tuesday, 10),
        now=now,
    )
    for person, day in ((clinician, monday), (therapist, tuesday)):
        time_off_record(staff_id=person.pk, starts_at=at(day, 7), ends_at=at(day, 18), accept_conflicts=True, now=now)
    client.force_login(clinic.front_desk.user)

    # The login session, the user and their groups; then one query each for the staff, their
    # sessions, their appointments, their hours and their time off, whatever their number; then
    # the audit row naming the patients listed (the insert: the roles were read once already).
    with django_assert_num_queries(9):
        answer = client.get("/api/v1/staff/bookings-to-move/")

    assert answer.status_code == 200
    assert [(b["type"], b["id"], b["staff"]) for b in answer.json()] == [
        ("session", session_on(course, monday).pk, clinician.pk),
        ("appointment", appointment.pk, therapist.pk),
    ]


def test_the_api_removes_a_day_of_hours_only_when_told_to(clinic, patient, monday, now, client):
    book(clinic, patient, monday, now)
    client.force_login(clinic.front_desk.user)
    path = f"/api/v1/working-hours/{block(clinic.clinicians[0], 4).pk}/"

    assert client.delete(path).status_code == 409
    answer = client.delete(path + "?accept_conflicts=true")

    assert answer.status_code == 200
    assert len(answer.json()["bookings_to_move"]) == 2  # both Fridays
    assert client.delete(f"/api/v1/working-hours/{block(clinic.clinicians[0], 3).pk}/").status_code == 204


# ---------------------------------------------------------------------------------------------
# A booking and a change of the same person's time, at once (PostgreSQL)

BOOKED_IN_TIME_OFF = """
    SELECT
      (SELECT count(*) FROM treatment_sessions_treatmentsession b
         JOIN treatment_sessions_timeoff t ON t.staff_id = b.clinician_id
          AND tstzrange(t.starts_at, t.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE b.status IN ('scheduled', 'checked_in'))
    + (SELECT count(*) FROM treatment_sessions_integrationappointment b
         JOIN treatment_sessions_timeoff t ON t.staff_id = b.therapist_id
          AND tstzrange(t.starts_at, t.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE b.status = 'booked')
"""
RACE_DAYS = 8


def one_session_protocol() -> Any:
    return factories.ProtocolFactory(
        weekly_cadence=[1],
        induction_sessions_min=1,
        induction_sessions_max=1,
        induction_span_min_days=0,
        induction_span_max_days=0,
    )


def weekdays(monday: dt.date, count: int, *, last_weekday: int = 4) -> list[dt.date]:
    """The first ``count`` days from ``monday`` whose weekday is at most ``last_weekday``."""
    found: list[dt.date] = []
    day = monday
    while len(found) < count:
        if day.weekday() <= last_weekday:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


def booked_alone(clinic: factories.Clinic, protocol: Any, day: dt.date, now: dt.datetime) -> Course:
    patient = factories.screened_patient(clinician=clinic.clinicians[0])
    request = SessionRequest(at(day, 8), clinic.chairs[0].pk, clinic.clinicians[0].pk)
    return course_book(patient=patient, protocol=protocol, sessions=[request], now=now)


def contest_course_book(clinic: factories.Clinic, monday: dt.date, now: dt.datetime) -> list[tuple[Any, Any]]:
    """Booking a session on a day, against that day off for its clinician."""
    protocol, clinician = one_session_protocol(), clinic.clinicians[0]
    pairs = []
    for day in weekdays(monday, RACE_DAYS):
        patient = factories.screened_patient(clinician=clinician)
        request = SessionRequest(at(day, 10), clinic.chairs[0].pk, clinician.pk)
        pairs.append(
            (
                partial(course_book, patient=patient, protocol=protocol, sessions=[request], now=now),
                partial(time_off_record, staff_id=clinician.pk, starts_at=at(day, 7), ends_at=at(day, 18), now=now),
            )
        )
    return pairs


def contest_session_reschedule(clinic: factories.Clinic, monday: dt.date, now: dt.datetime) -> list[tuple[Any, Any]]:
    """Moving a session (booked three weeks later) onto a day, against that day off."""
    protocol, clinician = one_session_protocol(), clinic.clinicians[0]
    pairs = []
    for day in weekdays(monday, RACE_DAYS):
        session = booked_alone(clinic, protocol, day + dt.timedelta(days=21), now).sessions.get()
        pairs.append(
            (
                partial(session_reschedule, session_id=session.pk, starts_at=at(day, 10), now=now),
                partial(time_off_record, staff_id=clinician.pk, starts_at=at(day, 7), ends_at=at(day, 18), now=now),
            )
        )
    return pairs


def contest_appointment_book(clinic: factories.Clinic, monday: dt.date, now: dt.datetime) -> list[tuple[Any, Any]]:
    """Booking a therapist in a session's window (the next day), against that day off for them."""
    protocol, therapist = one_session_protocol(), clinic.therapists[0]
    pairs = []
    for day in weekdays(monday, RACE_DAYS, last_weekday=3):  # the window's day is a working day
        window = booked_alone(clinic, protocol, day, now).sessions.get().integration_window
        after = day + dt.timedelta(days=1)
        pairs.append(
            (
                partial(
                    window_appointment_book,
                    window_id=window.pk,
                    therapist_id=therapist.pk,
                    starts_at=at(after, 10),
                    now=now,
                ),
                partial(time_off_record, staff_id=therapist.pk, starts_at=at(after, 9), ends_at=at(after, 17), now=now),
            )
        )
    return pairs


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("contest", "booking_refused_by"),
    [
        (contest_course_book, Rule.CLINICIAN_UNAVAILABLE),
        (contest_session_reschedule, Rule.CLINICIAN_UNAVAILABLE),
        (contest_appointment_book, "therapist_hours"),
    ],
    ids=["course_book", "session_reschedule", "appointment_book"],
)
def test_a_booking_and_time_off_racing_for_one_person_never_both_win(monday, now, contest, booking_refused_by):
    clinic = factories.clinic()
    pairs = contest(clinic, monday, now)
    time_off_before = TimeOff.objects.count()

    results, errors = race([call for pair in pairs for call in pair])

    # For each day one of the two won: the booking (the time off then refused, naming it) or the
    # time off (the booking then refused: the person is off).
    assert len(results) == len(pairs), errors
    for error in errors:
        assert isinstance(error, RuleViolation | BookingConflict), repr(error)
        assert error.rule in {RULE, booking_refused_by}, error.rule
    recorded = TimeOff.objects.count() - time_off_before
    assert recorded == sum(1 for e in errors if e.rule == booking_refused_by)  # each day off won against a booking
    assert len(pairs) - recorded == sum(1 for e in errors if e.rule == RULE)  # each booking won against a day off
    with connection.cursor() as cursor:
        cursor.execute(BOOKED_IN_TIME_OFF)
        assert cursor.fetchone()[0] == 0
