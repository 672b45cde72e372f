"""Concurrent bookings on PostgreSQL: one winner per conflict, a clear conflict for the rest.

Each thread has its own database connection and waits at a barrier, so that the requests really
race between the services' checks and their inserts; the exclusion constraints settle the race.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from courses.models import Course
from ketaminecare.errors import BookingConflict, RuleViolation
from sessions.models import TreatmentSession
from sessions.scheduling import Rule
from sessions.services.booking import course_book
from sessions.services.lifecycle import session_hold
from sessions.services.maintenance import maintenance_series_book
from sessions.services.makeup import session_make_up
from sessions.services.proposal import SessionRequest
from tests import factories
from tests.conftest import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
MWF = (0, 2, 4, 7, 9, 11)
ACTIVE = "('scheduled', 'checked_in', 'completed')"
OVERLAPPING_PAIRS = """
    SELECT count(*)
    FROM treatment_sessions_treatmentsession a
    JOIN treatment_sessions_treatmentsession b
      ON a.id < b.id
     AND a.{column} = b.{column}
     AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
    WHERE a.status IN {active} AND b.status IN {active}
"""
EXCLUSION_CONSTRAINTS = {
    "session_no_chair_overlap": "treatment_sessions_treatmentsession",
    "session_no_clinician_overlap": "treatment_sessions_treatmentsession",
    "session_no_patient_overlap": "treatment_sessions_treatmentsession",
    "appointment_no_therapist_overlap": "treatment_sessions_integrationappointment",
}


def requests(monday: dt.date, chair: Any, clinician: Any) -> list[SessionRequest]:
    return [SessionRequest(at(monday + dt.timedelta(days=o), 8), chair.pk, clinician.pk) for o in MWF]


def race(calls: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Run every call in its own thread, all released at once; their results and their errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            result = call()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) + len(errors) == len(calls)
    return results, errors


def overlapping_pairs(column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_PAIRS.format(column=column, active=ACTIVE))
        return int(cursor.fetchone()[0])


def assert_no_overlaps() -> None:
    assert TreatmentSession.objects.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).exists()
    assert {column: overlapping_pairs(column) for column in ("chair_id", "clinician_id", "patient_id")} == {
        "chair_id": 0,
        "clinician_id": 0,
        "patient_id": 0,
    }


def assert_one_winner_rest_conflict(results: list[object], errors: list[BaseException], rule: str) -> None:
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(type(error) is BookingConflict for error in errors), [repr(e) for e in errors]
    assert {error.rule for error in errors if isinstance(error, BookingConflict)} == {rule}


def test_twenty_bookings_of_one_chair_at_one_time_one_wins(monday, now):
    clinic = factories.clinic(chairs=1, clinicians=THREADS)
    patients = [factories.screened_patient(clinician=clinic.clinicians[0]) for _ in range(THREADS)]
    chair = clinic.chairs[0]

    results, errors = race(
        [
            lambda p=patient, c=clinician: course_book(
                patient=p, protocol=clinic.protocol, sessions=requests(monday, chair, c), now=now
            )
            for patient, clinician in zip(patients, clinic.clinicians, strict=True)
        ]
    )

    assert_one_winner_rest_conflict(results, errors, Rule.CHAIR_UNAVAILABLE)
    assert Course.objects.count() == 1
    assert TreatmentSession.objects.filter(chair=chair).count() == len(MWF)
    assert_no_overlaps()


def test_twenty_bookings_of_one_clinician_in_different_chairs_one_wins(monday, now):
    clinic = factories.clinic(chairs=THREADS, clinicians=1)
    patients = [factories.screened_patient(clinician=clinic.clinicians[0]) for _ in range(THREADS)]
    clinician = clinic.clinicians[0]

    results, errors = race(
        [
            lambda p=patient, c=chair: course_book(
                patient=p, protocol=clinic.protocol, sessions=requests(monday, c, clinician), now=now
            )
            for patient, chair in zip(patients, clinic.chairs, strict=True)
        ]
    )

    assert_one_winner_rest_conflict(results, errors, Rule.CLINICIAN_UNAVAILABLE)
    assert TreatmentSession.objects.filter(clinician=clinician).count() == len(MWF)
    assert_no_overlaps()


def test_twenty_maintenance_bookings_for_one_patient_in_different_chairs_one_wins(monday, now):
    clinic = factories.clinic(chairs=THREADS, clinicians=THREADS)
    patient = factories.screened_patient(clinician=clinic.clinicians[0])
    course = course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )
    when = at(monday + dt.timedelta(days=28), 9)

    results, errors = race(
        [
            lambda ch=chair, cl=clinician: maintenance_series_book(
                course_id=course.pk, first_starts_at=when, chair_id=ch.pk, clinician_id=cl.pk, count=1, now=now
            )
            for chair, clinician in zip(clinic.chairs, clinic.clinicians, strict=True)
        ]
    )

    assert_one_winner_rest_conflict(results, errors, Rule.PATIENT_UNAVAILABLE)
    assert TreatmentSession.objects.filter(patient=patient, starts_at=when).count() == 1
    assert_no_overlaps()


def test_twenty_make_ups_of_one_held_session_book_one(monday, now):
    clinic = factories.clinic(chairs=THREADS, clinicians=THREADS)
    patient = factories.screened_patient(clinician=clinic.clinicians[0])
    course = course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )
    held = course.sessions.get(sequence=1)
    session_hold(session_id=held.pk, reason="BP 170/104", now=now)
    when = at(monday + dt.timedelta(days=14), 9)

    results, errors = race(
        [
            lambda ch=chair, cl=clinician: session_make_up(
                session_id=held.pk, starts_at=when, chair_id=ch.pk, clinician_id=cl.pk, now=now
            )
            for chair, clinician in zip(clinic.chairs, clinic.clinicians, strict=True)
        ]
    )

    # The course lock serialises them: the first books, the others find its make-up.
    assert len(results) == 1, errors
    assert all(type(error) is RuleViolation for error in errors), [repr(e) for e in errors]
    assert {error.rule for error in errors if isinstance(error, RuleViolation)} == {Rule.MAKE_UP_EXISTS}
    assert TreatmentSession.objects.filter(make_up_for=held).count() == 1
    assert_no_overlaps()


def test_twenty_course_bookings_for_one_patient_book_one_course(monday, now):
    clinic = factories.clinic(chairs=THREADS, clinicians=THREADS)
    patient = factories.screened_patient(clinician=clinic.clinicians[0])

    results, errors = race(
        [
            lambda ch=chair, cl=clinician: course_book(
                patient=patient, protocol=clinic.protocol, sessions=requests(monday, ch, cl), now=now
            )
            for chair, clinician in zip(clinic.chairs, clinic.clinicians, strict=True)
        ]
    )

    # The patient's row lock serialises the bookings: the others see the first course.
    assert len(results) == 1
    assert all(type(error) is RuleViolation for error in errors), [repr(e) for e in errors]
    assert {error.rule for error in errors if isinstance(error, RuleViolation)} == {"one_active_course"}
    assert Course.objects.filter(patient=patient).count() == 1
    assert_no_overlaps()


def test_the_four_exclusion_constraints_exist_in_pg_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE contype = 'x' AND conname = ANY(%s)",
            [list(EXCLUSION_CONSTRAINTS)],
        )
        found = dict(cursor.fetchall())
    assert found == EXCLUSION_CONSTRAINTS


@pytest.mark.parametrize(
    ("shared", "constraint"),
    [
        ("chair", "session_no_chair_overlap"),
        ("clinician", "session_no_clinician_overlap"),
        ("patient", "session_no_patient_overlap"),
    ],
)
def test_database_refuses_an_overlapping_active_session_written_past_the_services(monday, shared, constraint):
    clinic = factories.clinic(chairs=2, clinicians=2)
    first = factories.TreatmentSessionFactory(
        course__protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(monday, 8),
    )
    fields: dict[str, Any] = {
        "course__protocol": clinic.protocol,
        "chair": clinic.chairs[1],
        "clinician": clinic.clinicians[1],
        "starts_at": at(monday, 9),
    }
    if shared == "chair":
        fields["chair"] = first.chair
    elif shared == "clinician":
        fields["clinician"] = first.clinician
    else:
        # The same patient in another course: only the patient's constraint can see it.
        fields["course__patient"] = first.patient
        fields["course__status"] = Course.Status.COMPLETED

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        factories.TreatmentSessionFactory(**fields)

    # A cancelled session keeps no time: the same row is accepted.
    factories.TreatmentSessionFactory(**fields, status=TreatmentSession.Status.CANCELLED)
    assert_no_overlaps()
