"""Making up a missed session: a new session of the same course for one held or not attended."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max

from courses.models import Course
from ketaminecare.errors import RuleViolation
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import TreatmentSession
from sessions.scheduling import CourseRules, course_rule_problems, slot_problems
from sessions.selectors import clinic_state_between, clinic_zone
from sessions.services.common import (
    booking_transaction,
    lock_staff_for_booking,
    now_or,
    problems_error,
    protocol_rules,
    raise_slot_problems,
    require_aware,
    retry_on_deadlock,
)
from sessions.services.minimum import course_minimum_mark
from sessions.services.proposal import current_screening
from sessions.services.rows import NewSession, resources_require, session_locked, sessions_create

MISSED = frozenset({TreatmentSession.Status.HELD, TreatmentSession.Status.NO_SHOW})
MSG_NOT_MISSED = "Only a held or no-show session can be made up; a {status} session cannot."
MSG_MADE_UP = "The session already has a make-up session booked."
MSG_COURSE_OVER = "The course is not active."


def _missed_session(session: TreatmentSession) -> None:
    """Refuse a session that was not missed, one already made up, or one of a course that is over."""
    if session.status not in MISSED:
        raise RuleViolation(
            MSG_NOT_MISSED.format(status=session.get_status_display().lower()),
            rule=Rule.MAKE_UP_NOT_MISSED,
            field="status",
        )
    if session.course.status not in Course.ACTIVE_STATUSES:
        raise RuleViolation(MSG_COURSE_OVER, rule=Rule.COURSE_NOT_ACTIVE, field="course")
    if session.make_ups.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).exists():
        raise RuleViolation(MSG_MADE_UP, rule=Rule.MAKE_UP_EXISTS, field="session")


def _spacing_check(course: Course, starts_at: dt.datetime, *, rules: CourseRules) -> None:
    """Refuse a start too close to another live session of the course, or on the same day as one."""
    zone = clinic_zone()
    existing = list(
        course.sessions.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).values_list("starts_at", flat=True)
    )
    # Spacing only (the gap, one a day): a make-up replaces a session the count and span already had.
    problems = course_rule_problems([*existing, starts_at], rules, zone, induction=False)
    if problems:
        raise problems_error(problems, conflict=False, field="starts_at")


@retry_on_deadlock
def session_make_up(
    *,
    session_id: int,
    starts_at: dt.datetime,
    chair_id: int | None = None,
    clinician_id: int | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> TreatmentSession:
    """Book a scheduled session in the same course for a held or no-show one, linked back to it.

    The missed session stays as it is: it is the record of what happened. The new one, of the same
    phase and numbered after the course's last, takes the missed one's chair and clinician unless
    others are given, and passes the rules of any booking: the chair, the clinician and the patient
    free, the clinic open, the course's gap and one session a day, a screening still valid on its
    day. Locks the course, then the session; clears the course's "induction incomplete" mark when
    the count is back. Sends ``course_booked`` inside the transaction (reminders and the booking
    notice are written with it).
    """
    now = now_or(now)
    require_aware(starts_at, "starts_at")
    zone = clinic_zone()
    day = starts_at.astimezone(zone).date()
    with booking_transaction():
        missed = session_locked(session_id)
        _missed_session(missed)
        course = missed.course
        protocol = course.protocol
        current_screening(course.patient, on=day, today=now.astimezone(zone).date())
        chair_id = chair_id or missed.chair_id
        clinician_id = clinician_id or missed.clinician_id
        resources_require(chair_id, clinician_id)
        lock_staff_for_booking([clinician_id])
        rules = protocol_rules(protocol)
        state = clinic_state_between(first=day, last=day, now=now)
        raise_slot_problems(
            slot_problems(
                state,
                start=starts_at,
                end=starts_at.astimezone(dt.UTC) + rules.session_length,
                chair_id=chair_id,
                clinician_id=clinician_id,
                patient_id=course.patient_id,
            ),
            field="starts_at",
        )
        _spacing_check(course, starts_at, rules=rules)
        last_sequence = course.sessions.aggregate(last=Max("sequence"))["last"] or 0
        (made_up,) = sessions_create(
            course=course,
            first_sequence=last_sequence + 1,
            phase=missed.phase,
            sessions=[NewSession(starts_at, chair_id, clinician_id, make_up_for_id=missed.pk)],
            protocol=protocol,
        )
        course_minimum_mark(course, now=now)
        signals.course_booked.send(sender=Course, course=course, now=now, actor=actor)
    return made_up
