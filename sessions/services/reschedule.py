"""Rescheduling one session: its window follows, and a broken course rule may be set aside."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from courses.models import TreatmentProtocol
from ketaminecare.errors import BookingConflict, InvalidInput, RuleViolation
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.scheduling import CourseRules, Problem, course_rule_problems, slot_problems, window_bounds
from sessions.selectors import clinic_state_between, clinic_zone
from sessions.services.common import (
    booking_transaction,
    check_override,
    lock_staff_for_booking,
    now_or,
    problems_error,
    protocol_rules,
    raise_slot_problems,
    require_aware,
    retry_on_deadlock,
)
from sessions.services.integration import appointment_problems, patient_busy
from sessions.services.rows import resources_require, session_locked

MSG_NOT_SCHEDULED = "Only a scheduled session can be moved."
MSG_HELD_NOT_MOVED = (
    "A {status} session is the record of what happened and is not moved: book a make-up session for it instead."
)
MSG_MOVED_OUT = (
    "The session moved; the appointment no longer fits its window, and the therapist or the patient is not "
    "free at the same time in the moved window."
)

# A session that was due and did not give the infusion: made up for, never moved.
MISSED_STATUSES = frozenset({TreatmentSession.Status.HELD, TreatmentSession.Status.NO_SHOW})

# Course rules the database itself states, which an authorised override cannot set aside.
NOT_OVERRIDABLE = frozenset({Rule.ONE_PER_DAY})
# Rules of the course as a whole: a change breaks them anew whatever the day they are reported on.
WHOLE_COURSE = frozenset({Rule.SESSION_COUNT, Rule.INDUCTION_SPAN})


@dataclass
class RescheduleResult:
    session: TreatmentSession
    overrides: list[RuleOverride] = field(default_factory=list)
    cancelled_appointments: list[IntegrationAppointment] = field(default_factory=list)
    # Appointments that no longer fit the moved window and moved with it, by the session's offset.
    moved_appointments: list[IntegrationAppointment] = field(default_factory=list)


def _new_problems(before: list[Problem], after: list[Problem]) -> list[Problem]:
    """The problems a change introduces: count and span by rule, the others by rule and day."""
    seen = {(p.rule, None if p.rule in WHOLE_COURSE else p.date) for p in before}
    return [p for p in after if (p.rule, None if p.rule in WHOLE_COURSE else p.date) not in seen]


def _course_rules_broken(
    session: TreatmentSession, starts_at: dt.datetime, *, rules: CourseRules, zone: ZoneInfo
) -> list[Problem]:
    """The course rules that moving ``session`` to ``starts_at`` breaks and that were kept before."""
    siblings = list(
        TreatmentSession.objects.filter(
            course_id=session.course_id,
            phase=session.phase,
            status__in=TreatmentSession.OCCUPYING_STATUSES,
        )
        .exclude(pk=session.pk)
        .values_list("starts_at", flat=True)
    )
    induction = session.phase == TreatmentSession.Phase.INDUCTION
    before = course_rule_problems([*siblings, session.starts_at], rules, zone, induction=induction)
    after = course_rule_problems([*siblings, starts_at], rules, zone, induction=induction)
    return _new_problems(before, after)


def _refuse_unless_overridden(broken: list[Problem], *, actor: Any, override_reason: str | None) -> None:
    """Refuse the broken rules, unless an authorised actor sets every one of them aside."""
    if not broken:
        return
    # "One session a day" is also a database constraint: no override can set it aside, so it is
    # refused as it stands rather than offered and then failing at the insert.
    fixed = [p for p in broken if p.rule in NOT_OVERRIDABLE]
    if override_reason is None or fixed:
        raise problems_error(fixed or broken, conflict=False, field="starts_at")
    check_override(actor, override_reason)


def _session_move(
    session: TreatmentSession, *, starts_at: dt.datetime, ends_at: dt.datetime, chair_id: int, clinician_id: int
) -> None:
    session.starts_at = starts_at
    session.ends_at = ends_at
    session.local_date = starts_at.astimezone(clinic_zone()).date()
    session.chair_id = chair_id
    session.clinician_id = clinician_id
    session.revision += 1
    # A confirmation was of the old time: the patient confirms the new one again.
    session.confirmed_at = None
    session.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "local_date",
            "chair",
            "clinician",
            "confirmed_at",
            "revision",
            "updated_at",
        ]
    )


def _window_follow(
    session: TreatmentSession, protocol: TreatmentProtocol, *, offset: dt.timedelta, now: dt.datetime
) -> tuple[list[IntegrationAppointment], list[IntegrationAppointment]]:
    """Move the session's window with it, and its appointments that no longer fit: (moved, cancelled).

    An appointment still inside the moved window stays where it is. One that is not moves by the
    session's ``offset`` when that time lies in the window and the therapist and the patient are
    free then (the rules of moving an appointment by hand); else it is cancelled.
    """
    opens_at, closes_at = window_bounds(
        session.ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours
    )
    window = IntegrationWindow.objects.select_for_update().get(session=session)
    window.opens_at, window.closes_at = opens_at, closes_at
    window.revision += 1
    window.save(update_fields=["opens_at", "closes_at", "revision"])
    outside = (
        window.appointments.select_related("therapist")
        .filter(status=IntegrationAppointment.Status.BOOKED)
        .exclude(starts_at__gte=opens_at, ends_at__lte=closes_at)
    )
    moved, cancelled = [], []
    for appointment in outside:
        if _appointment_follow(appointment, window, offset=offset, now=now):
            moved.append(appointment)
            continue
        appointment.status = IntegrationAppointment.Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancel_reason = MSG_MOVED_OUT
        appointment.revision += 1
        appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "revision"])
        cancelled.append(appointment)
    return moved, cancelled


def _appointment_follow(
    appointment: IntegrationAppointment, window: IntegrationWindow, *, offset: dt.timedelta, now: dt.datetime
) -> bool:
    """Move ``appointment`` by ``offset`` if every rule of a move holds then; whether it moved."""
    starts_at, ends_at = appointment.starts_at + offset, appointment.ends_at + offset
    lock_staff_for_booking([appointment.therapist_id])
    try:
        appointment_problems(
            window=window,
            therapist=appointment.therapist,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
            exclude_appointment_id=appointment.pk,
        )
    except (RuleViolation, BookingConflict, InvalidInput):
        return False
    if patient_busy(
        appointment.patient_id, starts_at=starts_at, ends_at=ends_at, exclude_appointment_id=appointment.pk
    ):
        return False
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.revision += 1
    appointment.confirmed_at = None
    appointment.save(update_fields=["starts_at", "ends_at", "confirmed_at", "revision"])
    return True


@retry_on_deadlock
def session_reschedule(
    *,
    session_id: int,
    starts_at: dt.datetime,
    chair_id: int | None = None,
    clinician_id: int | None = None,
    actor: Any = None,
    override_reason: str | None = None,
    now: dt.datetime | None = None,
) -> RescheduleResult:
    """Move one scheduled session; its window follows and its revision grows.

    Locks the course row (all changes to one course's sessions serialise) and the session.
    Taken time is always refused. A course rule the move would break (gap, one a day, span) is
    refused with the rule named, unless ``override_reason`` is given by an actor holding the
    override permission; each rule set aside is then recorded as a RuleOverride. An integration
    appointment that no longer falls inside the moved window moves with it when it can, else is
    cancelled; both lists are returned. Sends
    ``session_changed`` inside the transaction (the reminder outbox moves its rows with it).
    """
    now = now_or(now)
    require_aware(starts_at, "starts_at")
    zone = clinic_zone()
    with booking_transaction():
        session = session_locked(session_id)
        if session.status in MISSED_STATUSES:
            message = MSG_HELD_NOT_MOVED.format(status=session.get_status_display().lower())
            raise RuleViolation(
                message, rule=Rule.SESSION_NOT_SCHEDULED, field="status", details={"instead": "make_up"}
            )
        if session.status != TreatmentSession.Status.SCHEDULED:
            raise RuleViolation(MSG_NOT_SCHEDULED, rule=Rule.SESSION_NOT_SCHEDULED, field="status")
        protocol = session.course.protocol
        rules = protocol_rules(protocol)
        chair_id = chair_id or session.chair_id
        clinician_id = clinician_id or session.clinician_id
        resources_require(chair_id, clinician_id)
        lock_staff_for_booking([clinician_id])
        ends_at = starts_at.astimezone(dt.UTC) + rules.session_length
        day = starts_at.astimezone(zone).date()
        state = clinic_state_between(first=day, last=day, exclude_session_ids=[session.pk], now=now)
        problems = slot_problems(
            state,
            start=starts_at,
            end=ends_at,
            chair_id=chair_id,
            clinician_id=clinician_id,
            patient_id=session.patient_id,
        )
        raise_slot_problems(problems, field="starts_at")
        broken = _course_rules_broken(session, starts_at, rules=rules, zone=zone)
        _refuse_unless_overridden(broken, actor=actor, override_reason=override_reason)
        offset = starts_at - session.starts_at
        _session_move(session, starts_at=starts_at, ends_at=ends_at, chair_id=chair_id, clinician_id=clinician_id)
        overrides = [
            RuleOverride.objects.create(
                session=session, rule=problem.rule, reason=override_reason or "", authorised_by=actor
            )
            for problem in broken
        ]
        moved, cancelled = _window_follow(session, protocol, offset=offset, now=now)
        # The outbox replans the window's appointments with the session (moved or cancelled).
        signals.session_changed.send(
            sender=TreatmentSession,
            session_id=session.pk,
            moved_appointment_ids=[a.pk for a in moved],
            cancelled_appointment_ids=[a.pk for a in cancelled],
            now=now,
            actor=actor,
        )
    return RescheduleResult(
        session=session, overrides=overrides, cancelled_appointments=cancelled, moved_appointments=moved
    )
