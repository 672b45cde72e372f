"""Maintenance series: rows on the clinic's wall clock, checked like any session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import ClosureDay
from courses.models import Course
from ketaminecare.errors import (
    BookingConflict,
    InvalidInput,
    RuleViolation,
)
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.scheduling import Rule
from sessions.services.lifecycle import (
    course_cancel,
    session_cancel,
    session_hold,
)
from sessions.services.maintenance import maintenance_series_book
from tests.conftest import CLINIC_ZONE, at
from tests.sessions.services.booking_data import (
    UTC,
    assert_refused,
    days,
)

pytestmark = pytest.mark.django_db


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


def test_maintenance_session_onto_the_patients_own_session_is_a_conflict(clinic, monday, now, course):
    # The patient's own maintenance session at 09:00, in another chair with another clinician.
    maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(monday + days(28), 9),
        chair_id=clinic.chairs[0].pk,
        clinician_id=clinic.clinicians[0].pk,
        count=1,
        now=now,
    )
    assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(28), 9, 30),
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
    # Friday of week 2 cancelled: the last induction session is Wednesday's at 08:00 (five left,
    # the minimum is four). Thursday noon is 28 h after it; the protocol asks for 40 h.
    last = course.sessions.get(sequence=6)
    session_cancel(session_id=last.pk, now=now)
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
    ]


# ---------------------------------------------------------------------------------------------
# Maintenance follows induction


def test_maintenance_series_on_a_course_without_its_induction_booked_is_refused(clinic, monday, now, course):
    # Three of the six induction sessions cancelled: three booked, the protocol's minimum is four.
    for session in course.sessions.filter(sequence__gte=4):
        session_cancel(session_id=session.pk, now=now)
    error = assert_refused(
        lambda: maintenance_series_book(
            course_id=course.pk,
            first_starts_at=at(monday + days(28), 9),
            chair_id=clinic.chairs[1].pk,
            clinician_id=clinic.clinicians[1].pk,
            count=2,
            now=now,
        ),
        RuleViolation,
        Rule.MAINTENANCE_BEFORE_INDUCTION,
        "course",
    )
    assert error.details == {"booked": 3, "minimum": 4}
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED


def test_maintenance_series_starting_before_the_last_induction_session_is_refused(clinic, monday, now, course):
    # Thursday of week 2, before Friday's last induction session.
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
        Rule.MAINTENANCE_BEFORE_INDUCTION,
        "first_starts_at",
    )
    last = course.sessions.get(sequence=6)
    assert error.details == {"last_induction_ends_at": last.ends_at.isoformat()}


def test_maintenance_series_after_a_held_induction_session_counts_it_as_booked(clinic, monday, now, course):
    # Held is not cancelled: the session was booked and is on the record; four of six remain booked.
    sessions = list(course.sessions.order_by("sequence"))
    session_hold(session_id=sessions[0].pk, reason="BP 170/100", now=at(monday, 8, 5))
    session_cancel(session_id=sessions[4].pk, now=now)
    session_cancel(session_id=sessions[5].pk, now=now)

    booked = maintenance_series_book(
        course_id=course.pk,
        first_starts_at=at(monday + days(28), 9),
        chair_id=clinic.chairs[1].pk,
        clinician_id=clinic.clinicians[1].pk,
        count=1,
        now=now,
    )

    assert [s.phase for s in booked] == [TreatmentSession.Phase.MAINTENANCE]
