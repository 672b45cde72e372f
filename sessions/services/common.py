"""What the booking services share: protocol rules, conflict mapping, actor checks."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from courses.models import TreatmentProtocol
from ketaminecare.db import violated_constraint
from ketaminecare.errors import BookingConflict, InvalidInput, NotAllowed, RuleViolation
from ketaminecare.rules import Rule
from sessions.scheduling import CourseRules, Problem

OVERRIDE_PERMISSION = "treatment_sessions.override_course_rules"

# Constraints whose violation means "somebody else took this time" (a race the checks lost),
# mapped to the rule a client is told.
CONSTRAINT_RULES = {
    "session_no_chair_overlap": Rule.CHAIR_UNAVAILABLE,
    "session_no_clinician_overlap": Rule.CLINICIAN_UNAVAILABLE,
    "session_no_patient_overlap": Rule.PATIENT_UNAVAILABLE,
    "session_one_a_day_per_course": Rule.ONE_PER_DAY,
    "appointment_no_therapist_overlap": Rule.THERAPIST_UNAVAILABLE,
    "appointment_one_active_per_window": Rule.WINDOW_ALREADY_BOOKED,
    "course_one_active_per_patient": Rule.ONE_ACTIVE_COURSE,
    "session_one_make_up": Rule.MAKE_UP_EXISTS,
}

# The staff table, named here so that this module needs nothing from sessions.models.
STAFF_TABLE = "treatment_sessions_staffmember"

MSG_CONFLICT = "The time was taken by another booking a moment ago; nothing was booked."


def protocol_rules(protocol: TreatmentProtocol) -> CourseRules:
    return CourseRules(
        weekly_cadence=tuple(int(n) for n in protocol.weekly_cadence),
        sessions_min=protocol.induction_sessions_min,
        sessions_max=protocol.induction_sessions_max,
        span_min_days=protocol.induction_span_min_days,
        span_max_days=protocol.induction_span_max_days,
        min_gap=dt.timedelta(hours=protocol.min_gap_hours),
        session_length=dt.timedelta(minutes=protocol.session_minutes),
        window_opens_after_hours=protocol.window_opens_after_hours,
        window_closes_after_hours=protocol.window_closes_after_hours,
    )


def require_aware(value: dt.datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("Datetimes must carry a UTC offset or zone.", field=field, rule=Rule.AWARE_DATETIME)


def now_or(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def problems_error(problems: list[Problem], *, conflict: bool, field: str | None = None) -> Exception:
    """One error naming the first problem and listing all of them."""
    first = problems[0]
    cls = BookingConflict if conflict else RuleViolation
    return cls(
        first.message,
        rule=first.rule,
        field=field,
        details={"problems": [p.as_dict() for p in problems]},
    )


AVAILABILITY_RULES = {
    Rule.CHAIR_UNAVAILABLE,
    Rule.CLINICIAN_UNAVAILABLE,
    Rule.PATIENT_UNAVAILABLE,
}


def raise_slot_problems(problems: list[Problem], field: str) -> None:
    """Raise for slot problems: taken time is a conflict, anything else a rule."""
    if not problems:
        return
    conflict = all(p.rule in AVAILABILITY_RULES for p in problems)
    raise problems_error(problems, conflict=conflict, field=field)


def check_override(actor: Any, reason: str | None) -> None:
    if not reason or not reason.strip():
        raise InvalidInput("An override needs a reason.", field="override_reason", rule=Rule.OVERRIDE_REASON_REQUIRED)
    if actor is None or not actor.has_perm(OVERRIDE_PERMISSION):
        raise NotAllowed(
            "Only a clinician or an administrator may set a course rule aside.",
            field="override_reason",
            rule=Rule.OVERRIDE_NOT_AUTHORISED,
        )


@contextmanager
def booking_transaction() -> Iterator[None]:
    """An atomic block whose constraint violations come out as BookingConflict.

    The services check every rule before writing, so a violation here means a concurrent request
    won the race between our check and our insert; the database kept the invariant and rolled
    back the whole block.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        name = violated_constraint(exc)
        rule = CONSTRAINT_RULES.get(name or "", Rule.CONFLICT)
        raise BookingConflict(MSG_CONFLICT, rule=rule, details={"constraint": name} if name else None) from exc


P = ParamSpec("P")
R = TypeVar("R")
DEADLOCK_DETECTED = "40P01"
DEADLOCK_ATTEMPTS = 3


def retry_on_deadlock(func: Callable[P, R]) -> Callable[P, R]:
    """Run a booking service again when PostgreSQL chose it as a deadlock's victim.

    Two bookings racing for the same time can each wait on the other's exclusion-constraint
    check; PostgreSQL aborts one. Its whole transaction rolled back, so running it again is
    safe, and the second run sees the winner and refuses with the rule that names the taken
    time. Only outside an enclosing transaction (which the deadlock has aborted too).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                deadlock = getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED
                if not deadlock or transaction.get_connection().in_atomic_block:
                    raise
                if attempt == DEADLOCK_ATTEMPTS:
                    raise BookingConflict(MSG_CONFLICT, rule=Rule.CONFLICT, details={"reason": "deadlock"}) from exc
        raise AssertionError("unreachable")

    return wrapper


def lock_staff_for_booking(staff_ids: Iterable[int]) -> None:
    """Take a shared lock on the staff a booking uses, until its transaction ends.

    Shared locks do not block each other, so bookings still run side by side; a change of one
    of these people's time (which locks the row for update) waits for the booking to commit,
    and a booking waits for such a change, then reads the hours and time off it left. SQLite
    runs one writing transaction at a time and needs no lock.
    """
    ids = sorted(set(staff_ids))
    if not ids or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {STAFF_TABLE} WHERE id = ANY(%s) ORDER BY id FOR SHARE",  # noqa: S608
            [ids],
        )
