"""Booking maintenance: a series of sessions on the clinic's wall clock, added to a course."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max

from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import InvalidInput, NotFound, RuleViolation
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import TreatmentSession
from sessions.scheduling import (
    CourseRules,
    NonexistentLocalTime,
    Problem,
    SeriesTooLong,
    course_rule_problems,
    rrule_parts,
    rule_is_bounded,
    slot_problems,
    wall_clock_series,
)
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
from sessions.services.rows import NewSession, resources_require, sessions_create

MAX_SERIES = 52  # maintenance sessions booked in one series
MSG_SERIES_SIZE = f"A series has 1 to {MAX_SERIES} sessions."
MSG_SERIES_UNBOUNDED = "A series needs a count or an end date (or a COUNT or UNTIL in its rule)."
MSG_SERIES_BOUNDED_TWICE = "The rule has its own COUNT or UNTIL: give no count or until besides."

MSG_INDUCTION_NOT_BOOKED = (
    "Maintenance follows induction: the course has {booked} induction sessions booked; its protocol asks "
    "for at least {minimum} before a maintenance series."
)
MSG_BEFORE_INDUCTION_ENDS = "Maintenance follows induction: the series would start before the last induction session."

# A course takes maintenance sessions until it is over.
OPEN_STATUSES = (Course.Status.PLANNED, Course.Status.INDUCTION, Course.Status.MAINTENANCE)


def _series_request_check(*, rule: str | None, count: int | None, until: dt.date | None) -> None:
    """Refuse a recurrence that is malformed, unbounded, too long or bounded twice."""
    if rule:
        try:
            rrule_parts(rule)
        except ValueError as exc:
            raise InvalidInput(f"The recurrence: {exc}.", field="rule", rule=Rule.RECURRENCE_INVALID) from exc
    if count is None and until is None and not rule_is_bounded(rule):
        raise InvalidInput(MSG_SERIES_UNBOUNDED, field="count", rule=Rule.SERIES_BOUNDED)
    if count is not None and not 1 <= count <= MAX_SERIES:
        raise InvalidInput(MSG_SERIES_SIZE, field="count", rule=Rule.SERIES_BOUNDED)
    if rule_is_bounded(rule) and (count is not None or until is not None):
        raise InvalidInput(MSG_SERIES_BOUNDED_TWICE, field="rule", rule=Rule.SERIES_BOUNDED)


def _course_for_maintenance(course_id: int) -> Course:
    """The course, locked with its protocol; refused once it is over."""
    course = Course.objects.select_for_update().select_related("protocol").filter(pk=course_id).first()
    if course is None:
        raise NotFound("No such course.", field="course", rule=Rule.EXISTS)
    if course.status not in OPEN_STATUSES:
        raise RuleViolation("The course is not active.", rule=Rule.COURSE_NOT_ACTIVE, field="course")
    return course


def _induction_before(course: Course, first_start: dt.datetime) -> None:
    """Refuse a series on a course whose induction is not booked, or that starts before it ends.

    Booked means not cancelled (a held or no-show session was booked and is on the record); the
    protocol's minimum count of them, and the series' first session after the last of them.
    """
    induction = course.sessions.filter(phase=TreatmentSession.Phase.INDUCTION).exclude(
        status=TreatmentSession.Status.CANCELLED
    )
    booked = induction.count()
    minimum = int(course.protocol.induction_sessions_min)
    if booked < minimum:
        raise RuleViolation(
            MSG_INDUCTION_NOT_BOOKED.format(booked=booked, minimum=minimum),
            rule=Rule.MAINTENANCE_BEFORE_INDUCTION,
            field="course",
            details={"booked": booked, "minimum": minimum},
        )
    last_end = induction.aggregate(last=Max("ends_at"))["last"]
    if last_end is not None and first_start < last_end:
        raise RuleViolation(
            MSG_BEFORE_INDUCTION_ENDS,
            rule=Rule.MAINTENANCE_BEFORE_INDUCTION,
            field="first_starts_at",
            details={"last_induction_ends_at": last_end.isoformat()},
        )


def _series_starts(
    *,
    first_starts_at: dt.datetime,
    zone: ZoneInfo,
    protocol: TreatmentProtocol,
    interval_days: int | None,
    rule: str | None,
    count: int | None,
    until: dt.date | None,
) -> list[dt.datetime]:
    """The series' starts on the clinic's wall clock (the protocol's interval by default)."""
    try:
        starts = wall_clock_series(
            first=first_starts_at,
            zone=zone,
            interval_days=interval_days or (None if rule else protocol.maintenance_interval_days),
            rule=rule,
            count=count,
            until=until,
            limit=MAX_SERIES,
        )
    except NonexistentLocalTime as exc:
        raise RuleViolation(str(exc), rule=Rule.NONEXISTENT_LOCAL_TIME, field="first_starts_at") from exc
    except SeriesTooLong as exc:  # an until date, or the rule's own COUNT or UNTIL, too far
        raise InvalidInput(MSG_SERIES_SIZE, field="until" if until else "rule", rule=Rule.SERIES_BOUNDED) from exc
    except ValueError as exc:
        raise InvalidInput(f"The recurrence: {exc}.", field="rule", rule=Rule.RECURRENCE_INVALID) from exc
    if not starts:
        raise InvalidInput("The series has no occurrence.", field="rule", rule=Rule.SERIES_BOUNDED)
    return starts


def _series_check(
    course: Course,
    starts: list[dt.datetime],
    *,
    rules: CourseRules,
    chair_id: int,
    clinician_id: int,
    now: dt.datetime,
) -> None:
    """Raise for taken time first, then for the course rules the series breaks with the course."""
    zone = clinic_zone()
    state = clinic_state_between(
        first=starts[0].astimezone(zone).date(), last=starts[-1].astimezone(zone).date(), now=now
    )
    problems: list[Problem] = []
    for start in starts:
        problems += slot_problems(
            state,
            start=start,
            end=start.astimezone(dt.UTC) + rules.session_length,
            chair_id=chair_id,
            clinician_id=clinician_id,
            patient_id=course.patient_id,
        )
    # Taken time first, as a reschedule does: the patient's own session at that time is a
    # conflict, not also the "one a day" rule that the same session trips.
    raise_slot_problems(problems, field="first_starts_at")
    existing = list(
        course.sessions.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).values_list("starts_at", flat=True)
    )
    course_problems = course_rule_problems([*existing, *starts], rules, zone, induction=False)
    if course_problems:
        raise problems_error(course_problems, conflict=False, field="first_starts_at")


@retry_on_deadlock
def maintenance_series_book(
    *,
    course_id: int,
    first_starts_at: dt.datetime,
    chair_id: int,
    clinician_id: int,
    interval_days: int | None = None,
    rule: str | None = None,
    count: int | None = None,
    until: dt.date | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> list[TreatmentSession]:
    """Book maintenance sessions as rows, one per occurrence of a wall-clock recurrence.

    The series is computed on local wall time in the clinic's zone (09:00 stays 09:00 across
    daylight-saving changes) from ``interval_days`` (the protocol's default when neither it nor
    ``rule`` is given) or an RRULE body. Each occurrence is checked like any session; the whole
    series is booked or nothing. Maintenance follows induction: the course must have the
    protocol's minimum of induction sessions booked and the series start after the last of them
    (``maintenance_before_induction``). The course moves to maintenance. Locks the course; sends
    ``course_booked`` inside the transaction (the reminder outbox writes its rows with it).
    """
    now = now_or(now)
    require_aware(first_starts_at, "first_starts_at")
    _series_request_check(rule=rule, count=count, until=until)
    zone = clinic_zone()
    with booking_transaction():
        course = _course_for_maintenance(course_id)
        protocol = course.protocol
        resources_require(chair_id, clinician_id)
        lock_staff_for_booking([clinician_id])
        starts = _series_starts(
            first_starts_at=first_starts_at,
            zone=zone,
            protocol=protocol,
            interval_days=interval_days,
            rule=rule,
            count=count,
            until=until,
        )
        _induction_before(course, starts[0])
        rules = protocol_rules(protocol)
        _series_check(course, starts, rules=rules, chair_id=chair_id, clinician_id=clinician_id, now=now)
        last_sequence = course.sessions.aggregate(last=Max("sequence"))["last"] or 0
        booked = sessions_create(
            course=course,
            first_sequence=last_sequence + 1,
            phase=TreatmentSession.Phase.MAINTENANCE,
            sessions=[NewSession(start, chair_id, clinician_id) for start in starts],
            protocol=protocol,
        )
        if course.status != Course.Status.MAINTENANCE:
            course.status = Course.Status.MAINTENANCE
            course.save(update_fields=["status"])
        signals.course_booked.send(sender=Course, course=course, now=now, actor=actor)
    return booked
